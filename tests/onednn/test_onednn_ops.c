/* oneDNN backend, op level: every op x weight dtype x shape of the one op definition (harness/opdef.c)
 * and this backend's own cases (MATMUL + activation / residual-add chains that oneDNN fuses or must
 * not fuse; attention split into query blocks and head groups) on the oneDNN backend and on the
 * reference, same inputs, compared by NMSE = sum((x-ref)^2)/sum(ref^2) against the one tolerance
 * table's bound (opdef.c, op x dtype, for the nodes as run; a chain's bound is the sum of its nodes'
 * tols, relative errors adding through a composition), plus NaN rules and guard bytes: every output buffer is prefilled with a
 * pattern, and the rows past this call's row count and 256 bytes past the tensor must keep it.
 * Unsupported (op, dtype) is its own verdict and must match what oneDNN says about this CPU.
 *
 *   test_onednn_ops                  every case must pass (exit 0), else exit 1
 *   test_onednn_ops [--backend NAME] [--expect-fail]
 *     --backend fault: oneDNN through the planted-fault wrapper (test_onednn_ops_faults,
 *     TFB_FAULT_BASE=onednn, TFB_FAULT=causal: no causal mask; oob: ADD, activations and copies write
 *     past their rows); --expect-fail: a planted fault is on (that, or TFB_PLANT inside the backend:
 *     onednn-layout, weights read untransposed; onednn-fuse, an activation or residual add fused
 *     though the matmul's output is read elsewhere) and the test exits 0 only if some case FAILS, so
 *     the check is shown to catch it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opdef.h"
#include "tfbench/backend.h"

#define GUARD 256
#define PATTERN 0xA5

typedef struct tspec {
    tfb_dtype dt;
    int64_t rows, cols;
    bool dyn;
    int fill; /* 0 uniform [-1,1], 1 token ids < cols of in[1], 2 [0.5, 1.5], 3 uniform [-4,4] */
} tspec;

typedef struct tcase {
    char name[96];
    tfb_op op;
    tspec in[4];
    int n_in;
    tspec out;
    int64_t T, pos, n_src, max_rows;
    float eps, scale;
    int n_head, n_kv_head;
    float rope_theta;
    tfb_rope_layout rope_layout;
    tfb_mask mask;
    tfb_pos_kind pk;
    bool kv0;
    int chain; /* MATMUL only: 0 alone, 1 + act (fusable), 2 + act + add(mm, act) (not fusable),
                  3 + add(resid, mm) (fusable), 4 + add(resid, mm) + add(that, mm) (not fusable) */
    tfb_op act;
} tcase;

static uint64_t rng_state;
static double rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* ---- per-backend run ------------------------------------------------------------------------------- */

typedef struct run_t {
    tfb_tensor t[8];
    tfb_buffer *buf[8];
    int n;
} run_t;

static tfb_tensor *tensor(tfb_backend *b, run_t *r, const tspec *s, const char *name) {
    tfb_tensor *t = &r->t[r->n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = s->dt;
    t->ndim = 2;
    t->shape[0] = s->rows;
    t->shape[1] = s->cols;
    t->dyn_rows = s->dyn;
    if (s->dt == TFB_DTYPE_I32 && s->cols == 1)
        t->ndim = 1;
    size_t bytes = tfb_tensor_nbytes(t);
    TFB_ASSERT(tfb_backend_buffer_alloc(b, bytes + GUARD, &r->buf[r->n]) == TFB_STATUS_OK);
    t->buf = r->buf[r->n];
    memset(t->buf->host, PATTERN, bytes + GUARD);
    r->n++;
    return t;
}

static void run_free(tfb_backend *b, run_t *r) {
    for (int i = 0; i < r->n; i++)
        tfb_backend_buffer_free(b, r->buf[i]);
}

/* Runs the case on b with the given host inputs; copies the final output to `out` (rows*cols floats
 * or ints), reports whether its guard bytes survived and, into *bound (may be NULL), the NMSE bound
 * of the graph as built: (sum of its nodes' tols from the one table)^2. */
static tfb_status run_case(tfb_backend *b, const tcase *c, void *const host[4], void *out, bool *guard_ok,
                           double *bound) {
    run_t r = {0};
    tfb_graph g;
    tfb_graph_init(&g, c->max_rows);
    g.params.n_rows = c->T;
    g.params.pos = c->pos;
    g.params.n_src = c->n_src;
    tfb_tensor *in[4] = {0};
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].rows == 0)
            continue;
        in[i] = tensor(b, &r, &c->in[i], "in");
        TFB_ASSERT(tfb_backend_upload(b, in[i], host[i], 0, tfb_tensor_nbytes(in[i])) == TFB_STATUS_OK);
    }
    tfb_tensor *o;
    if (c->op == TFB_OP_KV_WRITE) {
        o = in[1];
    } else {
        o = tensor(b, &r, &c->out, "out");
    }
    tfb_tensor *resid = c->op == TFB_OP_MATMUL ? in[3] : NULL; /* chain 3/4: the residual */
    tfb_node *n = tfb_graph_add(&g, c->op, o, in[0], in[1], in[2], resid ? NULL : in[3]);
    n->eps = c->eps;
    n->scale = c->scale;
    n->n_head = c->n_head;
    n->n_kv_head = c->n_kv_head;
    n->rope_theta = c->rope_theta;
    n->rope_layout = c->rope_layout;
    n->mask = c->mask;
    n->pos_kind = c->pk;
    n->kv_at_zero = c->kv0;
    tfb_tensor *final = o;
    if (c->chain == 1 || c->chain == 2) {
        final = tensor(b, &r, &c->out, "act");
        tfb_graph_add(&g, c->act, final, o, NULL, NULL, NULL);
    }
    if (c->chain == 2) {
        tfb_tensor *sum = tensor(b, &r, &c->out, "sum");
        tfb_graph_add(&g, TFB_OP_ADD, sum, o, final, NULL, NULL);
        final = sum;
    }
    if (c->chain >= 3) {
        final = tensor(b, &r, &c->out, "resid_sum");
        tfb_graph_add(&g, TFB_OP_ADD, final, resid, o, NULL, NULL);
    }
    if (c->chain == 4) {
        tfb_tensor *sum = tensor(b, &r, &c->out, "sum");
        tfb_graph_add(&g, TFB_OP_ADD, sum, final, o, NULL, NULL);
        final = sum;
    }
    double tol = 0.0;
    for (int i = 0; i < g.n_nodes; i++)
        tol += tfb__opdef_node_tol(&g.nodes[i], &g.params, NULL);
    if (bound)
        *bound = tol * tol;
    /* Asked of the nodes as built: the supports slot sees dtypes, shapes and params. */
    for (int i = 0; i < g.n_nodes; i++) {
        if (!tfb_backend_supports(b, &g.nodes[i])) {
            tfb_graph_free(&g);
            run_free(b, &r);
            return TFB_STATUS_UNSUPPORTED;
        }
    }
    tfb_status st = tfb_backend_compute(b, &g);
    if (st == TFB_STATUS_OK)
        st = tfb_backend_synchronize(b);
    int64_t rows = final->dyn_rows ? c->T : final->shape[0];
    size_t used = (size_t)rows * (size_t)final->shape[1] * 4;
    if (st == TFB_STATUS_OK)
        memcpy(out, final->buf->host, used);
    *guard_ok = true;
    const unsigned char *p = final->buf->host;
    size_t end = final->buf->size; /* tensor bytes + GUARD */
    if (c->op != TFB_OP_KV_WRITE)
        for (size_t i = used; i < end; i++)
            if (p[i] != PATTERN)
                *guard_ok = false;
    if (g.backend_data && b->iface->graph_release)
        b->iface->graph_release(b->ctx, &g);
    tfb_graph_free(&g);
    run_free(b, &r);
    return st;
}

/* ---- comparison ------------------------------------------------------------------------------------ */

typedef struct verdict {
    bool pass;
    double nmse;
    char why[128];
} verdict;

static verdict compare(const float *x, const float *ref, int64_t n, double tol) {
    verdict v = {.pass = true};
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(ref[i])) {
            v.pass = false;
            snprintf(v.why, sizeof v.why, "NaN at %lld", (long long)i);
            return v;
        }
        if (isinf(x[i]) || isinf(ref[i])) {
            if (x[i] != ref[i]) {
                v.pass = false;
                snprintf(v.why, sizeof v.why, "inf mismatch at %lld", (long long)i);
                return v;
            }
            continue;
        }
        double d = (double)x[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    v.nmse = den > 0.0 ? num / den : (num > 0.0 ? INFINITY : 0.0);
    if (den == 0.0 && n > 16) {
        v.pass = false;
        snprintf(v.why, sizeof v.why, "degenerate: reference is all zeros");
    } else if (!(v.nmse <= tol)) {
        v.pass = false;
        snprintf(v.why, sizeof v.why, "NMSE %.3g > %.3g", v.nmse, tol);
    }
    return v;
}

/* ---- cases ----------------------------------------------------------------------------------------- */

#define MAX_CASES 512
static tcase cases[MAX_CASES];
static int n_cases;

static tcase *add(const char *fmt, tfb_op op, int64_t T) {
    TFB_ASSERT(n_cases < MAX_CASES);
    tcase *c = &cases[n_cases++];
    memset(c, 0, sizeof *c);
    c->op = op;
    c->T = T;
    c->max_rows = T + 2; /* rows past T are guard rows */
    c->scale = 1.0f;
    c->eps = 1e-5f;
    snprintf(c->name, sizeof c->name, "%s", fmt);
    return c;
}

static tspec act(const tcase *c, int64_t cols) {
    return (tspec){.dt = TFB_DTYPE_F32, .rows = c->max_rows, .cols = cols, .dyn = true};
}

static void matmul_cases(tfb_dtype wt, int64_t T, int64_t K, int64_t N, bool bias, int chain, tfb_op a) {
    char name[96];
    snprintf(name, sizeof name, "matmul %s T=%lld K=%lld N=%lld%s%s%s", tfb_dtype_name(wt), (long long)T,
             (long long)K, (long long)N, bias ? " bias" : "", chain == 1 || chain == 2 ? " +" : "",
             chain == 1 || chain == 2 ? tfb_op_name(a) : "");
    if (chain == 2)
        strncat(name, " +add (unfusable)", sizeof name - strlen(name) - 1);
    if (chain >= 3)
        strncat(name, chain == 3 ? " +residual add" : " +residual add +add (unfusable)", sizeof name - strlen(name) - 1);
    tcase *c = add(name, TFB_OP_MATMUL, T);
    c->in[0] = act(c, K);
    c->in[1] = (tspec){.dt = wt, .rows = N, .cols = K};
    if (bias)
        c->in[2] = (tspec){.dt = TFB_DTYPE_F32, .rows = 1, .cols = N};
    c->n_in = 3;
    c->out = act(c, N);
    c->chain = chain;
    c->act = a;
    if (chain >= 3) {
        c->in[3] = act(c, N);
        c->n_in = 4;
    }
}

/* Hkv: kv heads (0: H; the caches are Hkv*D wide); rb: a relative position bias [H, 2*rows-1]. */
static void attention_case(tfb_mask mask, int64_t T, int64_t pos, int64_t H, int64_t D, int64_t S, int64_t n_src,
                           int64_t Hkv, bool rb) {
    static const char *mn[] = {"causal", "bidir", "cross"};
    char name[96];
    snprintf(name, sizeof name, "attention %s T=%lld pos=%lld H=%lld D=%lld S=%lld%s%s", mn[mask], (long long)T,
             (long long)pos, (long long)H, (long long)D, (long long)S, Hkv ? " gqa" : "", rb ? " relbias" : "");
    tcase *c = add(name, TFB_OP_ATTENTION, T);
    int64_t KD = (Hkv ? Hkv : H) * D;
    c->in[0] = act(c, H * D);
    if (mask == TFB_MASK_BIDIR) {
        c->in[1] = act(c, KD);
        c->in[2] = act(c, KD);
    } else {
        c->in[1] = (tspec){.dt = TFB_DTYPE_F32, .rows = S, .cols = KD, .fill = 3};
        c->in[2] = (tspec){.dt = TFB_DTYPE_F32, .rows = S, .cols = KD};
    }
    c->in[0].fill = 3;
    c->n_in = 3;
    c->n_kv_head = (int)Hkv;
    if (rb) {
        c->in[3] = (tspec){.dt = TFB_DTYPE_F32, .rows = H, .cols = 2 * (mask == TFB_MASK_BIDIR ? c->max_rows : S) - 1};
        c->n_in = 4;
    }
    c->out = act(c, H * D);
    c->pos = pos;
    c->n_src = n_src;
    c->n_head = (int)H;
    c->mask = mask;
    c->scale = (float)(1.0 / sqrt((double)D));
}

/* One op-definition case (harness/opdef.c) at weight dtype wt. Inputs are this test's own fills. */
static void opdef_case(const tfb_opdef_case *o, tfb_dtype wt) {
    char name[96], base[80];
    tfb__opdef_name(o, base, sizeof base);
    if (o->op == TFB_OP_MATMUL) {
        matmul_cases(wt, o->T, o->K, o->N, o->bias, 0, TFB_OP_GELU);
        return;
    }
    if (o->op == TFB_OP_ATTENTION) {
        attention_case(o->mask, o->T, o->pos, o->H, o->D, o->cache_input ? o->S : 0, o->n_src, o->Hkv, o->rel_bias);
        return;
    }
    snprintf(name, sizeof name, "%s", base);
    tcase *c = add(name, o->op, o->T);
    int64_t C = o->N;
    c->in[0] = act(c, C);
    c->in[0].fill = 3;
    c->n_in = 1;
    c->out = act(c, C);
    switch (o->op) {
    case TFB_OP_ADD:
    case TFB_OP_MUL:
        c->in[1] = act(c, C);
        c->in[1].fill = 3;
        c->n_in = 2;
        break;
    case TFB_OP_SOFTMAX:
    case TFB_OP_SCALE: c->scale = o->scale; break;
    case TFB_OP_ROPE:
        c->in[0].fill = 0;
        c->n_head = (int)o->H;
        c->rope_theta = o->rope_theta;
        c->rope_layout = o->rope_layout;
        c->pos = o->pos;
        break;
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
        c->in[1] = (tspec){.dt = TFB_DTYPE_F32, .rows = 1, .cols = C, .fill = 2};
        c->in[2] = (tspec){.dt = TFB_DTYPE_F32, .rows = o->op == TFB_OP_RMSNORM ? 0 : 1, .cols = C};
        c->n_in = 3;
        c->eps = o->eps;
        break;
    case TFB_OP_LAST_ROW:
        c->in[0].fill = 0;
        c->out = (tspec){.dt = TFB_DTYPE_F32, .rows = 1, .cols = C};
        break;
    case TFB_OP_ARGMAX:
        c->in[0].fill = 0;
        c->out = (tspec){.dt = TFB_DTYPE_I32, .rows = c->max_rows, .cols = 1, .dyn = true};
        break;
    case TFB_OP_KV_WRITE:
        c->in[0].fill = 0;
        c->in[1] = (tspec){.dt = TFB_DTYPE_F32, .rows = o->S, .cols = C};
        c->n_in = 2;
        c->out = c->in[1];
        c->pos = o->pos;
        c->kv0 = o->kv_at_zero;
        break;
    case TFB_OP_EMBED:
        c->in[0] = (tspec){.dt = TFB_DTYPE_I32, .rows = c->max_rows, .cols = 1, .dyn = true, .fill = 1};
        c->in[1] = (tspec){.dt = TFB_DTYPE_F32, .rows = o->K, .cols = C};
        c->in[2] = (tspec){.dt = TFB_DTYPE_F32, .rows = o->pos_kind == TFB_POS_LEARNED ? o->S : 0, .cols = C};
        c->in[3] = (tspec){.dt = TFB_DTYPE_F32, .rows = o->type ? 2 : 0, .cols = C};
        c->n_in = 4;
        c->pk = o->pos_kind;
        c->pos = o->pos;
        c->scale = o->scale;
        break;
    default: break; /* the activations */
    }
}

/* The op definition's cases. Matmuls of every weight dtype run (the ones oneDNN does not take must be
 * reported unsupported, checked below); other nodes the supports slot does not list are not offered
 * here (list --ops) and are counted, not run. */
static int n_elsewhere;

static void build_cases(tfb_backend *dnn) {
    for (int i = 0; i < tfb__opdef_count(); i++)
        for (int d = 0; d < TFB_DTYPE_I32; d++) {
            const tfb_opdef_case *o = tfb__opdef_get(i);
            if (!tfb__opdef_applies(o, (tfb_dtype)d))
                continue;
            tfb_opdef_node on;
            tfb__opdef_node(o, (tfb_dtype)d, &on);
            if (o->op != TFB_OP_MATMUL && !tfb_backend_supports(dnn, &on.node)) {
                n_elsewhere++;
                continue;
            }
            opdef_case(o, (tfb_dtype)d);
        }

    /* This backend's own cases. Fused activations (and the unfusable shape: the matmul output is read
     * twice), residual adds fused as post-ops or not, at odd row counts and a real FFN shape. */
    static const int64_t Ts[] = {1, 7, 33, 127};
    static const tfb_op acts[] = {TFB_OP_GELU, TFB_OP_GELU_TANH, TFB_OP_RELU, TFB_OP_SILU};
    for (int a = 0; a < 4; a++)
        for (int t = 0; t < 4; t++) {
            matmul_cases(TFB_DTYPE_F32, Ts[t], 33, 127, true, 1, acts[a]);
            matmul_cases(TFB_DTYPE_F32, Ts[t], 33, 127, true, 2, acts[a]);
        }
    matmul_cases(TFB_DTYPE_F32, 33, 768, 3072, true, 1, TFB_OP_GELU_TANH);
    matmul_cases(TFB_DTYPE_BF16, 33, 768, 3072, true, 1, TFB_OP_GELU_TANH);
    matmul_cases(TFB_DTYPE_BF16, 7, 64, 96, true, 1, TFB_OP_SILU);
    for (int t = 0; t < 4; t++) {
        matmul_cases(TFB_DTYPE_F32, Ts[t], 33, 127, true, 3, TFB_OP_GELU);
        matmul_cases(TFB_DTYPE_F32, Ts[t], 33, 127, false, 4, TFB_OP_GELU);
    }
    matmul_cases(TFB_DTYPE_F32, 33, 3072, 768, true, 3, TFB_OP_GELU);
    matmul_cases(TFB_DTYPE_BF16, 33, 3072, 768, true, 3, TFB_OP_GELU);
    /* Attention as tasks: several 64-row query blocks past position 0 (the last one partial, score
     * widths capped at S), decode at the end of the cache, head groups of 12-head single rows, and
     * long cross-attention blocks. */
    attention_case(TFB_MASK_CAUSAL, 150, 7, 4, 16, 160, 0, 0, false);
    attention_case(TFB_MASK_CAUSAL, 127, 0, 4, 16, 160, 0, 0, false);
    attention_case(TFB_MASK_CAUSAL, 1, 158, 4, 16, 160, 0, 0, false);
    attention_case(TFB_MASK_CAUSAL, 64, 0, 12, 64, 256, 0, 0, false);
    attention_case(TFB_MASK_BIDIR, 127, 0, 4, 16, 0, 0, 0, false);
    attention_case(TFB_MASK_CROSS, 33, 2, 8, 64, 128, 127, 0, false);
    attention_case(TFB_MASK_CROSS, 100, 0, 4, 16, 160, 150, 0, false);
    /* Grouped-query kv heads and relative position biases over several blocks and head splits (a
     * group of 3 forces a task split that stays within or spans whole groups). */
    attention_case(TFB_MASK_CAUSAL, 150, 7, 8, 16, 160, 0, 2, false);
    attention_case(TFB_MASK_CAUSAL, 1, 40, 6, 16, 48, 0, 2, false);
    attention_case(TFB_MASK_CAUSAL, 3, 40, 6, 16, 48, 0, 3, false);
    attention_case(TFB_MASK_CAUSAL, 100, 7, 4, 16, 160, 0, 0, true);
    attention_case(TFB_MASK_BIDIR, 70, 0, 6, 16, 0, 0, 0, true);
    attention_case(TFB_MASK_CAUSAL, 1, 100, 12, 64, 128, 0, 0, true);
}

/* ---- main ------------------------------------------------------------------------------------------ */

static void *make_input(const tcase *c, int i) {
    const tspec *s = &c->in[i];
    int64_t n = s->rows * s->cols;
    float *f = malloc((size_t)n * sizeof *f);
    TFB_ASSERT(f != NULL);
    for (int64_t k = 0; k < n; k++) {
        double u = rnd();
        switch (s->fill) {
        case 1: ((int32_t *)f)[k] = (int32_t)(u * (double)c->in[1].rows); break;
        case 2: f[k] = (float)(0.5 + u); break;
        case 3: f[k] = (float)(8.0 * u - 4.0); break;
        default: f[k] = (float)(2.0 * u - 1.0);
        }
    }
    if (s->dt == TFB_DTYPE_F32 || s->dt == TFB_DTYPE_I32)
        return f;
    void *q = malloc(tfb_dtype_row_bytes(s->dt, s->cols) * (size_t)s->rows);
    TFB_ASSERT(q != NULL);
    for (int64_t r = 0; r < s->rows; r++)
        tfb_quantize_row(s->dt, f + r * s->cols, (char *)q + (size_t)r * tfb_dtype_row_bytes(s->dt, s->cols),
                         s->cols);
    free(f);
    return q;
}

int main(int argc, char **argv) {
    const char *name = "onednn";
    bool expect_fail = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--expect-fail") == 0) {
            expect_fail = true;
        } else {
            fprintf(stderr, "usage: %s [--backend NAME] [--expect-fail]\n", argv[0]);
            return 2;
        }
    }
    tfb_backend *ref = NULL, *dnn = NULL;
    /* Three threads whatever the machine: attention then splits its work into concurrent tasks
     * (query blocks, and head groups of 2 for the 12-head single-row cases), the path a 1-core
     * machine's default would never take. */
    tfb_backend_opts o = {.n_threads = 3};
    TFB_ASSERT(tfb_backend_init(tfb_backend_find("reference"), NULL, &ref) == TFB_STATUS_OK);
    const tfb_backend_i *di = tfb_backend_find(name);
    if (!di || tfb_backend_init(di, &o, &dnn) != TFB_STATUS_OK) {
        printf("%s unavailable: %s\n", name, di ? tfb_error_last() : "not compiled in");
        return 1;
    }
    build_cases(dnn);
    int fails = 0, passes = 0, unsup = 0;
    double worst[TFB_OP_COUNT] = {0};
    for (int i = 0; i < n_cases; i++) {
        const tcase *c = &cases[i];
        rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)(i + 1) * 0x100000001B3ull;
        void *host[4] = {0};
        for (int k = 0; k < c->n_in; k++)
            if (c->in[k].rows)
                host[k] = make_input(c, k);
        int64_t rows = c->out.dyn ? c->T : c->out.rows;
        size_t n = (size_t)(rows * c->out.cols);
        float *a = calloc(n, 4), *b = calloc(n, 4);
        TFB_ASSERT(a && b);
        bool ga, gb;
        double bound = 0.0;
        tfb_status sr = run_case(ref, c, host, a, &ga, &bound);
        tfb_status sd = run_case(dnn, c, host, b, &gb, NULL);
        TFB_ASSERT(sr == TFB_STATUS_OK);
        tfb_dtype wt = c->op == TFB_OP_MATMUL ? c->in[1].dt : c->in[0].dt;
        if (sd == TFB_STATUS_UNSUPPORTED) {
            unsup++;
            bool must = wt == TFB_DTYPE_F32 || wt == TFB_DTYPE_I32;
            printf("%-64s unsupported%s\n", c->name, must ? "  <- FAIL: f32 must be supported" : "");
            fails += must;
        } else if (sd != TFB_STATUS_OK) {
            printf("%-64s FAIL: %s: %s\n", c->name, tfb_status_str(sd), tfb_error_last());
            fails++;
        } else if (wt == TFB_DTYPE_Q8_0 || wt == TFB_DTYPE_Q4_0) {
            printf("%-64s FAIL: quantized weights must be reported unsupported\n", c->name);
            fails++;
        } else {
            verdict v;
            if (c->out.dt == TFB_DTYPE_I32) {
                v = (verdict){.pass = memcmp(a, b, n * 4) == 0};
                if (!v.pass)
                    snprintf(v.why, sizeof v.why, "indices differ");
            } else {
                v = compare(b, a, (int64_t)n, bound);
            }
            if (!gb) {
                v.pass = false;
                snprintf(v.why, sizeof v.why, "guard bytes past the output overwritten");
            }
            if (v.nmse > worst[c->op])
                worst[c->op] = v.nmse;
            printf("%-64s %s nmse %.2e (max %.2g)%s%s\n", c->name, v.pass ? "ok  " : "FAIL", v.nmse, bound,
                   v.pass ? "" : ": ", v.why);
            if (v.pass)
                passes++;
            else
                fails++;
        }
        for (int k = 0; k < 4; k++)
            free(host[k]);
        free(a);
        free(b);
    }
    printf("\nworst NMSE per op:");
    for (int op = 0; op < TFB_OP_COUNT; op++)
        if (worst[op] > 0)
            printf(" %s %.2e", tfb_op_name((tfb_op)op), worst[op]);
    printf("\n%d cases: %d ok, %d failed, %d unsupported%s; %d op-definition cases not offered by %s (list --ops)\n",
           n_cases, passes, fails, unsup, expect_fail ? " (a planted fault must be caught)" : "", n_elsewhere, name);
    tfb_backend_free(dnn);
    tfb_backend_free(ref);
    if (expect_fail)
        return fails > 0 ? 0 : 1; /* the planted fault must be caught */
    return fails ? 1 : 0;
}
