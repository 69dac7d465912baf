/* A small persistent thread pool for the SIMD backend: n-1 workers plus the calling thread run
 * one job at a time. A job is split into chunks that threads claim from a shared counter, so a
 * worker the OS has descheduled does not hold up the others: whoever is running takes the next
 * chunk. Workers spin briefly between jobs, then sleep on a condition variable. */
#ifndef TFB_SIMD_POOL_H
#define TFB_SIMD_POOL_H

#include "tfbench/status.h"

typedef struct tfb__pool tfb__pool;

/* fn(arg, chunk, n_chunks, tid): run chunk `chunk` of n_chunks; tid < tfb__pool_threads() names
 * the thread (for per-thread scratch), 0 being the caller. */
typedef void (*tfb__pool_fn)(void *arg, int chunk, int n_chunks, int tid);

/* n_threads >= 1 (1: no workers, everything runs on the caller). */
tfb_status tfb__pool_init(int n_threads, tfb__pool **out);
void tfb__pool_free(tfb__pool *p);
int tfb__pool_threads(const tfb__pool *p);
/* Run every chunk of fn once and wait until all are done. */
void tfb__pool_run(tfb__pool *p, int n_chunks, tfb__pool_fn fn, void *arg);

#endif
