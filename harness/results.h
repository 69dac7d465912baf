/* Benchmark results: rows of (parameters, metric, raw samples, summary), written as JSON
 * ("tfbench-results/1", docs/results-schema.md) or CSV, and read back for `tfbench compare`. */
#ifndef TFB_HARNESS_RESULTS_H
#define TFB_HARNESS_RESULTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "stats.h"
#include "tfbench/status.h"

#define TFB_RESULTS_SCHEMA "tfbench-results/1"

typedef struct tfb_result_row {
    char backend[32], model[64], dtype[8];
    char act[4];       /* "q8": a q8_0/q4_0 row measured with --act q8 (8-bit activations); "" = f32 */
    int threads;       /* opts.n_threads used (0 = backend default) */
    char test[48];     /* "pp512", "tg64@d512", "pp512+tg64", "prefix8x2", ... */
    char kind[24];     /* family: load, memory, pp, encode, tg, e2e, kv, prefix, xattn, scale_pp, scale_tg, quant */
    int64_t n_prompt, n_gen, depth;
    char metric[32];   /* "tokens_per_s", "ttft_s", ... */
    char unit[16];     /* "tokens/s", "s", "bytes", "ratio", "nats" */
    bool higher_is_better;
    bool rate;         /* mean is harmonic */
    double *samples;   /* owned, n_samples */
    size_t n_samples;
    double *device_s;  /* owned device-time samples (seconds) beside wall time, or NULL */
    size_t n_device;
    tfb_stats st;      /* of samples */
    double p50, p90, p99; /* per-token latency percentiles (tg rows), NAN otherwise */
    double ratio_lo, ratio_hi; /* speedup rows: bootstrap 95% interval of the ratio, NAN otherwise */
} tfb_result_row;

typedef struct tfb_results {
    tfb_result_row *rows;
    size_t n, cap;
    cJSON *env;     /* environment manifest (owned), NULL when read from a file without one */
    cJSON *skipped; /* array of {backend, model, dtype, reason} not measured (owned), or NULL */
} tfb_results;

/* Append a row; samples are copied and summarised. Returns the row (valid until the next add). */
tfb_result_row *tfb_results_add(tfb_results *r, const tfb_result_row *proto, const double *samples, size_t n);
/* Attach device-time samples to a row. */
void tfb_results_set_device(tfb_result_row *row, const double *dev, size_t n);
void tfb_results_free(tfb_results *r);

/* The whole document as JSON (the caller frees the string). */
char *tfb_results_to_json(const tfb_results *r);
/* CSV, one line per row, header first. */
void tfb_results_write_csv(const tfb_results *r, FILE *f);
/* Read a results JSON file; rows' samples and parameters are restored, summaries recomputed. */
tfb_status tfb_results_read(const char *path, tfb_results *out);

/* The dtype as the human tables show it: "q4_0/a8" for a row with act "q8", else the dtype. */
const char *tfb_result_dtype_label(const tfb_result_row *w, char *buf, size_t len);

/* A finite number or JSON null. */
cJSON *tfb_json_number(double v);

#endif
