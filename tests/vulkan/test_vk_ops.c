/* Every op x weight dtype x shape of the one op definition (harness/opdef.c: odd sizes 1, 7, 33, 127
 * and the real model shapes) as a single-node graph on the Vulkan backend against the reference, plus
 * this backend's own boundaries (GEMV/tile switch, key chunks, the widest head, the CPU-device
 * attention kernel, tensors bound in parts). Each output lies between guard regions filled with a
 * sentinel, and rows past n_rows of dyn_rows outputs must stay untouched too.
 *
 * Tolerances: the one table (opdef.c, op x dtype, eps*sqrt(k) with its reasons) gives tol for the node
 * as run; every element must satisfy |x-ref| <= tol*(|ref| + rms(ref)) and the NMSE <= tol^2, as in
 * tfbench conform. Copies, ADD, RELU and ARGMAX are exact. `--backend fault` runs the device side
 * through the planted-fault wrapper around Vulkan (test_vk_ops_faults, TFB_FAULT_BASE=vulkan): with
 * TFB_FAULT=bias (matmul drops its bias) or oob with TFB_FAULT_OP=add (ADD writes past its rows) it
 * must fail; `--selftest-only` checks that the comparator rejects known-bad data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opdef.h"
#include "tfbench/backend.h"

#define GUARD 256
#define SENTINEL 0xA5u

static int n_fail, n_case;

/* ---- data ---------------------------------------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) { // [-1, 1)
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / (double)(1ull << 53)) * 2.0f - 1.0f;
}

typedef struct tin {
    tfb_tensor t;
    void *data; /* host bytes in t.dtype */
} tin;

static void make(tin *x, const char *name, tfb_dtype dt, int64_t rows, int64_t cols, bool dyn) {
    memset(x, 0, sizeof *x);
    snprintf(x->t.name, sizeof x->t.name, "%s", name);
    x->t.dtype = dt;
    x->t.ndim = 2;
    x->t.shape[0] = rows;
    x->t.shape[1] = cols;
    x->t.dyn_rows = dyn;
    size_t nb = tfb_tensor_nbytes(&x->t);
    x->data = calloc(1, nb ? nb : 1);
    if (dt == TFB_DTYPE_I32)
        return;
    float *row = malloc((size_t)cols * sizeof *row);
    size_t rb = tfb_dtype_row_bytes(dt, cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++)
            row[c] = frand();
        tfb_quantize_row(dt, row, (char *)x->data + (size_t)r * rb, cols);
    }
    free(row);
}

/* ---- comparator ---------------------------------------------------------------------------------- */

/* 0 if out matches ref within elem (relative to |ref| + rms) and nmse; prints the worst index and
 * the first mismatches otherwise. NaN or inf in out where ref is finite fails first. */
static int compare(const char *what, const float *out, const float *ref, int64_t n, double elem, double nmse_max) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++)
        den += (double)ref[i] * ref[i];
    double rms = n ? sqrt(den / (double)n) : 0.0;
    int bad = 0;
    int64_t worst = -1;
    double worst_err = -1.0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(out[i]) != isnan(ref[i]) || (isinf(out[i]) && out[i] != ref[i])) {
            if (bad++ < 3)
                fprintf(stderr, "  %s: [%lld] = %g, reference %g (non-finite)\n", what, (long long)i, out[i], ref[i]);
            continue;
        }
        double d = fabs((double)out[i] - ref[i]);
        num += d * d;
        double err = d / (fabs(ref[i]) + rms + 1e-30);
        if (err > worst_err) {
            worst_err = err;
            worst = i;
        }
        if (d > elem * (fabs(ref[i]) + rms) && bad++ < 3)
            fprintf(stderr, "  %s: [%lld] = %.9g, reference %.9g\n", what, (long long)i, out[i], ref[i]);
    }
    double nmse = den > 0.0 ? num / den : num;
    if (bad || nmse > nmse_max) {
        fprintf(stderr, "  %s: %d element(s) out of tolerance %.3g, nmse %.3g (max %.3g), worst [%lld] err %.3g\n",
                what, bad, elem, nmse, nmse_max, (long long)worst, worst_err);
        return 1;
    }
    return 0;
}

/* 0 if every byte of p[0..n) is the sentinel. */
static int guard_ok(const char *what, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != SENTINEL) {
            fprintf(stderr, "  %s: byte %zu written (0x%02x)\n", what, i, p[i]);
            return 1;
        }
    return 0;
}

static int selftest(void) {
    float ref[64], out[64];
    for (int i = 0; i < 64; i++)
        ref[i] = out[i] = frand();
    int fails = 0;
    fails += compare("self equal", out, ref, 64, 1e-6, 1e-12) != 0;
    out[17] += 1e-3f;
    fails += compare("self one-off (expected to fail)", out, ref, 64, 1e-6, 1e-12) == 0;
    out[17] = ref[17];
    out[3] = NAN;
    fails += compare("self nan (expected to fail)", out, ref, 64, 1.0, 1.0) == 0;
    unsigned char g[8];
    memset(g, SENTINEL, sizeof g);
    fails += guard_ok("self guard", g, 8) != 0;
    g[5] = 0;
    fails += guard_ok("self guard (expected to fail)", g, 8) == 0;
    if (fails)
        fprintf(stderr, "FAIL: comparator self-test\n");
    return fails;
}

/* ---- running one node on one backend --------------------------------------------------------------- */

typedef struct ocase {
    tfb_node node;            /* op and params; in/out set by run() */
    tin *in[TFB_MAX_INPUTS];  /* NULL where unused */
    tin *out;                 /* shape, dtype, dyn_rows; data = initial content (KV_WRITE) or NULL */
    tfb_graph_params params;
    int64_t max_rows;
} ocase;

/* Runs c on b; returns the output buffer bytes (GUARD + nbytes + GUARD) in *res (caller frees). */
static tfb_status run(tfb_backend *b, ocase *c, unsigned char **res, size_t *res_len) {
    tfb_buffer *bufs[TFB_MAX_INPUTS + 1] = {0};
    tfb_status s = TFB_STATUS_OK;
    for (int i = 0; i < TFB_MAX_INPUTS && s == TFB_STATUS_OK; i++) {
        if (!c->in[i])
            continue;
        tfb_tensor *t = &c->in[i]->t;
        s = tfb_backend_buffer_alloc(b, tfb_tensor_nbytes(t), &bufs[i]);
        if (s != TFB_STATUS_OK)
            break;
        t->buf = bufs[i];
        t->offset = 0;
        s = tfb_backend_upload(b, t, c->in[i]->data, 0, tfb_tensor_nbytes(t));
    }
    tfb_tensor *o = &c->out->t;
    size_t ob = tfb_tensor_nbytes(o), total = GUARD + ((ob + 63) & ~(size_t)63) + GUARD;
    tfb_tensor whole = {.name = "whole", .dtype = TFB_DTYPE_F32, .ndim = 1, .shape = {(int64_t)(total / 4)}};
    unsigned char *host = malloc(total);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_buffer_alloc(b, total, &bufs[TFB_MAX_INPUTS]);
    if (s == TFB_STATUS_OK) {
        whole.buf = bufs[TFB_MAX_INPUTS];
        o->buf = whole.buf;
        o->offset = GUARD;
        memset(host, SENTINEL, total);
        if (c->out->data)
            memcpy(host + GUARD, c->out->data, ob);
        s = tfb_backend_upload(b, &whole, host, 0, total);
    }
    tfb_graph g;
    tfb_graph_init(&g, c->max_rows);
    if (s == TFB_STATUS_OK) {
        tfb_node *n = tfb_graph_add(&g, c->node.op, o, c->in[0] ? &c->in[0]->t : NULL, c->in[1] ? &c->in[1]->t : NULL,
                                    c->in[2] ? &c->in[2]->t : NULL, c->in[3] ? &c->in[3]->t : NULL);
        n->eps = c->node.eps;
        n->scale = c->node.scale;
        n->n_head = c->node.n_head;
        n->n_kv_head = c->node.n_kv_head;
        n->rope_theta = c->node.rope_theta;
        n->rope_layout = c->node.rope_layout;
        n->mask = c->node.mask;
        n->pos_kind = c->node.pos_kind;
        n->kv_at_zero = c->node.kv_at_zero;
        g.params = c->params;
        s = tfb_backend_compute(b, &g);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_synchronize(b);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_download(b, &whole, host, 0, total);
    }
    if (g.backend_data && b->iface->graph_release)
        b->iface->graph_release(b->ctx, &g);
    tfb_graph_free(&g);
    for (int i = 0; i <= TFB_MAX_INPUTS; i++)
        tfb_backend_buffer_free(b, bufs[i]);
    *res = host;
    *res_len = total;
    return s;
}

/* ---- the check -------------------------------------------------------------------------------------- */

/* The per-element bound of c's node as run, from the one tolerance table. */
static double tol_for(const ocase *c) {
    tfb_node n = c->node;
    for (int i = 0; i < TFB_MAX_INPUTS; i++)
        n.in[i] = c->in[i] ? &c->in[i]->t : NULL;
    n.out = &c->out->t;
    return tfb__opdef_node_tol(&n, &c->params, NULL);
}

static void check(tfb_backend *ref, tfb_backend *vk, ocase *c, const char *label) {
    n_case++;
    unsigned char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    tfb_status sa = run(ref, c, &a, &na);
    tfb_status sb = sa == TFB_STATUS_OK ? run(vk, c, &b, &nb) : TFB_STATUS_OK;
    int bad = 0;
    if (sa != TFB_STATUS_OK || sb != TFB_STATUS_OK) {
        fprintf(stderr, "  %s: %s\n", label, tfb_error_last());
        bad = 1;
    } else {
        const tfb_tensor *o = &c->out->t;
        tfb_graph gp = {.params = c->params};
        int64_t rows = tfb_graph_rows(&gp, o);
        size_t row_bytes = tfb_dtype_row_bytes(o->dtype, o->shape[1]);
        size_t valid = (size_t)rows * row_bytes, ob = tfb_tensor_nbytes(o);
        bad |= guard_ok("guard before", b, GUARD);
        bad |= guard_ok("guard after", b + GUARD + ob, nb - GUARD - ob);
        /* Rows past n_rows keep their initial content (sentinel, or the cache's own). */
        if (!c->out->data)
            bad |= guard_ok("rows past n_rows", b + GUARD + valid, ob - valid);
        size_t cmp_bytes = c->out->data ? ob : valid;
        if (o->dtype == TFB_DTYPE_I32) {
            if (memcmp(a + GUARD, b + GUARD, cmp_bytes) != 0) {
                const int32_t *x = (const int32_t *)(b + GUARD), *y = (const int32_t *)(a + GUARD);
                for (size_t i = 0; i < cmp_bytes / 4; i++)
                    if (x[i] != y[i]) {
                        fprintf(stderr, "  argmax row %zu: %d, reference %d\n", i, x[i], y[i]);
                        break;
                    }
                bad = 1;
            }
        } else {
            double elem = tol_for(c);
            bad |= compare(label, (const float *)(b + GUARD), (const float *)(a + GUARD), (int64_t)(cmp_bytes / 4),
                           elem, elem * elem);
        }
    }
    if (bad) {
        n_fail++;
        fprintf(stderr, "FAIL %s\n", label);
    }
    free(a);
    free(b);
}

static void free_tin(tin *x) {
    if (x)
        free(x->data);
}

/* ---- cases ------------------------------------------------------------------------------------------ */

static void rowwise(tfb_backend *ref, tfb_backend *vk, tfb_op op, int64_t T, int64_t C, float eps, float scale) {
    tin x, y, gam, bet, out;
    int64_t maxr = T + 3; /* dyn rows: rows T..T+2 must stay untouched */
    make(&x, "x", TFB_DTYPE_F32, maxr, C, true);
    make(&y, "y", TFB_DTYPE_F32, maxr, C, true);
    make(&gam, "gamma", TFB_DTYPE_F32, 1, C, false);
    make(&bet, "beta", TFB_DTYPE_F32, 1, C, false);
    gam.t.ndim = bet.t.ndim = 1;
    gam.t.shape[0] = bet.t.shape[0] = C;
    if (op == TFB_OP_ARGMAX) /* coarse values: ties, where the lowest index must win */
        for (int64_t i = 0; i < maxr * C; i++)
            ((float *)x.data)[i] = roundf(((float *)x.data)[i] * 4.0f) / 4.0f;
    if (op == TFB_OP_LAST_ROW)
        make(&out, "out", TFB_DTYPE_F32, 1, C, false);
    else if (op == TFB_OP_ARGMAX) {
        make(&out, "out", TFB_DTYPE_I32, maxr, 1, true);
        out.t.ndim = 1;
    } else
        make(&out, "out", TFB_DTYPE_F32, maxr, C, true);
    free(out.data);
    out.data = NULL;
    ocase c = {.node = {.op = op, .eps = eps, .scale = scale}, .out = &out, .max_rows = maxr,
               .params = {.n_rows = T}};
    c.in[0] = &x;
    if (op == TFB_OP_ADD || op == TFB_OP_MUL)
        c.in[1] = &y;
    if (op == TFB_OP_LAYERNORM || op == TFB_OP_RMSNORM)
        c.in[1] = &gam;
    if (op == TFB_OP_LAYERNORM)
        c.in[2] = &bet;
    char label[128];
    snprintf(label, sizeof label, "%s T=%lld C=%lld", tfb_op_name(op), (long long)T, (long long)C);
    check(ref, vk, &c, label);
    free_tin(&x), free_tin(&y), free_tin(&gam), free_tin(&bet), free_tin(&out);
}

static void matmul(tfb_backend *ref, tfb_backend *vk, tfb_dtype dt, int64_t T, int64_t K, int64_t N, bool bias) {
    tin x, w, bv, out;
    make(&x, "x", TFB_DTYPE_F32, T + 2, K, true);
    make(&w, "w", dt, N, K, false);
    make(&bv, "bias", TFB_DTYPE_F32, 1, N, false);
    bv.t.ndim = 1;
    bv.t.shape[0] = N;
    make(&out, "out", TFB_DTYPE_F32, T + 2, N, true);
    free(out.data);
    out.data = NULL;
    ocase c = {.node = {.op = TFB_OP_MATMUL}, .out = &out, .max_rows = T + 2, .params = {.n_rows = T}};
    c.in[0] = &x;
    c.in[1] = &w;
    c.in[2] = bias ? &bv : NULL;
    char label[128];
    snprintf(label, sizeof label, "matmul %s T=%lld K=%lld N=%lld%s", tfb_dtype_name(dt), (long long)T, (long long)K,
             (long long)N, bias ? " +bias" : "");
    check(ref, vk, &c, label);
    free_tin(&x), free_tin(&w), free_tin(&bv), free_tin(&out);
}

static void embed(tfb_backend *ref, tfb_backend *vk, int64_t T, int64_t C, int64_t V, int64_t P, int64_t p0,
                  tfb_pos_kind pk, bool typ, float scale) {
    tin ids, tok, pos, ty, out;
    make(&ids, "ids", TFB_DTYPE_I32, T + 1, 1, true);
    ids.t.ndim = 1;
    for (int64_t i = 0; i < T + 1; i++)
        ((int32_t *)ids.data)[i] = (int32_t)((i * 7919 + 13) % V);
    make(&tok, "tok", TFB_DTYPE_F32, V, C, false);
    make(&pos, "pos", TFB_DTYPE_F32, P, C, false);
    make(&ty, "type", TFB_DTYPE_F32, 2, C, false);
    make(&out, "out", TFB_DTYPE_F32, T + 1, C, true);
    free(out.data);
    out.data = NULL;
    ocase c = {.node = {.op = TFB_OP_EMBED, .scale = scale, .pos_kind = pk}, .out = &out, .max_rows = T + 1,
               .params = {.n_rows = T, .pos = p0}};
    c.in[0] = &ids;
    c.in[1] = &tok;
    c.in[2] = pk == TFB_POS_LEARNED ? &pos : NULL;
    c.in[3] = typ ? &ty : NULL;
    char label[128];
    snprintf(label, sizeof label, "embed T=%lld C=%lld pos_kind=%d p0=%lld type=%d", (long long)T, (long long)C, (int)pk,
             (long long)p0, typ);
    check(ref, vk, &c, label);
    free_tin(&ids), free_tin(&tok), free_tin(&pos), free_tin(&ty), free_tin(&out);
}

static void kv_write(tfb_backend *ref, tfb_backend *vk, int64_t T, int64_t C, int64_t S, int64_t p0, bool at0) {
    tin src, cache;
    make(&src, "src", TFB_DTYPE_F32, T + 2, C, true);
    make(&cache, "cache", TFB_DTYPE_F32, S, C, false); /* initial content must survive outside the rows */
    ocase c = {.node = {.op = TFB_OP_KV_WRITE, .kv_at_zero = at0}, .out = &cache, .max_rows = T + 2,
               .params = {.n_rows = T, .pos = p0}};
    c.in[0] = &src;
    char label[128];
    snprintf(label, sizeof label, "kv_write T=%lld C=%lld S=%lld pos=%lld at0=%d", (long long)T, (long long)C,
             (long long)S, (long long)p0, at0);
    check(ref, vk, &c, label);
    free_tin(&src), free_tin(&cache);
}

/* Hkv: K/V heads (0: H; fewer: grouped-query); R > 0: a relative position bias [H, R] as input 3,
 * with scale 1 as T5 has it. */
static void attention_gqa(tfb_backend *ref, tfb_backend *vk, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t p0,
                          tfb_mask mask, int64_t S, int64_t n_src, int64_t R) {
    tin q, k, v, rb, out;
    int64_t KD = (Hkv ? Hkv : H) * D;
    make(&q, "q", TFB_DTYPE_F32, T + 1, H * D, true);
    make(&k, "k", TFB_DTYPE_F32, S, KD, false);
    make(&v, "v", TFB_DTYPE_F32, S, KD, false);
    make(&rb, "relbias", TFB_DTYPE_F32, H, R > 0 ? R : 1, false);
    for (int64_t i = 0; i < (T + 1) * H * D; i++) /* peakier softmax than uniform noise */
        ((float *)q.data)[i] *= 3.0f;
    for (int64_t i = 0; i < H * R; i++) /* a bias that moves the weights as much as the scores do */
        ((float *)rb.data)[i] *= 3.0f;
    make(&out, "out", TFB_DTYPE_F32, T + 1, H * D, true);
    free(out.data);
    out.data = NULL;
    float scale = R > 0 ? 1.0f : 1.0f / sqrtf((float)D);
    ocase c = {.node = {.op = TFB_OP_ATTENTION, .n_head = (int)H, .n_kv_head = (int)Hkv, .mask = mask, .scale = scale},
               .out = &out, .max_rows = T + 1, .params = {.n_rows = T, .pos = p0, .n_src = n_src}};
    c.in[0] = &q;
    c.in[1] = &k;
    c.in[2] = &v;
    c.in[3] = R > 0 ? &rb : NULL;
    char label[160];
    snprintf(label, sizeof label, "attention T=%lld H=%lld D=%lld pos=%lld mask=%d n_src=%lld", (long long)T,
             (long long)H, (long long)D, (long long)p0, (int)mask, (long long)n_src);
    if (Hkv)
        snprintf(label + strlen(label), sizeof label - strlen(label), " kv=%lld", (long long)Hkv);
    if (R > 0)
        snprintf(label + strlen(label), sizeof label - strlen(label), " relbias R=%lld", (long long)R);
    check(ref, vk, &c, label);
    free_tin(&q), free_tin(&k), free_tin(&v), free_tin(&rb), free_tin(&out);
}

static void attention(tfb_backend *ref, tfb_backend *vk, int64_t T, int64_t H, int64_t D, int64_t p0, tfb_mask mask,
                      int64_t S, int64_t n_src) {
    attention_gqa(ref, vk, T, H, 0, D, p0, mask, S, n_src, 0);
}

static void rope(tfb_backend *ref, tfb_backend *vk, tfb_rope_layout lay, int64_t T, int64_t H, int64_t D, int64_t p0,
                 float theta, bool in_place) {
    tin x, out;
    make(&x, "x", TFB_DTYPE_F32, T + 2, H * D, true);
    make(&out, "out", TFB_DTYPE_F32, T + 2, H * D, true);
    free(out.data);
    out.data = NULL;
    ocase c = {.node = {.op = TFB_OP_ROPE, .n_head = (int)H, .rope_theta = theta, .rope_layout = lay},
               .out = in_place ? &x : &out, .max_rows = T + 2, .params = {.n_rows = T, .pos = p0}};
    c.in[0] = &x;
    char label[128];
    snprintf(label, sizeof label, "rope %s T=%lld H=%lld D=%lld pos=%lld theta=%g%s",
             lay == TFB_ROPE_HALF ? "half" : "interleaved", (long long)T, (long long)H, (long long)D, (long long)p0,
             (double)theta, in_place ? " in place" : "");
    check(ref, vk, &c, label);
    free_tin(&x), free_tin(&out);
}

/* One ROPE graph computed again and again at growing positions on both backends: the rotary table
 * grows (is reallocated) between calls, and between two calls `evict` other (theta, D) pairs take
 * every table slot, so the graph's cached descriptor set must follow its table each time. */
static void rope_graph_reused(tfb_backend *ref, tfb_backend *vk, void (*evict)(tfb_backend *, tfb_backend *)) {
    static const int64_t at[] = {3, 300, 300, 1000, 5000, 7};
    enum { N_AT = sizeof at / sizeof at[0], T = 2, H = 2, D = 16, C = H * D };
    float *res[2][N_AT] = {{0}};
    tin x;
    make(&x, "x", TFB_DTYPE_F32, T, C, false);
    tfb_backend *bs[2] = {ref, vk};
    int bad = 0;
    n_case++;
    for (int bi = 0; bi < 2; bi++) {
        tfb_backend *b = bs[bi];
        tfb_buffer *buf = NULL;
        tfb_tensor xt = x.t, ot = x.t;
        snprintf(ot.name, sizeof ot.name, "out");
        tfb_status s = tfb_backend_buffer_alloc(b, 2 * tfb_tensor_nbytes(&xt), &buf);
        xt.buf = ot.buf = buf;
        xt.offset = 0;
        ot.offset = tfb_tensor_nbytes(&xt);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_upload(b, &xt, x.data, 0, tfb_tensor_nbytes(&xt));
        tfb_graph g;
        tfb_graph_init(&g, T);
        tfb_node *n = tfb_graph_add(&g, TFB_OP_ROPE, &ot, &xt, NULL, NULL, NULL);
        n->n_head = H;
        n->rope_theta = 7777.0f;
        n->rope_layout = TFB_ROPE_HALF;
        for (int i = 0; i < N_AT && s == TFB_STATUS_OK; i++) {
            if (i == 2 && bi == 1)
                evict(ref, vk);
            g.params = (tfb_graph_params){.n_rows = T, .pos = at[i]};
            res[bi][i] = malloc(tfb_tensor_nbytes(&ot));
            s = tfb_backend_compute(b, &g);
            if (s == TFB_STATUS_OK)
                s = tfb_backend_synchronize(b);
            if (s == TFB_STATUS_OK)
                s = tfb_backend_download(b, &ot, res[bi][i], 0, tfb_tensor_nbytes(&ot));
        }
        if (s != TFB_STATUS_OK) {
            fprintf(stderr, "  rope graph reused: %s\n", tfb_error_last());
            bad = 1;
        }
        if (g.backend_data && b->iface->graph_release)
            b->iface->graph_release(b->ctx, &g);
        tfb_graph_free(&g);
        tfb_backend_buffer_free(b, buf);
    }
    for (int i = 0; i < N_AT && !bad; i++) {
        tfb_node n = {.op = TFB_OP_ROPE, .n_head = H, .in = {&x.t}, .out = &x.t};
        tfb_graph_params p = {.n_rows = T, .pos = at[i]};
        double tol = tfb__opdef_node_tol(&n, &p, NULL);
        char label[64];
        snprintf(label, sizeof label, "rope graph reused pos=%lld", (long long)at[i]);
        bad |= compare(label, res[1][i], res[0][i], T * C, tol, tol * tol);
    }
    for (int bi = 0; bi < 2; bi++)
        for (int i = 0; i < N_AT; i++)
            free(res[bi][i]);
    free_tin(&x);
    if (bad) {
        n_fail++;
        fprintf(stderr, "FAIL rope graph reused\n");
    }
}

/* Ten (theta, D) pairs in a row: more than the backend keeps tables for. */
static void rope_many_thetas(tfb_backend *ref, tfb_backend *vk) {
    for (int k = 0; k < 10; k++)
        rope(ref, vk, TFB_ROPE_HALF, 2, 2, 16, 40, 1000.0f + 100.0f * (float)k, false);
}

int main(int argc, char **argv) {
    int fails = selftest();
    const char *name = "vulkan";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--selftest-only") == 0)
            return fails ? 1 : 0;
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--selftest-only] [--backend NAME]\n", argv[0]);
            return 2;
        }
    }
    tfb_backend *ref, *vk;
    const tfb_backend_i *vi = tfb_backend_find(name);
    if (!vi) {
        fprintf(stderr, "FAIL: no backend %s here\n", name);
        return 1;
    }
    if (tfb_backend_init(tfb_backend_find("reference"), NULL, &ref) != TFB_STATUS_OK ||
        tfb_backend_init(vi, NULL, &vk) != TFB_STATUS_OK) {
        fprintf(stderr, "FAIL: %s\n", tfb_error_last());
        return 1;
    }
    tfb_device_info info;
    tfb_backend_device_info(vk, &info);
    printf("device: %s; %s\n", info.device, info.extra);

    /* The op definition's cases (harness/opdef.c), every applicable weight dtype; inputs are this
     * test's own (queries 3x sharper than uniform noise). */
    int n_elsewhere = 0;
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const tfb_opdef_case *o = tfb__opdef_get(i);
        for (int dt = TFB_DTYPE_F32; dt <= TFB_DTYPE_Q4_0; dt++) {
            if (!tfb__opdef_applies(o, (tfb_dtype)dt))
                continue;
            tfb_opdef_node on; /* what this backend does not list is unsupported here, not a failure */
            tfb__opdef_node(o, (tfb_dtype)dt, &on);
            if (!tfb_backend_supports(vk, &on.node)) {
                n_elsewhere++;
                continue;
            }
            switch (o->op) {
            case TFB_OP_MATMUL: matmul(ref, vk, (tfb_dtype)dt, o->T, o->K, o->N, o->bias); break;
            case TFB_OP_EMBED:
                embed(ref, vk, o->T, o->N, o->K, o->S, o->pos, o->pos_kind, o->type, o->scale);
                break;
            case TFB_OP_KV_WRITE: kv_write(ref, vk, o->T, o->N, o->S, o->pos, o->kv_at_zero); break;
            case TFB_OP_ATTENTION:
                attention_gqa(ref, vk, o->T, o->H, o->Hkv, o->D, o->pos, o->mask, o->cache_input ? o->S : o->T,
                              o->n_src, o->rel_bias ? 2 * o->S - 1 : 0);
                break;
            case TFB_OP_ROPE: rope(ref, vk, o->rope_layout, o->T, o->H, o->D, o->pos, o->rope_theta, false); break;
            default: rowwise(ref, vk, o->op, o->T, o->N, o->eps > 0.0f ? o->eps : 1e-5f, o->scale); break;
            }
        }
    }

    /* This backend's own boundaries. Rows: the GPT-2 logits, many workgroup strides wide. */
    static const tfb_op rw_ops[] = {TFB_OP_ADD, TFB_OP_LAYERNORM, TFB_OP_RMSNORM, TFB_OP_SOFTMAX, TFB_OP_GELU,
                                    TFB_OP_GELU_TANH, TFB_OP_RELU, TFB_OP_SILU, TFB_OP_LAST_ROW, TFB_OP_ARGMAX,
                                    TFB_OP_MUL, TFB_OP_SCALE};
    for (size_t o = 0; o < sizeof rw_ops / sizeof rw_ops[0]; o++)
        rowwise(ref, vk, rw_ops[o], 1, 50257, 1e-5f, 0.7f);
    /* Matmul: the GEMV/tile switch (T = 4 / 5) with odd and blocked K, and a prefill tile of 64 rows. */
    for (int dt = TFB_DTYPE_F32; dt <= TFB_DTYPE_Q4_0; dt++) {
        bool quant = tfb_dtype_block_elems((tfb_dtype)dt) > 1;
        matmul(ref, vk, (tfb_dtype)dt, 4, quant ? 96 : 33, 127, true);
        matmul(ref, vk, (tfb_dtype)dt, 5, quant ? 32 : 7, 33, false);
        matmul(ref, vk, (tfb_dtype)dt, 64, 768, 2304, true); /* GPT-2 prefill qkv */
        /* The CPU-device kernel's texel widths (matmul_cpu.comp) in both its block shapes: x and
         * weight as 128-bit texels (f32 K = 12, 20), x only (f16/bf16 rows of 24 or 40 bytes, and
         * every quantized K), 32-bit words (K = 33); T = 17 spans two 16-row blocks. */
        matmul(ref, vk, (tfb_dtype)dt, 1, quant ? 64 : 12, 37, true);
        matmul(ref, vk, (tfb_dtype)dt, 17, quant ? 64 : 20, 45, false);
        matmul(ref, vk, (tfb_dtype)dt, 1, quant ? 32 : 33, 9, false);
    }
    embed(ref, vk, 33, 64, 100, 512, 200, TFB_POS_SINUSOIDAL, false, 8.0f);
    embed(ref, vk, 5, 768, 1000, 1024, 900, TFB_POS_LEARNED, false, 1.0f); /* GPT-2 */
    /* GPT-2's f32 token table (147 MiB) is bound in parts on devices with a 128 MiB
     * maxStorageBufferRange (lavapipe); so is the LM head matmul of the op definition. */
    embed(ref, vk, 33, 768, 50257, 1024, 0, TFB_POS_LEARNED, false, 1.0f);
    kv_write(ref, vk, 1, 768, 1024, 1000, false); /* GPT-2 decode */

    attention(ref, vk, 33, 4, 33, 100, TFB_MASK_CAUSAL, 140, 0); /* keys span three chunks */
    attention(ref, vk, 127, 1, 7, 0, TFB_MASK_BIDIR, 127, 0);
    attention(ref, vk, 1, 1, 256, 10, TFB_MASK_CAUSAL, 11, 0); /* largest head size */
    attention(ref, vk, 1, 12, 64, 1000, TFB_MASK_CAUSAL, 1024, 0); /* GPT-2 decode at depth */
    attention(ref, vk, 64, 12, 64, 0, TFB_MASK_CAUSAL, 1024, 0);   /* GPT-2 prefill */
    /* Head size 64 (the CPU-device kernel's) with every mask, odd T and H. */
    attention(ref, vk, 7, 2, 64, 0, TFB_MASK_BIDIR, 7, 0);
    attention(ref, vk, 5, 3, 64, 9, TFB_MASK_CROSS, 80, 70);
    attention(ref, vk, 33, 3, 64, 100, TFB_MASK_CAUSAL, 140, 0);
    /* Grouped-query attention and the relative position bias on both kernels (head size 64 and not),
     * keys over several chunks, the bias exactly as wide as the distances need (R = 2(pos+T)-1). */
    attention_gqa(ref, vk, 33, 8, 2, 64, 100, TFB_MASK_CAUSAL, 140, 0, 0);
    attention_gqa(ref, vk, 5, 6, 3, 33, 70, TFB_MASK_CAUSAL, 80, 0, 0);
    attention_gqa(ref, vk, 1, 32, 4, 128, 200, TFB_MASK_CAUSAL, 256, 0, 0); /* llama2-style width */
    attention_gqa(ref, vk, 33, 3, 0, 64, 0, TFB_MASK_BIDIR, 33, 0, 65);
    attention_gqa(ref, vk, 7, 2, 0, 64, 90, TFB_MASK_CAUSAL, 97, 0, 193);
    attention_gqa(ref, vk, 70, 4, 0, 16, 0, TFB_MASK_BIDIR, 70, 0, 139);
    attention_gqa(ref, vk, 3, 4, 2, 64, 40, TFB_MASK_CAUSAL, 43, 0, 85); /* both at once */
    /* Rotary positions deep into a context (the angle p*freq must come from the host's double
     * table), in place as well (each invocation reads its pair before writing it). */
    rope(ref, vk, TFB_ROPE_HALF, 3, 4, 128, 4000, 10000.0f, false);
    rope(ref, vk, TFB_ROPE_INTERLEAVED, 2, 3, 64, 2047, 500000.0f, false);
    rope(ref, vk, TFB_ROPE_HALF, 7, 2, 16, 3, 10000.0f, true);
    rope(ref, vk, TFB_ROPE_INTERLEAVED, 33, 5, 6, 300, 10000.0f, true);
    rope(ref, vk, TFB_ROPE_HALF, 1, 2, 16, 0, 10000.0f, false);
    rope_graph_reused(ref, vk, rope_many_thetas);

    tfb_backend_free(vk);
    tfb_backend_free(ref);
    printf("%d op-definition cases not offered by vulkan (list --ops)\n", n_elsewhere);
    printf("%d of %d cases failed\n", n_fail, n_case);
    return (fails || n_fail) ? 1 : 0;
}
