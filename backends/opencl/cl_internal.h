/* The OpenCL backend's internal state and helpers, shared by its files (device.c, buffer.c,
 * program.c, ops.c, rope.c, errors.c). Not part of the public API. */
#ifndef TFB_BACKENDS_OPENCL_INTERNAL_H
#define TFB_BACKENDS_OPENCL_INTERNAL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "backends/rope_tables.h"
#include "tfbench/backend.h"

/* Every kernel the backend creates once at init; matmul and gemv have one entry per weight dtype,
 * in tfb_dtype order F32, F16, BF16, Q8_0, Q4_0. */
#define TFB_CL_KERNEL_MAP(X)                                                                        \
    X(EMBED, "embed")                                                                               \
    X(ADD, "add")                                                                                   \
    X(MUL, "mul")                                                                                   \
    X(ROPE, "rope")                                                                                 \
    X(UNARY, "unary")                                                                               \
    X(UNARY_VEC, "unary_vec")                                                                       \
    X(COPY, "copy")                                                                                 \
    X(NORM, "norm")                                                                                 \
    X(SOFTMAX, "softmax")                                                                           \
    X(ARGMAX, "argmax")                                                                             \
    X(ATTENTION, "attention")                                                                       \
    X(ATTENTION_VEC_D16, "attention_vec_d16")                                                       \
    X(ATTENTION_VEC_D64, "attention_vec_d64")                                                       \
    X(ATTENTION_VEC_D128, "attention_vec_d128")                                                     \
    X(MATMUL_F32, "matmul_f32")                                                                     \
    X(MATMUL_F16, "matmul_f16")                                                                     \
    X(MATMUL_BF16, "matmul_bf16")                                                                   \
    X(MATMUL_Q8_0, "matmul_q8_0")                                                                   \
    X(MATMUL_Q4_0, "matmul_q4_0")                                                                   \
    X(GEMV_F32, "gemv_f32")                                                                         \
    X(GEMV_F16, "gemv_f16")                                                                         \
    X(GEMV_BF16, "gemv_bf16")                                                                       \
    X(GEMV_Q8_0, "gemv_q8_0")                                                                       \
    X(GEMV_Q4_0, "gemv_q4_0")                                                                       \
    X(MATMUL_VEC_F32, "matmul_vec_f32")                                                             \
    X(MATMUL_VEC_F16, "matmul_vec_f16")                                                             \
    X(MATMUL_VEC_BF16, "matmul_vec_bf16")                                                           \
    X(MATMUL_VEC_Q8_0, "matmul_vec_q8_0")                                                           \
    X(MATMUL_VEC_Q4_0, "matmul_vec_q4_0")                                                           \
    X(GEMV_VEC_F32, "gemv_vec_f32")                                                                 \
    X(GEMV_VEC_F16, "gemv_vec_f16")                                                                 \
    X(GEMV_VEC_BF16, "gemv_vec_bf16")                                                               \
    X(GEMV_VEC_Q8_0, "gemv_vec_q8_0")                                                               \
    X(GEMV_VEC_Q4_0, "gemv_vec_q4_0")

typedef enum tfb_cl_kernel_id {
#define TFB_CL_KID_(id, name) TFB_CLK_##id,
    TFB_CL_KERNEL_MAP(TFB_CL_KID_)
#undef TFB_CL_KID_
    TFB_CLK_COUNT
} tfb_cl_kernel_id;

/* Work-group size of the row-wise kernels; must match TFB_WG in kernels/opencl/common.cl. */
#define TFB_CL_WG 64
/* Matmul tile (64x64 outputs per 16x16 work-group) and the row count below which GEMV is used. */
#define TFB_CL_MM_TILE 64
#define TFB_CL_MM_WG 16
#define TFB_CL_GEMV_MAX_ROWS 4
/* Output block of one work-item in matmul_vec (rows x cols; the kernel instances in matmul_vec.cl must
 * match) and gemv_vec (1 x 8). */
#define TFB_CL_MV_RT 6
#define TFB_CL_MV_RN 4
#define TFB_CL_GV_N 8
/* Largest head dimension the attention kernel handles (ATT_MAXD in attention.cl). */
#define TFB_CL_ATT_MAXD 256

typedef struct tfb_cl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[TFB_CLK_COUNT];
    bool profile;       /* queue created with CL_QUEUE_PROFILING_ENABLE */
    cl_event *events;   /* one per kernel of the last compute (when profiling) */
    tfb_op *event_op;   /* the op each event's kernel belongs to, [cap_events] */
    int n_events, cap_events;
    tfb_op cur_op;      /* the op of the node being enqueued */
    bool op_prof;       /* op_profile on: event times are summed per op kind */
    int n_counted;      /* events already added to op_secs */
    double op_secs[TFB_OP_COUNT];
    size_t mem_used;    /* bytes of live buffers */
    size_t max_wg;      /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_ulong local_mem; /* CL_DEVICE_LOCAL_MEM_SIZE */
    bool cpu;           /* CL_DEVICE_TYPE_CPU: matmul_vec instead of the local-memory tiles */
    tfb_rope_tables ropes;                /* rotary table slots (rope.c, backends/rope_tables.c) */
    cl_mem rope_mem[TFB_ROPE_SLOTS];      /* each slot's table, [cap][D/2][cos, sin] */
} tfb_cl;

/* ---- errors.c ---------------------------------------------------------------------------------- */

/* "CL_OUT_OF_RESOURCES" for -5, ..., "CL error <n>" for codes it does not know. */
const char *tfb__cl_error_name(cl_int err);
/* Record `opencl: <call>: <error name> (file:line)` and return the matching status: DEVICE_NOMEM for
 * allocation failures, BACKEND otherwise. `call` is the stringized call; only its name is kept. */
tfb_status tfb__cl_fail(cl_int err, const char *call, const char *file, int line);

/* Evaluate an OpenCL call returning cl_int; on failure record it and return the status. */
#define CL_CHECK(call)                                                                              \
    do {                                                                                            \
        cl_int tfb_cl_err_ = (call);                                                                \
        if (tfb_cl_err_ != CL_SUCCESS)                                                              \
            return tfb__cl_fail(tfb_cl_err_, #call, __FILE__, __LINE__);                            \
    } while (0)

/* For calls that return an object and report through their last argument. */
#define CL_CHECK_ERR(err, what)                                                                     \
    do {                                                                                            \
        if ((err) != CL_SUCCESS)                                                                    \
            return tfb__cl_fail((err), what, __FILE__, __LINE__);                                  \
    } while (0)

/* ---- device.c ---------------------------------------------------------------------------------- */

/* Pick the platform and device from `spec` ("0", "0:1", or a name substring; NULL = first). */
tfb_status tfb__cl_select(const char *spec, cl_platform_id *platform, cl_device_id *device);

/* ---- program.c --------------------------------------------------------------------------------- */

/* Build the embedded kernel sources for cl->device and create every kernel. */
tfb_status tfb__cl_program_build(tfb_cl *cl);
void tfb__cl_program_free(tfb_cl *cl);

/* ---- buffer.c ---------------------------------------------------------------------------------- */

tfb_status tfb__cl_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf);
void tfb__cl_buffer_free(void *ctx, tfb_buffer *buf);
tfb_status tfb__cl_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n);
tfb_status tfb__cl_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n);
/* The cl_mem holding a tensor. */
cl_mem tfb__cl_mem(const tfb_tensor *t);

/* ---- rope.c ------------------------------------------------------------------------------------ */

/* Make sure every ROPE node of g has its table for positions up to params.pos + n_rows. */
tfb_status tfb__cl_rope_prepare(tfb_cl *cl, const tfb_graph *g);
/* Free every table (the slots are cl->ropes; a node's table is cl->rope_mem[tfb_rope_tables_find]). */
void tfb__cl_rope_free(tfb_cl *cl);

/* ---- ops.c ------------------------------------------------------------------------------------- */

bool tfb__cl_supports(void *ctx, const tfb_node *n);
tfb_status tfb__cl_compute(void *ctx, tfb_graph *g);
tfb_status tfb__cl_synchronize(void *ctx);
double tfb__cl_last_device_time(void *ctx);
/* Per-op-kind device time from the kernels' profiling events (the op_profile slot). */
bool tfb__cl_op_profile(void *ctx, bool on, double *secs);
/* Release the events kept from the last compute. */
void tfb__cl_events_release(tfb_cl *cl);

#endif
