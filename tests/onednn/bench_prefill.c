/* Benchmark (built, not registered as a test): GPT-2 124M prefill on the oneDNN backend against the
 * throughput oneDNN's own matmuls imply for the same shapes, measured alternately in one run.
 *
 *   bench_prefill [T=512] [threads=2] [reps=5]
 *
 * Raw: one f32 matmul primitive per shape, weights pre-reordered to the layout it prefers, bias
 * included, no post-ops. Per layer GPT-2 runs four T x 768 -> 768 (q, k, v, o), one 768 -> 3072 and
 * one 3072 -> 768; the LM head runs for the last row only (1 x 768 -> 50257). Implied tokens/s =
 * T / (12 * (4 t768 + t_up + t_down) + t_head). The session's prefill (tfb_session_decode of T
 * tokens at position 0, last-row logits) adds everything else: embedding, layernorms, attention,
 * residual adds, KV writes; its overhead = 1 - implied time / prefill time. Medians printed. */
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfbench/model.h"

#define CHECK(x)                                                                     \
    do {                                                                             \
        if ((x) != dnnl_success) {                                                   \
            fprintf(stderr, "bench_prefill: %s failed (%s:%d)\n", #x, __FILE__, __LINE__); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct raw_mm {
    int64_t M, K, N;
    int count; /* how many of these one prefill runs */
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bias, dst;
    void *bufs[4];
} raw_mm;

static void *filled(size_t bytes) {
    float *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!p)
        exit(1);
    for (size_t i = 0; i < bytes / 4; i++)
        p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return p;
}

static void raw_init(dnnl_engine_t e, dnnl_stream_t s, raw_mm *r) {
    dnnl_memory_desc_t smd, wmd, wplain, bmd, dmd;
    dnnl_dims_t sd = {r->M, r->K}, wd = {r->K, r->N}, bd = {1, r->N}, dd = {r->M, r->N};
    CHECK(dnnl_memory_desc_init_by_tag(&smd, 2, sd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&wmd, 2, wd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&wplain, 2, wd, dnnl_f32, dnnl_ba));
    CHECK(dnnl_memory_desc_init_by_tag(&bmd, 2, bd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&dmd, 2, dd, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t d;
    CHECK(dnnl_matmul_desc_init(&d, &smd, &wmd, &bmd, &dmd));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &d, NULL, e, NULL));
    CHECK(dnnl_primitive_create(&r->prim, pd));
    const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    r->bufs[0] = filled((size_t)(r->M * r->K) * 4);
    r->bufs[1] = filled(dnnl_memory_desc_get_size(want));
    r->bufs[2] = filled((size_t)r->N * 4);
    r->bufs[3] = filled((size_t)(r->M * r->N) * 4);
    void *plain = filled((size_t)(r->K * r->N) * 4);
    dnnl_memory_t pm;
    CHECK(dnnl_memory_create(&r->src, &smd, e, r->bufs[0]));
    CHECK(dnnl_memory_create(&r->wei, want, e, r->bufs[1]));
    CHECK(dnnl_memory_create(&r->bias, &bmd, e, r->bufs[2]));
    CHECK(dnnl_memory_create(&r->dst, &dmd, e, r->bufs[3]));
    CHECK(dnnl_memory_create(&pm, &wplain, e, plain));
    dnnl_primitive_desc_t rpd;
    dnnl_primitive_t rp;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wplain, e, want, e, NULL));
    CHECK(dnnl_primitive_create(&rp, rpd));
    dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, pm}, {DNNL_ARG_TO, r->wei}};
    CHECK(dnnl_primitive_execute(rp, s, 2, ra));
    CHECK(dnnl_stream_wait(s));
    dnnl_primitive_destroy(rp);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(pm);
    free(plain);
    dnnl_primitive_desc_destroy(pd);
}

/* Median seconds of one execution, over `iters` runs after one warm-up. */
static double raw_time(dnnl_stream_t s, raw_mm *r, int iters) {
    dnnl_exec_arg_t a[4] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_WEIGHTS, r->wei}, {DNNL_ARG_BIAS, r->bias},
                            {DNNL_ARG_DST, r->dst}};
    double t[64];
    CHECK(dnnl_primitive_execute(r->prim, s, 4, a));
    CHECK(dnnl_stream_wait(s));
    for (int i = 0; i < iters; i++) {
        double t0 = now();
        CHECK(dnnl_primitive_execute(r->prim, s, 4, a));
        CHECK(dnnl_stream_wait(s));
        t[i] = now() - t0;
    }
    return median(t, iters);
}

int main(int argc, char **argv) {
    int64_t T = argc > 1 ? atoll(argv[1]) : 512;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (T < 1 || T > 1024 || threads < 1 || reps < 1 || reps > 64) {
        fprintf(stderr, "usage: bench_prefill [T<=1024] [threads] [reps<=64]\n");
        return 2;
    }
    tfb_backend_opts o = {.n_threads = threads};
    tfb_backend *b = NULL;
    const tfb_backend_i *di = tfb_backend_find("onednn");
    if (!di || tfb_backend_init(di, &o, &b) != TFB_STATUS_OK) {
        fprintf(stderr, "bench_prefill: onednn unavailable: %s\n", tfb_error_last());
        return 3;
    }
    tfb_device_info info;
    tfb_backend_device_info(b, &info);
    const tfb_config *cfg = tfb_preset_find("gpt2-124m");
    tfb_model m;
    tfb_session *sess = NULL;
    if (tfb_model_synthetic(cfg, 1, TFB_DTYPE_F32, &m) != TFB_STATUS_OK ||
        tfb_session_init(b, &m, T, &sess) != TFB_STATUS_OK) {
        fprintf(stderr, "bench_prefill: %s\n", tfb_error_last());
        return 1;
    }
    int32_t *tok = malloc((size_t)T * sizeof *tok);
    for (int64_t i = 0; i < T; i++)
        tok[i] = (int32_t)((i * 7919) % cfg->n_vocab);

    dnnl_engine_t e;
    dnnl_stream_t s;
    CHECK(dnnl_engine_create(&e, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&s, e, dnnl_stream_default_flags));
    int64_t C = cfg->d_model, F = cfg->dec.d_ff, L = cfg->dec.n_layer;
    raw_mm raw[4] = {{.M = T, .K = C, .N = C, .count = (int)(4 * L)}, {.M = T, .K = C, .N = F, .count = (int)L},
                     {.M = T, .K = F, .N = C, .count = (int)L}, {.M = 1, .K = C, .N = cfg->n_vocab, .count = 1}};
    for (int i = 0; i < 4; i++)
        raw_init(e, s, &raw[i]);

    /* Warm-up: first prefill creates primitives and reorders weights. */
    if (tfb_session_decode(sess, tok, T, 0, false, NULL) != TFB_STATUS_OK) {
        fprintf(stderr, "bench_prefill: %s\n", tfb_error_last());
        return 1;
    }
    double pre[64], impl[64], per[4][64];
    for (int r = 0; r < reps; r++) {
        double total = 0.0;
        for (int i = 0; i < 4; i++) {
            per[i][r] = raw_time(s, &raw[i], 5);
            total += per[i][r] * raw[i].count;
        }
        impl[r] = total;
        double t0 = now();
        tfb_status st = tfb_session_decode(sess, tok, T, 0, false, NULL);
        pre[r] = now() - t0;
        if (st != TFB_STATUS_OK) {
            fprintf(stderr, "bench_prefill: %s\n", tfb_error_last());
            return 1;
        }
    }
    printf("gpt2-124m f32 prefill T=%lld, %d threads, %d alternating reps (medians)\n%s; %s\n", (long long)T,
           threads, reps, info.library, info.extra);
    for (int i = 0; i < 4; i++) {
        double t = median(per[i], reps);
        printf("  raw matmul %4lldx%4lldx%5lld: %8.3f ms  %7.1f GFLOP/s  x%d per prefill\n", (long long)raw[i].M,
               (long long)raw[i].K, (long long)raw[i].N, 1e3 * t,
               2.0 * (double)(raw[i].M * raw[i].K * raw[i].N) / t * 1e-9, raw[i].count);
    }
    double ti = median(impl, reps), tp = median(pre, reps);
    printf("  matmuls alone: %.1f ms -> implied %.1f tokens/s\n", 1e3 * ti, (double)T / ti);
    printf("  session prefill: %.1f ms -> %.1f tokens/s\n", 1e3 * tp, (double)T / tp);
    printf("  prefill reaches %.1f%% of the implied throughput (graph overhead %.1f%%)\n", 100.0 * ti / tp,
           100.0 * (1.0 - ti / tp));
    for (int i = 0; i < 4; i++) {
        dnnl_primitive_destroy(raw[i].prim);
        dnnl_memory_destroy(raw[i].src);
        dnnl_memory_destroy(raw[i].wei);
        dnnl_memory_destroy(raw[i].bias);
        dnnl_memory_destroy(raw[i].dst);
        for (int k = 0; k < 4; k++)
            free(raw[i].bufs[k]);
    }
    dnnl_stream_destroy(s);
    dnnl_engine_destroy(e);
    free(tok);
    tfb_session_free(sess);
    tfb_model_free(&m);
    tfb_backend_free(b);
    return 0;
}
