/* The SIMD backend's own op test: every op x weight dtype x shape of the one op definition
 * (harness/opdef.c, the shapes conform runs) plus the simd kernels' own boundaries (K blocks, weight
 * panels, the attention GEMM-tile path) as single-node graphs, run on the reference and on every SIMD
 * path this CPU has (avx512, avx2, neon, scalar), compared by NMSE against the bound of the one
 * tolerance table (opdef.c: op x dtype, eps*sqrt(k) with its reasons, taken for the node as run; 0
 * for copies, relu and add); kv_write, last_row and argmax compare bit for bit. The whole buffer
 * holding the case's tensors is snapshotted before the compute: afterwards every byte outside the
 * rows the op should write must be unchanged (guard regions around the output, the output's rows
 * past n_rows, and every input).
 *
 * q8_0/q4_0 matmuls run a second time with act_q8 on (8-bit activations, integer dots) against the
 * reference with act_q8 on: both round x identically, so the matmul bound holds; and one such result
 * must FAIL against the f32-activation reference (the check can tell the two numerics apart).
 * Exit 0 all passed, 1 a case failed. With --list it prints the cases; --path P runs only path P. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opdef.h"
#include "tfbench/backend.h"

#define GUARD 256
#define GUARD_BYTE 0xA5

/* ---- deterministic data ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static void rng_seed(uint64_t s) {
    rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static double rng_unit(void) { /* [0, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static float rng_range(float lo, float hi) {
    return lo + (hi - lo) * (float)rng_unit();
}

/* ---- a case --------------------------------------------------------------------------------------- */

typedef struct tcase {
    tfb_op op;
    tfb_dtype wt;       /* MATMUL weight dtype */
    int64_t T, max_rows; /* rows of this call and of the dyn tensors */
    int64_t K, N;        /* MATMUL; N is also the column count of row-wise ops */
    bool bias;
    int64_t H, D, S;     /* ATTENTION / KV_WRITE / ROPE: heads, head size, cache rows */
    int64_t Hkv;         /* ATTENTION: kv heads (0: H); the caches are Hkv*D wide */
    bool rel_bias;       /* ATTENTION: a relative position bias [H, 2S-1] */
    float rope_theta;    /* ROPE */
    tfb_rope_layout rope_layout;
    int64_t pos, n_src;
    tfb_mask mask;
    tfb_pos_kind pos_kind;
    bool typ, kv_at_zero;
    bool act_q8;         /* run with tfb_backend_opts.act_q8 on both sides */
    float scale, eps;    /* op scale, norm eps */
    float lo, hi;        /* input range */
    uint64_t seed;
} tcase;

/* A built case on one backend: graph, its own tensors, one buffer holding all of them. */
typedef struct built {
    tfb_graph g;
    tfb_tensor fixed[6]; /* weights, caches, ids: not graph activations */
    int n_fixed;
    tfb_tensor *in[TFB_MAX_INPUTS], *out;
    tfb_buffer *buf;
    size_t wr_begin, wr_end; /* byte range of buf the op may write */
    double bound;            /* NMSE bound of the node as run (opdef.c) */
} built;

static tfb_tensor *fixed_tensor(built *b, const char *name, tfb_dtype dt, int64_t rows, int64_t cols) {
    tfb_tensor *t = &b->fixed[b->n_fixed++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = cols > 0 ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    return t;
}

static size_t align64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

/* Fill t (full shape) with data derived from the case seed; identical on every backend. */
static tfb_status fill(tfb_backend *be, const tcase *c, tfb_tensor *t, int which) {
    rng_seed(c->seed * 31 + (uint64_t)which);
    int64_t rows = t->shape[0], cols = t->ndim > 1 ? t->shape[1] : 1;
    size_t nbytes = tfb_tensor_nbytes(t);
    void *data = malloc(nbytes);
    float *row = malloc((size_t)cols * sizeof *row);
    if (!data || !row)
        return tfb_error_set(TFB_STATUS_NOMEM, "test: out of memory");
    for (int64_t r = 0; r < rows; r++) {
        if (t->dtype == TFB_DTYPE_I32) {
            for (int64_t i = 0; i < cols; i++)
                ((int32_t *)data)[r * cols + i] = (int32_t)(rng_unit() * 50.0); /* tok has 50 rows */
            continue;
        }
        for (int64_t i = 0; i < cols; i++)
            row[i] = rng_range(c->lo, c->hi);
        if (c->op == TFB_OP_ARGMAX) /* few distinct values: ties, lowest index must win */
            for (int64_t i = 0; i < cols; i++)
                row[i] = floorf(row[i] * 2.0f);
        size_t rb = tfb_dtype_row_bytes(t->dtype, cols);
        tfb_quantize_row(t->dtype, row, (char *)data + (size_t)r * rb, cols);
    }
    tfb_status s = tfb_backend_upload(be, t, data, 0, nbytes);
    free(data);
    free(row);
    return s;
}

static tfb_status build(tfb_backend *be, const tcase *c, built *b) {
    memset(b, 0, sizeof *b);
    tfb_graph_init(&b->g, c->max_rows);
    tfb_graph *g = &b->g;
    tfb_tensor **in = b->in;
    int64_t C = c->N, HD = c->H * c->D;
    switch (c->op) {
    case TFB_OP_EMBED:
        in[0] = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
        in[0]->ndim = 1;
        in[1] = fixed_tensor(b, "tok", TFB_DTYPE_F32, 50, C);
        if (c->pos_kind == TFB_POS_LEARNED)
            in[2] = fixed_tensor(b, "pos", TFB_DTYPE_F32, c->pos + c->max_rows, C);
        if (c->typ)
            in[3] = fixed_tensor(b, "type", TFB_DTYPE_F32, 2, C);
        b->out = tfb_graph_new_act(g, "out", 0, C, TFB_DTYPE_F32);
        break;
    case TFB_OP_MATMUL:
        in[0] = tfb_graph_new_act(g, "x", 0, c->K, TFB_DTYPE_F32);
        in[1] = fixed_tensor(b, "w", c->wt, c->N, c->K);
        if (c->bias)
            in[2] = fixed_tensor(b, "bias", TFB_DTYPE_F32, c->N, 0);
        b->out = tfb_graph_new_act(g, "out", 0, c->N, TFB_DTYPE_F32);
        break;
    case TFB_OP_ADD:
    case TFB_OP_MUL:
        in[0] = tfb_graph_new_act(g, "a", 0, C, TFB_DTYPE_F32);
        in[1] = tfb_graph_new_act(g, "b", 0, C, TFB_DTYPE_F32);
        b->out = tfb_graph_new_act(g, "out", 0, C, TFB_DTYPE_F32);
        break;
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
        in[0] = tfb_graph_new_act(g, "x", 0, C, TFB_DTYPE_F32);
        in[1] = fixed_tensor(b, "gamma", TFB_DTYPE_F32, C, 0);
        if (c->op == TFB_OP_LAYERNORM)
            in[2] = fixed_tensor(b, "beta", TFB_DTYPE_F32, C, 0);
        b->out = tfb_graph_new_act(g, "out", 0, C, TFB_DTYPE_F32);
        break;
    case TFB_OP_KV_WRITE:
        in[0] = tfb_graph_new_act(g, "src", 0, HD, TFB_DTYPE_F32);
        b->out = fixed_tensor(b, "cache", TFB_DTYPE_F32, c->S, HD);
        break;
    case TFB_OP_ATTENTION:
        in[0] = tfb_graph_new_act(g, "q", 0, HD, TFB_DTYPE_F32);
        in[1] = fixed_tensor(b, "kcache", TFB_DTYPE_F32, c->S, (c->Hkv ? c->Hkv : c->H) * c->D);
        in[2] = fixed_tensor(b, "vcache", TFB_DTYPE_F32, c->S, (c->Hkv ? c->Hkv : c->H) * c->D);
        if (c->rel_bias)
            in[3] = fixed_tensor(b, "relbias", TFB_DTYPE_F32, c->H, 2 * c->S - 1);
        b->out = tfb_graph_new_act(g, "out", 0, HD, TFB_DTYPE_F32);
        break;
    case TFB_OP_LAST_ROW:
        in[0] = tfb_graph_new_act(g, "x", 0, C, TFB_DTYPE_F32);
        b->out = tfb_graph_new_act(g, "out", 1, C, TFB_DTYPE_F32);
        break;
    case TFB_OP_ARGMAX:
        in[0] = tfb_graph_new_act(g, "x", 0, C, TFB_DTYPE_F32);
        b->out = tfb_graph_new_act(g, "out", 0, 1, TFB_DTYPE_I32);
        b->out->ndim = 1;
        break;
    default: /* SOFTMAX and the activations */
        in[0] = tfb_graph_new_act(g, "x", 0, C, TFB_DTYPE_F32);
        b->out = tfb_graph_new_act(g, "out", 0, C, TFB_DTYPE_F32);
        break;
    }
    tfb_node *n = tfb_graph_add(g, c->op, b->out, in[0], in[1], in[2], in[3]);
    n->scale = c->scale;
    n->eps = c->eps;
    n->n_head = (int)c->H;
    n->n_kv_head = (int)c->Hkv;
    n->rope_theta = c->rope_theta;
    n->rope_layout = c->rope_layout;
    n->mask = c->mask;
    n->pos_kind = c->pos_kind;
    n->kv_at_zero = c->kv_at_zero;
    g->params.n_rows = c->T;
    g->params.pos = c->pos;
    g->params.n_src = c->n_src;
    b->bound = tfb__opdef_node_nmse(n, &g->params);

    /* Layout: every tensor (inputs, output) with GUARD bytes either side. */
    tfb_tensor *all[TFB_MAX_INPUTS + 1];
    int n_all = 0;
    for (int i = 0; i < TFB_MAX_INPUTS; i++)
        if (in[i])
            all[n_all++] = in[i];
    all[n_all++] = b->out;
    size_t cur = 0;
    for (int i = 0; i < n_all; i++) {
        all[i]->offset = align64(cur + GUARD);
        cur = all[i]->offset + tfb_tensor_nbytes(all[i]);
    }
    TFB_TRY(tfb_backend_buffer_alloc(be, cur + GUARD, &b->buf));
    memset(b->buf->host, GUARD_BYTE, cur + GUARD);
    for (int i = 0; i < n_all; i++)
        all[i]->buf = b->buf;
    for (int i = 0; i < n_all; i++)
        if (all[i] != b->out || c->op == TFB_OP_KV_WRITE)
            TFB_TRY(fill(be, c, all[i], i));
    /* The bytes the op may write: its rows of this call (KV_WRITE: the cache rows it appends). */
    size_t row_bytes = tfb_tensor_nbytes(b->out) / (size_t)b->out->shape[0];
    int64_t r0 = 0, nr = tfb_graph_rows(g, b->out);
    if (c->op == TFB_OP_KV_WRITE) {
        r0 = c->kv_at_zero ? 0 : c->pos;
        nr = c->T;
    }
    b->wr_begin = b->out->offset + (size_t)r0 * row_bytes;
    b->wr_end = b->wr_begin + (size_t)nr * row_bytes;
    return TFB_STATUS_OK;
}

static void unbuild(tfb_backend *be, built *b) {
    tfb_backend_buffer_free(be, b->buf);
    tfb_graph_free(&b->g);
}

/* ---- comparison --------------------------------------------------------------------------------- */

typedef struct verdict {
    bool ok;
    double nmse;
    char why[200];
} verdict;

/* NMSE of x against ref (n floats); NaN or mismatched inf fails; an all-zero reference is
 * mistrusted (fails), since it cannot tell a working kernel from a broken one. */
static verdict compare_f32(const float *x, const float *ref, int64_t n, double thr) {
    verdict v = {true, 0.0, ""};
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(ref[i]) || (isinf(ref[i]) && x[i] != ref[i]) || (isinf(x[i]) && x[i] != ref[i])) {
            v.ok = false;
            snprintf(v.why, sizeof v.why, "element %lld: %g vs reference %g", (long long)i, x[i], ref[i]);
            return v;
        }
        double d = (double)x[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    if (den == 0.0) {
        v.ok = false;
        snprintf(v.why, sizeof v.why, "mistrusted: the reference output is all zeros");
        return v;
    }
    v.nmse = num / den;
    if (!(v.nmse <= thr)) {
        v.ok = false;
        int64_t worst = 0;
        for (int64_t i = 1; i < n; i++)
            if (fabs((double)x[i] - ref[i]) > fabs((double)x[worst] - ref[worst]))
                worst = i;
        snprintf(v.why, sizeof v.why, "NMSE %.3g > %.1g; worst element %lld: %.9g vs reference %.9g", v.nmse, thr,
                 (long long)worst, x[worst], ref[worst]);
    }
    return v;
}

static verdict compare_exact(const void *x, const void *ref, size_t n) {
    verdict v = {true, 0.0, ""};
    if (memcmp(x, ref, n) != 0) {
        v.ok = false;
        size_t i = 0;
        while (((const unsigned char *)x)[i] == ((const unsigned char *)ref)[i])
            i++;
        snprintf(v.why, sizeof v.why, "not bit-identical; first difference at byte %zu", i);
    }
    return v;
}

/* The comparator itself must fail on known-bad inputs, at the loosest bound any case here gets (the
 * one table's matmul bound at a K past any case's, 11008: llama2-7b's longest). */
static int self_test(void) {
    double loose = tfb__opdef_tol(TFB_OP_MATMUL, TFB_DTYPE_Q4_0, 11008, NULL);
    loose *= loose;
    float ref[64], x[64];
    for (int i = 0; i < 64; i++)
        ref[i] = x[i] = (float)(i % 7) - 3.0f + 0.25f;
    int bad = 0;
    if (!compare_f32(x, ref, 64, 1e-10).ok)
        bad++, fprintf(stderr, "self-test: identical arrays rejected\n");
    x[5] *= 1.0f + 1e-3f;
    if (compare_f32(x, ref, 64, loose).ok)
        bad++, fprintf(stderr, "self-test: a 1e-3 relative error was accepted\n");
    x[5] = ref[5];
    x[9] = NAN;
    if (compare_f32(x, ref, 64, loose).ok)
        bad++, fprintf(stderr, "self-test: a NaN was accepted\n");
    float zero[8] = {0};
    if (compare_f32(zero, zero, 8, 1e-10).ok)
        bad++, fprintf(stderr, "self-test: an all-zero comparison was trusted\n");
    int32_t a[3] = {1, 2, 3}, b2[3] = {1, 2, 4};
    if (compare_exact(a, b2, sizeof a).ok)
        bad++, fprintf(stderr, "self-test: differing ints compared equal\n");
    return bad;
}

/* ---- running a case ------------------------------------------------------------------------------ */

/* Output rows of this call, downloaded: n_bytes into *out (malloc'ed); *bound (when not NULL) the
 * NMSE bound of the node as built. */
static tfb_status run_on(tfb_backend *be, const tcase *c, void **out, size_t *n_bytes, bool *guards_ok,
                         char *guard_why, size_t why_len, double *bound) {
    built b;
    tfb_status s = build(be, c, &b);
    if (s != TFB_STATUS_OK) {
        unbuild(be, &b);
        return s;
    }
    if (bound)
        *bound = b.bound;
    size_t total = b.buf->size;
    unsigned char *before = malloc(total);
    if (!before)
        return tfb_error_set(TFB_STATUS_NOMEM, "test: out of memory");
    memcpy(before, b.buf->host, total);
    s = tfb_backend_compute(be, &b.g);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_synchronize(be);
    *guards_ok = true;
    if (s == TFB_STATUS_OK) {
        const unsigned char *after = b.buf->host;
        for (size_t i = 0; i < total; i++) {
            if ((i < b.wr_begin || i >= b.wr_end) && after[i] != before[i]) {
                *guards_ok = false;
                snprintf(guard_why, why_len, "byte %zu of the case buffer changed (output rows span [%zu, %zu))", i,
                         b.wr_begin, b.wr_end);
                break;
            }
        }
        *n_bytes = b.wr_end - b.wr_begin;
        *out = malloc(*n_bytes);
        if (!*out)
            s = tfb_error_set(TFB_STATUS_NOMEM, "test: out of memory");
        else
            memcpy(*out, (char *)b.buf->host + b.wr_begin, *n_bytes);
    }
    free(before);
    unbuild(be, &b);
    return s;
}

static void describe(const tcase *c, char *dst, size_t n) {
    switch (c->op) {
    case TFB_OP_MATMUL:
        snprintf(dst, n, "matmul %s T=%lld K=%lld N=%lld%s%s", tfb_dtype_name(c->wt), (long long)c->T,
                 (long long)c->K, (long long)c->N, c->bias ? " +bias" : "", c->act_q8 ? " act_q8" : "");
        break;
    case TFB_OP_ATTENTION:
        snprintf(dst, n, "attention %s T=%lld H=%lld D=%lld pos=%lld%s", c->mask == TFB_MASK_CAUSAL ? "causal"
                 : c->mask == TFB_MASK_BIDIR ? "bidir" : "cross", (long long)c->T, (long long)c->H, (long long)c->D,
                 (long long)c->pos, c->mask == TFB_MASK_CROSS ? " (n_src set)" : "");
        break;
    case TFB_OP_KV_WRITE:
        snprintf(dst, n, "kv_write T=%lld C=%lld pos=%lld%s", (long long)c->T, (long long)(c->H * c->D),
                 (long long)c->pos, c->kv_at_zero ? " at_zero" : "");
        break;
    case TFB_OP_EMBED:
        snprintf(dst, n, "embed T=%lld C=%lld pos=%lld %s%s scale=%g", (long long)c->T, (long long)c->N,
                 (long long)c->pos, c->pos_kind == TFB_POS_LEARNED ? "learned" : c->pos_kind == TFB_POS_SINUSOIDAL
                 ? "sinusoidal" : "nopos", c->typ ? " +type" : "", c->scale);
        break;
    default:
        snprintf(dst, n, "%s T=%lld C=%lld", tfb_op_name(c->op), (long long)c->T, (long long)c->N);
    }
}

/* ---- the case list ----------------------------------------------------------------------------- */

#define MAX_CASES 512
static tcase cases[MAX_CASES];
static int n_cases;

static tcase *add(tfb_op op, int64_t T, int64_t N) {
    TFB_ASSERT(n_cases < MAX_CASES);
    tcase *c = &cases[n_cases++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->T = T;
    c->max_rows = T + 3; /* dyn rows: the backend must use n_rows, not shape[0] */
    c->N = N;
    c->scale = 1.0f;
    c->eps = 1e-5f;
    c->lo = -1.0f;
    c->hi = 1.0f;
    c->seed = (uint64_t)n_cases;
    return c;
}

/* The op definition's cases (harness/opdef.c), every applicable weight dtype that the simd backend's
 * supports slot takes (the rest are unsupported here, as `tfbench list --ops` shows, not failures). */
static int n_unsupported;

static void add_opdef_cases(void) {
    tfb_backend *probe = NULL;
    if (tfb_backend_find("simd") && tfb_backend_init(tfb_backend_find("simd"), NULL, &probe) != TFB_STATUS_OK)
        probe = NULL;
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const tfb_opdef_case *o = tfb__opdef_get(i);
        for (int d = 0; d < TFB_DTYPE_I32; d++) {
            if (!tfb__opdef_applies(o, (tfb_dtype)d))
                continue;
            tfb_opdef_node on;
            tfb__opdef_node(o, (tfb_dtype)d, &on);
            if (probe && !tfb_backend_supports(probe, &on.node)) {
                n_unsupported++;
                continue;
            }
            tcase *c = add(o->op, o->T, o->N);
            c->wt = (tfb_dtype)d, c->K = o->K, c->bias = o->bias;
            c->S = o->S, c->pos = o->pos, c->n_src = o->n_src, c->mask = o->mask;
            c->pos_kind = o->pos_kind, c->typ = o->type, c->kv_at_zero = o->kv_at_zero;
            c->lo = o->lo, c->hi = o->hi;
            if (o->eps > 0.0f)
                c->eps = o->eps;
            if (o->op == TFB_OP_SOFTMAX || o->op == TFB_OP_EMBED || o->op == TFB_OP_SCALE)
                c->scale = o->scale;
            if (o->op == TFB_OP_ROPE)
                c->H = o->H, c->D = o->D, c->rope_theta = o->rope_theta, c->rope_layout = o->rope_layout;
            if (o->op == TFB_OP_KV_WRITE) /* kv_write's width here is H*D */
                c->H = 1, c->D = o->N;
            if (o->op == TFB_OP_ATTENTION) {
                c->H = o->H, c->D = o->D, c->Hkv = o->Hkv, c->rel_bias = o->rel_bias;
                c->S = o->cache_input ? o->S : o->T + 3; /* bidir: keys of this call, from a cache here */
                c->scale = 1.0f / sqrtf((float)o->D);
            }
        }
    }
    tfb_backend_free(probe);
}

static void make_cases(void) {
    add_opdef_cases();
    /* Below: the simd kernels' own boundaries, beyond the op definition's shapes. */
    /* Matmul, every weight dtype: K past one K block (TFB_SIMD_KC = 256), N past one weight panel,
     * T past one micro tile; and with act_q8 (8-bit activations) on those and on the GPT-2 shapes. */
    static const tfb_dtype dts[] = {TFB_DTYPE_F32, TFB_DTYPE_F16, TFB_DTYPE_BF16, TFB_DTYPE_Q8_0, TFB_DTYPE_Q4_0};
    static const int64_t odd[][3] = {{9, 300, 65}, {3, 1, 5}};
    /* {2, 1056, 65}, {3, 11072, 33}: act_q8 decode of 2 and 3 rows, the second past one slice of
     * avx512's re-laid-out activations (XQ4_STACK), both with blocks past the last group of four. */
    static const int64_t q[][3] = {{1, 32, 7},    {7, 64, 33},   {33, 96, 127},  {127, 288, 33}, {4, 544, 300},
                                   {13, 32, 1},   {40, 320, 600}, {2, 1056, 65}, {3, 11072, 33}};
    static const int64_t gpt2[][3] = {{1, 768, 2304}, {5, 768, 3072}, {17, 3072, 768}, {64, 768, 768}};
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        bool quant = dts[d] == TFB_DTYPE_Q8_0 || dts[d] == TFB_DTYPE_Q4_0;
        if (!quant)
            for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
                tcase *c = add(TFB_OP_MATMUL, odd[i][0], odd[i][2]);
                c->wt = dts[d], c->K = odd[i][1], c->bias = i % 2 == 0;
            }
        for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
            tcase *c = add(TFB_OP_MATMUL, q[i][0], q[i][2]);
            c->wt = dts[d], c->K = q[i][1], c->bias = i % 2 == 1;
        }
        for (size_t i = 0; quant && i < sizeof q / sizeof q[0] + sizeof gpt2 / sizeof gpt2[0]; i++) {
            const int64_t *sh = i < sizeof q / sizeof q[0] ? q[i] : gpt2[i - sizeof q / sizeof q[0]];
            tcase *c = add(TFB_OP_MATMUL, sh[0], sh[2]);
            c->wt = dts[d], c->K = sh[1], c->bias = i % 2 == 1, c->act_q8 = true;
        }
    }
    /* Attention: the GEMM-tile path for many rows (cross, keys past one KC block, one head, partial
     * tiles), and a head wider than a K block (the row kernel). */
    static const struct { tfb_mask m; int64_t T, H, D, pos, n_src; } at[] = {
        {TFB_MASK_CAUSAL, 33, 12, 64, 0, 0},  {TFB_MASK_CAUSAL, 33, 2, 320, 3, 0},
        {TFB_MASK_CROSS, 20, 3, 64, 0, 45},   {TFB_MASK_CAUSAL, 40, 2, 64, 300, 0}, {TFB_MASK_BIDIR, 9, 1, 40, 0, 0},
        {TFB_MASK_CAUSAL, 70, 4, 24, 5, 0},
    };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        tcase *c = add(TFB_OP_ATTENTION, at[i].T, 0);
        c->mask = at[i].m, c->H = at[i].H, c->D = at[i].D, c->pos = at[i].pos, c->n_src = at[i].n_src;
        c->S = (c->mask == TFB_MASK_CROSS ? c->n_src : c->pos + c->T) + 5;
        c->scale = 1.0f / sqrtf((float)c->D);
        c->lo = -2.0f, c->hi = 2.0f;
    }
    /* Grouped-query kv heads and a relative position bias (T5: scale 1) on the GEMM-tile path too,
     * and a rope past one thousand positions (the angle must stay accurate there). */
    static const struct { tfb_mask m; int64_t T, H, Hkv, D, pos; bool rb; } gq[] = {
        {TFB_MASK_CAUSAL, 40, 8, 2, 64, 5, false}, {TFB_MASK_CAUSAL, 17, 6, 3, 16, 0, false},
        {TFB_MASK_BIDIR, 33, 4, 0, 16, 0, true},   {TFB_MASK_CAUSAL, 20, 3, 0, 24, 10, true},
        {TFB_MASK_CAUSAL, 1, 4, 2, 32, 30, true},
    };
    for (size_t i = 0; i < sizeof gq / sizeof gq[0]; i++) {
        tcase *c = add(TFB_OP_ATTENTION, gq[i].T, 0);
        c->mask = gq[i].m, c->H = gq[i].H, c->Hkv = gq[i].Hkv, c->D = gq[i].D, c->pos = gq[i].pos;
        c->rel_bias = gq[i].rb, c->S = c->pos + c->T + 3;
        c->scale = gq[i].rb ? 1.0f : 1.0f / sqrtf((float)c->D);
        c->lo = -1.0f, c->hi = 1.0f;
    }
    tcase *r = add(TFB_OP_ROPE, 5, 4 * 64);
    r->H = 4, r->D = 64, r->pos = 2040, r->rope_theta = 10000.0f, r->rope_layout = TFB_ROPE_HALF;
    r->lo = -1.0f, r->hi = 1.0f;
}

/* The act_q8 comparisons above would pass vacuously if 8-bit activations changed nothing measurable:
 * every act_q8 path must FAIL the matmul threshold against the f32-activation reference, on a GPT-2
 * shaped q8_0 and q4_0 decode matmul. Returns the number of paths that did not. */
static int act_q8_distinct(tfb_backend *ref_f32, tfb_backend **be_a8, int n) {
    int bad = 0;
    for (int i = 0; i < n_cases; i++) {
        const tcase *c = &cases[i];
        if (!c->act_q8 || c->T != 1 || c->K != 768)
            continue;
        char d[160], gw[200];
        describe(c, d, sizeof d);
        void *want = NULL;
        size_t want_n = 0;
        bool gok;
        double bound;
        TFB_ASSERT(run_on(ref_f32, c, &want, &want_n, &gok, gw, sizeof gw, &bound) == TFB_STATUS_OK && gok);
        for (int p = 0; p < n; p++) {
            void *got = NULL;
            size_t got_n = 0;
            if (!be_a8[p] || run_on(be_a8[p], c, &got, &got_n, &gok, gw, sizeof gw, NULL) != TFB_STATUS_OK || !gok) {
                free(got);
                continue; /* a failing run is reported by the main loop */
            }
            verdict v = compare_f32(got, want, (int64_t)(want_n / sizeof(float)), bound);
            if (v.ok) {
                printf("FAIL %s: act_q8 result passes against f32 activations (nmse %.3g): the check cannot tell\n", d,
                       v.nmse);
                bad++;
            } else if (getenv("TFB_TEST_VERBOSE")) {
                printf("ok   %s differs from f32 activations as it must: %s\n", d, v.why);
            }
            free(got);
        }
        free(want);
    }
    return bad;
}

/* ---- main ------------------------------------------------------------------------------------------ */

/* f32 weights are packed once and kept (backends/simd/matmul.c) until their buffer is uploaded into
 * or freed: a matmul, then new values uploaded into the same weight, then the matmul again must give
 * the new weight's result, which the reference computes. A copy kept past the upload fails this.
 * Returns 1 on failure. */
static int packed_weights_fresh(tfb_backend *ref, tfb_backend *be, const char *label) {
    tcase c;
    memset(&c, 0, sizeof c);
    c.op = TFB_OP_MATMUL, c.T = 33, c.max_rows = 33, c.N = 65, c.K = 300, c.wt = TFB_DTYPE_F32, c.bias = true;
    c.lo = -1.0f, c.hi = 1.0f, c.seed = 1001;
    tcase c2 = c;
    c2.seed = 1002; // the second weight's values
    tfb_backend *bes[2] = {be, ref};
    float *res[2] = {NULL, NULL};
    double bound = 0.0;
    int fail = 0;
    for (int i = 0; i < 2 && !fail; i++) {
        built b;
        tfb_status s = build(bes[i], &c, &b);
        if (s == TFB_STATUS_OK && i == 0) // the first weight, packed by this matmul
            s = tfb_backend_compute(bes[i], &b.g);
        if (s == TFB_STATUS_OK)
            s = fill(bes[i], &c2, b.in[1], 1);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_compute(bes[i], &b.g);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_synchronize(bes[i]);
        size_t n = (size_t)c.T * (size_t)c.N * sizeof(float);
        if (s == TFB_STATUS_OK && (res[i] = malloc(n)) != NULL) {
            memcpy(res[i], (char *)b.buf->host + b.out->offset, n);
            bound = b.bound;
        } else {
            printf("FAIL %-11s packed weights after an upload: %s\n", label,
                   s == TFB_STATUS_OK ? "out of memory" : tfb_error_last());
            fail = 1;
        }
        unbuild(bes[i], &b);
    }
    if (!fail) {
        verdict v = compare_f32(res[0], res[1], c.T * c.N, bound);
        if (!v.ok) {
            printf("FAIL %-11s packed weights after an upload: the old weight's copy was used (%s)\n", label, v.why);
            fail = 1;
        }
    }
    free(res[0]);
    free(res[1]);
    return fail;
}

/* The packed-weight budget is the process's, not each backend's: with TFB_SIMD_PACK_CACHE=1 (MiB), two
 * backends that each run a matmul on a 640 KiB f32 weight hold one packed copy between them (the
 * second packs per call), and both give the reference's result. Returns 1 on failure. */
static int packed_budget_shared(tfb_backend *ref) {
    const tfb_backend_i *si = tfb_backend_find("simd");
    tcase c;
    memset(&c, 0, sizeof c);
    c.op = TFB_OP_MATMUL, c.T = 9, c.max_rows = 9, c.N = 512, c.K = 320, c.wt = TFB_DTYPE_F32;
    c.lo = -1.0f, c.hi = 1.0f, c.seed = 2001;
    const char *old = getenv("TFB_SIMD_PACK_CACHE");
    char saved[64] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("TFB_SIMD_PACK_CACHE", "1", 1);
    tfb_backend *be[2] = {NULL, NULL};
    tfb_status s = tfb_backend_init(si, NULL, &be[0]);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_init(si, NULL, &be[1]);
    if (old)
        setenv("TFB_SIMD_PACK_CACHE", saved, 1);
    else
        unsetenv("TFB_SIMD_PACK_CACHE");
    int fail = 0;
    void *want = NULL;
    size_t want_n = 0;
    bool gok;
    char gw[200];
    double bound = 0.0;
    if (s != TFB_STATUS_OK || run_on(ref, &c, &want, &want_n, &gok, gw, sizeof gw, &bound) != TFB_STATUS_OK) {
        printf("FAIL packed-weight budget: %s\n", tfb_error_last());
        fail = 1;
    }
    built b[2];
    int held[2] = {-1, -1};
    for (int i = 0; i < 2 && !fail; i++) { // both backends keep their weight (buffer) alive
        s = build(be[i], &c, &b[i]);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_compute(be[i], &b[i].g);
        if (s != TFB_STATUS_OK) {
            printf("FAIL packed-weight budget: %s\n", tfb_error_last());
            fail = 1;
            break;
        }
        verdict v = compare_f32((const float *)((char *)b[i].buf->host + b[i].wr_begin), want,
                                (int64_t)(want_n / sizeof(float)), bound);
        if (!v.ok) {
            printf("FAIL packed-weight budget: backend %d: %s\n", i, v.why);
            fail = 1;
        }
        tfb_device_info info;
        tfb_backend_device_info(be[i], &info);
        const char *h = strstr(info.extra, "KiB held");
        while (h && h > info.extra && h[-1] == ' ')
            h--;
        while (h && h > info.extra && h[-1] >= '0' && h[-1] <= '9')
            h--;
        held[i] = h ? atoi(h) : -1;
    }
    if (!fail && !(held[0] >= 640 && held[1] == 0)) {
        printf("FAIL packed-weight budget: held %d KiB and %d KiB; want the first weight packed, the second not "
               "(a budget of 1 MiB for the process)\n", held[0], held[1]);
        fail = 1;
    }
    for (int i = 0; i < 2; i++)
        if (be[i]) {
            if (held[i] >= 0)
                unbuild(be[i], &b[i]);
            tfb_backend_free(be[i]);
        }
    free(want);
    return fail;
}

int main(int argc, char **argv) {
    const char *only = NULL;
    bool list = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--list") == 0)
            list = true;
        else {
            fprintf(stderr, "usage: %s [--path avx512|avx2|neon|scalar] [--list]\n", argv[0]);
            return 2;
        }
    }
    if (self_test() != 0)
        return 1;
    make_cases();
    if (list) {
        for (int i = 0; i < n_cases; i++) {
            char d[160];
            describe(&cases[i], d, sizeof d);
            printf("%s\n", d);
        }
        return 0;
    }
    const tfb_backend_i *ref_i = tfb_backend_find("reference"), *simd_i = tfb_backend_find("simd");
    if (!simd_i) {
        fprintf(stderr, "test_simd_ops: the simd backend is not compiled in\n");
        return 1;
    }
    tfb_backend *ref, *ref_a8; /* the reference with f32 activations, and with act_q8 */
    tfb_backend_opts a8 = {.act_q8 = true};
    if (tfb_backend_init(ref_i, NULL, &ref) != TFB_STATUS_OK || tfb_backend_init(ref_i, &a8, &ref_a8) != TFB_STATUS_OK) {
        fprintf(stderr, "test_simd_ops: reference: %s\n", tfb_error_last());
        return 1;
    }
    /* Every path with 2 threads, then the best path with 1 and with 3 threads (an odd split, more
     * threads than this machine's cores). */
    enum { N_RUNS = 6 };
    static const char *const paths[N_RUNS] = {"avx512", "avx2", "neon", "scalar", NULL, NULL};
    static const int threads[N_RUNS] = {2, 2, 2, 2, 1, 3};
    char label[N_RUNS][24];
    tfb_backend *be[N_RUNS] = {NULL}, *be_a8[N_RUNS] = {NULL};
    int n_paths = 0;
    for (int p = 0; p < N_RUNS; p++) {
        if (only && (!paths[p] || strcmp(only, paths[p]) != 0))
            continue;
        tfb_backend_opts o = {.isa = paths[p], .n_threads = threads[p]}, oa = o;
        oa.act_q8 = true;
        if (tfb_backend_init(simd_i, &o, &be[p]) != TFB_STATUS_OK || tfb_backend_init(simd_i, &oa, &be_a8[p]) != TFB_STATUS_OK) {
            printf("path %-7s not run here: %s\n", paths[p] ? paths[p] : "best", tfb_error_last());
            be[p] = NULL;
            continue;
        }
        tfb_device_info info;
        tfb_backend_device_info(be[p], &info);
        snprintf(label[p], sizeof label[p], "%s", info.library + strlen("tfbench simd (")); /* path name */
        label[p][strcspn(label[p], ")")] = '\0';
        snprintf(label[p] + strlen(label[p]), sizeof label[p] - strlen(label[p]), "/%dt", threads[p]);
        n_paths++;
    }
    if (n_paths == 0) {
        fprintf(stderr, "test_simd_ops: no simd path could be initialized\n");
        return 1;
    }
    int failed = 0, passed = 0;
    for (int i = 0; i < n_cases; i++) {
        const tcase *c = &cases[i];
        char d[160], gw[200];
        describe(c, d, sizeof d);
        void *want = NULL;
        size_t want_n = 0;
        bool gok;
        double bound = 0.0;
        if (run_on(c->act_q8 ? ref_a8 : ref, c, &want, &want_n, &gok, gw, sizeof gw, &bound) != TFB_STATUS_OK || !gok) {
            printf("FAIL reference %s: %s\n", d, gok ? tfb_error_last() : gw);
            failed++;
            free(want);
            continue;
        }
        for (int p = 0; p < N_RUNS; p++) {
            if (!be[p])
                continue;
            void *got = NULL;
            size_t got_n = 0;
            verdict v = {true, 0.0, ""};
            tfb_status s = run_on(c->act_q8 ? be_a8[p] : be[p], c, &got, &got_n, &gok, gw, sizeof gw, NULL);
            if (s != TFB_STATUS_OK)
                v.ok = false, snprintf(v.why, sizeof v.why, "%s: %s", tfb_status_str(s), tfb_error_last());
            else if (!gok)
                v.ok = false, snprintf(v.why, sizeof v.why, "guard: %s", gw);
            else if (got_n != want_n)
                v.ok = false, snprintf(v.why, sizeof v.why, "output size %zu vs %zu", got_n, want_n);
            else if (c->op == TFB_OP_ARGMAX || c->op == TFB_OP_KV_WRITE || c->op == TFB_OP_LAST_ROW)
                v = compare_exact(got, want, want_n);
            else
                v = compare_f32(got, want, (int64_t)(want_n / sizeof(float)), bound);
            if (!v.ok) {
                printf("FAIL %-11s %s: %s\n", label[p], d, v.why);
                failed++;
            } else {
                passed++;
                if (getenv("TFB_TEST_VERBOSE"))
                    printf("ok   %-11s %s  nmse %.3g\n", label[p], d, v.nmse);
            }
            free(got);
        }
        free(want);
    }
    failed += act_q8_distinct(ref, be_a8, N_RUNS);
    failed += packed_budget_shared(ref);
    for (int p = 0; p < N_RUNS; p++)
        if (be[p])
            failed += packed_weights_fresh(ref, be[p], label[p]);
    printf("test_simd_ops: %d passed, %d failed (%d cases x %d path/thread runs); %d op-definition cases unsupported "
           "by simd (list --ops)\n", passed, failed, n_cases, n_paths, n_unsupported);
    for (int p = 0; p < N_RUNS; p++) {
        tfb_backend_free(be[p]);
        tfb_backend_free(be_a8[p]);
    }
    tfb_backend_free(ref);
    tfb_backend_free(ref_a8);
    return failed ? 1 : 0;
}
