/* File, .npy and JSON helpers and the comparator of test_hf_fixtures (split out of it to keep files
 * small). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/fixture_io.h"

int g_fail;

void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_fail = 1;
}

/* ---- files ------------------------------------------------------------------------------------ */

char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        if (len)
            *len = n;
    }
    return buf;
}

void join(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* ---- .npy reader: version 1/2/3, little-endian f8 or f4, C order, 1-D or 2-D ------------------- */


/* Value of `key` in the header dict: returns a pointer just past "'key':" and spaces, or NULL. */
static const char *npy_key(const char *hdr, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(hdr, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

/* Parse an in-memory .npy; on error returns a static message. */
const char *npy_parse(const unsigned char *b, size_t len, npy *out) {
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return "not a .npy file (bad magic)";
    int major = b[6];
    size_t hlen, hoff;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hoff = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return "truncated header";
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        hoff = 12;
    } else {
        return "unknown .npy version";
    }
    if (hlen > len - hoff)
        return "header past end of file";
    char *hdr = malloc(hlen + 1);
    if (!hdr)
        return "out of memory";
    memcpy(hdr, b + hoff, hlen);
    hdr[hlen] = 0;
    const char *err = NULL;
    const char *d = npy_key(hdr, "descr"), *fo = npy_key(hdr, "fortran_order"), *sh = npy_key(hdr, "shape");
    int esz = 0;
    if (!d || !fo || !sh)
        err = "header lacks descr, fortran_order or shape";
    else if (strncmp(d, "'<f8'", 5) == 0)
        esz = 8;
    else if (strncmp(d, "'<f4'", 5) == 0)
        esz = 4;
    else
        err = "dtype is not <f8 or <f4";
    if (!err && strncmp(fo, "False", 5) != 0)
        err = "fortran_order arrays are not supported";
    int64_t dims[2] = {0, 1};
    int nd = 0;
    if (!err) {
        const char *p = sh;
        if (*p++ != '(')
            err = "bad shape";
        while (!err) {
            while (*p == ' ')
                p++;
            if (*p == ')')
                break;
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 0 || nd == 2) {
                err = "shape is not 1-D or 2-D";
                break;
            }
            dims[nd++] = v;
            p = end;
            while (*p == ' ')
                p++;
            if (*p == ',')
                p++;
        }
        if (!err && nd == 0)
            err = "0-D array";
    }
    free(hdr);
    if (err)
        return err;
    int64_t n = dims[0] * dims[1];
    size_t off = hoff + hlen;
    if ((size_t)n * (size_t)esz != len - off)
        return "data size does not match the shape";
    out->data = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!out->data)
        return "out of memory";
    for (int64_t i = 0; i < n; i++) {
        if (esz == 8) {
            memcpy(&out->data[i], b + off + (size_t)i * 8, 8);
        } else {
            float f;
            memcpy(&f, b + off + (size_t)i * 4, 4);
            out->data[i] = f;
        }
    }
    out->rows = dims[0];
    out->cols = dims[1];
    return NULL;
}

bool npy_load(const char *path, npy *out) {
    size_t len;
    unsigned char *b = (unsigned char *)read_all(path, &len);
    if (!b) {
        fail("%s: cannot read", path);
        return false;
    }
    const char *err = npy_parse(b, len, out);
    free(b);
    if (err) {
        fail("%s: %s", path, err);
        return false;
    }
    return true;
}

/* ---- JSON --------------------------------------------------------------------------------------- */

cJSON *json_load(const char *path) {
    char *s = read_all(path, NULL);
    if (!s) {
        fail("%s: cannot read", path);
        return NULL;
    }
    cJSON *j = cJSON_Parse(s);
    free(s);
    if (!j)
        fail("%s: not valid JSON", path);
    return j;
}

/* An integer array (the document itself when key is NULL) into a malloc'ed int32 array. */
bool json_ints(const cJSON *j, const char *key, int32_t **out, int64_t *n) {
    const cJSON *a = key ? cJSON_GetObjectItemCaseSensitive(j, key) : j;
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a))
        return false;
    int64_t cnt = cJSON_GetArraySize(a);
    *out = malloc((size_t)(cnt ? cnt : 1) * sizeof(int32_t));
    if (!*out)
        return false;
    const cJSON *e;
    int64_t i = 0;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e))
            return false;
        (*out)[i++] = (int32_t)e->valuedouble;
    }
    *n = cnt;
    return true;
}

double json_num(const cJSON *j, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? 1 : 0;
    return dflt;
}


/* ---- comparator --------------------------------------------------------------------------------- */


cmp_result compare(const float *x, const double *ref, int64_t rows, int64_t cols) {
    cmp_result r = {0};
    r.worst_row = -1;
    double num_all = 0, den_all = 0;
    for (int64_t i = 0; i < rows; i++) {
        double num = 0, den = 0;
        for (int64_t j = 0; j < cols; j++) {
            double a = x[i * cols + j], b = ref[i * cols + j];
            if (!isfinite(a) || !isfinite(b))
                r.nonfinite = true;
            double d = a - b;
            num += d * d;
            den += b * b;
            if (fabs(d) > r.max_abs || d != d)
                r.max_abs = fabs(d);
        }
        if (den == 0)
            r.degenerate = true;
        double e = den > 0 ? sqrt(num / den) : INFINITY;
        if (!(e <= r.worst_row_err)) { /* NaN-aware: a NaN error becomes the worst */
            r.worst_row_err = e;
            r.worst_row = i;
        }
        num_all += num;
        den_all += den;
    }
    r.overall_err = den_all > 0 ? sqrt(num_all / den_all) : INFINITY;
    return r;
}

bool cmp_ok(const cmp_result *r, double tol) {
    return !r->nonfinite && !r->degenerate && r->worst_row_err <= tol && r->overall_err <= tol;
}

/* Compare, print one line, record a failure. Returns pass. */
