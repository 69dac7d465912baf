/* The machine's limits for the roofline: read bandwidth and peak fp32 GFLOP/s (probe.c). */
#ifndef TFB_GBENCH_PROBE_H
#define TFB_GBENCH_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* Register probe/bandwidth and probe/peak_fp32. */
void tfb_probe_register(void);

/* Per-ISA FMA loops (probe_fma_*.c, each compiled with its own flags): n rounds of independent
 * multiply-adds on one thread; returns the floating-point operations done (an FMA counts 2). */
double tfb_probe_fma_avx512(int64_t n);
double tfb_probe_fma_avx2(int64_t n);

/* Per-ISA read loops: the sum of n floats (n a multiple of 8 vectors, x vector-aligned), read as
 * four concurrent streams. */
double tfb_probe_read_avx512(const float *x, size_t n);
double tfb_probe_read_avx2(const float *x, size_t n);

#endif
