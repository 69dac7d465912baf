/* File, .npy and JSON helpers and the comparator of test_hf_fixtures. */
#ifndef TFB_TESTS_HF_FIXTURE_IO_H
#define TFB_TESTS_HF_FIXTURE_IO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A .npy array as doubles (version 1/2/3, little-endian f8 or f4, C order, 1-D or 2-D). */
typedef struct npy {
    double *data;
    int64_t rows, cols;
} npy;

extern int g_fail; /* set by fail() */

void fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
char *read_all(const char *path, size_t *len);
void join(char *out, size_t cap, const char *dir, const char *name);
const char *npy_parse(const unsigned char *b, size_t len, npy *out);
bool npy_load(const char *path, npy *out);
cJSON *json_load(const char *path);
bool json_ints(const cJSON *j, const char *key, int32_t **out, int64_t *n);
double json_num(const cJSON *j, const char *key, double dflt);

/* ---- comparator: per row ||x - ref|| / ||ref|| -------------------------------------------------- */

typedef struct cmp_result {
    double worst_row_err; /* max over rows of ||x-ref||/||ref|| */
    int64_t worst_row;
    double overall_err; /* over all rows */
    double max_abs;     /* max |x-ref| */
    bool nonfinite;     /* a NaN or inf in x or ref */
    bool degenerate;    /* a reference row of norm 0 (relative error meaningless) */
} cmp_result;

cmp_result compare(const float *x, const double *ref, int64_t rows, int64_t cols);
bool cmp_ok(const cmp_result *r, double tol);

#endif
