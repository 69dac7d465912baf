/* Internal: the conformance checker behind `tfbench conform` (DESIGN.md, Conformance).
 *
 * conform.c        the subcommand: flags, the backend x model x dtype loop, exit code
 * opdef.c          the one op definition: op shapes and the op x dtype tolerance table (shared with
 *                  every backend's op tests; opdef.h)
 * conform_tol.c    the model-level and quantization bounds, with reasons
 * conform_cmp.c    the comparator: NaN/inf rules, NMSE, per-element atol+rtol, degenerate outputs
 * conform_op.c     op-level cases: single-node graphs on the backend and on the reference
 * conform_model.c  model-level cases: free-running greedy, teacher-forced logits, quantization effects
 * conform_out.c    the human table, JSON and JUnit writers
 * The planted faults that prove it fails are a backend of their own, in test binaries only
 * (backends/fault.c: "fault" in tfbench-faults). */
#ifndef TFB_HARNESS_CONFORM_H
#define TFB_HARNESS_CONFORM_H

#include <cjson/cJSON.h>

#include "cli.h"

/* Verdicts, worst last among the ones that count as a failure. */
typedef enum tfb_cf_verdict {
    TFB_CF_PASS,
    TFB_CF_NEAR_TIE,    /* passed; a top-1 disagreement within the tie tolerance */
    TFB_CF_MISTRUSTED,  /* both outputs degenerate (mostly zeros or constant): proves nothing */
    TFB_CF_UNSUPPORTED, /* the backend's supports() says no */
    TFB_CF_UNAVAILABLE, /* the backend cannot run here */
    TFB_CF_FAIL,
    TFB_CF_ERROR, /* the backend returned an error status */
} tfb_cf_verdict;

const char *tfb__cf_verdict_name(tfb_cf_verdict v);
bool tfb__cf_verdict_fails(tfb_cf_verdict v);

/* ---- tolerances (conform_tol.c) ------------------------------------------------------------------ */

#define TFB_CF_EPS_F32 1.1920928955078125e-07 /* 2^-23 */

/* Model level: relative-to-RMS bound for logits/hidden states per position; the near-tie margin
 * is 2 * tol * (rms + |top1|) (a flip needs both logits to move by the per-element bound). */
/* Model level: the NMSE tolerance (NMSE <= tol^2) and, into *etol, the element bound. */
double tfb__cf_model_tol(tfb_dtype wt, bool act_q8, double *etol, const char **why);
/* Quantization effects (backend at wt vs the f32 reference): the least top-1 agreement accepted. */
double tfb__cf_quant_min_top1(tfb_dtype wt, const char **why);
/* Print every table: the op level's (opdef.c) and these (for --tolerances and the docs). */
void tfb__cf_print_tolerances(FILE *f);

/* ---- comparator (conform_cmp.c) ------------------------------------------------------------------- */

#define TFB_CF_MAX_FIRST 4

typedef struct tfb_cf_cmp {
    tfb_cf_verdict verdict;
    double nmse, max_abs, rms_ref;
    double threshold; /* NMSE threshold = tol^2 */
    int64_t worst;    /* index of the largest |x-ref| / (atol + rtol|ref|); -1 if none */
    int64_t n_bad;    /* elements outside atol + rtol|ref| */
    int64_t first_bad[TFB_CF_MAX_FIRST];
    int n_first;
    char detail[320];
} tfb_cf_cmp;

/* Compare n floats against the reference with bound tol (atol = tol*rms(ref), rtol = tol, NMSE <=
 * tol^2; tol = 0 demands equality). A NaN on either side fails; an inf must match in sign; when both
 * sides are degenerate the verdict is MISTRUSTED. */
void tfb__cf_compare(const float *x, const float *ref, int64_t n, double tol, tfb_cf_cmp *r);
/* The same with a looser element bound etol >= tol (atol = etol*rms, rtol = etol; NMSE still <= tol^2). */
void tfb__cf_compare_elem(const float *x, const float *ref, int64_t n, double tol, double etol, tfb_cf_cmp *r);
/* Exact comparison of int32 outputs (argmax). */
void tfb__cf_compare_i32(const int32_t *x, const int32_t *ref, int64_t n, tfb_cf_cmp *r);
/* Degenerate: more than 80% exact zeros, or every value within 1e-6 relative of one another. */
bool tfb__cf_degenerate(const float *v, int64_t n);
/* Model level: is the reference row's top-1 minus top-2 margin within the tie tolerance
 * 2*tol*(rms(ref) + |top1|)? (A flip needs both logits to move by the per-element bound.) */
bool tfb__cf_near_tie(const float *ref, int64_t n, double tol, double *margin, double *allowed);
/* Guard check: first byte in [0, n) that differs from the pattern byte for its index, or -1. */
int64_t tfb__cf_guard_first_diff(const unsigned char *p, int64_t n, uint32_t seed);
void tfb__cf_guard_fill(unsigned char *p, int64_t n, uint32_t seed);

/* Deterministic random numbers (splitmix64). */
uint64_t tfb__cf_rand(uint64_t *state);
float tfb__cf_uniform(uint64_t *state, float lo, float hi);

/* ---- results ---------------------------------------------------------------------------------------- */

typedef struct tfb_cf_result {
    char backend[32];
    char kind[8];  /* "op", "model", "quant", "backend" */
    char name[96]; /* "matmul 7x768x3072", "gpt2-tiny teacher-forced" */
    char dtype[8];
    char act[4]; /* "q8" when --act q8 rounded this case's matmul activations (q8_0/q4_0), else "" */
    tfb_cf_verdict verdict;
    char metric_name[16]; /* "nmse", "top1" ... */
    double metric, threshold;
    char detail[512]; /* first diverging step, worst index, first mismatches, reason */
    char repro[320];
    double seconds;
    cJSON *extra; /* owned: per-case figures for the JSON (may be NULL) */
} tfb_cf_result;

typedef struct tfb_cf_report {
    tfb_cf_result *r;
    int n, cap;
} tfb_cf_report;

/* Append a zeroed result; aborts on out of memory. */
tfb_cf_result *tfb__cf_add(tfb_cf_report *rep);
void tfb__cf_report_free(tfb_cf_report *rep);

/* ---- the run ------------------------------------------------------------------------------------------ */

typedef struct tfb_cf_args {
    const char *backend, *model, *dtype; /* names or "all"; dtype may be a list ("q8_0,q4_0") */
    tfb_dtype dtypes[TFB_DTYPE_COUNT];   /* --dtype resolved, in the order of "all" */
    int n_dtypes;
    const char *json, *junit, *op, *case_filter;
    const char *db; /* --db URL (or $TFBENCH_DB): the cases appended to the results database */
    bool op_only, model_only, force, determinism, quiet, repro_all;
    bool progress; /* --progress: step lines on stderr even when it is not a terminal */
    tfb_backend_opts opts;
} tfb_cf_args;

/* One-line repro command for a case into buf. */
void tfb__cf_repro(char *buf, size_t len, const tfb_cf_args *a, const char *backend, const char *model,
                   const char *dtype, const char *op, const char *case_name, bool op_level);

/* Op level: every op case for one backend and weight dtype. ref is the reference backend. */
void tfb__cf_run_ops(const tfb_cf_args *a, tfb_backend *b, tfb_backend *ref, tfb_dtype wt,
                     tfb_cf_report *rep);
/* Model level for one backend x model x dtype; ref is the reference backend. */
void tfb__cf_run_model(const tfb_cf_args *a, tfb_backend *b, tfb_backend *ref, const char *model,
                       tfb_dtype wt, tfb_cf_report *rep);

/* Fill r's backend, kind, name, dtype and act (from a->opts and wt; dtype "-" when wt < 0). */
void tfb__cf_label(tfb_cf_result *r, const tfb_cf_args *a, const char *backend, const char *kind,
                   const char *name, int wt);
/* The dtype as tables show it: "q8_0/a8" for a case run with --act q8, else the dtype. */
const char *tfb__cf_dtype_label(const tfb_cf_result *r, char *buf, size_t len);

/* Writers (conform_out.c). The header says which activations were used (--act). */
void tfb__cf_print_row(FILE *f, const tfb_cf_result *r, bool repro);
void tfb__cf_print_header(FILE *f, const tfb_cf_args *a);
tfb_status tfb__cf_write_json(const char *path, bool force, const tfb_cf_args *a, const tfb_cf_report *rep);
/* One testsuite per backend; with --act q8 it is named "<backend> (act q8)" and every suite carries
 * an "act" property, so the JUnit of a q8 run never merges with an f32 one. */
tfb_status tfb__cf_write_junit(const char *path, bool force, const tfb_cf_args *a, const tfb_cf_report *rep);
/* --db: append the run to the results database (conform_db.c); prints its error, returns an exit code. */
int tfb__cf_store_db(const char *url, const tfb_cf_args *a, const tfb_cf_report *rep);

#endif
