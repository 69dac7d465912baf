/* tfbench-kernels: per backend and op, single-node graphs timed through Google Benchmark.
 *
 *   matmul/<backend>/<dtype>/MxKxN     GPT-2 small's prefill shapes 512x768x2304 (qkv), 512x768x768
 *                                      (proj), 512x768x3072 (fc), 512x3072x768 (fc proj), 128x768x2304
 *                                      and decode GEMVs 1x768x3072, 1x768x50257 (LM head);
 *                                      TinyLlama-1.1B's prefill 512x2048x2048 (q, o), 512x2048x5632
 *                                      (gate, up), 512x5632x2048 (down) and decode 1x2048x5632; every
 *                                      weight dtype the backend supports
 *   matmul/<backend>+a8/<dtype>/MxKxN  the same for q8_0/q4_0 with act_q8 (8-bit activations), on
 *                                      backends that offer it
 *   matmul/<backend>/<dtype>/1xKxNxL   decode from DRAM: L distinct weights (at least 128 MiB in all,
 *                                      past any L3), one GEMV node each, timed as one graph; the
 *                                      single-weight GEMVs above mostly run from cache
 *   attention/<backend>/f32/ctxL       decode: one query row at pos = L-1 over an L-row KV cache,
 *                                      12 heads of 64 (GPT-2 small), L = 128, 512, 1024
 *   layernorm/<backend>/f32/512x768, softmax/<backend>/f32/1536x512
 *   probe/bandwidth, probe/peak_fp32   the machine's limits (probe.c)
 *
 * Each reports GFLOP/s and GB/s (bytes the op must move at least once: weights, inputs, output) as
 * rate counters over wall time; the time is tfb_backend_compute + tfb_backend_synchronize. The
 * reference backend runs the large shapes for one iteration only (it accumulates in double and takes
 * seconds per prefill matmul). Unavailable backends are skipped with a note on stderr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "probe.h"
#include "tfbench/backend.h"

typedef struct kbench {
    tfb_backend *b;
    tfb_op op;
    tfb_dtype dt;
    int64_t M, K, N; /* matmul: x[M,K] w[N,K]; layernorm/softmax: [M,K]; attention: K = C, N = ctx */
    int layers;      /* matmul: distinct weights, one node each (1 but for the DRAM-resident decode) */
} kbench;

#define MAX_LAYERS 64
#define COLD_BYTES ((size_t)128 << 20) /* the DRAM-resident decode's weights in all */

static void fill(float *x, int64_t n, int64_t seed) {
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((i * 131 + seed * 17) % 97) / 97.0f - 0.5f;
}

/* A tensor the caller owns (weights, caches, gamma/beta), in its own buffer, filled from host data. */
static tfb_status own_tensor(tfb_backend *b, tfb_tensor *t, const char *name, tfb_dtype dt, int64_t rows,
                             int64_t cols, int64_t seed) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    TFB_TRY(tfb_backend_buffer_alloc(b, tfb_tensor_nbytes(t), &t->buf));
    size_t rb = tfb_dtype_row_bytes(dt, cols);
    float *row = malloc((size_t)cols * sizeof *row);
    char *q = malloc(rb);
    tfb_status st = row && q ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    for (int64_t r = 0; r < rows && st == TFB_STATUS_OK; r++) {
        fill(row, cols, seed + r);
        tfb_quantize_row(dt, row, q, cols);
        st = tfb_backend_upload(b, t, q, (size_t)r * rb, rb);
    }
    free(row);
    free(q);
    return st;
}

static void body(tfb_gb_state *st, void *ctx) {
    const kbench *k = ctx;
    tfb_backend *b = k->b;
    tfb_graph g;
    tfb_tensor w = {0}, w2 = {0}, w3 = {0}; /* weights / gamma, beta / kcache, vcache */
    tfb_tensor wl[MAX_LAYERS - 1];          /* the further weights of a DRAM-resident decode */
    int nl = 0;
    tfb_graph_init(&g, k->M);
    tfb_tensor *x = tfb_graph_new_act(&g, "x", 0, k->K, TFB_DTYPE_F32);
    tfb_tensor *out = NULL;
    double flop = 0, bytes = 0;
    tfb_status s = TFB_STATUS_OK;
    g.params.n_rows = k->M;
    switch (k->op) {
    case TFB_OP_MATMUL:
        out = tfb_graph_new_act(&g, "out", 0, k->N, TFB_DTYPE_F32);
        s = own_tensor(b, &w, "w", k->dt, k->N, k->K, 1);
        tfb_graph_add(&g, TFB_OP_MATMUL, out, x, &w, NULL, NULL);
        for (; nl < k->layers - 1 && s == TFB_STATUS_OK; nl++) {
            s = own_tensor(b, &wl[nl], "w", k->dt, k->N, k->K, 2 + nl);
            tfb_graph_add(&g, TFB_OP_MATMUL, tfb_graph_new_act(&g, "out", 0, k->N, TFB_DTYPE_F32), x, &wl[nl], NULL,
                          NULL);
        }
        flop = 2.0 * (double)k->M * (double)k->K * (double)k->N * k->layers;
        bytes = ((double)tfb_tensor_nbytes(&w) + 4.0 * (double)(k->M * k->K + k->M * k->N)) * k->layers;
        break;
    case TFB_OP_LAYERNORM:
        out = tfb_graph_new_act(&g, "out", 0, k->K, TFB_DTYPE_F32);
        s = own_tensor(b, &w, "gamma", TFB_DTYPE_F32, 1, k->K, 2);
        if (s == TFB_STATUS_OK)
            s = own_tensor(b, &w2, "beta", TFB_DTYPE_F32, 1, k->K, 3);
        w.ndim = w2.ndim = 1; /* [C] */
        w.shape[0] = w2.shape[0] = k->K;
        tfb_graph_add(&g, TFB_OP_LAYERNORM, out, x, &w, &w2, NULL)->eps = 1e-5f;
        flop = 8.0 * (double)(k->M * k->K); /* mean, variance, normalise, scale and shift */
        bytes = 8.0 * (double)(k->M * k->K);
        break;
    case TFB_OP_SOFTMAX:
        out = tfb_graph_new_act(&g, "out", 0, k->K, TFB_DTYPE_F32);
        tfb_graph_add(&g, TFB_OP_SOFTMAX, out, x, NULL, NULL, NULL)->scale = 1.0f;
        flop = 5.0 * (double)(k->M * k->K); /* max, sub, exp, sum, div */
        bytes = 8.0 * (double)(k->M * k->K);
        break;
    case TFB_OP_ATTENTION: {
        out = tfb_graph_new_act(&g, "out", 0, k->K, TFB_DTYPE_F32);
        s = own_tensor(b, &w2, "kcache", TFB_DTYPE_F32, k->N, k->K, 4);
        if (s == TFB_STATUS_OK)
            s = own_tensor(b, &w3, "vcache", TFB_DTYPE_F32, k->N, k->K, 5);
        tfb_node *nd = tfb_graph_add(&g, TFB_OP_ATTENTION, out, x, &w2, &w3, NULL);
        nd->n_head = 12;
        nd->mask = TFB_MASK_CAUSAL;
        nd->scale = 1.0f / sqrtf((float)(k->K / 12));
        g.params.pos = k->N - 1;                  /* the last query of an N-token context */
        flop = 4.0 * (double)k->N * (double)k->K; /* q.k and w.v over N keys, every head */
        bytes = 2.0 * 4.0 * (double)(k->N * k->K) + 8.0 * (double)k->K;
        break;
    }
    default:
        tfb_gb_skip(st, "no benchmark for this op");
        tfb_graph_free(&g);
        return;
    }
    size_t act = tfb_graph_layout(&g);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_buffer_alloc(b, act, &g.act_buf);
    if (s == TFB_STATUS_OK) {
        for (int i = 0; i < g.n_tensors; i++)
            g.tensors[i]->buf = g.act_buf;
        float *xh = malloc((size_t)(k->M * k->K) * sizeof *xh);
        if (!xh)
            s = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
        else {
            fill(xh, k->M * k->K, 7);
            s = tfb_backend_upload(b, x, xh, 0, (size_t)(k->M * k->K) * sizeof *xh);
            free(xh);
        }
    }
    /* One untimed run: first-use costs (pipelines, primitives, packing) are not the kernel's. */
    if (s == TFB_STATUS_OK)
        s = tfb_backend_compute(b, &g);
    if (s == TFB_STATUS_OK)
        s = tfb_backend_synchronize(b);
    if (s != TFB_STATUS_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", tfb_status_str(s), tfb_error_last());
        tfb_gb_skip(st, msg);
    } else {
        while (tfb_gb_keep_running(st)) {
            s = tfb_backend_compute(b, &g);
            if (s == TFB_STATUS_OK)
                s = tfb_backend_synchronize(b);
            if (s != TFB_STATUS_OK) {
                tfb_gb_skip(st, tfb_error_last());
                break;
            }
        }
        double it = (double)tfb_gb_iterations_done(st);
        tfb_gb_counter(st, "GFLOP/s", flop * it / 1e9, true);
        tfb_gb_counter(st, "GB/s", bytes * it / 1e9, true);
        tfb_gb_set_bytes(st, (int64_t)(bytes * it));
    }
    if (g.backend_data && b->iface->graph_release)
        b->iface->graph_release(b->ctx, &g);
    tfb_backend_buffer_free(b, g.act_buf);
    if (w.buf)
        tfb_backend_buffer_free(b, w.buf);
    if (w2.buf)
        tfb_backend_buffer_free(b, w2.buf);
    if (w3.buf)
        tfb_backend_buffer_free(b, w3.buf);
    for (int i = 0; i < nl; i++)
        if (wl[i].buf)
            tfb_backend_buffer_free(b, wl[i].buf);
    tfb_graph_free(&g);
}

/* Whether b runs the node body() builds for (op, dt, M, K, N): the same dtypes and shapes, asked of the
 * backend's supports slot before anything is registered, so an unsupported shape is never timed. */
static bool runs(tfb_backend *b, tfb_op op, tfb_dtype dt, int64_t M, int64_t K, int64_t N) {
    tfb_tensor x = {.dtype = TFB_DTYPE_F32, .ndim = 2, .shape = {M, K}, .dyn_rows = true};
    tfb_tensor out = x, w = {.dtype = dt, .ndim = 2, .shape = {N, K}}, w2 = {.dtype = TFB_DTYPE_F32, .ndim = 1};
    tfb_tensor w3 = w2;
    tfb_node n = {.op = op, .in = {&x}, .out = &out};
    switch (op) {
    case TFB_OP_MATMUL:
        out.shape[1] = N;
        n.in[1] = &w;
        break;
    case TFB_OP_LAYERNORM:
        w2.shape[0] = w3.shape[0] = K; /* gamma, beta: [C] */
        n.in[1] = &w2;
        n.in[2] = &w3;
        break;
    case TFB_OP_ATTENTION:
        w2.ndim = w3.ndim = 2; /* kcache, vcache: [N, C] */
        w2.shape[0] = w3.shape[0] = N;
        w2.shape[1] = w3.shape[1] = K;
        n.in[1] = &w2;
        n.in[2] = &w3;
        n.n_head = 12;
        break;
    default: break;
    }
    return tfb_backend_supports(b, &n);
}

/* Every context, freed after the run (Google Benchmark keeps the pointers until then). */
static kbench *all_ctx[512];
static int n_ctx;

static kbench *add(tfb_backend *b, const char *be, tfb_op op, tfb_dtype dt, int64_t M, int64_t K, int64_t N,
                   int layers, const char *shape) {
    kbench *k = n_ctx < 512 ? malloc(sizeof *k) : NULL;
    if (!k)
        return NULL;
    all_ctx[n_ctx++] = k;
    *k = (kbench){.b = b, .op = op, .dt = dt, .M = M, .K = K, .N = N, .layers = layers};
    char name[160];
    snprintf(name, sizeof name, "%s/%s/%s/%s", tfb_op_name(op), be, tfb_dtype_name(dt), shape);
    tfb_gb_bench *gb = tfb_gb_register(name, body, k);
    tfb_gb_use_real_time(gb);
    tfb_gb_unit_ms(gb);
    /* The reference is an oracle, not a contender: one iteration of anything heavy is enough. */
    if (strcmp(be, "reference") == 0 && 2.0 * (double)M * (double)K * (double)N > 5e7)
        tfb_gb_iterations(gb, 1);
    return k;
}

static void register_backend(tfb_backend *b, const char *be) {
    static const int64_t mm[][3] = {
        {512, 768, 2304},  {512, 768, 768},   {512, 768, 3072},  {512, 3072, 768}, {128, 768, 2304},
        {1, 768, 3072},    {1, 768, 50257},   {512, 2048, 2048}, {512, 2048, 5632}, {512, 5632, 2048},
        {1, 2048, 5632}};
    for (int d = 0; d < TFB_DTYPE_COUNT; d++) {
        if (d == TFB_DTYPE_I32)
            continue;
        if (b->opts.act_q8 && d != TFB_DTYPE_Q8_0 && d != TFB_DTYPE_Q4_0)
            continue; /* act_q8 changes nothing else */
        for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) {
            char shape[64];
            if (!runs(b, TFB_OP_MATMUL, (tfb_dtype)d, mm[i][0], mm[i][1], mm[i][2]))
                continue;
            if (strcmp(be, "reference") == 0 && 2.0 * (double)mm[i][0] * (double)mm[i][1] * (double)mm[i][2] > 2e9)
                continue; /* the oracle takes tens of seconds per Llama prefill matmul: not a benchmark */
            snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)mm[i][0], (long long)mm[i][1],
                     (long long)mm[i][2]);
            add(b, be, TFB_OP_MATMUL, (tfb_dtype)d, mm[i][0], mm[i][1], mm[i][2], 1, shape);
            if (mm[i][0] != 1 || mm[i][2] != 5632 || strcmp(be, "reference") == 0)
                continue;
            /* TinyLlama's decode GEMV from DRAM: enough distinct weights for COLD_BYTES. */
            size_t wb = tfb_dtype_row_bytes((tfb_dtype)d, mm[i][1]) * (size_t)mm[i][2];
            int L = (int)((COLD_BYTES + wb - 1) / wb);
            L = L < 2 ? 2 : L > MAX_LAYERS ? MAX_LAYERS : L;
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "x%d", L);
            add(b, be, TFB_OP_MATMUL, (tfb_dtype)d, mm[i][0], mm[i][1], mm[i][2], L, shape);
        }
    }
    static const int64_t ctx[] = {128, 512, 1024};
    for (size_t i = 0; i < 3; i++) {
        if (runs(b, TFB_OP_ATTENTION, TFB_DTYPE_F32, 1, 768, ctx[i])) {
            char shape[32];
            snprintf(shape, sizeof shape, "ctx%lld", (long long)ctx[i]);
            add(b, be, TFB_OP_ATTENTION, TFB_DTYPE_F32, 1, 768, ctx[i], 1, shape);
        }
    }
    if (runs(b, TFB_OP_LAYERNORM, TFB_DTYPE_F32, 512, 768, 0))
        add(b, be, TFB_OP_LAYERNORM, TFB_DTYPE_F32, 512, 768, 0, 1, "512x768");
    if (runs(b, TFB_OP_SOFTMAX, TFB_DTYPE_F32, 1536, 512, 0))
        add(b, be, TFB_OP_SOFTMAX, TFB_DTYPE_F32, 1536, 512, 0, 1, "1536x512");
}

int main(int argc, char **argv) {
    tfb_probe_register();
    tfb_backend *open[32];
    int n_open = 0;
    for (int i = 0; i < tfb_backend_count() && n_open < 32; i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256] = "";
        if (!iface->probe(why, sizeof why)) {
            fprintf(stderr, "tfbench-kernels: %s: unavailable: %s (skipped)\n", iface->name, why);
            continue;
        }
        tfb_backend_opts opts = {0};
        tfb_backend *b;
        if (tfb_backend_init(iface, &opts, &b) != TFB_STATUS_OK) {
            fprintf(stderr, "tfbench-kernels: %s: init failed: %s (skipped)\n", iface->name,
                    tfb_error_last());
            continue;
        }
        open[n_open++] = b;
        register_backend(b, iface->name);
        opts.act_q8 = true;
        if (iface->act_q8 && strcmp(iface->name, "reference") != 0 && n_open < 32 &&
            tfb_backend_init(iface, &opts, &b) == TFB_STATUS_OK) {
            char name[64];
            snprintf(name, sizeof name, "%s+a8", iface->name);
            open[n_open++] = b;
            register_backend(b, name);
        }
    }
    int rc = tfb_gb_main(argc, argv);
    for (int i = 0; i < n_open; i++)
        tfb_backend_free(open[i]);
    for (int i = 0; i < n_ctx; i++)
        free(all_ctx[i]);
    return rc;
}
