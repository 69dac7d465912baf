/* The one op-conformance definition: the op shapes and the tolerance table (see opdef.h for who uses
 * it and why it links alone).
 *
 * The bounds. Every bound is relative to the RMS of the reference output: an element passes when
 * |x - ref| <= tol*rms(ref) + tol*|ref| (atol = tol*rms, rtol = tol), and the whole output when
 * NMSE = sum((x-ref)^2)/sum(ref^2) <= tol^2. tol = eps32 * (a + b*sqrt(k) + c*k), k the op's reduction
 * length. Why sqrt(k): a k-long f32 sum accumulates k roundings of partial sums of size ~sqrt(j)*sigma,
 * a random walk whose error relative to the result's size grows like eps*sqrt(k). Measured for a naive
 * f32 loop (the worst order a backend could pick) over 4000 dot products of uniform inputs, K = 32 to
 * 8192: the largest |x-ref| / ((rms+|ref|) * eps*sqrt(K)) was 0.45 and NMSE / (eps^2 K) 0.027, so
 * b = 4 leaves a margin of about 9x on the worst element. For scale, llama.cpp's test-backend-ops uses
 * NMSE 1e-7 by default and 5e-4 for matmul; these are tighter because the reference is exact (double
 * accumulation) and both sides read the same weights bit for bit. The backends' own op tests used to
 * keep tables of their own (matmul NMSE 1e-8 in simd, 1e-7 in opencl and onednn, ...): every one of
 * them was looser than this derivation at the shapes they ran, so they now share it. */
#include <math.h>
#include <string.h>

#include "opdef.h"

/* ---- the shapes ------------------------------------------------------------------------------------ */

#define MM(t, k, n, b)                                                                                       \
    { .op = TFB_OP_MATMUL, .T = t, .K = k, .N = n, .bias = b, .lo = -1, .hi = 1 }
#define EW(o, t, c)                                                                                          \
    { .op = o, .T = t, .N = c, .lo = -4, .hi = 4 }
#define NORM(o, t, c, e)                                                                                     \
    { .op = o, .T = t, .N = c, .eps = e, .lo = -1.5f, .hi = 2.5f }
#define SM(t, c, s)                                                                                          \
    { .op = TFB_OP_SOFTMAX, .T = t, .N = c, .scale = s, .lo = -4, .hi = 4 }
#define ATT(tag_, m, t, h, d, s, p, ns)                                                                      \
    {                                                                                                        \
        .op = TFB_OP_ATTENTION, .tag = tag_, .mask = m, .T = t, .H = h, .D = d, .N = (h) * (d), .S = s,      \
        .pos = p, .n_src = ns, .cache_input = (m) != TFB_MASK_BIDIR, .lo = -1, .hi = 1                       \
    }
#define KV(t, c, s, p, z)                                                                                    \
    { .op = TFB_OP_KV_WRITE, .T = t, .N = c, .S = s, .pos = p, .kv_at_zero = z, .lo = -1, .hi = 1 }
#define EMB(tag_, t, c, p, kind, ty, sc)                                                                     \
    {                                                                                                        \
        .op = TFB_OP_EMBED, .tag = tag_, .T = t, .N = c, .pos = p, .pos_kind = kind, .type = ty,             \
        .scale = sc, .S = 160, .K = 50, .lo = -0.1f, .hi = 0.1f                                              \
    }
#define ROW(o, t, c)                                                                                         \
    { .op = o, .T = t, .N = c, .lo = -1, .hi = 1 }
#define SCL(t, c, s)                                                                                         \
    { .op = TFB_OP_SCALE, .T = t, .N = c, .scale = s, .lo = -4, .hi = 4 }
#define ROPE(tag_, lay, t, h, d, p, th)                                                                      \
    {                                                                                                        \
        .op = TFB_OP_ROPE, .tag = tag_, .rope_layout = lay, .T = t, .H = h, .D = d, .N = (h) * (d), .pos = p, \
        .rope_theta = th, .lo = -1, .hi = 1                                                                  \
    }
/* Grouped-query attention (kv heads hk) and attention with a relative position bias (T5). */
#define GQA(m, t, h, hk, d, s, p)                                                                            \
    {                                                                                                        \
        .op = TFB_OP_ATTENTION, .tag = "gqa", .mask = m, .T = t, .H = h, .Hkv = hk, .D = d, .N = (h) * (d),  \
        .S = s, .pos = p, .cache_input = true, .lo = -1, .hi = 1                                             \
    }
#define RELB(m, t, h, d, s, p)                                                                               \
    {                                                                                                        \
        .op = TFB_OP_ATTENTION, .tag = "relbias", .mask = m, .T = t, .H = h, .D = d, .N = (h) * (d), .S = s, \
        .pos = p, .cache_input = (m) != TFB_MASK_BIDIR, .rel_bias = true, .lo = -1, .hi = 1                  \
    }

// clang-format off
/* One line per group of cases reads better than one case per line. Real shapes: gpt2-124m and
 * bert-base (C 768, FFN 3072, 12 heads of 64, vocab 50257), marian-base (C 512, FFN 2048, 8 heads of
 * 64, vocab 58101, sinusoidal positions scaled by sqrt(C)), t5-base (12 heads of 64 with a relative
 * bias, head input rescaled by 768^-0.5), tinyllama-1.1b (32 heads of 64 over 4 kv heads, FFN 5632),
 * llama2-7b (C 4096, FFN 11008, 32 heads of 128, vocab 32000, RMS norm, SiLU, rotary positions). */
static const tfb_opdef_case cases[] = {
    /* matmul: odd sizes (f32/f16/bf16 take any K; q8_0/q4_0 need K % 32 == 0) and real shapes */
    MM(1, 32, 7, true), MM(7, 33, 1, false), MM(7, 127, 33, true), MM(33, 64, 127, true),
    MM(127, 96, 33, false), MM(5, 64, 64, true), MM(1, 768, 2304, true), MM(7, 768, 768, true),
    MM(3, 768, 3072, true), MM(2, 3072, 768, true), MM(1, 768, 50257, false),
    MM(7, 512, 2048, true), MM(1, 512, 58101, false), MM(1, 4096, 4096, false),
    /* elementwise */
    EW(TFB_OP_ADD, 1, 7), EW(TFB_OP_ADD, 7, 33), EW(TFB_OP_ADD, 127, 7), EW(TFB_OP_ADD, 3, 768),
    EW(TFB_OP_GELU, 1, 7), EW(TFB_OP_GELU, 7, 33), EW(TFB_OP_GELU, 127, 7), EW(TFB_OP_GELU, 33, 127), EW(TFB_OP_GELU, 2, 3072),
    EW(TFB_OP_GELU_TANH, 1, 7), EW(TFB_OP_GELU_TANH, 7, 33), EW(TFB_OP_GELU_TANH, 33, 127),
    EW(TFB_OP_GELU_TANH, 2, 3072),
    EW(TFB_OP_RELU, 1, 7), EW(TFB_OP_RELU, 7, 33), EW(TFB_OP_RELU, 2, 3072), EW(TFB_OP_RELU, 3, 2048),
    EW(TFB_OP_SILU, 1, 7), EW(TFB_OP_SILU, 7, 33), EW(TFB_OP_SILU, 33, 127), EW(TFB_OP_SILU, 2, 3072),
    EW(TFB_OP_SILU, 1, 11008),
    /* row-wise */
    NORM(TFB_OP_LAYERNORM, 1, 7, 1e-5f), NORM(TFB_OP_LAYERNORM, 7, 33, 1e-5f), NORM(TFB_OP_LAYERNORM, 33, 127, 1e-5f),
    NORM(TFB_OP_LAYERNORM, 3, 768, 1e-5f), NORM(TFB_OP_LAYERNORM, 2, 64, 1e-12f), NORM(TFB_OP_LAYERNORM, 3, 512, 1e-5f),
    NORM(TFB_OP_RMSNORM, 1, 7, 1e-5f), NORM(TFB_OP_RMSNORM, 7, 33, 1e-5f), NORM(TFB_OP_RMSNORM, 127, 7, 1e-5f), NORM(TFB_OP_RMSNORM, 3, 768, 1e-6f),
    NORM(TFB_OP_RMSNORM, 1, 4096, 1e-5f),
    SM(1, 7, 1.0f), SM(7, 33, 0.125f), SM(33, 127, 1.0f), SM(127, 7, 1.0f), SM(3, 768, 1.0f),
    /* KV cache and attention: several positions, row counts and mask kinds */
    KV(7, 33, 16, 0, false), KV(1, 64, 16, 9, false), KV(3, 768, 8, 5, false), KV(5, 33, 8, 2, true),
    ATT("causal", TFB_MASK_CAUSAL, 7, 2, 16, 16, 0, 0), ATT("causal", TFB_MASK_CAUSAL, 1, 4, 16, 16, 5, 0),
    ATT("causal", TFB_MASK_CAUSAL, 7, 3, 7, 20, 9, 0), ATT("causal", TFB_MASK_CAUSAL, 33, 1, 33, 40, 4, 0),
    ATT("bidir", TFB_MASK_BIDIR, 33, 4, 16, 33, 0, 0), ATT("bidir", TFB_MASK_BIDIR, 1, 2, 8, 1, 0, 0),
    ATT("cross", TFB_MASK_CROSS, 3, 4, 16, 16, 4, 10), ATT("cross", TFB_MASK_CROSS, 1, 2, 7, 9, 0, 1),
    ATT("causal", TFB_MASK_CAUSAL, 1, 12, 64, 128, 100, 0), ATT("causal", TFB_MASK_CAUSAL, 7, 12, 64, 16, 0, 0),
    ATT("bidir", TFB_MASK_BIDIR, 7, 12, 64, 7, 0, 0), ATT("cross", TFB_MASK_CROSS, 1, 8, 64, 40, 3, 33),
    ATT("causal", TFB_MASK_CAUSAL, 1, 32, 128, 48, 40, 0),
    /* embeddings: learned, learned + type, sinusoidal (scaled), none */
    EMB("learned", 7, 33, 3, TFB_POS_LEARNED, false, 1.0f), EMB("learned+type", 7, 64, 0, TFB_POS_LEARNED, true, 1.0f),
    EMB("sinusoidal", 7, 64, 100, TFB_POS_SINUSOIDAL, false, 8.0f),
    EMB("sinusoidal", 1, 34, 7, TFB_POS_SINUSOIDAL, false, 1.0f), EMB("none", 1, 7, 0, TFB_POS_NONE, false, 1.0f),
    EMB("learned", 3, 768, 5, TFB_POS_LEARNED, false, 1.0f),
    EMB("sinusoidal", 3, 512, 20, TFB_POS_SINUSOIDAL, false, 22.627417f),
    /* last row and argmax */
    ROW(TFB_OP_LAST_ROW, 1, 7), ROW(TFB_OP_LAST_ROW, 7, 33), ROW(TFB_OP_LAST_ROW, 5, 768),
    ROW(TFB_OP_ARGMAX, 7, 33), ROW(TFB_OP_ARGMAX, 127, 7), ROW(TFB_OP_ARGMAX, 3, 512), ROW(TFB_OP_ARGMAX, 2, 50257), ROW(TFB_OP_ARGMAX, 1, 32000),
    {.op = TFB_OP_ARGMAX, .tag = "ties", .T = 7, .N = 33, .ties = true, .lo = -1, .hi = 1},
    /* gated FFN, head rescale, rotary positions (both layouts), grouped-query and biased attention */
    EW(TFB_OP_MUL, 1, 7), EW(TFB_OP_MUL, 7, 33), EW(TFB_OP_MUL, 2, 5632),
    SCL(1, 7, 0.125f), SCL(7, 33, 3.0f), SCL(3, 768, 0.036084392f),
    ROPE("half", TFB_ROPE_HALF, 7, 2, 16, 3, 10000.0f), ROPE("interleaved", TFB_ROPE_INTERLEAVED, 1, 4, 8, 100, 10000.0f),
    ROPE("half", TFB_ROPE_HALF, 1, 32, 64, 500, 10000.0f), ROPE("half", TFB_ROPE_HALF, 3, 32, 128, 40, 10000.0f),
    ROPE("interleaved", TFB_ROPE_INTERLEAVED, 7, 3, 34, 0, 500000.0f),
    GQA(TFB_MASK_CAUSAL, 7, 4, 2, 16, 16, 0), GQA(TFB_MASK_CAUSAL, 1, 6, 1, 7, 20, 9), GQA(TFB_MASK_CAUSAL, 1, 32, 4, 64, 128, 100),
    RELB(TFB_MASK_BIDIR, 7, 4, 16, 7, 0), RELB(TFB_MASK_CAUSAL, 3, 2, 7, 16, 5), RELB(TFB_MASK_CAUSAL, 1, 12, 64, 40, 30),
};
// clang-format on

int tfb__opdef_count(void) {
    return (int)(sizeof cases / sizeof cases[0]);
}

const tfb_opdef_case *tfb__opdef_get(int i) {
    TFB_ASSERT(i >= 0 && i < tfb__opdef_count());
    return &cases[i];
}

bool tfb__opdef_applies(const tfb_opdef_case *c, tfb_dtype wt) {
    if (c->op != TFB_OP_MATMUL)
        return wt == TFB_DTYPE_F32;
    return wt != TFB_DTYPE_I32 && (unsigned)wt < TFB_DTYPE_COUNT &&
           (tfb_dtype_block_elems(wt) == 1 || c->K % TFB_QK == 0);
}

void tfb__opdef_name(const tfb_opdef_case *c, char *buf, size_t len) {
    const char *op = tfb_op_name(c->op);
    switch (c->op) {
    case TFB_OP_MATMUL:
        snprintf(buf, len, "%s %lldx%lldx%lld%s", op, (long long)c->T, (long long)c->K, (long long)c->N,
                 c->bias ? " bias" : "");
        break;
    case TFB_OP_ATTENTION:
        snprintf(buf, len, "%s %s T%lld H%lld D%lld pos%lld%s", op, c->tag, (long long)c->T, (long long)c->H,
                 (long long)c->D, (long long)c->pos, c->mask == TFB_MASK_CROSS ? " src" : "");
        if (c->Hkv)
            snprintf(buf + strlen(buf), len - strlen(buf), " kv%lld", (long long)c->Hkv);
        if (c->mask == TFB_MASK_CROSS)
            snprintf(buf + strlen(buf), len - strlen(buf), "%lld", (long long)c->n_src);
        break;
    case TFB_OP_KV_WRITE:
        snprintf(buf, len, "%s %lldx%lld pos%lld%s", op, (long long)c->T, (long long)c->N, (long long)c->pos,
                 c->kv_at_zero ? " at0" : "");
        break;
    case TFB_OP_EMBED:
        snprintf(buf, len, "%s %s %lldx%lld pos%lld", op, c->tag, (long long)c->T, (long long)c->N,
                 (long long)c->pos);
        break;
    case TFB_OP_SOFTMAX:
    case TFB_OP_SCALE:
        snprintf(buf, len, "%s %lldx%lld scale%g", op, (long long)c->T, (long long)c->N, (double)c->scale);
        break;
    case TFB_OP_ROPE:
        snprintf(buf, len, "%s %s T%lld H%lld D%lld pos%lld theta%g", op, c->tag, (long long)c->T, (long long)c->H,
                 (long long)c->D, (long long)c->pos, (double)c->rope_theta);
        break;
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
        snprintf(buf, len, "%s %lldx%lld eps%g", op, (long long)c->T, (long long)c->N, (double)c->eps);
        break;
    default:
        snprintf(buf, len, "%s %lldx%lld%s%s", op, (long long)c->T, (long long)c->N, c->tag ? " " : "",
                 c->tag ? c->tag : "");
    }
}

static tfb_tensor *shape(tfb_opdef_node *o, int i, const char *name, tfb_dtype dt, int64_t rows, int64_t cols,
                         bool dyn) {
    tfb_tensor *t = &o->t[i];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = cols > 0 ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols > 0 ? cols : 0;
    t->dyn_rows = dyn;
    return t;
}

void tfb__opdef_node(const tfb_opdef_case *c, tfb_dtype wt, tfb_opdef_node *o) {
    memset(o, 0, sizeof *o);
    tfb_node *n = &o->node;
    int64_t R = c->T + 2; /* dyn_rows maximum: more rows than the call has, as conform runs it */
    n->op = c->op;
    n->out = shape(o, TFB_MAX_INPUTS, "out", TFB_DTYPE_F32, R, c->N, true);
    switch (c->op) {
    case TFB_OP_MATMUL:
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->K, true);
        n->in[1] = shape(o, 1, "w", wt, c->N, c->K, false);
        n->in[2] = c->bias ? shape(o, 2, "bias", TFB_DTYPE_F32, c->N, 0, false) : NULL;
        break;
    case TFB_OP_ADD:
    case TFB_OP_MUL:
        n->in[0] = shape(o, 0, "a", TFB_DTYPE_F32, R, c->N, true);
        n->in[1] = shape(o, 1, "b", TFB_DTYPE_F32, R, c->N, true);
        break;
    case TFB_OP_ROPE:
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->N, true);
        n->n_head = (int)c->H;
        n->rope_theta = c->rope_theta;
        n->rope_layout = c->rope_layout;
        break;
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->N, true);
        n->in[1] = shape(o, 1, "gamma", TFB_DTYPE_F32, c->N, 0, false);
        n->in[2] = c->op == TFB_OP_LAYERNORM ? shape(o, 2, "beta", TFB_DTYPE_F32, c->N, 0, false) : NULL;
        n->eps = c->eps;
        break;
    case TFB_OP_KV_WRITE:
        n->in[0] = shape(o, 0, "src", TFB_DTYPE_F32, R, c->N, true);
        n->out = n->in[1] = shape(o, TFB_MAX_INPUTS, "cache", TFB_DTYPE_F32, c->S, c->N, false);
        n->kv_at_zero = c->kv_at_zero;
        break;
    case TFB_OP_ATTENTION: {
        int64_t KD = (c->Hkv ? c->Hkv : c->H) * c->D;
        n->in[0] = shape(o, 0, "q", TFB_DTYPE_F32, R, c->N, true);
        n->in[1] = shape(o, 1, "kcache", TFB_DTYPE_F32, c->cache_input ? c->S : R, KD, !c->cache_input);
        n->in[2] = shape(o, 2, "vcache", TFB_DTYPE_F32, c->cache_input ? c->S : R, KD, !c->cache_input);
        n->in[3] = c->rel_bias ? shape(o, 3, "relbias", TFB_DTYPE_F32, c->H, 2 * c->S - 1, false) : NULL;
        n->n_head = (int)c->H;
        n->n_kv_head = (int)c->Hkv;
        n->mask = c->mask;
        n->scale = (float)(1.0 / sqrt((double)c->D));
        break;
    }
    case TFB_OP_EMBED:
        n->in[0] = shape(o, 0, "ids", TFB_DTYPE_I32, R, 0, true);
        n->in[1] = shape(o, 1, "tok", TFB_DTYPE_F32, c->K, c->N, false);
        n->in[2] = c->pos_kind == TFB_POS_LEARNED ? shape(o, 2, "pos", TFB_DTYPE_F32, c->S, c->N, false) : NULL;
        n->in[3] = c->type ? shape(o, 3, "type", TFB_DTYPE_F32, 2, c->N, false) : NULL;
        n->pos_kind = c->pos_kind;
        n->scale = c->scale;
        break;
    case TFB_OP_LAST_ROW:
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->N, true);
        n->out = shape(o, TFB_MAX_INPUTS, "out", TFB_DTYPE_F32, 1, c->N, false);
        break;
    case TFB_OP_ARGMAX:
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->N, true);
        n->out = shape(o, TFB_MAX_INPUTS, "out", TFB_DTYPE_I32, R, 0, true);
        break;
    default: /* SOFTMAX, SCALE and the activations */
        n->in[0] = shape(o, 0, "x", TFB_DTYPE_F32, R, c->N, true);
        n->scale = c->op == TFB_OP_SOFTMAX || c->op == TFB_OP_SCALE ? c->scale : 1.0f;
        break;
    }
    o->params = (tfb_graph_params){.n_rows = c->T, .pos = c->pos, .n_src = c->n_src};
}

/* ---- the tolerance table ----------------------------------------------------------------------------- */

#define ANY_DTYPE TFB_DTYPE_COUNT

typedef struct op_tol {
    tfb_op op;
    tfb_dtype wt;   /* the weight dtype it holds for, or ANY_DTYPE */
    double a, b, c; /* tol = eps32 * (a + b*sqrt(k) + c*k) */
    const char *why;
} op_tol;

/* Weight dtypes change nothing in the matmul bound: both sides dequantize the same bytes, and every
 * dequantized value is exact in f32 (f16: 11-bit significand; bf16: 8; q8_0: fp16 scale times int8
 * = 19 bits; q4_0: fp16 scale times a 4-bit value). Only the order of the f32 accumulation differs.
 *
 * Activations. With f32 activations (--act f32, the default) a backend that rounds them too
 * (llama.cpp quantizes x to 8 bits for its quantized dots) computes something else: an error of
 * ~4e-3 of the output's RMS (NMSE 1.3e-5 to 2.4e-5 measured on the matmul cases, about 1e5 times the
 * threshold), so it fails here by design, and the planted fault "actq8" proves the bound tells the
 * two apart. With --act q8 (tfb_backend_opts.act_q8) the oracle rounds the activations of q8_0/q4_0
 * matmuls through the same tfb_quantize_act_q8, so both sides multiply the same d*q by the same
 * weights and again differ only in how they sum: the bound stays eps*sqrt(K). An integer dot product
 * per 32-block is exact, and the block scales' products and the K/32-long sum of blocks add fewer
 * roundings than a K-long f32 sum. The accuracy of the rounding itself belongs in the quantization
 * figures, not in conformance. */
static const op_tol table[] = {
    {TFB_OP_EMBED, ANY_DTYPE, 4, 0, 4,
     "scale*tok + pos + type rounds up to 3 times (4 ulp); a sinusoidal argument p*freq carries an "
     "absolute error ~eps*p, so k = the largest position adds eps*k"},
    {TFB_OP_MATMUL, TFB_DTYPE_F32, 0, 4, 0,
     "K-long f32 dot products: eps*sqrt(K) random walk, 9x margin over a naive loop (see opdef.c)"},
    {TFB_OP_MATMUL, TFB_DTYPE_F16, 0, 4, 0, "same as f32: f16 weights dequantize exactly to f32 on both sides"},
    {TFB_OP_MATMUL, TFB_DTYPE_BF16, 0, 4, 0, "same as f32: bf16 weights dequantize exactly to f32 on both sides"},
    {TFB_OP_MATMUL, TFB_DTYPE_Q8_0, 0, 4, 0,
     "same as f32: q8_0 blocks (fp16 d * int8) dequantize exactly to f32 on both sides; with --act q8 both "
     "sides round x identically (tfb_quantize_act_q8), so still eps*sqrt(K)"},
    {TFB_OP_MATMUL, TFB_DTYPE_Q4_0, 0, 4, 0,
     "same as f32: q4_0 blocks (fp16 d * int4) dequantize exactly to f32 on both sides; with --act q8 both "
     "sides round x identically (tfb_quantize_act_q8), so still eps*sqrt(K)"},
    {TFB_OP_ADD, ANY_DTYPE, 0, 0, 0,
     "a+b is correctly rounded in f32, and in double then f32 (53 >= 2*24+2: double rounding is "
     "innocuous), so exact"},
    {TFB_OP_LAYERNORM, ANY_DTYPE, 16, 8, 0,
     "two C-long sums (mean, variance) then rsqrt and two multiplies: eps*sqrt(C) plus a few ulp"},
    {TFB_OP_RMSNORM, ANY_DTYPE, 16, 8, 0, "one C-long sum of squares then rsqrt and a multiply"},
    {TFB_OP_SOFTMAX, ANY_DTYPE, 16, 8, 0,
     "vectorized exp approximations (a few ulp) and a C-long sum of the exponentials"},
    {TFB_OP_GELU, ANY_DTYPE, 84, 0, 0,
     "vectorized erf/tanh/exp approximations (~1e-6 relative) composed with a few multiplies; "
     "tol 1e-5 (NMSE 1e-10); near x = 0 the atol term (tol*rms) covers the relative blow-up"},
    {TFB_OP_GELU_TANH, ANY_DTYPE, 84, 0, 0, "as gelu: a tanh approximation composed with a cubic"},
    {TFB_OP_RELU, ANY_DTYPE, 0, 0, 0, "max(x, 0) is exact"},
    {TFB_OP_SILU, ANY_DTYPE, 84, 0, 0, "as gelu: x*sigmoid(x) with an exp approximation and a division"},
    {TFB_OP_KV_WRITE, ANY_DTYPE, 0, 0, 0, "a copy: exact, and every row it should not write stays bit-identical"},
    {TFB_OP_ATTENTION, ANY_DTYPE, 16, 8, 0,
     "D-long q.k dots, an exp per score and L-long sums of weights and of w*v: k = D + L, plus the "
     "exp approximation"},
    {TFB_OP_LAST_ROW, ANY_DTYPE, 0, 0, 0, "a copy: exact"},
    {TFB_OP_ARGMAX, ANY_DTYPE, 0, 0, 0, "an index: exact, lowest index wins ties"},
    {TFB_OP_MUL, ANY_DTYPE, 1, 0, 0,
     "one product, rounded once on each side (a correctly rounded f32 product would be exact; one ulp "
     "leaves room for a backend that fuses the gate into the activation before it)"},
    {TFB_OP_SCALE, ANY_DTYPE, 1, 0, 0, "one product, rounded once on each side (as mul)"},
    {TFB_OP_ROPE, ANY_DTYPE, 32, 0, 1,
     "two products and a sum of cos/sin of p*theta^(-2i/D): an f32 angle is off by ~p ulps of its "
     "frequency, so the bound grows with the largest position (k = pos + T)"},
};

double tfb__opdef_tol(tfb_op op, tfb_dtype wt, int64_t k, const char **why) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const op_tol *e = &table[i];
        if (e->op != op || (e->wt != ANY_DTYPE && e->wt != wt))
            continue;
        if (why)
            *why = e->why;
        double kk = k < 1 ? 1.0 : (double)k;
        return TFB_OPDEF_EPS_F32 * (e->a + e->b * sqrt(kk) + e->c * kk);
    }
    TFB_ASSERT(!"op x dtype missing from the tolerance table");
    return 0.0;
}

int64_t tfb__opdef_node_k(const tfb_node *n, const tfb_graph_params *p) {
    switch (n->op) {
    case TFB_OP_MATMUL: return n->in[0]->shape[1];
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
    case TFB_OP_SOFTMAX: return n->in[0]->shape[n->in[0]->ndim - 1];
    case TFB_OP_ATTENTION:
        return tfb_node_head_size(n) + (n->mask == TFB_MASK_CROSS ? p->n_src : p->pos + p->n_rows);
    case TFB_OP_EMBED: return n->pos_kind == TFB_POS_SINUSOIDAL ? p->pos + p->n_rows : 1;
    case TFB_OP_ROPE: return p->pos + p->n_rows;
    default: return 1;
    }
}

double tfb__opdef_node_tol(const tfb_node *n, const tfb_graph_params *p, const char **why) {
    tfb_dtype wt = n->op == TFB_OP_MATMUL ? n->in[1]->dtype : TFB_DTYPE_F32;
    return tfb__opdef_tol(n->op, wt, tfb__opdef_node_k(n, p), why);
}

double tfb__opdef_node_nmse(const tfb_node *n, const tfb_graph_params *p) {
    double t = tfb__opdef_node_tol(n, p, NULL);
    return t * t;
}

void tfb__opdef_print_tolerances(FILE *f) {
    fprintf(f, "op tolerances: tol = eps32*(a + b*sqrt(k) + c*k), element |x-ref| <= tol*(rms+|ref|), NMSE "
               "<= tol^2\n");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const op_tol *e = &table[i];
        fprintf(f, "  %-10s %-5s a=%-3g b=%-3g c=%-3g %s\n", tfb_op_name(e->op),
                e->wt == ANY_DTYPE ? "any" : tfb_dtype_name(e->wt), e->a, e->b, e->c, e->why);
    }
}
