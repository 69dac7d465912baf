/* GGUF reader: every byte of the file is hostile until checked. See gguf.h. */
#define _POSIX_C_SOURCE 200809L /* fseeko / ftello for files past 2 GiB */

#include "models/formats/gguf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "models/safetensors.h" /* tfb__st_clean: names in messages */

/* ---- types ------------------------------------------------------------------------------------- */

static const char *const g_type_names[TFB_GGUF_TYPE_COUNT] = {
    "UINT8", "INT8",   "UINT16", "INT16",  "UINT32", "INT32",   "FLOAT32",
    "BOOL",  "STRING", "ARRAY",  "UINT64", "INT64",  "FLOAT64",
};
/* Bytes of a scalar value (0 for STRING and ARRAY). */
static const int g_type_size[TFB_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *tfb__gguf_type_name(tfb__gguf_type t) {
    return (unsigned)t < TFB_GGUF_TYPE_COUNT ? g_type_names[t] : "?";
}

/* ggml's types by number (ggml.h); the holes are numbers ggml has retired. */
static const struct {
    const char *name;
    int block, bytes;
} g_ggml[] = {
    [0] = {"F32", 1, 4},         [1] = {"F16", 1, 2},         [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},      [6] = {"Q5_0", 32, 22},      [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},      [9] = {"Q8_1", 32, 36},      [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},   [12] = {"Q4_K", 256, 144},   [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},   [15] = {"Q8_K", 256, 292},   [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74},  [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},   [21] = {"IQ3_S", 256, 110},  [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},         [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},        [27] = {"I64", 1, 8},        [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},   [30] = {"BF16", 1, 2},       [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},   [39] = {"MXFP4", 32, 17},
};
#define G_GGML_COUNT (sizeof g_ggml / sizeof g_ggml[0])

const char *tfb__gguf_ggml_name(uint32_t t) {
    return t < G_GGML_COUNT ? g_ggml[t].name : NULL;
}

int tfb__gguf_ggml_block(uint32_t t, int *block_bytes) {
    int ok = t < G_GGML_COUNT && g_ggml[t].name;
    if (block_bytes)
        *block_bytes = ok ? g_ggml[t].bytes : 0;
    return ok ? g_ggml[t].block : 0;
}

bool tfb__gguf_ggml_dtype(uint32_t t, tfb_dtype *out) {
    switch (t) {
    case 0:
        *out = TFB_DTYPE_F32;
        return true;
    case 1:
        *out = TFB_DTYPE_F16;
        return true;
    case 30:
        *out = TFB_DTYPE_BF16;
        return true;
    case 8:
        *out = TFB_DTYPE_Q8_0;
        return true;
    case 2:
        *out = TFB_DTYPE_Q4_0;
        return true;
    case 26:
        *out = TFB_DTYPE_I32;
        return true;
    default:
        return false;
    }
}

/* ---- reading the header ------------------------------------------------------------------------ */

/* A cursor over the header, from memory or a stream; every read is checked against the size. */
typedef struct g_rd {
    const char *label;
    const uint8_t *mem;
    FILE *fp;
    uint64_t size, pos;
} g_rd;

static uint64_t g_left(const g_rd *r) {
    return r->size - r->pos;
}

static tfb_status g_bytes(g_rd *r, void *dst, uint64_t n, const char *what) {
    if (n > g_left(r))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: truncated: %s at byte %llu needs %llu bytes, %llu left",
                             r->label, what, (unsigned long long)r->pos, (unsigned long long)n,
                             (unsigned long long)g_left(r));
    if (r->mem) {
        memcpy(dst, r->mem + r->pos, (size_t)n);
    } else if (n > 0) {
        size_t got = fread(dst, 1, (size_t)n, r->fp);
        if (got != n)
            return tfb_error_set(TFB_STATUS_IO,
                                 "%s: read error in %s at byte %llu (expected %llu bytes, got %zu)", r->label,
                                 what, (unsigned long long)r->pos, (unsigned long long)n, got);
    }
    r->pos += n;
    return TFB_STATUS_OK;
}

static tfb_status g_u32(g_rd *r, uint32_t *v, const char *what) {
    uint8_t b[4];
    tfb_status s = g_bytes(r, b, 4, what);
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return s;
}

static tfb_status g_u64(g_rd *r, uint64_t *v, const char *what) {
    uint8_t b[8];
    tfb_status s = g_bytes(r, b, 8, what);
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = (*v << 8) | b[i];
    return s;
}

/* A string of at most max bytes; the length is checked against the bytes left before allocating. */
static tfb_status g_str(g_rd *r, tfb__gguf_str *out, uint64_t max, const char *what) {
    uint64_t at = r->pos, len;
    TFB_TRY(g_u64(r, &len, what));
    if (len > g_left(r))
        return tfb_error_set(
            TFB_STATUS_INPUT,
            "%s: %s at byte %llu: string length %llu past the end of the file (%llu bytes left)", r->label,
            what, (unsigned long long)at, (unsigned long long)len, (unsigned long long)g_left(r));
    if (len > max)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: %s at byte %llu: string length %llu over the %llu-byte limit", r->label,
                             what, (unsigned long long)at, (unsigned long long)len, (unsigned long long)max);
    char *s = malloc((size_t)len + 1);
    if (!s)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for a %llu-byte string", r->label,
                             (unsigned long long)len);
    tfb_status st = g_bytes(r, s, len, what);
    if (st != TFB_STATUS_OK) {
        free(s);
        return st;
    }
    s[len] = '\0';
    out->len = len;
    out->s = s;
    return TFB_STATUS_OK;
}

static void g_value_free(tfb__gguf_value *v) {
    if (v->type == TFB_GGUF_STRING) {
        free(v->str.s);
    } else if (v->type == TFB_GGUF_ARRAY) {
        for (uint64_t i = 0; i < v->arr.n; i++)
            g_value_free(&v->arr.v[i]);
        free(v->arr.v);
    }
    v->type = TFB_GGUF_UINT8;
}

/* Read one value of type t (known) into v. `key` names it in messages. */
static tfb_status g_value(g_rd *r, tfb__gguf_type t, tfb__gguf_value *v, const char *key, int depth) {
    v->type = t;
    if (t == TFB_GGUF_STRING)
        return g_str(r, &v->str, UINT64_MAX, key);
    if (t != TFB_GGUF_ARRAY) {
        uint8_t b[8] = {0};
        TFB_TRY(g_bytes(r, b, (uint64_t)g_type_size[t], key));
        uint64_t u = 0;
        for (int i = g_type_size[t] - 1; i >= 0; i--)
            u = (u << 8) | b[i];
        switch (t) {
        case TFB_GGUF_INT8:
            v->i = (int8_t)u;
            break;
        case TFB_GGUF_INT16:
            v->i = (int16_t)u;
            break;
        case TFB_GGUF_INT32:
            v->i = (int32_t)u;
            break;
        case TFB_GGUF_INT64:
            v->i = (int64_t)u;
            break;
        case TFB_GGUF_FLOAT32: {
            uint32_t w = (uint32_t)u;
            float x;
            memcpy(&x, &w, 4);
            v->f = x;
            break;
        }
        case TFB_GGUF_FLOAT64:
            memcpy(&v->f, &u, 8);
            break;
        case TFB_GGUF_BOOL:
            if (u > 1)
                return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: bool value %llu is not 0 or 1",
                                     r->label, key, (unsigned long long)(r->pos - 1), (unsigned long long)u);
            v->u = u;
            break;
        default:
            v->u = u;
            break;
        }
        return TFB_STATUS_OK;
    }
    if (depth >= TFB_GGUF_MAX_DEPTH)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: arrays nested deeper than %d", r->label,
                             key, (unsigned long long)r->pos, TFB_GGUF_MAX_DEPTH);
    uint64_t at = r->pos, n;
    uint32_t et;
    TFB_TRY(g_u32(r, &et, key));
    if (et >= TFB_GGUF_TYPE_COUNT)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: unknown array element type %u", r->label,
                             key, (unsigned long long)at, et);
    TFB_TRY(g_u64(r, &n, key));
    /* Every element takes at least one byte (strings 8, arrays 12), so a count the rest of the file
     * cannot hold is refused before anything is allocated. */
    uint64_t min = et == TFB_GGUF_STRING ? 8 : et == TFB_GGUF_ARRAY ? 12 : (uint64_t)g_type_size[et];
    if (n > g_left(r) / min)
        return tfb_error_set(
            TFB_STATUS_INPUT,
            "%s: %s at byte %llu: array of %llu %s needs at least %llu bytes per element, only "
            "%llu bytes left in the file",
            r->label, key, (unsigned long long)at, (unsigned long long)n,
            tfb__gguf_type_name((tfb__gguf_type)et), (unsigned long long)min, (unsigned long long)g_left(r));
    v->arr.type = (tfb__gguf_type)et;
    v->arr.n = 0;
    v->arr.v = n ? calloc((size_t)n, sizeof *v->arr.v) : NULL;
    if (n && !v->arr.v)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for an array of %llu values", r->label,
                             (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        v->arr.n = i + 1; /* so that a failure frees what was read */
        TFB_TRY(g_value(r, (tfb__gguf_type)et, &v->arr.v[i], key, depth + 1));
    }
    return TFB_STATUS_OK;
}

/* ---- sorted indexes (duplicates, lookups) ------------------------------------------------------ */

static int g_strcmp(const tfb__gguf_str *a, const tfb__gguf_str *b) {
    uint64_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, (size_t)n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* qsort has no context argument: the string array being sorted lives here for one sort. */
static _Thread_local const tfb__gguf_str *g_sort_base;
static _Thread_local size_t g_sort_stride;

static const tfb__gguf_str *g_at(int64_t i) {
    return (const tfb__gguf_str *)((const char *)g_sort_base + (size_t)i * g_sort_stride);
}

static int g_cmp_idx(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int c = g_strcmp(g_at(x), g_at(y));
    return c ? c : (x > y) - (x < y);
}

/* Sort indexes of n names (the first member of each stride-byte element of base) and refuse a
 * duplicate. what is "key" or "tensor". */
static tfb_status g_index(const char *label, const void *base, size_t stride, int64_t n, const char *what,
                          int64_t **out) {
    *out = NULL;
    if (n == 0)
        return TFB_STATUS_OK;
    int64_t *ix = malloc((size_t)n * sizeof *ix);
    if (!ix)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", label);
    for (int64_t i = 0; i < n; i++)
        ix[i] = i;
    g_sort_base = base;
    g_sort_stride = stride;
    qsort(ix, (size_t)n, sizeof *ix, g_cmp_idx);
    for (int64_t i = 1; i < n; i++) {
        if (g_strcmp(g_at(ix[i - 1]), g_at(ix[i])) == 0) {
            char nb[96];
            tfb_status s = tfb_error_set(
                TFB_STATUS_INPUT, "%s: %s '%s' appears twice (entries %lld and %lld)", label, what,
                tfb__st_clean(g_at(ix[i])->s, nb, sizeof nb), (long long)ix[i - 1], (long long)ix[i]);
            free(ix);
            return s;
        }
    }
    *out = ix;
    return TFB_STATUS_OK;
}

static int64_t g_lookup(const void *base, size_t stride, const int64_t *ix, int64_t n, const char *name) {
    tfb__gguf_str key = {strlen(name), (char *)name};
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const tfb__gguf_str *s = (const tfb__gguf_str *)((const char *)base + (size_t)ix[mid] * stride);
        int c = g_strcmp(s, &key);
        if (c == 0)
            return ix[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- the header ------------------------------------------------------------------------------- */

void tfb__gguf_close(tfb__gguf_file *f) {
    if (!f)
        return;
    for (int64_t i = 0; i < f->n_kv; i++) {
        free(f->kv[i].key.s);
        g_value_free(&f->kv[i].val);
    }
    for (int64_t i = 0; i < f->n_t; i++)
        free(f->t[i].name.s);
    free(f->kv);
    free(f->t);
    free(f->kv_sorted);
    free(f->t_sorted);
    free(f->label);
    if (f->fp)
        fclose(f->fp);
    memset(f, 0, sizeof *f);
}

static tfb_status g_read_kv(g_rd *r, tfb__gguf_file *f, uint64_t n_kv) {
    /* A key-value pair takes at least 8 + 4 + 1 bytes. */
    if (n_kv > g_left(r) / 13)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %llu metadata entries cannot fit in the %llu bytes left",
                             r->label, (unsigned long long)n_kv, (unsigned long long)g_left(r));
    f->kv = n_kv ? calloc((size_t)n_kv, sizeof *f->kv) : NULL;
    if (n_kv && !f->kv)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", r->label);
    for (uint64_t i = 0; i < n_kv; i++) {
        char what[64], kb[96], where[160];
        tfb__gguf_kv *kv = &f->kv[i];
        snprintf(what, sizeof what, "metadata key %llu", (unsigned long long)i);
        TFB_TRY(g_str(r, &kv->key, TFB_GGUF_MAX_KEY, what));
        f->n_kv = (int64_t)i + 1;
        snprintf(where, sizeof where, "key '%s'", tfb__st_clean(kv->key.s, kb, sizeof kb));
        uint64_t at = r->pos;
        uint32_t t;
        TFB_TRY(g_u32(r, &t, where));
        if (t >= TFB_GGUF_TYPE_COUNT)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: unknown value type %u", r->label,
                                 where, (unsigned long long)at, t);
        TFB_TRY(g_value(r, (tfb__gguf_type)t, &kv->val, where, 0));
    }
    return g_index(r->label, f->kv, sizeof *f->kv, f->n_kv, "key", &f->kv_sorted);
}

static tfb_status g_read_tensors(g_rd *r, tfb__gguf_file *f, uint64_t n_t) {
    /* A tensor info takes at least 8 + 4 + 8 + 4 + 8 bytes (a name, one dim). */
    if (n_t > g_left(r) / 32)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %llu tensor infos cannot fit in the %llu bytes left",
                             r->label, (unsigned long long)n_t, (unsigned long long)g_left(r));
    f->t = n_t ? calloc((size_t)n_t, sizeof *f->t) : NULL;
    if (n_t && !f->t)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", r->label);
    for (uint64_t i = 0; i < n_t; i++) {
        char what[64], nb[96], where[160];
        tfb__gguf_tensor *t = &f->t[i];
        snprintf(what, sizeof what, "name of tensor %llu", (unsigned long long)i);
        TFB_TRY(g_str(r, &t->name, TFB_GGUF_MAX_NAME, what));
        f->n_t = (int64_t)i + 1;
        snprintf(where, sizeof where, "tensor '%s'", tfb__st_clean(t->name.s, nb, sizeof nb));
        uint64_t at = r->pos;
        uint32_t nd;
        TFB_TRY(g_u32(r, &nd, where));
        if (nd < 1 || nd > TFB_GGUF_MAX_DIMS)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: %u dims (1 to %d)", r->label, where,
                                 (unsigned long long)at, nd, TFB_GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        for (int d = 0; d < TFB_GGUF_MAX_DIMS; d++)
            t->ne[d] = 1;
        for (int d = 0; d < (int)nd; d++) {
            uint64_t v;
            at = r->pos;
            TFB_TRY(g_u64(r, &v, where));
            if (v > (uint64_t)INT64_MAX)
                return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: dim %d is %llu", r->label, where,
                                     (unsigned long long)at, d, (unsigned long long)v);
            t->ne[d] = (int64_t)v;
        }
        at = r->pos;
        TFB_TRY(g_u32(r, &t->ggml_type, where));
        int bbytes, blk = tfb__gguf_ggml_block(t->ggml_type, &bbytes);
        if (!blk)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: %s at byte %llu: unknown ggml type %u", r->label,
                                 where, (unsigned long long)at, t->ggml_type);
        const char *tn = tfb__gguf_ggml_name(t->ggml_type);
        if (t->ne[0] % blk != 0)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: %s: row of %lld elements is not a whole number of %s blocks of %d",
                                 r->label, where, (long long)t->ne[0], tn, blk);
        /* Bytes = blocks per row * block bytes * rows, each product bounded by the file size (a
         * tensor cannot hold more bytes than the file), so none can overflow. */
        uint64_t nbytes = (uint64_t)(t->ne[0] / blk) * (uint64_t)bbytes; /* ne0/blk < 2^63, bbytes < 2^9 */
        int zero = nbytes == 0;
        for (int d = 1; d < TFB_GGUF_MAX_DIMS; d++)
            zero |= t->ne[d] == 0;
        if (zero) {
            nbytes = 0;
        } else {
            if (nbytes > r->size)
                goto too_big;
            for (int d = 1; d < TFB_GGUF_MAX_DIMS; d++) {
                if (nbytes > r->size / (uint64_t)t->ne[d])
                    goto too_big;
                nbytes *= (uint64_t)t->ne[d];
            }
        }
        t->nbytes = nbytes;
        TFB_TRY(g_u64(r, &t->offset, where));
        continue;
    too_big:
        return tfb_error_set(
            TFB_STATUS_INPUT,
            "%s: %s: dims [%lld, %lld, %lld, %lld] of %s hold more bytes than the %llu-byte file", r->label,
            where, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], tn,
            (unsigned long long)r->size);
    }
    return g_index(r->label, f->t, sizeof *f->t, f->n_t, "tensor", &f->t_sorted);
}

/* Parse the header through r into f, then place and check the data section. */
static tfb_status g_parse(g_rd *r, tfb__gguf_file *f) {
    uint8_t magic[4];
    if (r->size < 4)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %llu bytes, too short for a GGUF file", r->label,
                             (unsigned long long)r->size);
    TFB_TRY(g_bytes(r, magic, 4, "magic"));
    if (memcmp(magic, "GGUF", 4) != 0) {
        char mb[8];
        for (int i = 0; i < 4; i++)
            mb[i] = (magic[i] >= 0x20 && magic[i] < 0x7f) ? (char)magic[i] : '?';
        mb[4] = '\0';
        return tfb_error_set(TFB_STATUS_INPUT, "%s: bad magic '%s' (not a GGUF file)", r->label, mb);
    }
    uint32_t ver;
    TFB_TRY(g_u32(r, &ver, "version"));
    if (ver == 0x02000000u || ver == 0x03000000u)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: big-endian GGUF file (version %u byte-swapped); only "
                             "little-endian files are supported",
                             r->label, ver >> 24);
    if (ver != 2 && ver != 3)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: GGUF version %u is not supported (2 and 3 are)", r->label,
                             ver);
    f->version = ver;
    uint64_t n_t, n_kv;
    TFB_TRY(g_u64(r, &n_t, "tensor count"));
    TFB_TRY(g_u64(r, &n_kv, "metadata count"));
    TFB_TRY(g_read_kv(r, f, n_kv));

    f->alignment = TFB_GGUF_DEFAULT_ALIGNMENT;
    const tfb__gguf_kv *al = tfb__gguf_find_key(f, "general.alignment");
    if (al) {
        if (al->val.type != TFB_GGUF_UINT32)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: key 'general.alignment' is %s, expected UINT32",
                                 r->label, tfb__gguf_type_name(al->val.type));
        uint64_t a = al->val.u;
        if (a == 0 || (a & (a - 1)) != 0 || a > TFB_GGUF_MAX_ALIGNMENT)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: key 'general.alignment' is %llu, not a power of two up to %u", r->label,
                                 (unsigned long long)a, TFB_GGUF_MAX_ALIGNMENT);
        f->alignment = (uint32_t)a;
    }
    TFB_TRY(g_read_tensors(r, f, n_t));

    /* The data section starts at the next multiple of the alignment (pos + alignment cannot wrap:
     * pos <= size). A file with no tensors may end before it. */
    uint64_t start = (r->pos + f->alignment - 1) / f->alignment * f->alignment;
    if (start > r->size) {
        if (f->n_t > 0)
            return tfb_error_set(
                TFB_STATUS_INPUT,
                "%s: truncated: the data section would start at byte %llu of a %llu-byte file", r->label,
                (unsigned long long)start, (unsigned long long)r->size);
        start = r->size;
    }
    f->data_start = start;
    f->data_size = r->size - start;
    for (int64_t i = 0; i < f->n_t; i++) {
        const tfb__gguf_tensor *t = &f->t[i];
        char nb[96];
        if (t->offset % f->alignment != 0)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: tensor '%s': offset %llu is not a multiple of the alignment %u",
                                 r->label, tfb__st_clean(t->name.s, nb, sizeof nb),
                                 (unsigned long long)t->offset, f->alignment);
        if (t->offset > f->data_size || t->nbytes > f->data_size - t->offset)
            return tfb_error_set(
                TFB_STATUS_INPUT,
                "%s: tensor '%s': %llu bytes at offset %llu past the end of the %llu-byte data "
                "section (file truncated?)",
                r->label, tfb__st_clean(t->name.s, nb, sizeof nb), (unsigned long long)t->nbytes,
                (unsigned long long)t->offset, (unsigned long long)f->data_size);
    }
    return TFB_STATUS_OK;
}

static char *g_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- open / close ---------------------------------------------------------------------------- */

tfb_status tfb__gguf_open_mem(const char *label, const void *buf, size_t size, tfb__gguf_file *out) {
    memset(out, 0, sizeof *out);
    if (!buf && size > 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: no data", label);
    static const uint8_t empty[1];
    tfb__gguf_file f = {0};
    g_rd r = {.label = label, .mem = buf ? buf : empty, .size = size};
    f.mem = r.mem;
    tfb_status s = g_parse(&r, &f);
    if (s == TFB_STATUS_OK && !(f.label = g_strdup(label)))
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", label);
    if (s != TFB_STATUS_OK) {
        tfb__gguf_close(&f);
        return s;
    }
    *out = f;
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_open(const char *path, tfb__gguf_file *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return tfb_error_set(TFB_STATUS_IO, "%s: cannot open", path);
    tfb__gguf_file f = {0};
    f.fp = fp;
    tfb_status s;
    struct stat st;
    off_t fsize;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: not a regular file", path);
        goto fail;
    }
    if (fseeko(fp, 0, SEEK_END) != 0 || (fsize = ftello(fp)) < 0 || fseeko(fp, 0, SEEK_SET) != 0) {
        s = tfb_error_set(TFB_STATUS_IO, "%s: cannot determine the file size", path);
        goto fail;
    }
    g_rd r = {.label = path, .fp = fp, .size = (uint64_t)fsize};
    if ((s = g_parse(&r, &f)) != TFB_STATUS_OK)
        goto fail;
    if (!(f.label = g_strdup(path))) {
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    *out = f;
    return TFB_STATUS_OK;
fail:
    tfb__gguf_close(&f);
    return s;
}

/* ---- lookups and typed reads ------------------------------------------------------------------ */

const tfb__gguf_kv *tfb__gguf_find_key(const tfb__gguf_file *f, const char *key) {
    int64_t i = g_lookup(f->kv, sizeof *f->kv, f->kv_sorted, f->n_kv, key);
    return i < 0 ? NULL : &f->kv[i];
}

const tfb__gguf_tensor *tfb__gguf_find_tensor(const tfb__gguf_file *f, const char *name) {
    int64_t i = g_lookup(f->t, sizeof *f->t, f->t_sorted, f->n_t, name);
    return i < 0 ? NULL : &f->t[i];
}

static tfb_status g_get(const tfb__gguf_file *f, const char *key, const tfb__gguf_value **v) {
    const tfb__gguf_kv *kv = tfb__gguf_find_key(f, key);
    if (!kv)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: key '%s' is missing", f->label, key);
    *v = &kv->val;
    return TFB_STATUS_OK;
}

static tfb_status g_mismatch(const tfb__gguf_file *f, const char *key, const tfb__gguf_value *v,
                             const char *want) {
    return tfb_error_set(TFB_STATUS_INPUT, "%s: key '%s' is %s, expected %s", f->label, key,
                         tfb__gguf_type_name(v->type), want);
}

static bool g_is_signed(tfb__gguf_type t) {
    return t == TFB_GGUF_INT8 || t == TFB_GGUF_INT16 || t == TFB_GGUF_INT32 || t == TFB_GGUF_INT64;
}

static bool g_is_unsigned(tfb__gguf_type t) {
    return t == TFB_GGUF_UINT8 || t == TFB_GGUF_UINT16 || t == TFB_GGUF_UINT32 || t == TFB_GGUF_UINT64;
}

tfb_status tfb__gguf_get_u64(const tfb__gguf_file *f, const char *key, uint64_t *out) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (g_is_unsigned(v->type)) {
        *out = v->u;
    } else if (g_is_signed(v->type) && v->i >= 0) {
        *out = (uint64_t)v->i;
    } else if (g_is_signed(v->type)) {
        return tfb_error_set(TFB_STATUS_INPUT, "%s: key '%s' is %lld, expected a non-negative integer",
                             f->label, key, (long long)v->i);
    } else {
        return g_mismatch(f, key, v, "an unsigned integer");
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_get_i64(const tfb__gguf_file *f, const char *key, int64_t *out) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (g_is_signed(v->type)) {
        *out = v->i;
    } else if (g_is_unsigned(v->type) && v->u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)v->u;
    } else if (g_is_unsigned(v->type)) {
        return tfb_error_set(TFB_STATUS_INPUT, "%s: key '%s' is %llu, past INT64", f->label, key,
                             (unsigned long long)v->u);
    } else {
        return g_mismatch(f, key, v, "an integer");
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_get_f64(const tfb__gguf_file *f, const char *key, double *out) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (v->type != TFB_GGUF_FLOAT32 && v->type != TFB_GGUF_FLOAT64)
        return g_mismatch(f, key, v, "FLOAT32 or FLOAT64");
    *out = v->f;
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_get_bool(const tfb__gguf_file *f, const char *key, bool *out) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (v->type != TFB_GGUF_BOOL)
        return g_mismatch(f, key, v, "BOOL");
    *out = v->u != 0;
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_get_str(const tfb__gguf_file *f, const char *key, const tfb__gguf_str **out) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (v->type != TFB_GGUF_STRING)
        return g_mismatch(f, key, v, "STRING");
    *out = &v->str;
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_get_arr(const tfb__gguf_file *f, const char *key, tfb__gguf_type elem, uint64_t *n,
                             const tfb__gguf_value **vals) {
    const tfb__gguf_value *v = NULL;
    TFB_TRY(g_get(f, key, &v));
    if (v->type != TFB_GGUF_ARRAY || v->arr.type != elem) {
        char want[48];
        snprintf(want, sizeof want, "ARRAY of %s", tfb__gguf_type_name(elem));
        if (v->type == TFB_GGUF_ARRAY)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: key '%s' is ARRAY of %s, expected %s", f->label, key,
                                 tfb__gguf_type_name(v->arr.type), want);
        return g_mismatch(f, key, v, want);
    }
    *n = v->arr.n;
    *vals = v->arr.v;
    return TFB_STATUS_OK;
}

/* ---- tensor data ------------------------------------------------------------------------------ */

tfb_status tfb__gguf_read(tfb__gguf_file *f, const tfb__gguf_tensor *t, void *dst, size_t n) {
    char nb[96];
    TFB_ASSERT(t >= f->t && t < f->t + f->n_t);
    if (n < t->nbytes)
        return tfb_error_set(TFB_STATUS_INTERNAL, "%s: tensor '%s': %zu-byte buffer for %llu bytes", f->label,
                             tfb__st_clean(t->name.s, nb, sizeof nb), n, (unsigned long long)t->nbytes);
    /* Checked at open: offset + nbytes <= data_size. */
    if (f->mem) {
        memcpy(dst, f->mem + f->data_start + t->offset, (size_t)t->nbytes);
        return TFB_STATUS_OK;
    }
    if (fseeko(f->fp, (off_t)(f->data_start + t->offset), SEEK_SET) != 0)
        return tfb_error_set(TFB_STATUS_IO, "%s: tensor '%s': cannot seek to byte %llu", f->label,
                             tfb__st_clean(t->name.s, nb, sizeof nb),
                             (unsigned long long)(f->data_start + t->offset));
    size_t got = fread(dst, 1, (size_t)t->nbytes, f->fp);
    if (got != t->nbytes)
        return tfb_error_set(ferror(f->fp) ? TFB_STATUS_IO : TFB_STATUS_INPUT,
                             "%s: tensor '%s': short read (expected %llu bytes, got %zu; file changed?)",
                             f->label, tfb__st_clean(t->name.s, nb, sizeof nb), (unsigned long long)t->nbytes,
                             got);
    return TFB_STATUS_OK;
}
