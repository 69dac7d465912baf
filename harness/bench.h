/* The benchmark runner behind `tfbench bench`: bench.c parses and validates the command line and
 * writes the outputs; bench_run.c performs the measurements of one (backend, model, dtype, threads). */
#ifndef TFB_HARNESS_BENCH_H
#define TFB_HARNESS_BENCH_H

#include "cli.h"
#include "results.h"

typedef struct tfb_bench_args {
    char *backends_buf, *models_buf; /* owned copies, split in place */
    const char *backends[16], *models[16];
    int n_backends, n_models;
    int32_t *pp, *tg, *depth, *threads;
    int64_t n_pp, n_tg, n_depth, n_threads;
    bool pp_set, tg_set;
    tfb_dtype dtypes[TFB_DTYPE_COUNT];
    int n_dtypes;
    int64_t reps, warmup, prefix, requests, seed;
    const char *out, *csv;
    const char *db; /* --db URL (or $TFBENCH_DB): the run is appended to the results database */
    bool force, kv_reuse, scaling, quick;
    tfb_backend_opts opts; /* --device, --isa */
} tfb_bench_args;

/* Per-model lists: --pp / --tg defaults clipped to the model's context. */
typedef struct tfb_bench_plan {
    int32_t pp[32], tg[32], depth[64];
    int n_pp, n_tg, n_depth;
} tfb_bench_plan;

/* Run every measurement family for one (backend, model, dtype, threads), appending rows to res.
 * b is initialised with the thread count; the model is opened (and timed) inside. Returns OK, or
 * UNSUPPORTED (recorded in res->skipped by the caller), or an error. */
tfb_status tfb_bench_one(const tfb_bench_args *a, const tfb_bench_plan *plan, tfb_backend *b, const char *model,
                         tfb_dtype dtype, int threads, bool quant, tfb_results *res);

/* Progress on stderr when it is a terminal. */
void tfb_bench_progress(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
