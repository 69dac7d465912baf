/* The machine's limits for the roofline: read bandwidth and peak fp32 GFLOP/s (probe.c). */
#ifndef TFB_GBENCH_PROBE_H
#define TFB_GBENCH_PROBE_H

#include <stdint.h>

/* Register probe/bandwidth and probe/peak_fp32. */
void tfb_probe_register(void);

/* Per-ISA FMA loops (probe_fma_*.c, each compiled with its own flags): n rounds of independent
 * multiply-adds on one thread; returns the floating-point operations done (an FMA counts 2). */
double tfb_probe_fma_avx512(int64_t n);
double tfb_probe_fma_avx2(int64_t n);

#endif
