/* The machine's limits, measured the way the roofline needs them:
 *   probe/bandwidth   a multithreaded sum over an array far larger than the caches (GB/s of reads);
 *   probe/peak_fp32   independent FMA chains on every core at the widest ISA the CPU has (GFLOP/s).
 * Both run one thread per online core and use wall time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbench.h"
#include "probe.h"

#define BW_BYTES ((size_t)512 << 20) /* 512 MiB: past any L3 */

static int n_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 256 ? (int)n : 1;
}

typedef struct bw_job {
    const double *x;
    size_t n;
    double sum;
} bw_job;

static void *bw_worker(void *p) {
    bw_job *j = p;
    /* Four partial sums so the adds are not one latency-bound chain. */
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= j->n; i += 4) {
        s0 += j->x[i];
        s1 += j->x[i + 1];
        s2 += j->x[i + 2];
        s3 += j->x[i + 3];
    }
    for (; i < j->n; i++)
        s0 += j->x[i];
    j->sum = s0 + s1 + s2 + s3;
    return NULL;
}

static void bench_bandwidth(tfb_gb_state *st, void *ctx) {
    (void)ctx;
    size_t n = BW_BYTES / sizeof(double);
    double *x = malloc(BW_BYTES);
    if (!x) {
        tfb_gb_skip(st, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) /* touch every page, and keep values small */
        x[i] = (double)(i & 1023);
    int nt = n_cores();
    bw_job jobs[256];
    pthread_t th[256];
    double total = 0;
    while (tfb_gb_keep_running(st)) {
        for (int t = 0; t < nt; t++) {
            jobs[t].x = x + n / (size_t)nt * (size_t)t;
            jobs[t].n = t == nt - 1 ? n - n / (size_t)nt * (size_t)t : n / (size_t)nt;
            if (pthread_create(&th[t], NULL, bw_worker, &jobs[t]) != 0) {
                bw_worker(&jobs[t]);
                th[t] = pthread_self(); /* ran inline: nothing to join */
            }
        }
        for (int t = 0; t < nt; t++) {
            if (!pthread_equal(th[t], pthread_self()))
                pthread_join(th[t], NULL);
            total += jobs[t].sum;
        }
    }
    double bytes = (double)BW_BYTES * (double)tfb_gb_iterations_done(st);
    tfb_gb_counter(st, "GB/s", bytes / 1e9, true);
    tfb_gb_counter(st, "checksum", total, false);
    free(x);
}

typedef double (*fma_fn)(int64_t);

static double fma_generic(int64_t n) {
    /* No FMA unit known: 16 independent multiply-add chains, counted as 2 flops each. */
    float a[16];
    for (int k = 0; k < 16; k++)
        a[k] = 1.0f + (float)k;
    for (int64_t r = 0; r < n; r++)
        for (int k = 0; k < 16; k++)
            a[k] = a[k] * 0.999999f + 1e-7f;
    volatile float sink = a[0] + a[15];
    (void)sink;
    return 2.0 * 16.0 * (double)n;
}

typedef struct fma_job {
    fma_fn fn;
    int64_t n;
    double flop;
} fma_job;

static void *fma_worker(void *p) {
    fma_job *j = p;
    j->flop = j->fn(j->n);
    return NULL;
}

static fma_fn best_fma(const char **isa) {
#if defined(__x86_64__) && defined(TFB_PROBE_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
        *isa = "avx512f+fma";
        return tfb_probe_fma_avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *isa = "avx2+fma";
        return tfb_probe_fma_avx2;
    }
#endif
    *isa = "generic";
    return fma_generic;
}

static void bench_peak(tfb_gb_state *st, void *ctx) {
    (void)ctx;
    const char *isa;
    fma_fn fn = best_fma(&isa);
    int nt = n_cores();
    fma_job jobs[256];
    pthread_t th[256];
    double flop = 0;
    while (tfb_gb_keep_running(st)) {
        for (int t = 0; t < nt; t++) {
            jobs[t] = (fma_job){.fn = fn, .n = 2000000};
            if (pthread_create(&th[t], NULL, fma_worker, &jobs[t]) != 0) {
                fma_worker(&jobs[t]);
                th[t] = pthread_self();
            }
        }
        for (int t = 0; t < nt; t++) {
            if (!pthread_equal(th[t], pthread_self()))
                pthread_join(th[t], NULL);
            flop += jobs[t].flop;
        }
    }
    tfb_gb_counter(st, "GFLOP/s", flop / 1e9, true);
    char label[64];
    snprintf(label, sizeof label, "%s x%d threads", isa, nt);
    tfb_gb_label(st, label);
}

void tfb_probe_register(void) {
    tfb_gb_bench *b = tfb_gb_register("probe/bandwidth", bench_bandwidth, NULL);
    tfb_gb_use_real_time(b);
    tfb_gb_unit_ms(b);
    b = tfb_gb_register("probe/peak_fp32", bench_peak, NULL);
    tfb_gb_use_real_time(b);
    tfb_gb_unit_ms(b);
}
