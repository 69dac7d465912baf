/* tfbench backend interface: one vtable per backend, behind the tfb_backend handle.
 *
 * Lifetimes: tfb_backend_init returns a backend the caller frees with tfb_backend_free; buffers it
 * allocates are freed with tfb_backend_buffer_free before the backend is. A backend that cannot run
 * a node (its op, dtypes, shapes, head size, mask, params) says so through supports(); callers report
 * that as "unsupported" and never fall back to another backend. */
#ifndef TFBENCH_BACKEND_H
#define TFBENCH_BACKEND_H

#include "tfbench/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options a user can pass to any backend; each backend reads what applies to it. */
typedef struct tfb_backend_opts {
    int n_threads;      /* CPU backends; 0 = all cores */
    const char *device; /* GPU backends: index or name substring; NULL = first */
    const char *isa;    /* simd: force a lower path ("avx2", "scalar"); NULL = best */
    bool profile;       /* enable device timers where offered */
    /* MATMUL with q8_0/q4_0 weights rounds its activation rows through tfb_quantize_act_q8 first, so
     * the dot products can be integer (llama.cpp's numerics for quantized weights). Off: activations
     * stay f32 and every backend computes the same sums. On: the reference oracle rounds the same way,
     * so conformance still compares like with like; a backend that cannot reports those matmuls
     * unsupported (the iface's act_q8 flag). Other ops and f32/f16/bf16 weights are unaffected. */
    bool act_q8;
} tfb_backend_opts;

typedef struct tfb_device_info {
    char device[128];  /* "AMD EPYC 9R14 (avx512)", "llvmpipe (LLVM 15.0.6, 256 bits)" */
    char driver[128];  /* driver name and version */
    char api[64];      /* "Vulkan 1.3.238", "OpenCL 3.0 PoCL 3.1", "C11" */
    char library[128]; /* "oneDNN 2.6.3 (cpu runtime OMP, isa avx512_core)" */
    char extra[256];   /* anything else that matters (fp16, subgroups, simd path) */
    int64_t mem_total; /* device memory bytes, -1 unknown */
    int64_t mem_used;  /* device memory this backend holds, -1 unknown */
} tfb_device_info;

/* The vtable. Every slot is required unless marked optional. `ctx` is the backend's own state. */
typedef struct tfb_backend_i {
    const char *name; /* "reference", "simd", "onednn", "opencl", "vulkan" */
    bool act_q8;      /* honours tfb_backend_opts.act_q8 (when false, the wrappers refuse it) */
    /* Is it usable here? If not, write why into `why` and return false. Cheap; no init needed. */
    bool (*probe)(char *why, size_t why_len);
    /* Create the backend's state. */
    tfb_status (*init)(const tfb_backend_opts *opts, void **ctx);
    /* Destroy it. */
    void (*free)(void *ctx);
    /* Describe the device, driver, API and library versions. */
    void (*device_info)(void *ctx, tfb_device_info *info);
    /* Can it run node n as built (op, input/output dtypes and shapes, head size, mask, params)? Every
     * limit the backend has is declared here, before compute. An allow-list: an op the backend has not
     * implemented returns false (a `default: return false`), never assumed. The wrapper has already
     * refused malformed nodes (tfb_node_well_formed) and act_q8 matmuls the backend does not offer.
     * Rows: dyn_rows tensors show their maximum (shape[0]); a call never has more. */
    bool (*supports)(void *ctx, const tfb_node *n);
    /* Allocate `size` bytes of device memory into buf (handle, host). */
    tfb_status (*buffer_alloc)(void *ctx, size_t size, tfb_buffer *buf);
    /* Release a buffer. */
    void (*buffer_free)(void *ctx, tfb_buffer *buf);
    /* Copy n bytes host -> tensor storage at byte offset `off` within the tensor. */
    tfb_status (*upload)(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n);
    /* Copy n bytes tensor storage at `off` -> host. Completes pending work first. */
    tfb_status (*download)(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n);
    /* Run every node of g with g->params. May return before the device finishes. */
    tfb_status (*compute)(void *ctx, tfb_graph *g);
    /* Wait until all submitted work has finished. */
    tfb_status (*synchronize)(void *ctx);
    /* Optional: free g->backend_data. */
    void (*graph_release)(void *ctx, tfb_graph *g);
    /* Optional: device time of the last compute in seconds (timestamps/profiling events); <0 if none. */
    double (*last_device_time)(void *ctx);
    /* Optional: time each op kind. on = true zeroes the sums and starts adding every node's time to
     * its op kind; on = false stops and writes the sums (seconds) into secs[TFB_OP_COUNT]. Returns
     * false, writing nothing, when the backend cannot time its ops. */
    bool (*op_profile)(void *ctx, bool on, double *secs);
} tfb_backend_i;

typedef struct tfb_backend {
    const tfb_backend_i *iface;
    void *ctx;
    tfb_backend_opts opts;
} tfb_backend;

/* The registry: every backend compiled in, in a fixed order (reference first; test binaries built
 * with TFBENCH_TEST_FAULTS list the planted-fault wrapper "fault" last, backends/fault.c). */
int tfb_backend_count(void);
const tfb_backend_i *tfb_backend_get(int i);
/* By name; NULL if not compiled in. */
const tfb_backend_i *tfb_backend_find(const char *name);

/* Wrappers: check arguments, supply defaults for optional slots. */
tfb_status tfb_backend_init(const tfb_backend_i *iface, const tfb_backend_opts *opts, tfb_backend **out);
void tfb_backend_free(tfb_backend *b);
/* Can b run node n? False for a malformed node, for a q8_0/q4_0 MATMUL under opts.act_q8 on a backend
 * without act_q8, and wherever the backend's supports slot says no. */
bool tfb_backend_supports(tfb_backend *b, const tfb_node *n);
tfb_status tfb_backend_buffer_alloc(tfb_backend *b, size_t size, tfb_buffer **out);
void tfb_backend_buffer_free(tfb_backend *b, tfb_buffer *buf);
tfb_status tfb_backend_upload(tfb_backend *b, tfb_tensor *t, const void *src, size_t off, size_t n);
tfb_status tfb_backend_download(tfb_backend *b, const tfb_tensor *t, void *dst, size_t off, size_t n);
tfb_status tfb_backend_compute(tfb_backend *b, tfb_graph *g);
tfb_status tfb_backend_synchronize(tfb_backend *b);
double tfb_backend_last_device_time(tfb_backend *b);
/* Per-op-kind timing (the op_profile slot); false when the backend cannot tell. */
bool tfb_backend_op_profile(tfb_backend *b, bool on, double *secs);
void tfb_backend_device_info(tfb_backend *b, tfb_device_info *info);

#ifdef __cplusplus
}
#endif
#endif
