/* A small persistent thread pool for the SIMD backend: n-1 workers plus the calling thread run
 * one job at a time; workers spin briefly between jobs, then sleep on a condition variable. */
#ifndef TFB_SIMD_POOL_H
#define TFB_SIMD_POOL_H

#include "tfbench/status.h"

typedef struct tfb__pool tfb__pool;

/* fn(arg, ith, nth) is called once for every ith in [0, nth). */
typedef void (*tfb__pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (1: no workers, everything runs on the caller). */
tfb_status tfb__pool_init(int n_threads, tfb__pool **out);
void tfb__pool_free(tfb__pool *p);
int tfb__pool_threads(const tfb__pool *p);
/* Run fn on nth <= tfb__pool_threads(p) threads (the caller is thread 0) and wait for all. */
void tfb__pool_run(tfb__pool *p, int nth, tfb__pool_fn fn, void *arg);

#endif
