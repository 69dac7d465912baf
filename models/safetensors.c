/* safetensors reader: every byte of the file is hostile until checked. See safetensors.h. */
#define _POSIX_C_SOURCE 200809L /* fseeko / ftello for files past 2 GiB */

#include "models/safetensors.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ---- dtypes ------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    int size;
} st_dtypes[TFB_ST_DTYPE_COUNT] = {
    [TFB_ST_F32] = {"F32", 4},   [TFB_ST_F16] = {"F16", 2},         [TFB_ST_BF16] = {"BF16", 2},
    [TFB_ST_F64] = {"F64", 8},   [TFB_ST_I64] = {"I64", 8},         [TFB_ST_I32] = {"I32", 4},
    [TFB_ST_I16] = {"I16", 2},   [TFB_ST_I8] = {"I8", 1},           [TFB_ST_U64] = {"U64", 8},
    [TFB_ST_U32] = {"U32", 4},   [TFB_ST_U16] = {"U16", 2},         [TFB_ST_U8] = {"U8", 1},
    [TFB_ST_BOOL] = {"BOOL", 1}, [TFB_ST_F8_E4M3] = {"F8_E4M3", 1}, [TFB_ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *tfb__st_dtype_name(tfb__st_dtype t) {
    return (unsigned)t < TFB_ST_DTYPE_COUNT ? st_dtypes[t].name : "?";
}

int tfb__st_dtype_size(tfb__st_dtype t) {
    return (unsigned)t < TFB_ST_DTYPE_COUNT ? st_dtypes[t].size : 0;
}

static int st_dtype_parse(const char *s, tfb__st_dtype *out) {
    for (int i = 0; i < TFB_ST_DTYPE_COUNT; i++) {
        if (strcmp(s, st_dtypes[i].name) == 0) {
            *out = (tfb__st_dtype)i;
            return 1;
        }
    }
    return 0;
}

const char *tfb__st_clean(const char *s, char *buf, size_t n) {
    if (n == 0)
        return buf;
    if (!s)
        s = "(null)";
    size_t len = strlen(s), i = 0;
    size_t keep = len < n ? len : (n > 4 ? n - 4 : n - 1);
    for (; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (keep < len && n > 4) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* ---- header parsing ------------------------------------------------------------------------------ */

static uint64_t st_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* A JSON number that is an exact integer in [0, max]. cJSON keeps numbers as doubles, which are
 * exact up to 2^53; anything past that is refused rather than rounded. */
static int st_json_uint(const cJSON *j, uint64_t max, uint64_t *out) {
    if (!cJSON_IsNumber(j))
        return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || d > (double)max)
        return 0;
    uint64_t v = (uint64_t)d;
    if ((double)v != d || v > max)
        return 0;
    *out = v;
    return 1;
}

static int st_cmp_name(const void *a, const void *b) {
    return strcmp(((const tfb__st_tensor *)a)->name, ((const tfb__st_tensor *)b)->name);
}

/* A byte range for the overlap check, sorted by begin then end (empty ranges first). */
typedef struct st_range {
    uint64_t begin, end;
    int64_t i;
} st_range;

static int st_cmp_range(const void *a, const void *b) {
    const st_range *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Check that no two non-empty tensors share a byte. Sorting a copy of the ranges keeps the
 * descriptors in name order. */
static tfb_status st_check_overlap(const char *label, const tfb__st_tensor *t, int64_t n) {
    if (n < 2)
        return TFB_STATUS_OK;
    st_range *r = malloc((size_t)n * sizeof *r);
    if (!r)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory sorting %lld tensors", label, (long long)n);
    for (int64_t i = 0; i < n; i++)
        r[i] = (st_range){t[i].begin, t[i].end, i};
    qsort(r, (size_t)n, sizeof *r, st_cmp_range);
    tfb_status s = TFB_STATUS_OK;
    uint64_t max_end = 0;
    int64_t max_i = -1;
    for (int64_t k = 0; k < n; k++) {
        const tfb__st_tensor *x = &t[r[k].i];
        if (x->begin == x->end)
            continue;
        if (max_i >= 0 && x->begin < max_end) {
            char a[96], b[96];
            s = tfb_error_set(TFB_STATUS_INPUT,
                              "%s: tensors '%s' [%llu,%llu) and '%s' [%llu,%llu) overlap in the data section",
                              label, tfb__st_clean(t[max_i].name, a, sizeof a),
                              (unsigned long long)t[max_i].begin, (unsigned long long)t[max_i].end,
                              tfb__st_clean(x->name, b, sizeof b), (unsigned long long)x->begin,
                              (unsigned long long)x->end);
            break;
        }
        if (x->end > max_end) {
            max_end = x->end;
            max_i = r[k].i;
        }
    }
    free(r);
    return s;
}

static void st_free_tensors(tfb__st_tensor *t, int64_t n) {
    if (!t)
        return;
    for (int64_t i = 0; i < n; i++)
        free(t[i].name);
    free(t);
}

/* Parse one entry {"dtype","shape","data_offsets"} into t (name already set). */
static tfb_status st_parse_entry(const char *label, const cJSON *e, uint64_t data_size, tfb__st_tensor *t) {
    char nb[96], vb[48];
    const char *name = tfb__st_clean(t->name, nb, sizeof nb);
    if (!cJSON_IsObject(e))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': entry is not a JSON object", label, name);

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(jd) || !jd->valuestring)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': missing or non-string \"dtype\"", label,
                             name);
    if (!st_dtype_parse(jd->valuestring, &t->dtype))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': unknown dtype '%s'", label, name,
                             tfb__st_clean(jd->valuestring, vb, sizeof vb));

    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(js))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': missing or non-array \"shape\"", label,
                             name);
    int nd = cJSON_GetArraySize(js);
    if (nd > TFB_ST_MAX_DIMS)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': %d dims (at most %d)", label, name, nd,
                             TFB_ST_MAX_DIMS);
    int esize = st_dtypes[t->dtype].size;
    /* Elements times element size must fit in the data section, so bound the product by that and
     * check every multiplication before doing it. */
    uint64_t max_elems = data_size / (uint64_t)esize;
    int d = 0, zero = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, js) {
        uint64_t v;
        if (!st_json_uint(dim, (uint64_t)INT64_MAX, &v))
            return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': shape[%d] is not a non-negative integer",
                                 label, name, d);
        t->shape[d++] = (int64_t)v;
        zero |= v == 0;
    }
    t->ndim = nd;
    /* Any zero dim makes an empty tensor whatever the others say; else multiply with a check. */
    uint64_t ne = zero ? 0 : 1;
    for (int i = 0; i < nd && !zero; i++) {
        uint64_t v = (uint64_t)t->shape[i];
        if (ne > max_elems / v)
            return tfb_error_set(
                TFB_STATUS_INPUT,
                "%s: tensor '%s': shape has more elements than the %llu-byte data section holds", label, name,
                (unsigned long long)data_size);
        ne *= v;
    }
    t->nelements = (int64_t)ne;

    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': \"data_offsets\" must be [begin, end]",
                             label, name);
    uint64_t b, en;
    if (!st_json_uint(cJSON_GetArrayItem(jo, 0), UINT64_MAX, &b) ||
        !st_json_uint(cJSON_GetArrayItem(jo, 1), UINT64_MAX, &en))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': data_offsets are not non-negative integers",
                             label, name);
    if (b > en)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s': data_offsets begin %llu > end %llu", label,
                             name, (unsigned long long)b, (unsigned long long)en);
    if (en > data_size)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: tensor '%s': data_offsets end %llu past the end of the data section (%llu "
                             "bytes; file truncated?)",
                             label, name, (unsigned long long)en, (unsigned long long)data_size);
    /* ne <= max_elems, so this product cannot overflow. */
    uint64_t want = ne * (uint64_t)esize;
    if (en - b != want)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: tensor '%s': data_offsets span %llu bytes, but %s shape with %llu elements "
                             "needs %llu",
                             label, name, (unsigned long long)(en - b), st_dtypes[t->dtype].name,
                             (unsigned long long)ne, (unsigned long long)want);
    t->begin = b;
    t->end = en;
    return TFB_STATUS_OK;
}

/* Parse the header JSON (hdr[0..len), NUL-terminated at hdr[len]) against a data section of
 * data_size bytes into f->t / f->n. */
static tfb_status st_parse_header(const char *label, const char *hdr, size_t len, uint64_t data_size,
                                  tfb__st_file *f) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, len, &end, 0);
    if (!root) {
        size_t at = (end && end >= hdr && end <= hdr + len) ? (size_t)(end - hdr) : 0;
        return tfb_error_set(TFB_STATUS_INPUT, "%s: header is not valid JSON (near byte %zu of %zu)", label,
                             at, len);
    }
    tfb_status s = TFB_STATUS_OK;
    /* Anything after the JSON value must be padding (the format pads with spaces). */
    for (const char *p = end; p && p < hdr + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: trailing bytes after the header JSON (byte %zu of %zu)",
                              label, (size_t)(p - hdr), len);
            goto done;
        }
    }
    if (!cJSON_IsObject(root)) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: header JSON is not an object", label);
        goto done;
    }

    int64_t count = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (!e->string) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: header entry without a name", label);
            goto done;
        }
        if (strcmp(e->string, "__metadata__") != 0)
            count++;
    }
    tfb__st_tensor *t = NULL;
    if (count > 0) {
        t = calloc((size_t)count, sizeof *t);
        if (!t) {
            s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for %lld tensor descriptors", label,
                              (long long)count);
            goto done;
        }
    }
    int64_t n = 0;
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) {
                s = tfb_error_set(TFB_STATUS_INPUT, "%s: \"__metadata__\" is not an object", label);
                break;
            }
            continue;
        }
        size_t nl = strlen(e->string);
        t[n].name = malloc(nl + 1);
        if (!t[n].name) {
            s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", label);
            break;
        }
        memcpy(t[n].name, e->string, nl + 1);
        n++;
        s = st_parse_entry(label, e, data_size, &t[n - 1]);
        if (s != TFB_STATUS_OK)
            break;
    }
    if (s == TFB_STATUS_OK && n > 1) {
        qsort(t, (size_t)n, sizeof *t, st_cmp_name);
        for (int64_t i = 1; i < n; i++) {
            if (strcmp(t[i - 1].name, t[i].name) == 0) {
                char nb[96];
                s = tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' appears twice in the header", label,
                                  tfb__st_clean(t[i].name, nb, sizeof nb));
                break;
            }
        }
    }
    if (s == TFB_STATUS_OK)
        s = st_check_overlap(label, t, n);
    if (s != TFB_STATUS_OK) {
        st_free_tensors(t, n);
        goto done;
    }
    f->t = t;
    f->n = n;
done:
    cJSON_Delete(root);
    return s;
}

static char *st_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- open / close ---------------------------------------------------------------------------- */

tfb_status tfb__st_parse_mem(const char *label, const void *buf, size_t size, tfb__st_file *out) {
    memset(out, 0, sizeof *out);
    const uint8_t *p = buf;
    if (!p && size > 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: no data", label);
    if (size < 8)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %zu bytes, too short for the 8-byte header length", label,
                             size);
    uint64_t hl = st_le64(p);
    if (hl > (uint64_t)size - 8)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: header length %llu past the end of the %zu-byte buffer",
                             label, (unsigned long long)hl, size);
    if (hl > TFB_ST_HEADER_MAX)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: header length %llu over the %u-byte limit", label,
                             (unsigned long long)hl, TFB_ST_HEADER_MAX);
    /* cJSON wants a terminated string; copy so a hostile buffer cannot be read past its end. */
    char *hdr = malloc((size_t)hl + 1);
    if (!hdr)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for a %llu-byte header", label,
                             (unsigned long long)hl);
    memcpy(hdr, p + 8, (size_t)hl);
    hdr[hl] = '\0';
    tfb__st_file f = {0};
    f.data_start = 8 + hl;
    f.data_size = (uint64_t)size - 8 - hl;
    f.mem = p + f.data_start;
    tfb_status s = st_parse_header(label, hdr, (size_t)hl, f.data_size, &f);
    free(hdr);
    if (s != TFB_STATUS_OK)
        return s;
    f.label = st_strdup(label);
    if (!f.label) {
        st_free_tensors(f.t, f.n);
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", label);
    }
    *out = f;
    return TFB_STATUS_OK;
}

/* fread exactly n bytes, or say what came back instead. */
static tfb_status st_fread(const char *label, FILE *fp, void *dst, size_t n, const char *what) {
    size_t got = fread(dst, 1, n, fp);
    if (got != n) {
        if (ferror(fp))
            return tfb_error_set(TFB_STATUS_IO, "%s: read error in %s (expected %zu bytes, got %zu)", label,
                                 what, n, got);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: truncated %s (expected %zu bytes, got %zu)", label, what,
                             n, got);
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__st_open(const char *path, tfb__st_file *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot open", path);
    tfb_status s = TFB_STATUS_OK;
    char *hdr = NULL;
    tfb__st_file f = {0};

    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: not a regular file", path);
        goto fail;
    }
    if (fseeko(fp, 0, SEEK_END) != 0) {
        s = tfb_error_set(TFB_STATUS_IO, "%s: cannot seek (not a regular file?)", path);
        goto fail;
    }
    off_t fsize = ftello(fp);
    if (fsize < 0 || fseeko(fp, 0, SEEK_SET) != 0) {
        s = tfb_error_set(TFB_STATUS_IO, "%s: cannot determine the file size", path);
        goto fail;
    }
    uint64_t size = (uint64_t)fsize;
    if (size < 8) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: %llu bytes, too short for the 8-byte header length", path,
                          (unsigned long long)size);
        goto fail;
    }
    uint8_t lenb[8];
    if ((s = st_fread(path, fp, lenb, 8, "header length")) != TFB_STATUS_OK)
        goto fail;
    uint64_t hl = st_le64(lenb);
    if (hl > size - 8) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: header length %llu past the end of the file (%llu bytes)",
                          path, (unsigned long long)hl, (unsigned long long)size);
        goto fail;
    }
    if (hl > TFB_ST_HEADER_MAX) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: header length %llu over the %u-byte limit", path,
                          (unsigned long long)hl, TFB_ST_HEADER_MAX);
        goto fail;
    }
    hdr = malloc((size_t)hl + 1);
    if (!hdr) {
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for a %llu-byte header", path,
                          (unsigned long long)hl);
        goto fail;
    }
    if ((s = st_fread(path, fp, hdr, (size_t)hl, "header")) != TFB_STATUS_OK)
        goto fail;
    hdr[hl] = '\0';
    f.data_start = 8 + hl;
    f.data_size = size - 8 - hl;
    if ((s = st_parse_header(path, hdr, (size_t)hl, f.data_size, &f)) != TFB_STATUS_OK)
        goto fail;
    free(hdr);
    hdr = NULL;
    f.label = st_strdup(path);
    if (!f.label) {
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    f.fp = fp;
    *out = f;
    return TFB_STATUS_OK;
fail:
    st_free_tensors(f.t, f.n);
    free(hdr);
    fclose(fp);
    return s;
}

void tfb__st_close(tfb__st_file *f) {
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    st_free_tensors(f->t, f->n);
    free(f->label);
    memset(f, 0, sizeof *f);
}

const tfb__st_tensor *tfb__st_find(const tfb__st_file *f, const char *name) {
    if (!f->t || !name)
        return NULL;
    tfb__st_tensor key = {.name = (char *)name};
    return bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, st_cmp_name);
}

/* ---- reading --------------------------------------------------------------------------------- */

/* Convert n little-endian elements of dtype t at src to floats. */
static void st_convert(tfb__st_dtype t, const uint8_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (t == TFB_ST_F32) {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                         (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            float v;
            memcpy(&v, &u, sizeof v);
            dst[i] = v;
        } else {
            uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
            dst[i] = t == TFB_ST_F16 ? tfb_f16_to_f32(h) : tfb_bf16_to_f32(h);
        }
    }
}

tfb_status tfb__st_read_f32(tfb__st_file *f, const tfb__st_tensor *t, float *dst) {
    char nb[96];
    if (t->dtype != TFB_ST_F32 && t->dtype != TFB_ST_F16 && t->dtype != TFB_ST_BF16)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: tensor '%s' has unsupported dtype %s (F32, F16 or BF16 only)", f->label,
                             tfb__st_clean(t->name, nb, sizeof nb), tfb__st_dtype_name(t->dtype));
    /* Descriptors were checked at open; re-assert the invariants this function relies on. */
    size_t es = (size_t)st_dtypes[t->dtype].size;
    TFB_ASSERT(t->begin <= t->end && t->end <= f->data_size);
    TFB_ASSERT(t->end - t->begin == (uint64_t)t->nelements * es);
    size_t n = (size_t)t->nelements;
    if (n == 0)
        return TFB_STATUS_OK;
    if (f->mem) {
        st_convert(t->dtype, f->mem + t->begin, dst, n);
        return TFB_STATUS_OK;
    }
    TFB_ASSERT(f->fp);
    uint64_t off = f->data_start + t->begin;
    if (off > (uint64_t)INT64_MAX || fseeko(f->fp, (off_t)off, SEEK_SET) != 0)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot seek to tensor '%s' at byte %llu", f->label,
                             tfb__st_clean(t->name, nb, sizeof nb), (unsigned long long)off);
    /* Read in chunks through a small buffer so conversion never needs the whole raw tensor. */
    enum { CHUNK = 1 << 16 };
    uint8_t *tmp = malloc(CHUNK * 4);
    if (!tmp)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", f->label);
    tfb_status s = TFB_STATUS_OK;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? n - done : CHUNK;
        size_t want = k * es, got = fread(tmp, 1, want, f->fp);
        if (got != want) {
            s = tfb_error_set(ferror(f->fp) ? TFB_STATUS_IO : TFB_STATUS_INPUT,
                              "%s: short read in tensor '%s' at byte %llu (expected %zu bytes, got %zu)",
                              f->label, tfb__st_clean(t->name, nb, sizeof nb),
                              (unsigned long long)(off + done * es), want, got);
            break;
        }
        st_convert(t->dtype, tmp, dst + done, k);
        done += k;
    }
    free(tmp);
    return s;
}
