/* The benchmark runner behind `tfbench bench`: bench.c parses and validates the command line and
 * writes the outputs; bench_run.c performs the measurements of one (backend, model, dtype, threads). */
#ifndef TFB_HARNESS_BENCH_H
#define TFB_HARNESS_BENCH_H

#include "cli.h"
#include "results.h"

/* The measurement families, selected with --kinds (docs/results-schema.md names the kinds). */
enum {
    TFB_BENCH_PP = 1 << 0,       /* prefill / encode throughput */
    TFB_BENCH_E2E = 1 << 1,      /* time to first token, time per output token */
    TFB_BENCH_TG = 1 << 2,       /* decode throughput at the --depth values */
    TFB_BENCH_KV = 1 << 3,       /* decode with the KV cache vs recomputing the sequence */
    TFB_BENCH_XATTN = 1 << 4,    /* cross-attention K/V cached vs the encoder rerun */
    TFB_BENCH_PREFIX = 1 << 5,   /* requests sharing a prefix, its K/V reused or not */
    TFB_BENCH_QUANT = 1 << 6,    /* KL / top-1 of a quantized dtype against f32 */
    TFB_BENCH_SCALE_PP = 1 << 7, /* prefill at lengths 1, 2, 4, ... up to --scale-max */
    TFB_BENCH_SCALE_TG = 1 << 8, /* decode at depths 0, 1, 2, 4, ... up to --scale-max */
};

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
    int64_t max_reps; /* decode repeats past reps, up to this, until its 95% CI is within 5% */
    const char *out, *csv;
    const char *db; /* --db URL (or $TFBENCH_DB): the run is appended to the results database */
    bool force, kv_reuse, scaling, quick;
    unsigned kinds;                      /* TFB_BENCH_* to measure */
    int64_t kv_tg, scale_tg, scale_max;  /* 0: the plan's default */
    bool progress, dry_run;              /* --progress: lines even when stderr is no terminal */
    bool interleave;                     /* --interleave: a model's configurations A B A B */
    tfb_backend_opts opts; /* --device, --isa */
} tfb_bench_args;

/* Per-model lists: --pp / --tg defaults clipped to the model's context. */
typedef struct tfb_bench_plan {
    int32_t pp[32], tg[32], depth[64];
    int n_pp, n_tg, n_depth;
    int64_t kv_tg, scale_tg, scale_max, prefix; /* resolved: tokens, tokens, length, prefix length */
    char note[200]; /* the defaults scaled to fit the context, said under the table; "" when none were */
} tfb_bench_plan;

/* Run every measurement family for one (backend, model, dtype, threads), appending rows to res.
 * b is initialised with the thread count; the model is opened (and timed) inside. Returns OK, or
 * UNSUPPORTED (recorded in res->skipped by the caller), or an error. */
tfb_status tfb_bench_one(const tfb_bench_args *a, const tfb_bench_plan *plan, tfb_backend *b, const char *model,
                         tfb_dtype dtype, int threads, bool quant, tfb_results *res);

/* The steps tfb_bench_one would take, without running any: how many, and their estimated cost in
 * work units (tokens x millions of parameters, a decode token weighted as several prefill tokens). */
void tfb_bench_count_one(const tfb_bench_args *a, const tfb_bench_plan *plan, const tfb_config *c, bool quant,
                         int *steps, double *units);

/* Interleaving (bench_turns.c): run fn(args[i]) for i < n on threads that take turns, one running
 * at a time; each passes the turn on at tfb__bench_turn (every step and repetition), so the
 * configurations are measured A B A B. rcs[i] gets each return value (TFB_EXIT_FAIL where no
 * thread could start). Returns how many threads started. */
int tfb__bench_interleave(int n, int (*fn)(void *), void *const *args, int *rcs);
/* Pass the turn on and wait for it again; nothing outside tfb__bench_interleave. */
void tfb__bench_turn(void);

/* `tfbench bench` arguments -> their total steps and work units, running nothing (the suite sums
 * its bench runs this way before the first). Returns an exit code (2 on bad usage). */
int tfb_bench_count(int argc, char **argv, int *steps, double *units);

/* ---- the standard suite's benchmark plan (bench_suite.c) ------------------------------------ */

typedef enum tfb_suite_profile {
    TFB_SUITE_QUICK,   /* CI: the tiny presets, two repetitions, every family at toy sizes */
    TFB_SUITE_DEFAULT, /* about 15 minutes on the 2-core development machine */
    TFB_SUITE_FULL,    /* for papers: every family on every backend at the documented sizes */
} tfb_suite_profile;

/* One `tfbench bench` run of the suite. */
typedef struct tfb_suite_job {
    char name[64];  /* file stem of its outputs: "03-simd-quant-gpt2-124m" */
    char what[128]; /* one line for the progress and the README: "simd gpt2-124m: quantization" */
    char *argv[64]; /* argv[0] = "bench"; pointers into buf */
    int argc;
    char buf[2048];
} tfb_suite_job;

typedef struct tfb_suite_opts {
    tfb_suite_profile profile;
    const char *cpu;           /* the backend that runs every family (the fastest CPU one) */
    const char *others[8];     /* backends that run throughput, KV reuse and scaling */
    int n_others;
    const char *models[16];    /* NULL entries: the profile's default models */
    int n_models;
    const char *reps;          /* -r override, or NULL */
    const char *threads, *device;
    bool progress;
} tfb_suite_opts;

/* The jobs of a suite run, in order (at most cap); returns how many. */
int tfb_suite_plan(const tfb_suite_opts *o, tfb_suite_job *jobs, int cap);

#endif
