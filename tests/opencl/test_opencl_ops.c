/* Single-node graphs on the OpenCL backend against the reference: every op x weight dtype x shape of
 * the one op definition (harness/opdef.c: odd sizes 1, 7, 33, 127 and the real model shapes), plus
 * this backend's kernel boundaries (GEMV/tiled switch, 64-tile edges, key chunks, the widest head,
 * grouped-query kv heads and a relative bias across key chunks, rotary tables grown and replaced).
 *
 * Each case builds the same one-node graph on both backends from the same host inputs, runs it, and
 * compares the output rows by NMSE = sum((x-ref)^2)/sum(ref^2) against the one tolerance table's
 * bound for the node as run (opdef.c: op x dtype, eps*sqrt(k), each with its reason); a NaN/inf on either side fails, argmax and copies must be exact, an all-zero
 * reference is "mistrusted" (a failure: the case could not catch anything). The output tensor sits
 * in its buffer between guard regions filled with a byte pattern, and rows past n_rows are part of
 * the guard: any byte written there fails the case.
 *
 * Usage: test_opencl_ops [--backend NAME] [--expect nmse|guard|any] [--device D]
 *   --backend fault runs the device side through the planted-fault wrapper (test_opencl_ops_faults,
 *   TFB_FAULT_BASE=opencl, the fault in TFB_FAULT); with --expect the test passes only if some case
 *   fails the named way: the proof that these checks can fail. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opdef.h"
#include "tfbench/backend.h"

#define GUARD 256           /* bytes of guard before and after the output tensor */
#define GUARD_BYTE 0xA5

/* ---- deterministic inputs ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* uniform [-1, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

/* ---- a case ------------------------------------------------------------------------------------- */

#define MAX_IN 4

typedef struct tensor_spec {
    tfb_dtype dtype;
    int64_t rows, cols;
    bool dyn;       /* rows are max rows; the call uses n_rows */
    void *host;     /* bytes, tfb_dtype_row_bytes(dtype, cols) * rows */
} tensor_spec;

typedef struct test_case {
    char name[160];
    tfb_node node;            /* op and params; tensors filled per backend */
    tensor_spec in[MAX_IN];   /* dtype F32 with rows = 0: absent */
    tensor_spec out;          /* host = initial contents (KV cache) or NULL */
    int64_t n_rows, max_rows, pos, n_src;
    int64_t cmp_rows;         /* rows of the output compared; the rest of the region is guard */
    bool in_place;            /* in[0] is the output tensor itself (out.host its contents) */
} test_case;

static size_t spec_bytes(const tensor_spec *s) {
    return tfb_dtype_row_bytes(s->dtype, s->cols) * (size_t)s->rows;
}

static void spec_random(tensor_spec *s, tfb_dtype dt, int64_t rows, int64_t cols, bool dyn, float amp) {
    s->dtype = dt;
    s->rows = rows;
    s->cols = cols;
    s->dyn = dyn;
    s->host = malloc(spec_bytes(s));
    TFB_ASSERT(s->host);
    float *row = malloc((size_t)cols * sizeof *row);
    TFB_ASSERT(row);
    size_t rb = tfb_dtype_row_bytes(dt, cols);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++)
            row[c] = amp * frand();
        tfb_quantize_row(dt, row, (char *)s->host + (size_t)r * rb, cols);
    }
    free(row);
}

static void spec_ids(tensor_spec *s, int64_t rows, int64_t vocab) {
    s->dtype = TFB_DTYPE_I32;
    s->rows = rows;
    s->cols = 1;
    s->dyn = true;
    int32_t *ids = malloc((size_t)rows * sizeof *ids);
    TFB_ASSERT(ids);
    for (int64_t r = 0; r < rows; r++)
        ids[r] = (int32_t)((frand() * 0.5f + 0.5f) * (float)vocab) % (int32_t)vocab;
    s->host = ids;
}

static void case_free(test_case *c) {
    for (int i = 0; i < MAX_IN; i++)
        free(c->in[i].host);
    free(c->out.host);
}

static void make_tensor(tfb_tensor *t, const tensor_spec *s, const char *name) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = s->dtype;
    t->ndim = s->dtype == TFB_DTYPE_I32 && s->cols == 1 ? 1 : 2;
    t->shape[0] = s->rows;
    if (t->ndim == 2)
        t->shape[1] = s->cols;
    t->dyn_rows = s->dyn;
}

/* Run c on b. *region gets the output buffer (guards + tensor + guards), *region_bytes its size. */
static tfb_status run_case(tfb_backend *b, const test_case *c, unsigned char **region, size_t *region_bytes) {
    tfb_tensor tin[MAX_IN], tout, whole;
    tfb_buffer *bufs[MAX_IN] = {0}, *obuf = NULL;
    tfb_status s = TFB_STATUS_OK;
    *region = NULL;
    for (int i = 0; i < MAX_IN && s == TFB_STATUS_OK; i++) {
        if (!c->in[i].rows)
            continue;
        make_tensor(&tin[i], &c->in[i], "in");
        s = tfb_backend_buffer_alloc(b, spec_bytes(&c->in[i]), &bufs[i]);
        if (s == TFB_STATUS_OK) {
            tin[i].buf = bufs[i];
            s = tfb_backend_upload(b, &tin[i], c->in[i].host, 0, spec_bytes(&c->in[i]));
        }
    }
    size_t obytes = spec_bytes(&c->out);
    size_t total = GUARD + ((obytes + 3) & ~(size_t)3) + GUARD;
    unsigned char *host = malloc(total);
    TFB_ASSERT(host);
    memset(host, GUARD_BYTE, total);
    if (c->out.host)
        memcpy(host + GUARD, c->out.host, obytes);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_buffer_alloc(b, total, &obuf);
    if (s == TFB_STATUS_OK) {
        memset(&whole, 0, sizeof whole);
        snprintf(whole.name, sizeof whole.name, "region");
        whole.dtype = TFB_DTYPE_F32;
        whole.ndim = 1;
        whole.shape[0] = (int64_t)(total / 4);
        whole.buf = obuf;
        s = tfb_backend_upload(b, &whole, host, 0, total);
        make_tensor(&tout, &c->out, "out");
        tout.buf = obuf;
        tout.offset = GUARD;
    }
    if (s == TFB_STATUS_OK) {
        tfb_graph g;
        tfb_graph_init(&g, c->max_rows);
        tfb_node *n = tfb_graph_add(&g, c->node.op, &tout, c->in_place ? &tout : c->in[0].rows ? &tin[0] : NULL,
                                    c->in[1].rows ? &tin[1] : NULL, c->in[2].rows ? &tin[2] : NULL,
                                    c->in[3].rows ? &tin[3] : NULL);
        n->eps = c->node.eps;
        n->scale = c->node.scale;
        n->n_head = c->node.n_head;
        n->n_kv_head = c->node.n_kv_head;
        n->rope_theta = c->node.rope_theta;
        n->rope_layout = c->node.rope_layout;
        n->mask = c->node.mask;
        n->pos_kind = c->node.pos_kind;
        n->kv_at_zero = c->node.kv_at_zero;
        g.params.n_rows = c->n_rows;
        g.params.pos = c->pos;
        g.params.n_src = c->n_src;
        s = tfb_backend_compute(b, &g);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_synchronize(b);
        if (s == TFB_STATUS_OK)
            s = tfb_backend_download(b, &whole, host, 0, total);
        tfb_graph_free(&g);
    }
    for (int i = 0; i < MAX_IN; i++)
        tfb_backend_buffer_free(b, bufs[i]);
    tfb_backend_buffer_free(b, obuf);
    if (s != TFB_STATUS_OK) {
        free(host);
        return s;
    }
    *region = host;
    *region_bytes = total;
    return TFB_STATUS_OK;
}

typedef enum verdict { PASS, FAIL_NMSE, FAIL_GUARD, FAIL_ERROR } verdict;

/* Compare the device's region with the reference's. */
static verdict compare(const test_case *c, const unsigned char *dev, const unsigned char *ref, size_t total,
                       double bound, double *nmse_out) {
    size_t row_bytes = tfb_dtype_row_bytes(c->out.dtype, c->out.cols);
    size_t cmp_end = GUARD + row_bytes * (size_t)c->cmp_rows;
    *nmse_out = 0.0;
    /* Guards: everything outside [GUARD, cmp_end) must be what was uploaded (same on both sides). */
    for (size_t i = 0; i < total; i++) {
        if (i >= GUARD && i < cmp_end)
            continue;
        if (dev[i] != ref[i]) {
            printf("    guard byte %zu (%s the compared rows) changed: 0x%02x, expected 0x%02x\n", i,
                   i < GUARD ? "before" : "after", dev[i], ref[i]);
            return FAIL_GUARD;
        }
    }
    int64_t n = (int64_t)(cmp_end - GUARD) / 4;
    if (c->out.dtype == TFB_DTYPE_I32) {
        const int32_t *d = (const int32_t *)(dev + GUARD), *r = (const int32_t *)(ref + GUARD);
        for (int64_t i = 0; i < n; i++)
            if (d[i] != r[i]) {
                printf("    element %lld: %d, reference %d\n", (long long)i, d[i], r[i]);
                *nmse_out = INFINITY;
                return FAIL_NMSE;
            }
        return PASS;
    }
    const float *d = (const float *)(dev + GUARD), *r = (const float *)(ref + GUARD);
    double num = 0.0, den = 0.0, worst = 0.0;
    int64_t worst_i = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(d[i]) || !isfinite(r[i])) {
            printf("    element %lld not finite: %g, reference %g\n", (long long)i, d[i], r[i]);
            *nmse_out = INFINITY;
            return FAIL_NMSE;
        }
        double e = (double)d[i] - r[i];
        num += e * e;
        den += (double)r[i] * r[i];
        if (fabs(e) > worst) {
            worst = fabs(e);
            worst_i = i;
        }
    }
    if (den == 0.0) {
        printf("    mistrusted: the reference output is all zeros\n");
        *nmse_out = INFINITY;
        return FAIL_NMSE;
    }
    *nmse_out = num / den;
    if (!(*nmse_out <= bound)) {
        printf("    worst element %lld: %.9g, reference %.9g\n", (long long)worst_i, d[worst_i], r[worst_i]);
        return FAIL_NMSE;
    }
    return PASS;
}

/* ---- case builders ----------------------------------------------------------------------------- */

static void base(test_case *c, tfb_op op, int64_t T, const char *fmt_suffix) {
    memset(c, 0, sizeof *c);
    c->node.op = op;
    c->n_rows = T;
    c->max_rows = T + 2; /* rows past n_rows exist and must stay untouched */
    c->cmp_rows = T;
    snprintf(c->name, sizeof c->name, "%s %s", tfb_op_name(op), fmt_suffix);
}

static void case_matmul(test_case *c, tfb_dtype wt, int64_t T, int64_t K, int64_t N, bool bias) {
    char sfx[96];
    snprintf(sfx, sizeof sfx, "%s T=%lld K=%lld N=%lld%s", tfb_dtype_name(wt), (long long)T, (long long)K,
             (long long)N, bias ? " +bias" : "");
    base(c, TFB_OP_MATMUL, T, sfx);
    spec_random(&c->in[0], TFB_DTYPE_F32, c->max_rows, K, true, 1.0f);
    spec_random(&c->in[1], wt, N, K, false, 0.5f);
    if (bias)
        spec_random(&c->in[2], TFB_DTYPE_F32, 1, N, false, 1.0f), c->in[2].rows = 1;
    c->out = (tensor_spec){TFB_DTYPE_F32, c->max_rows, N, true, NULL};
}

static void case_rowwise(test_case *c, tfb_op op, int64_t T, int64_t C) {
    char sfx[64];
    snprintf(sfx, sizeof sfx, "T=%lld C=%lld", (long long)T, (long long)C);
    base(c, op, T, sfx);
    spec_random(&c->in[0], TFB_DTYPE_F32, c->max_rows, C, true, 3.0f);
    if (op == TFB_OP_ADD || op == TFB_OP_MUL)
        spec_random(&c->in[1], TFB_DTYPE_F32, c->max_rows, C, true, 3.0f);
    if (op == TFB_OP_LAYERNORM || op == TFB_OP_RMSNORM) {
        spec_random(&c->in[1], TFB_DTYPE_F32, C, 1, false, 1.0f);
        c->in[1].rows = C, c->in[1].cols = 1;
        /* gamma/beta are [C] vectors: stored as one row of C. */
        free(c->in[1].host);
        spec_random(&c->in[1], TFB_DTYPE_F32, 1, C, false, 1.0f);
        if (op == TFB_OP_LAYERNORM)
            spec_random(&c->in[2], TFB_DTYPE_F32, 1, C, false, 1.0f);
        c->node.eps = 1e-5f;
    }
    if (op == TFB_OP_SOFTMAX)
        c->node.scale = 0.7f;
    if (op == TFB_OP_SCALE)
        c->node.scale = 0.36084392f;
    if (op == TFB_OP_RELU) /* a 1x1 case with a negative input would compare zeros with zeros */
        ((float *)c->in[0].host)[0] = fabsf(((float *)c->in[0].host)[0]) + 0.25f;
    c->out = (tensor_spec){TFB_DTYPE_F32, c->max_rows, C, true, NULL};
    if (op == TFB_OP_LAST_ROW) {
        c->out.rows = 1;
        c->out.dyn = false;
        c->cmp_rows = 1;
    }
    if (op == TFB_OP_ARGMAX) {
        /* Ties: copy each row's maximum to a later column, so the lowest index must win. */
        float *x = c->in[0].host;
        for (int64_t t = 0; t < c->max_rows && C > 2; t++) {
            int64_t best = 0;
            for (int64_t j = 1; j < C; j++)
                if (x[t * C + j] > x[t * C + best])
                    best = j;
            x[t * C + (best + C / 2) % C] = x[t * C + best];
        }
        c->out = (tensor_spec){TFB_DTYPE_I32, c->max_rows, 1, true, NULL};
    }
}

static void case_embed(test_case *c, int64_t T, int64_t C, tfb_pos_kind pk, bool type, int64_t pos) {
    char sfx[96];
    snprintf(sfx, sizeof sfx, "T=%lld C=%lld pos=%s@%lld%s", (long long)T, (long long)C,
             pk == TFB_POS_LEARNED ? "learned" : pk == TFB_POS_SINUSOIDAL ? "sin" : "none", (long long)pos,
             type ? " +type" : "");
    base(c, TFB_OP_EMBED, T, sfx);
    int64_t V = 97, P = pos + T + 5;
    spec_ids(&c->in[0], c->max_rows, V);
    spec_random(&c->in[1], TFB_DTYPE_F32, V, C, false, 1.0f);
    if (pk == TFB_POS_LEARNED)
        spec_random(&c->in[2], TFB_DTYPE_F32, P, C, false, 1.0f);
    if (type)
        spec_random(&c->in[3], TFB_DTYPE_F32, 2, C, false, 1.0f);
    c->node.pos_kind = pk;
    c->node.scale = pk == TFB_POS_SINUSOIDAL ? sqrtf((float)C) : 1.0f;
    c->pos = pos;
    c->out = (tensor_spec){TFB_DTYPE_F32, c->max_rows, C, true, NULL};
}

static void case_kv_write(test_case *c, int64_t T, int64_t C, int64_t S, int64_t pos, bool at_zero) {
    char sfx[96];
    snprintf(sfx, sizeof sfx, "T=%lld C=%lld S=%lld pos=%lld%s", (long long)T, (long long)C, (long long)S,
             (long long)pos, at_zero ? " at_zero" : "");
    base(c, TFB_OP_KV_WRITE, T, sfx);
    spec_random(&c->in[0], TFB_DTYPE_F32, c->max_rows, C, true, 1.0f);
    spec_random(&c->out, TFB_DTYPE_F32, S, C, false, 1.0f); /* old cache contents must survive */
    c->pos = pos;
    c->node.kv_at_zero = at_zero;
    c->cmp_rows = S;
}

/* Hkv: K/V heads (0: H; fewer: grouped-query, the caches Hkv*D wide). R > 0: a relative position
 * bias [H, R] as in[3], large enough to move the weights as much as the scores do. */
static void case_attention_gqa(test_case *c, int64_t T, int64_t H, int64_t Hkv, int64_t D, int64_t S, int64_t pos,
                               tfb_mask mask, int64_t n_src, int64_t R, float scale) {
    char sfx[128];
    snprintf(sfx, sizeof sfx, "%s T=%lld H=%lld D=%lld pos=%lld%s", mask == TFB_MASK_CAUSAL ? "causal" : mask == TFB_MASK_BIDIR ? "bidir" : "cross",
             (long long)T, (long long)H, (long long)D, (long long)pos, mask == TFB_MASK_CROSS ? " +src" : "");
    if (Hkv)
        snprintf(sfx + strlen(sfx), sizeof sfx - strlen(sfx), " kv=%lld", (long long)Hkv);
    if (R > 0)
        snprintf(sfx + strlen(sfx), sizeof sfx - strlen(sfx), " relbias R=%lld", (long long)R);
    snprintf(sfx + strlen(sfx), sizeof sfx - strlen(sfx), " scale=%g", (double)scale);
    base(c, TFB_OP_ATTENTION, T, sfx);
    int64_t KD = (Hkv ? Hkv : H) * D;
    spec_random(&c->in[0], TFB_DTYPE_F32, c->max_rows, H * D, true, 1.0f);
    spec_random(&c->in[1], TFB_DTYPE_F32, S, KD, false, 1.0f);
    spec_random(&c->in[2], TFB_DTYPE_F32, S, KD, false, 1.0f);
    if (R > 0)
        spec_random(&c->in[3], TFB_DTYPE_F32, H, R, false, 3.0f);
    c->node.n_head = (int)H;
    c->node.n_kv_head = (int)Hkv;
    c->node.mask = mask;
    c->node.scale = scale;
    c->pos = pos;
    c->n_src = n_src;
    c->out = (tensor_spec){TFB_DTYPE_F32, c->max_rows, H * D, true, NULL};
}

static void case_attention(test_case *c, int64_t T, int64_t H, int64_t D, int64_t S, int64_t pos, tfb_mask mask,
                           int64_t n_src) {
    /* sharper than usual: weights far from uniform */
    case_attention_gqa(c, T, H, 0, D, S, pos, mask, n_src, 0, 1.0f / sqrtf((float)D) * 2.0f);
}

/* ROPE of T rows of H heads of D at positions pos..pos+T-1; in place: the output is the input. */
static void case_rope(test_case *c, tfb_rope_layout lay, int64_t T, int64_t H, int64_t D, int64_t pos, float theta,
                      bool in_place) {
    char sfx[128];
    snprintf(sfx, sizeof sfx, "%s T=%lld H=%lld D=%lld pos=%lld theta=%g%s",
             lay == TFB_ROPE_HALF ? "half" : "interleaved", (long long)T, (long long)H, (long long)D, (long long)pos,
             (double)theta, in_place ? " in place" : "");
    base(c, TFB_OP_ROPE, T, sfx);
    c->node.n_head = (int)H;
    c->node.rope_theta = theta;
    c->node.rope_layout = lay;
    c->pos = pos;
    if (in_place) {
        spec_random(&c->out, TFB_DTYPE_F32, c->max_rows, H * D, true, 1.0f);
        c->in_place = true;
        return;
    }
    spec_random(&c->in[0], TFB_DTYPE_F32, c->max_rows, H * D, true, 1.0f);
    c->out = (tensor_spec){TFB_DTYPE_F32, c->max_rows, H * D, true, NULL};
}

/* ---- driver ------------------------------------------------------------------------------------ */

/* The node c builds, with tensors that have dtypes and shapes but no storage. */
typedef struct shape_node {
    tfb_tensor tin[MAX_IN], tout;
    tfb_node n;
    tfb_graph_params p;
} shape_node;

static void case_node(const test_case *c, shape_node *s) {
    s->n = c->node;
    for (int i = 0; i < MAX_IN; i++) {
        s->n.in[i] = NULL;
        if (c->in[i].rows) {
            make_tensor(&s->tin[i], &c->in[i], "in");
            s->n.in[i] = &s->tin[i];
        }
    }
    make_tensor(&s->tout, &c->out, "out");
    s->n.out = &s->tout;
    if (c->in_place)
        s->n.in[0] = &s->tout;
    s->p = (tfb_graph_params){.n_rows = c->n_rows, .pos = c->pos, .n_src = c->n_src};
}

/* The backend's supports slot on the node c builds (dtypes, shapes, head size). */
static bool supported(tfb_backend *b, const test_case *c) {
    shape_node s;
    case_node(c, &s);
    return tfb_backend_supports(b, &s.n);
}

/* The NMSE bound of the node c builds, from the one tolerance table (opdef.c). */
static double bound(const test_case *c) {
    shape_node s;
    case_node(c, &s);
    return tfb__opdef_node_nmse(&s.n, &s.p);
}

typedef struct counts {
    int pass, fail_nmse, fail_guard, fail_error, unsupported;
} counts;

static void check(tfb_backend *ref, tfb_backend *dev, test_case *c, counts *k) {
    unsigned char *rr = NULL, *dr = NULL;
    size_t rt = 0, dt = 0;
    if (!supported(dev, c)) {
        printf("UNSUPPORTED %s\n", c->name);
        k->unsupported++;
        case_free(c);
        return;
    }
    tfb_status s = run_case(ref, c, &rr, &rt);
    TFB_ASSERT(s == TFB_STATUS_OK);
    s = run_case(dev, c, &dr, &dt);
    if (s != TFB_STATUS_OK) {
        printf("FAIL  %s: %s\n", c->name, tfb_error_last());
        k->fail_error++;
    } else {
        double nmse, thr = bound(c);
        verdict v = compare(c, dr, rr, rt, thr, &nmse);
        printf("%s %s  nmse=%.3g (max %.2g)\n", v == PASS ? "ok   " : "FAIL ", c->name, nmse, thr);
        if (v == PASS)
            k->pass++;
        else if (v == FAIL_GUARD)
            k->fail_guard++;
        else
            k->fail_nmse++;
    }
    free(rr);
    free(dr);
    case_free(c);
}

int main(int argc, char **argv) {
    tfb_backend_opts opts = {0};
    const char *expect = NULL, *name = "opencl";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--backend") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            opts.device = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--backend NAME] [--expect nmse|guard|any] [--device D]\n", argv[0]);
            return 2;
        }
    }
    tfb_backend *ref, *dev;
    if (tfb_backend_init(tfb_backend_find("reference"), NULL, &ref) != TFB_STATUS_OK) {
        fprintf(stderr, "tfbench: %s\n", tfb_error_last());
        return 1;
    }
    const tfb_backend_i *ocl = tfb_backend_find(name);
    if (!ocl || tfb_backend_init(ocl, &opts, &dev) != TFB_STATUS_OK) {
        fprintf(stderr, "tfbench: %s%s\n", ocl ? tfb_error_last() : name, ocl ? "" : ": not compiled in");
        tfb_backend_free(ref);
        return 3;
    }
    counts k = {0};
    test_case c;
    int n_elsewhere = 0;

    /* The op definition's cases (harness/opdef.c), every applicable weight dtype. Inputs are this
     * test's own (rows in [-3, 3], attention sharper than 1/sqrt(D)); shapes and params are opdef's. */
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const tfb_opdef_case *o = tfb__opdef_get(i);
        for (int dt = TFB_DTYPE_F32; dt <= TFB_DTYPE_Q4_0; dt++) {
            if (!tfb__opdef_applies(o, (tfb_dtype)dt))
                continue;
            tfb_opdef_node on; /* what this backend does not list is unsupported here, not a failure */
            tfb__opdef_node(o, (tfb_dtype)dt, &on);
            if (!tfb_backend_supports(dev, &on.node)) {
                n_elsewhere++;
                continue;
            }
            switch (o->op) {
            case TFB_OP_MATMUL: case_matmul(&c, (tfb_dtype)dt, o->T, o->K, o->N, o->bias); break;
            case TFB_OP_EMBED: case_embed(&c, o->T, o->N, o->pos_kind, o->type, o->pos); break;
            case TFB_OP_KV_WRITE: case_kv_write(&c, o->T, o->N, o->S, o->pos, o->kv_at_zero); break;
            case TFB_OP_ATTENTION:
                case_attention_gqa(&c, o->T, o->H, o->Hkv, o->D, o->cache_input ? o->S : o->T, o->pos, o->mask,
                                   o->n_src, o->rel_bias ? 2 * o->S - 1 : 0, 2.0f / sqrtf((float)o->D));
                break;
            case TFB_OP_ROPE: case_rope(&c, o->rope_layout, o->T, o->H, o->D, o->pos, o->rope_theta, false); break;
            default: case_rowwise(&c, o->op, o->T, o->N); break;
            }
            if (o->eps > 0.0f)
                c.node.eps = o->eps;
            if (o->op == TFB_OP_SOFTMAX || o->op == TFB_OP_EMBED || o->op == TFB_OP_SCALE)
                c.node.scale = o->scale;
            check(ref, dev, &c, &k);
        }
    }

    /* This backend's own boundaries. Matmul: the GEMV/tiled switch (T 4/5) and the 64-tile edges
     * (63/64/65), K in whole blocks for q8_0/q4_0. */
    static const int64_t odd[][3] = {{4, 33, 65}, {5, 65, 63}, {65, 7, 64}};
    static const int64_t blocked[][3] = {{4, 64, 65}, {5, 160, 63}, {65, 96, 64}};
    for (int dt = TFB_DTYPE_F32; dt <= TFB_DTYPE_Q4_0; dt++) {
        bool q = dt == TFB_DTYPE_Q8_0 || dt == TFB_DTYPE_Q4_0;
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            const int64_t *s = q ? blocked[i] : odd[i];
            case_matmul(&c, (tfb_dtype)dt, s[0], s[1], s[2], i % 2 == 0);
            check(ref, dev, &c, &k);
        }
    }
    /* Rows much wider than a work-group (many strides of the reductions), and a single element. */
    static const tfb_op rowwise[] = {TFB_OP_ADD, TFB_OP_LAYERNORM, TFB_OP_RMSNORM, TFB_OP_SOFTMAX, TFB_OP_GELU,
                                     TFB_OP_GELU_TANH, TFB_OP_RELU, TFB_OP_SILU, TFB_OP_LAST_ROW, TFB_OP_ARGMAX,
                                     TFB_OP_MUL, TFB_OP_SCALE};
    for (size_t o = 0; o < sizeof rowwise / sizeof rowwise[0]; o++) {
        case_rowwise(&c, rowwise[o], 1, 50257), check(ref, dev, &c, &k);
        case_rowwise(&c, rowwise[o], 1, 1), check(ref, dev, &c, &k);
    }
    /* Attention: more keys than one chunk, the largest head dimension, a long GPT-2 decode. */
    case_attention(&c, 3, 1, 127, 400, 300, TFB_MASK_CAUSAL, 0), check(ref, dev, &c, &k);
    case_attention(&c, 2, 1, 256, 3, 0, TFB_MASK_CROSS, 3), check(ref, dev, &c, &k);
    case_attention(&c, 1, 12, 64, 600, 599, TFB_MASK_CAUSAL, 0), check(ref, dev, &c, &k);
    /* Grouped-query kv heads and the relative bias (T5: scale 1) over several key chunks (256), in
     * prefill and decode, with odd head sizes and counts, the widest head, and both at once; the
     * bias exactly as wide as the distances need (R = 2(pos+T)-1), or wider. */
    static const struct {
        int64_t T, H, Hkv, D, S, pos;
        tfb_mask m;
        int64_t n_src, R;
        bool t5;
    } gq[] = {
        {33, 8, 2, 64, 400, 300, TFB_MASK_CAUSAL, 0, 0, false}, {5, 6, 3, 33, 80, 70, TFB_MASK_CAUSAL, 0, 0, false},
        {1, 32, 4, 128, 600, 520, TFB_MASK_CAUSAL, 0, 0, false}, {1, 8, 8, 64, 300, 260, TFB_MASK_CAUSAL, 0, 0, false},
        {2, 4, 1, 256, 9, 6, TFB_MASK_CAUSAL, 0, 0, false},      {3, 4, 2, 16, 20, 0, TFB_MASK_CROSS, 17, 0, false},
        {300, 3, 0, 64, 300, 0, TFB_MASK_BIDIR, 0, 599, true},   {7, 2, 0, 64, 297, 290, TFB_MASK_CAUSAL, 0, 593, true},
        {1, 12, 0, 64, 600, 550, TFB_MASK_CAUSAL, 0, 1101, true}, {70, 4, 0, 7, 70, 0, TFB_MASK_BIDIR, 0, 201, true},
        {3, 4, 2, 64, 43, 40, TFB_MASK_CAUSAL, 0, 85, true},     {1, 5, 1, 256, 3, 2, TFB_MASK_CAUSAL, 0, 7, true},
    };
    for (size_t i = 0; i < sizeof gq / sizeof gq[0]; i++) {
        float sc = gq[i].t5 ? 1.0f : 2.0f / sqrtf((float)gq[i].D);
        case_attention_gqa(&c, gq[i].T, gq[i].H, gq[i].Hkv, gq[i].D, gq[i].S, gq[i].pos, gq[i].m, gq[i].n_src, gq[i].R,
                           sc);
        check(ref, dev, &c, &k);
    }
    /* Rotary positions deep into a context (the angle must come from the host's double table), in
     * place (each work-item reads its pair before writing it), at position 0, and a sequence of
     * positions that grows the tables (cap 256 -> 8192) while five (theta, D) pairs compete for four
     * slots, so tables are replaced and rebuilt between graphs. */
    case_rope(&c, TFB_ROPE_HALF, 3, 4, 128, 4000, 10000.0f, false), check(ref, dev, &c, &k);
    case_rope(&c, TFB_ROPE_INTERLEAVED, 2, 3, 64, 2047, 500000.0f, false), check(ref, dev, &c, &k);
    case_rope(&c, TFB_ROPE_HALF, 7, 2, 16, 3, 10000.0f, true), check(ref, dev, &c, &k);
    case_rope(&c, TFB_ROPE_INTERLEAVED, 33, 5, 6, 300, 10000.0f, true), check(ref, dev, &c, &k);
    case_rope(&c, TFB_ROPE_HALF, 1, 2, 2, 0, 10000.0f, false), check(ref, dev, &c, &k);
    static const int64_t at[] = {10, 255, 256, 700, 3000, 5000};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        for (int th = 0; th < 10; th++) { /* more pairs than rope_tables.h keeps slots for */
            case_rope(&c, th % 2 ? TFB_ROPE_INTERLEAVED : TFB_ROPE_HALF, 2, 2, 16 + 2 * th, at[i],
                      1000.0f + 700.0f * (float)th, false);
            check(ref, dev, &c, &k);
        }

    printf("%d passed, %d failed (nmse %d, guard %d, error %d), %d unsupported; %d op-definition cases not offered "
           "by opencl (list --ops)\n", k.pass, k.fail_nmse + k.fail_guard + k.fail_error, k.fail_nmse, k.fail_guard,
           k.fail_error, k.unsupported, n_elsewhere);
    tfb_backend_free(dev);
    tfb_backend_free(ref);
    if (expect) {
        /* Planted fault: the run must have failed the named way. */
        bool caught = !strcmp(expect, "nmse")    ? k.fail_nmse > 0
                      : !strcmp(expect, "guard") ? k.fail_guard > 0
                                                 : k.fail_nmse + k.fail_guard + k.fail_error > 0;
        const char *fault = getenv("TFB_FAULT");
        printf("planted fault %s: %s\n", fault ? fault : "(none)", caught ? "caught" : "NOT caught");
        return caught ? 0 : 1;
    }
    return k.fail_nmse + k.fail_guard + k.fail_error + k.unsupported ? 1 : 0;
}
