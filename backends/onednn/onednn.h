/* The oneDNN backend's internals, shared by its files only (device.c, buffer.c, cache.c, compute.c,
 * ops_*.c). oneDNN 2.6 v2 C API: op descriptors + primitive descriptors + primitives.
 *
 * What runs where:
 *   oneDNN primitives: MATMUL (+ bias, + fused GELU/GELU_TANH/RELU/SILU eltwise post-op or a fused
 *     residual ADD as a binary post-op), LAYERNORM, SOFTMAX,
 *     GELU, GELU_TANH, RELU, SILU (eltwise), ADD (binary), and the two matmuls of ATTENTION plus its
 *     softmax.
 *   Plain C (no oneDNN primitive fits): EMBED, KV_WRITE, LAST_ROW, ARGMAX, RMSNORM, and the causal
 *     mask of ATTENTION (writing -inf into the score rows between its two matmuls). */
#ifndef TFB_ONEDNN_H
#define TFB_ONEDNN_H

#include <oneapi/dnnl/dnnl.h>

#include "tfbench/backend.h"

/* Record a failed oneDNN call (which call, file, line, oneDNN's status) and return BACKEND. */
tfb_status tfb__dnnl_fail(dnnl_status_t st, const char *call, const char *file, int line);
#define DNNL_CHECK(call)                                                        \
    do {                                                                        \
        dnnl_status_t dnnl_check_s_ = (call);                                   \
        if (dnnl_check_s_ != dnnl_success)                                      \
            return tfb__dnnl_fail(dnnl_check_s_, #call, __FILE__, __LINE__);    \
    } while (0)

/* Cached primitive, keyed by what determines it (op kind, shapes, dtypes, algorithm, eps...). */
typedef struct dnn_key {
    int kind;        /* dnn_kind */
    int ints[14];    /* shape and parameter words; unused ones zero */
    float f;         /* eps or scale */
} dnn_key;

enum dnn_kind {
    DNN_MATMUL = 1,  /* ints: T, K, N, wdtype, bias, post-op alg, src dtype */
    DNN_ATT_QK,      /* ints: kv heads per task, query heads per kv head, D, H*D, Hkv*D (runtime rows and
                        keys); f: scale */
    DNN_ATT_PV,
    DNN_ATT_SOFTMAX, /* ints: rows, width (user scratchpad: run concurrently by attention tasks) */
    DNN_SOFTMAX,     /* ints: rows, width, row stride */
    DNN_LAYERNORM,   /* ints: T, C; f: eps */
    DNN_ELTWISE,     /* ints: T*C, alg; f: alpha */
    DNN_BINARY,      /* ints: T*C, alg (add, mul) */
};

typedef struct dnn_prim {
    dnn_key key;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
} dnn_prim;

/* A weight matrix reordered once into the layout a matmul primitive prefers. */
typedef struct dnn_wcache {
    const void *src;         /* the tensor's host storage */
    const tfb_buffer *buf;   /* its buffer, to drop entries when it is written again */
    dnnl_memory_desc_t md;   /* the layout it was reordered to */
    void *data;              /* owned copy (NULL: the plain layout is already the preferred one) */
    dnnl_memory_t mem;
} dnn_wcache;

typedef struct dnn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_stream_t *tstreams; /* one per thread for attention tasks (made on first use) */
    int n_threads;
    dnn_prim *prims;
    int n_prims, cap_prims;
    dnn_wcache *wc;
    int n_wc, cap_wc;
    unsigned wgen;  /* bumped whenever cached weights are dropped */
    int n_reorders; /* weight reorders done so far (tests check that decode does none) */
    int n_created;  /* primitives created so far (same) */
    bool bf16_f32src, bf16_bf16src, f16_f32src, f16_f16src; /* what oneDNN accepts here */
    bool op_prof;                 /* op_profile on: time every node (a fused matmul counts as MATMUL) */
    double op_secs[TFB_OP_COUNT]; /* seconds per op kind while op_prof */
} dnn_ctx;

/* cache.c: primitives by key; the returned pointer stays valid until the backend is freed. */
tfb_status tfb__dnn_prim_get(dnn_ctx *c, const dnn_key *key, const_dnnl_op_desc_t desc,
                             const_dnnl_primitive_attr_t attr, dnn_prim **out);
void tfb__dnn_prims_free(dnn_ctx *c);
/* The weight in `md` layout for tensor w (plain [N,K] row-major), reordered on first use. */
tfb_status tfb__dnn_weight_get(dnn_ctx *c, const tfb_tensor *w, const dnnl_memory_desc_t *md, dnnl_memory_t *out);
void tfb__dnn_weights_drop(dnn_ctx *c, const tfb_buffer *buf);
void tfb__dnn_weights_free(dnn_ctx *c);

/* A plain row-major 2-D f32/bf16/f16 memory descriptor. */
tfb_status tfb__dnn_md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, dnnl_data_type_t dt);
dnnl_data_type_t tfb__dnn_dtype(tfb_dtype t);

/* Per-graph state: what each node runs, decided once; memory objects rebuilt when its row count
 * changes. */
typedef struct dnn_node {
    bool skip;          /* fused into the previous MATMUL, or a KV_WRITE done by its MATMUL */
    int post_alg;       /* MATMUL: fused eltwise algorithm (0 none) */
    tfb_tensor *dst;    /* MATMUL: where the (fused) result goes */
    tfb_tensor *resid;  /* MATMUL: tensor added by a fused binary post-op (the residual ADD) */
    const tfb_node *kv; /* MATMUL: the skipped KV_WRITE whose cache rows it writes (dst is the cache) */
    int64_t dst_row;    /* MATMUL: first row of dst the memory object points at */
    int64_t rows;       /* row count the objects below were made for (0: none yet) */
    dnn_prim *p, *p2;   /* main primitive; second one (SOFTMAX: the scale) */
    dnnl_memory_t mem[6];
    dnnl_memory_t wmem; /* MATMUL: the cached weight (borrowed from dnn_ctx.wc) */
    unsigned wgen;      /* dnn_ctx.wgen when wmem was looked up */
} dnn_node;

typedef struct dnn_graph {
    int n_nodes;
    dnn_node *nodes;
    float *scores;   /* attention scores, per thread [H, min(Tmax, 64), Smax] (64-byte multiple) */
    size_t scores_n;
    char *scratch;   /* attention primitives' user scratchpads, one per thread */
    size_t scratch_n;
    struct att_task *tasks; /* attention tasks of the current call (ops_attention.c) */
    int tasks_n;
} dnn_graph;

tfb_status tfb__dnn_compute(dnn_ctx *c, tfb_graph *g);
void tfb__dnn_graph_release(dnn_ctx *c, tfb_graph *g);
void tfb__dnn_node_reset(dnn_node *s);

/* ops_matmul.c, ops_eltwise.c, ops_attention.c, ops_host.c */
tfb_status tfb__dnn_matmul(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s);
tfb_status tfb__dnn_matmul_probe(dnn_ctx *c, dnnl_data_type_t src, dnnl_data_type_t wei, bool *ok);
tfb_status tfb__dnn_layernorm(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s);
tfb_status tfb__dnn_softmax(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s);
tfb_status tfb__dnn_eltwise(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s);
tfb_status tfb__dnn_binary(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s);
int tfb__dnn_act_alg(tfb_op op, float *alpha);
tfb_status tfb__dnn_attention(dnn_ctx *c, const tfb_graph *g, dnn_graph *dg, const tfb_node *n);
void tfb__dnn_host_node(const tfb_graph *g, const tfb_node *n);

#endif
