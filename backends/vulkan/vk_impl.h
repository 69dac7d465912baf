/* Vulkan backend internals shared by device.c, memory.c, pipeline.c, ops.c and errors.c. */
#ifndef TFB_VK_IMPL_H
#define TFB_VK_IMPL_H

#include <vulkan/vulkan.h>

#include "push.h"
#include "backends/rope_tables.h"
#include "tfbench/backend.h"

/* Every Vulkan call goes through VK_CHECK: on failure it records
 * "vulkan: <call>: <VkResult name> (<file>:<line>)" and returns the mapped status. */
tfb_status tfb__vk_fail(const char *call, VkResult r, const char *file, int line);
const char *tfb__vk_result_name(VkResult r);
#define VK_CHECK(call)                                                         \
    do {                                                                       \
        VkResult vk_check_r_ = (call);                                         \
        if (vk_check_r_ != VK_SUCCESS)                                         \
            return tfb__vk_fail(#call, vk_check_r_, __FILE__, __LINE__);       \
    } while (0)

/* Pipelines: one per shader variant chosen at init (subgroup or shared-memory reductions). */
enum {
    TFB_VK_P_EMBED,
    TFB_VK_P_ADD,
    TFB_VK_P_ACT,
    TFB_VK_P_ARGMAX,
    TFB_VK_P_NORM,
    TFB_VK_P_SOFTMAX,
    TFB_VK_P_ATTENTION,
    TFB_VK_P_MATMUL,              /* + weight dtype (f32, f16, bf16, q8_0, q4_0) */
    TFB_VK_P_GEMV = TFB_VK_P_MATMUL + 5,
    TFB_VK_P_MATMUL_REG = TFB_VK_P_GEMV + 5, /* barrier-free 4x4 blocks, for CPU devices */
    /* CPU devices: texel-buffer reads, 16x8 blocks; + 3 * weight dtype + TFB_VK_TX_* (texel widths) */
    TFB_VK_P_MATMUL_CPU = TFB_VK_P_MATMUL_REG + 5,
    TFB_VK_P_GEMV_CPU = TFB_VK_P_MATMUL_CPU + 15,   /* the same for one row: 1x4 blocks */
    TFB_VK_P_GEMV_CPU_SG = TFB_VK_P_GEMV_CPU + 15, /* one row, with subgroups: lanes split K (gemv_cpu.comp) */
    TFB_VK_P_ATTENTION_CPU = TFB_VK_P_GEMV_CPU_SG + 15, /* CPU devices, head size 64: a query row per invocation */
    TFB_VK_P_ROPE,
    TFB_VK_P_COUNT,
};

/* Texel widths of the CPU matmul (matmul_cpu.comp variants): everything through 32-bit words; x
 * through 128-bit texels (XV4); x and the weight (WV4, f32/f16/bf16 only). */
enum { TFB_VK_TX_WORDS, TFB_VK_TX_X4, TFB_VK_TX_X4W4 };

#define TFB_VK_NAME 32 /* longest embedded shader name + 1 */
#define TFB_VK_BINDINGS 5 /* storage buffers: inputs 0..3, output 4 */
/* Limits the supports slot declares (ops.c checks them again when it records). */
#define TFB_VK_MAX_GROUPS 65535 /* workgroups in one grid dimension: rows of a call, a matmul's N/32 */
#define TFB_VK_ATT_MAXD 256     /* attention.comp: 4 accumulators per invocation x 64 invocations */
#define TFB_VK_TEXELS 3   /* uniform texel buffers of 32-bit words 5..7: inputs 0..2 of MATMUL and ATTENTION, read by
                           * the CPU-device kernels only */

/* A device buffer (tfb_buffer.handle). */
typedef struct tfb_vk_buf {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
} tfb_vk_buf;

/* One descriptor binding: the tensor's range of its buffer, starting at its offset rounded down to
 * minStorageBufferOffsetAlignment; the shader adds the remainder (push constants). Exact ranges let
 * the synchronization validation layer check the per-tensor barriers of ops.c. */
typedef struct tfb_vk_binding {
    VkBuffer buf;
    VkDeviceSize base, range;
} tfb_vk_binding;

/* Per-graph state in g->backend_data: one descriptor set per node, created at the first compute. */
typedef struct tfb_vk_graph {
    VkDescriptorPool pool;
    VkDescriptorSet *sets;                   /* [n_sets]: node i owns sets first[i] .. first[i]+parts[i]-1 */
    tfb_vk_binding (*bound)[TFB_VK_BINDINGS]; /* [n_sets] what each set was written with */
    VkBufferView (*views)[TFB_VK_TEXELS];     /* [n_sets] texel views of bindings 0..2 (CPU kernels) */
    int *first, *parts;                      /* [n_nodes] */
    int64_t *part_rows;                      /* [n_nodes] weight rows per part, 0 = not split */
    int n_nodes, n_sets;
    uint64_t rope_gen;         /* vk->ropes.gen when the sets were written (ROPE binds a table) */
    struct tfb_vk_graph *next; /* the backend's list, so free() releases graphs nobody released */
    tfb_graph *g;
} tfb_vk_graph;

/* A pending host->device copy out of the staging buffer. */
typedef struct tfb_vk_copy {
    VkBuffer dst;
    VkBufferCopy region;
} tfb_vk_copy;

typedef struct tfb_vk {
    VkInstance inst;
    VkDebugUtilsMessengerEXT messenger;
    bool validation;
    int n_messages;      /* validation warnings/errors seen */
    int n_messages_seen; /* already reported as a failure */

    VkPhysicalDevice pdev;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkPhysicalDeviceSubgroupProperties subgroup;
    VkPhysicalDeviceVulkan12Features f12;
    VkPhysicalDeviceVulkan11Features f11;
    char driver_name[VK_MAX_DRIVER_NAME_SIZE];
    char driver_info[VK_MAX_DRIVER_INFO_SIZE];
    bool use_subgroup;
    bool gemv_sg; /* CPU devices: one-row matmuls split K over a subgroup (gemv_cpu.comp) */
    bool words_only; /* TFB_VK_TEXELS=words: the CPU matmul reads 32-bit texels only (tests run that path) */
    /* Matmul kernels for every T: GPU (tiled + GEMV), REG (barrier-free 4x4 blocks from storage
     * buffers) or CPU (barrier-free blocks read through texel buffers: lavapipe gathers those; CPU
     * also picks the texel-buffer attention for head size 64). */
    enum { TFB_VK_MM_GPU, TFB_VK_MM_REG, TFB_VK_MM_CPU } matmul;

    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    VkCommandPool cpool;
    VkCommandBuffer cmd; /* the graph command buffer */
    VkCommandBuffer xfer; /* staging flushes and readbacks */
    VkFence fence;       /* signalled by the last submit of cmd */
    VkFence xfence;
    bool in_flight;

    VkBuffer stage; /* host-visible upload staging, persistently mapped */
    VkDeviceMemory stage_mem;
    char *stage_map;
    size_t stage_size, stage_used;
    tfb_vk_copy *copies;
    int n_copies, cap_copies;

    VkBuffer rb; /* host-visible readback, persistently mapped, grown on demand */
    VkDeviceMemory rb_mem;
    char *rb_map;
    size_t rb_size;
    bool rb_coherent;

    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipes[TFB_VK_P_COUNT];
    char pipe_name[TFB_VK_P_COUNT][TFB_VK_NAME]; /* the shader of a pipeline compiled at first use */

    VkQueryPool qpool; /* timestamps: [0] graph start, [1] graph end, then 2 per node under profile */
    uint32_t q_cap, q_used;
    bool ts_ok, profile;
    double ts_period_ns;
    double last_time;
    double *node_times; /* profile: per node seconds of the last compute */
    int n_node_times;
    const tfb_graph *last_graph;           /* profile: the graph of the last compute */
    double op_time[TFB_OP_COUNT];          /* profile: device seconds per op over the backend's life */
    bool op_prof;                          /* op_profile on: time every node, sum into op_window */
    double op_window[TFB_OP_COUNT];        /* op_profile: device seconds per op since it was turned on */
    int64_t op_calls[TFB_OP_COUNT];

    int64_t mem_used;
    tfb_vk_graph *graphs;

    tfb_rope_tables ropes;              /* rotary table slots (rope.c, backends/rope_tables.c) */
    tfb_buffer rope_buf[TFB_ROPE_SLOTS]; /* each slot's table, f32 [cap][D/2][cos, sin] */
    tfb_tensor rope_t[TFB_ROPE_SLOTS];   /* binding it (buf NULL: the slot holds nothing) */
} tfb_vk;

/* device.c */
bool tfb__vk_probe(char *why, size_t why_len);
tfb_status tfb__vk_device_init(tfb_vk *vk, const tfb_backend_opts *opts);
void tfb__vk_device_free(tfb_vk *vk);
void tfb__vk_device_info(tfb_vk *vk, tfb_device_info *info);
tfb_status tfb__vk_check_messages(tfb_vk *vk);

/* memory.c */
tfb_status tfb__vk_memory_init(tfb_vk *vk);
void tfb__vk_memory_free(tfb_vk *vk);
tfb_status tfb__vk_buffer_alloc(tfb_vk *vk, size_t size, tfb_buffer *buf);
void tfb__vk_buffer_free(tfb_vk *vk, tfb_buffer *buf);
tfb_status tfb__vk_upload(tfb_vk *vk, tfb_tensor *t, const void *src, size_t off, size_t n);
tfb_status tfb__vk_download(tfb_vk *vk, const tfb_tensor *t, void *dst, size_t off, size_t n);
tfb_status tfb__vk_flush_uploads(tfb_vk *vk);
void tfb__vk_record_uploads(tfb_vk *vk, VkCommandBuffer cmd);
tfb_status tfb__vk_wait(tfb_vk *vk);

/* pipeline.c */
tfb_status tfb__vk_pipelines_init(tfb_vk *vk);
/* Compile pipeline idx if it is not yet (the matmul families are compiled at their first use). */
tfb_status tfb__vk_pipe(tfb_vk *vk, int idx);
void tfb__vk_pipelines_free(tfb_vk *vk);

/* ops.c */
tfb_status tfb__vk_compute(tfb_vk *vk, tfb_graph *g);
void tfb__vk_graph_release(tfb_vk *vk, tfb_graph *g);
tfb_status tfb__vk_read_timestamps(tfb_vk *vk);

/* rope.c */
/* Makes sure every ROPE node of g has a table covering positions < params.pos + n_rows; the uploads
 * are recorded by the next graph command buffer. */
tfb_status tfb__vk_rope_prepare(tfb_vk *vk, const tfb_graph *g);
/* The table of a ROPE node (theta, head size), or NULL when none was prepared. */
const tfb_tensor *tfb__vk_rope_table(const tfb_vk *vk, const tfb_node *n);
void tfb__vk_rope_free(tfb_vk *vk);

static inline VkBuffer tfb__vk_handle(const tfb_tensor *t) {
    return ((const tfb_vk_buf *)t->buf->handle)->buf;
}

#endif
