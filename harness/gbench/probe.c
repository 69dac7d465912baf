/* The machine's limits, measured the way the roofline needs them:
 *   probe/bandwidth   a multithreaded sum over an array far larger than the caches, four streams per
 *                     thread at the widest ISA (GB/s of reads);
 *   probe/peak_fp32   independent FMA chains on every core at the widest ISA the CPU has (GFLOP/s).
 * Both run one thread per online core and use wall time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gbench.h"
#include "probe.h"

#define BW_BYTES ((size_t)512 << 20) /* 512 MiB: past any L3 */

static int n_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 256 ? (int)n : 1;
}

typedef double (*read_fn)(const float *, size_t);

/* No vector ISA known: the same four streams, scalar, eight partial sums. */
static double read_generic(const float *x, size_t n) {
    size_t q = n / 4 / 2 * 2;
    const float *s0 = x, *s1 = x + q, *s2 = x + 2 * q, *s3 = x + 3 * q;
    double a[8] = {0};
    for (size_t i = 0; i < q; i += 2) {
        a[0] += s0[i], a[1] += s1[i], a[2] += s2[i], a[3] += s3[i];
        a[4] += s0[i + 1], a[5] += s1[i + 1], a[6] += s2[i + 1], a[7] += s3[i + 1];
    }
    for (size_t i = 4 * q; i < n; i++)
        a[0] += x[i];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

static read_fn best_read(const char **isa) {
#if defined(__x86_64__) && defined(TFB_PROBE_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *isa = "avx512";
        return tfb_probe_read_avx512;
    }
    if (__builtin_cpu_supports("avx2")) {
        *isa = "avx2";
        return tfb_probe_read_avx2;
    }
#endif
    *isa = "generic";
    return read_generic;
}

typedef struct bw_job {
    read_fn fn;
    const float *x;
    size_t n;
    double sum;
} bw_job;

static void *bw_worker(void *p) {
    bw_job *j = p;
    j->sum = j->fn(j->x, j->n);
    return NULL;
}

/* Each thread reads its own contiguous share as four streams (probe_fma.inc): a single stream per
 * core underestimated the machine (decode kernels streamed 51 GB/s where it said 40). "GB/s" is the
 * mean over the passes, "best GB/s" the fastest pass: on a shared machine the roof is the best. */
static void bench_bandwidth(tfb_gb_state *st, void *ctx) {
    (void)ctx;
    const char *isa;
    read_fn fn = best_read(&isa);
    size_t n = BW_BYTES / sizeof(float);
    float *x = aligned_alloc(4096, BW_BYTES);
    if (!x) {
        tfb_gb_skip(st, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) /* touch every page, and keep values small */
        x[i] = (float)(i & 1023);
    int nt = n_cores();
    size_t share = n / (size_t)nt / 4096 * 4096; /* a multiple of 8 vectors at any width */
    double bytes_per_pass = (double)(share * (size_t)nt * sizeof(float));
    bw_job jobs[256];
    pthread_t th[256];
    double total = 0, best = 0;
    while (tfb_gb_keep_running(st)) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int t = 0; t < nt; t++) {
            jobs[t] = (bw_job){.fn = fn, .x = x + share * (size_t)t, .n = share};
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
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (s > 0 && bytes_per_pass / s > best)
            best = bytes_per_pass / s;
    }
    double bytes = bytes_per_pass * (double)tfb_gb_iterations_done(st);
    tfb_gb_counter(st, "GB/s", bytes / 1e9, true);
    tfb_gb_counter(st, "best GB/s", best / 1e9, false);
    tfb_gb_counter(st, "checksum", total, false);
    char label[64];
    snprintf(label, sizeof label, "%s x%d threads x4 streams", isa, nt);
    tfb_gb_label(st, label);
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
