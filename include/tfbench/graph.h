/* tfbench graph: nodes in execution order, each an op with up to 4 inputs, small params, one output.
 *
 * Built once per model and phase; the row count (tokens in this call), the cache position and the
 * source length are per-call parameters (tfb_graph_params), not a rebuild.
 *
 * Op semantics (T = rows of this call: graph n_rows for dyn_rows tensors, else shape[0]):
 *   EMBED       in: ids I32[T], tok F32[V,C], pos F32[P,C] (learned, optional), type F32[2,C]
 *               (optional; type 0 is added). out F32[T,C] = scale*tok[id] + pos(p0+t) + type[0]
 *               where pos is the learned row, or sinusoidal (pos_kind SINUSOIDAL, Marian layout:
 *               sin in [0,C/2), cos in [C/2,C), freq 10000^(-j/(C/2))); p0 = params.pos.
 *   MATMUL      in: x F32[T,K], w [N,K] of any weight dtype, bias F32[N] (optional).
 *               out F32[T,N] = x w^T + bias.
 *   ADD         in: a F32[T,C], b F32[T,C]. out = a + b.
 *   LAYERNORM   in: x F32[T,C], gamma F32[C], beta F32[C]. out = (x-mean)/sqrt(var+eps)*g + b.
 *   RMSNORM     in: x F32[T,C], gamma F32[C]. out = x/sqrt(mean(x^2)+eps)*g.
 *   SOFTMAX     in: x F32[T,C]. out = softmax(scale*x) along C.
 *   GELU        erf form; GELU_TANH the tanh approximation; RELU; SILU (x*sigmoid(x)). Elementwise.
 *   KV_WRITE    in: src F32[T,C], cache F32[S,C] (the output tensor is the cache itself).
 *               cache[p0+t] = src[t] for t < T, p0 = params.pos (or 0 when op param kv_at_zero).
 *   ATTENTION   in: q F32[T,H*D], kcache F32[S,Hkv*D], vcache F32[S,Hkv*D]. out F32[T,H*D].
 *               H = n_head, Hkv = n_kv_head (0: H); H is a multiple of Hkv (grouped-query
 *               attention): query head h reads kv head h / (H / Hkv).
 *               Head h of query row t attends keys j < L with L and mask by kind:
 *                 CAUSAL: L = pos+T, key j visible iff j <= pos+t.
 *                 BIDIR:  L = pos+T, all visible (encoder self-attention, pos = 0).
 *                 CROSS:  L = params.n_src, all visible (cross-attention on cached K/V).
 *               weights softmax(scale * q.k + bias) over visible keys; out = sum w*v. bias is 0, or
 *               with in[3] (relative position bias F32[H,R], R odd): bias[h, j - (p0 + t) + (R-1)/2]
 *               (T5: the bucketed table of layer 0 expanded per distance by tfb_rel_bucket).
 *   LAST_ROW    in: x F32[T,C]. out F32[1,C] = x[T-1] (logits of the last position only).
 *   ARGMAX      in: x F32[T,C]. out I32[T]; lowest index wins ties.
 *   MUL         in: a F32[T,C], b F32[T,C]. out = a * b (the gate of a gated FFN).
 *   ROPE        in: x F32[T,H*D] (H = n_head heads of width D). out F32[T,H*D]: each head's pairs
 *               (a, b) rotated by the angle (p0 + t) * theta^(-2i/D), i in [0, D/2), p0 = params.pos:
 *               out[a] = x[a] cos - x[b] sin, out[b] = x[a] sin + x[b] cos. The pairs are
 *               (i, i + D/2) for rope_layout HALF (rotate-half, Hugging Face Llama) and (2i, 2i+1)
 *               for INTERLEAVED (GGUF llama files).
 *   SCALE       in: x F32[T,C]. out = scale * x (T5's head input rescale).
 */
#ifndef TFBENCH_GRAPH_H
#define TFBENCH_GRAPH_H

#include "tfbench/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TFB_OP_MAP(X)          \
    X(EMBED, "embed")          \
    X(MATMUL, "matmul")        \
    X(ADD, "add")              \
    X(LAYERNORM, "layernorm")  \
    X(RMSNORM, "rmsnorm")      \
    X(SOFTMAX, "softmax")      \
    X(GELU, "gelu")            \
    X(GELU_TANH, "gelu_tanh")  \
    X(RELU, "relu")            \
    X(SILU, "silu")            \
    X(KV_WRITE, "kv_write")    \
    X(ATTENTION, "attention")  \
    X(LAST_ROW, "last_row")    \
    X(ARGMAX, "argmax")        \
    X(MUL, "mul")              \
    X(ROPE, "rope")            \
    X(SCALE, "scale")

typedef enum tfb_op {
#define TFB_OP_ENUM_(name, str) TFB_OP_##name,
    TFB_OP_MAP(TFB_OP_ENUM_)
#undef TFB_OP_ENUM_
    TFB_OP_COUNT
} tfb_op;

const char *tfb_op_name(tfb_op op);
bool tfb_op_parse(const char *name, tfb_op *out);

typedef enum tfb_mask {
    TFB_MASK_CAUSAL,
    TFB_MASK_BIDIR,
    TFB_MASK_CROSS,
} tfb_mask;

typedef enum tfb_pos_kind {
    TFB_POS_NONE,
    TFB_POS_LEARNED,
    TFB_POS_SINUSOIDAL,
    TFB_POS_ROTARY, /* a model's positions only: ROPE on q and k; its EMBED adds none */
    TFB_POS_RELATIVE, /* a model's positions only: a bias on the attention scores (T5); EMBED adds none */
} tfb_pos_kind;

typedef enum tfb_rope_layout {
    TFB_ROPE_HALF,        /* pairs (i, i + D/2): rotate-half */
    TFB_ROPE_INTERLEAVED, /* pairs (2i, 2i + 1) */
} tfb_rope_layout;

#define TFB_MAX_INPUTS 4

typedef struct tfb_node {
    tfb_op op;
    tfb_tensor *in[TFB_MAX_INPUTS]; /* unused slots NULL */
    tfb_tensor *out;
    float eps;              /* LAYERNORM, RMSNORM */
    float scale;            /* EMBED (token scale), SOFTMAX, ATTENTION */
    int n_head;             /* ATTENTION, ROPE */
    int n_kv_head;          /* ATTENTION: heads of the K/V cache (0: n_head) */
    float rope_theta;       /* ROPE: base of the frequencies */
    tfb_rope_layout rope_layout; /* ROPE */
    tfb_mask mask;          /* ATTENTION */
    tfb_pos_kind pos_kind;  /* EMBED */
    bool kv_at_zero;        /* KV_WRITE: write at row 0 instead of params.pos */
} tfb_node;

/* Per-call parameters. */
typedef struct tfb_graph_params {
    int64_t n_rows; /* tokens in this call (rows of every dyn_rows tensor), >= 1 */
    int64_t pos;    /* cache position of the first row */
    int64_t n_src;  /* source length for CROSS attention (encoder-decoder) */
} tfb_graph_params;

typedef struct tfb_graph {
    tfb_node *nodes; /* execution order */
    int n_nodes, cap_nodes;
    tfb_tensor **tensors; /* every activation tensor the graph owns (not weights, not caches) */
    int n_tensors, cap_tensors;
    int64_t max_rows; /* shape[0] of dyn_rows tensors */
    tfb_tensor *input;  /* token ids, I32 [rows], uploaded before each compute */
    tfb_tensor *output; /* what callers read back (logits or hidden states) */
    tfb_buffer *act_buf; /* storage of the activation tensors, allocated by the session */
    tfb_graph_params params; /* set by the caller before each compute */
    void *backend_data;      /* a backend may cache per-graph state here (pipelines, primitives);
                                freed through the backend's graph_release slot */
} tfb_graph;

/* T5's relative position bucket of key position minus query position `rel` (transformers'
 * _relative_position_bucket: half the buckets exact, the rest logarithmic up to max_distance; the
 * logarithm in float32 as torch computes it). Integer: every backend sees the same buckets. */
int32_t tfb_rel_bucket(int64_t rel, int64_t num_buckets, int64_t max_distance, bool bidirectional);
/* cos and sin of ROPE's angles at position p, p * theta^(-2i/D) for pairs i < D/2, formed and
 * evaluated in double and rounded once to f32, into c[i*stride] and s[i*stride]: an f32 angle is off
 * by ~p ulps of its frequency, which at thousands of positions moves the rotation visibly. Every
 * backend that tabulates rotations (simd and onednn per row, opencl and vulkan per table) uses this;
 * the reference applies the double values directly. */
void tfb_rope_cos_sin(float theta, int64_t d, int64_t p, float *c, float *s, int64_t stride);
/* Whether n has the tensors its op's semantics above give it: every required input present, activations
 * and caches F32, ids and the argmax output I32, matching widths, heads that divide the attention and
 * rope widths, kv heads that divide the heads, a relative bias of [H, odd R]. The MATMUL weight's dtype (in[1]) is not judged: which weight dtypes run
 * is each backend's choice, declared in its supports slot. A malformed node is supported nowhere. */
bool tfb_node_well_formed(const tfb_node *n);
/* The ops without a size limit or variant of their own: the row-wise ones (ADD, MUL, SCALE, the norms,
 * SOFTMAX, the activations, LAST_ROW, ARGMAX), EMBED and KV_WRITE. Every backend runs these; each
 * judges MATMUL (its weight dtypes), ATTENTION and ROPE itself. An op added to the list above is in
 * neither until someone decides. */
bool tfb_op_is_rowwise(tfb_op op);
/* Head size of an ATTENTION or ROPE node (query width / n_head); 0 when the heads do not divide it. */
int64_t tfb_node_head_size(const tfb_node *n);
/* Whether an ATTENTION node is the plain form: a K/V head per query head (n_kv_head 0 or n_head) and
 * no relative position bias (in[3]). Backends without grouped-query or biased kernels declare it. */
bool tfb_node_attention_plain(const tfb_node *n);

/* Rows of t in this call: params.n_rows for dyn_rows tensors, else shape[0]. */
int64_t tfb_graph_rows(const tfb_graph *g, const tfb_tensor *t);

/* Building. The graph owns the activation tensors it creates; weights and caches are the caller's. */
void tfb_graph_init(tfb_graph *g, int64_t max_rows);
void tfb_graph_free(tfb_graph *g);
/* A new F32 activation tensor [max_rows, cols] (dyn_rows) or [rows, cols] fixed when rows > 0. */
tfb_tensor *tfb_graph_new_act(tfb_graph *g, const char *name, int64_t rows, int64_t cols, tfb_dtype dt);
/* Append a node; returns it so the caller can set params. out must already exist. */
tfb_node *tfb_graph_add(tfb_graph *g, tfb_op op, tfb_tensor *out, tfb_tensor *a, tfb_tensor *b,
                        tfb_tensor *c, tfb_tensor *d);
/* Mark an activation the caller reads after compute although nodes read it too (an encoder's hidden
 * state under a head): its bytes are not reused. The input, the output and tensors no node reads are
 * kept without asking. */
void tfb_graph_keep(tfb_graph *g, tfb_tensor *t);
/* Assign offsets (64-byte aligned) to the activation tensors; tensors whose lifetimes (first writing
 * node to last node using them) do not overlap share bytes. Returns the bytes needed. */
size_t tfb_graph_layout(tfb_graph *g);

#ifdef __cplusplus
}
#endif
#endif
