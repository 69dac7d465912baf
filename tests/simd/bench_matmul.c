/* A benchmark, not a test: SIMD matmul GFLOP/s for given shapes, dtype and path, median of reps.
 * usage: bench_matmul [--threads N] [--isa P] [--dtype D] [--reps R] MxKxN...   (default the two
 * GPT-2 prefill shapes 512x768x768 and 512x3072x768, f32, 2 threads) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfbench/backend.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench(tfb_backend *be, tfb_dtype dt, int64_t M, int64_t K, int64_t N, int reps) {
    tfb_graph g;
    tfb_graph_init(&g, M);
    tfb_tensor *x = tfb_graph_new_act(&g, "x", 0, K, TFB_DTYPE_F32);
    tfb_tensor *out = tfb_graph_new_act(&g, "out", 0, N, TFB_DTYPE_F32);
    tfb_tensor w = {.name = "w", .dtype = dt, .ndim = 2, .shape = {N, K}};
    tfb_graph_add(&g, TFB_OP_MATMUL, out, x, &w, NULL, NULL);
    g.params.n_rows = M;
    size_t act = tfb_graph_layout(&g);
    tfb_buffer *abuf, *wbuf;
    if (tfb_backend_buffer_alloc(be, act, &abuf) != TFB_STATUS_OK ||
        tfb_backend_buffer_alloc(be, tfb_tensor_nbytes(&w), &wbuf) != TFB_STATUS_OK) {
        fprintf(stderr, "bench_matmul: %s\n", tfb_error_last());
        return 1;
    }
    x->buf = out->buf = abuf;
    w.buf = wbuf;
    float *row = malloc((size_t)K * sizeof *row);
    size_t rb = tfb_dtype_row_bytes(dt, K);
    for (int64_t n = 0; n < N; n++) {
        for (int64_t k = 0; k < K; k++)
            row[k] = (float)((n * 131 + k * 17) % 97) / 97.0f - 0.5f;
        tfb_quantize_row(dt, row, (char *)wbuf->host + (size_t)n * rb, K);
    }
    float *xh = tfb_tensor_host(x);
    for (int64_t i = 0; i < M * K; i++)
        xh[i] = (float)(i % 89) / 89.0f - 0.5f;
    free(row);
    double *t = malloc((size_t)reps * sizeof *t);
    tfb_backend_compute(be, &g); /* warm-up */
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        tfb_backend_compute(be, &g);
        tfb_backend_synchronize(be);
        t[r] = now() - t0;
    }
    /* CPU time per run: on a loaded machine wall time mostly measures the other processes. */
    double cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / reps;
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    double flop = 2.0 * (double)(M * K * N);
    printf("matmul %s %lldx%lldx%lld: median %.3f ms, %.1f GFLOP/s (min %.3f ms, %.1f GFLOP/s; "
           "%.1f GFLOP per CPU-second)\n",
           tfb_dtype_name(dt), (long long)M, (long long)K, (long long)N, med * 1e3, flop / med * 1e-9, t[0] * 1e3,
           flop / t[0] * 1e-9, flop / cpu * 1e-9);
    free(t);
    tfb_backend_buffer_free(be, abuf);
    tfb_backend_buffer_free(be, wbuf);
    tfb_graph_free(&g);
    return 0;
}

int main(int argc, char **argv) {
    tfb_backend_opts o = {.n_threads = 2};
    tfb_dtype dt = TFB_DTYPE_F32;
    int reps = 21, n_shapes = 0;
    int64_t shapes[16][3];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            o.n_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc)
            o.isa = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dtype") == 0 && i + 1 < argc) {
            if (!tfb_dtype_parse(argv[++i], &dt))
                return 2;
        } else if (n_shapes < 16) {
            long long m, k, n;
            if (sscanf(argv[i], "%lldx%lldx%lld", &m, &k, &n) != 3) {
                fprintf(stderr, "usage: %s [--threads N] [--isa P] [--dtype D] [--reps R] MxKxN...\n", argv[0]);
                return 2;
            }
            shapes[n_shapes][0] = m, shapes[n_shapes][1] = k, shapes[n_shapes][2] = n;
            n_shapes++;
        }
    }
    if (reps < 1)
        reps = 1;
    if (n_shapes == 0) {
        int64_t d[2][3] = {{512, 768, 768}, {512, 3072, 768}};
        memcpy(shapes, d, sizeof d);
        n_shapes = 2;
    }
    tfb_backend *be;
    if (tfb_backend_init(tfb_backend_find("simd"), &o, &be) != TFB_STATUS_OK) {
        fprintf(stderr, "bench_matmul: %s\n", tfb_error_last());
        return 3;
    }
    tfb_device_info info;
    tfb_backend_device_info(be, &info);
    printf("simd on %s: %s\n", info.device, info.extra);
    int rc = 0;
    for (int i = 0; i < n_shapes; i++)
        rc |= bench(be, dt, shapes[i][0], shapes[i][1], shapes[i][2], reps);
    tfb_backend_free(be);
    return rc;
}
