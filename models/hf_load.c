/* Hugging Face model directories: config.json + model.safetensors (or a sharded index), with the
 * tensor names of GPT2LMHeadModel, BertForMaskedLM and MarianMTModel mapped to tfbench's canonical
 * names (include/tfbench/model.h). Every file is hostile: each value read from config.json is
 * range-checked (hf_config.c), each tensor's shape is checked against what the config implies before its data
 * is read, and every failure is "<file>: <what>". */
#define _POSIX_C_SOURCE 200809L

#include "models/expect.h"
#include "models/hf_load.h"
#include "tfbench/model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* config.json and the shard index are small; refuse anything absurd before reading it. */
#define HF_JSON_MAX (64u * 1024u * 1024u)


/* ---- small helpers ----------------------------------------------------------------------------- */

/* malloc'ed "a/b". */
static char *hf_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

static bool hf_exists(const char *path) {
    return access(path, F_OK) == 0;
}

/* Read a whole small text file, NUL-terminated. A missing file is INPUT (the directory is
 * incomplete); one that exists but cannot be read is IO. */
static tfb_status hf_read_text(const char *path, char **out, size_t *len) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        return tfb_error_set(e == ENOENT ? TFB_STATUS_INPUT : TFB_STATUS_IO, "%s: cannot open: %s", path,
                             strerror(e));
    }
    tfb_status s = TFB_STATUS_OK;
    char *buf = NULL;
    long size = -1;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: not a regular file", path);
        goto done;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        s = tfb_error_set(TFB_STATUS_IO, "%s: cannot determine the file size", path);
        goto done;
    }
    if ((unsigned long)size > HF_JSON_MAX) {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: %ld bytes, over the %u-byte limit for a JSON file", path,
                          size, HF_JSON_MAX);
        goto done;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
        goto done;
    }
    size_t got = fread(buf, 1, (size_t)size, fp);
    if (got != (size_t)size) {
        s = tfb_error_set(ferror(fp) ? TFB_STATUS_IO : TFB_STATUS_INPUT,
                          "%s: short read (expected %ld bytes, got %zu)", path, size, got);
        goto done;
    }
    buf[size] = '\0';
    *out = buf;
    *len = (size_t)size;
    buf = NULL;
done:
    free(buf);
    fclose(fp);
    return s;
}

/* ---- weight files ------------------------------------------------------------------------------ */



static tfb_status hf_open_file(hf_loader *L, const char *name) {
    char *path = hf_join(L->dir, name);
    if (!path)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", L->dir);
    tfb_status s = tfb__st_open(path, &L->files[L->n_files]);
    /* A missing shard is an incomplete directory, not an unreadable file. */
    if (s == TFB_STATUS_IO && !hf_exists(path))
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: missing (named by %s)", path, L->where);
    free(path);
    if (s != TFB_STATUS_OK)
        return s;
    tfb__st_file *f = &L->files[L->n_files++];
    if (!(L->used[L->n_files - 1] = calloc((size_t)(f->n ? f->n : 1), sizeof(bool))))
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", f->label);
    return TFB_STATUS_OK;
}

static tfb_status hf_open_index(hf_loader *L) {
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    const char **names = NULL;
    int n_names = 0;
    char b[96], b2[96];
    tfb_status s = hf_read_text(L->where, &text, &len);
    if (s == TFB_STATUS_OK)
        s = tfb__hf_parse_json(L->where, text, len, &root);
    free(text);
    if (s == TFB_STATUS_OK)
        s = tfb__hf_index_shards(L->where, root, &names, &n_names);
    if (s == TFB_STATUS_OK && (!(L->files = calloc((size_t)n_names, sizeof *L->files)) ||
                               !(L->used = calloc((size_t)n_names, sizeof *L->used))))
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", L->where);
    for (int k = 0; s == TFB_STATUS_OK && k < n_names; k++)
        s = hf_open_file(L, names[k]);
    /* The index must tell the truth about where each tensor is. */
    const cJSON *e;
    const cJSON *wm = s == TFB_STATUS_OK ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    cJSON_ArrayForEach(e, wm) {
        int k = 0;
        while (strcmp(names[k], e->valuestring) != 0)
            k++;
        if (!tfb__st_find(&L->files[k], e->string)) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' is mapped to %s, which does not contain it",
                              L->where, tfb__st_clean(e->string, b, sizeof b),
                              tfb__st_clean(e->valuestring, b2, sizeof b2));
            break;
        }
    }
    free(names);
    cJSON_Delete(root);
    return s;
}

static tfb_status hf_open_weights(hf_loader *L) {
    char *single = hf_join(L->dir, "model.safetensors");
    char *index = hf_join(L->dir, "model.safetensors.index.json");
    tfb_status s;
    if (!single || !index) {
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", L->dir);
    } else if (hf_exists(single)) {
        L->where = single;
        single = NULL;
        L->files = calloc(1, sizeof *L->files);
        L->used = calloc(1, sizeof *L->used);
        s = L->files && L->used ? hf_open_file(L, "model.safetensors")
                                : tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    } else if (hf_exists(index)) {
        L->where = index;
        index = NULL;
        s = hf_open_index(L);
    } else {
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: no model.safetensors or model.safetensors.index.json",
                          L->dir);
    }
    free(single);
    free(index);
    return s;
}



/* Look name up in every shard; a tensor in two shards is an error. */
tfb_status tfb__hf_find(hf_loader *L, const char *name, hf_src *out) {
    out->f = NULL;
    out->t = NULL;
    for (int i = 0; i < L->n_files; i++) {
        const tfb__st_tensor *t = tfb__st_find(&L->files[i], name);
        if (!t)
            continue;
        if (out->t)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' is in both %s and %s", L->where, name,
                                 out->f->label, L->files[i].label);
        out->f = &L->files[i];
        out->t = t;
    }
    return TFB_STATUS_OK;
}

/* The first of several candidate names present (prefix variants, gamma/beta spellings, tied twins). */
tfb_status tfb__hf_find_any(hf_loader *L, const char *const *names, int n, hf_src *out) {
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        TFB_TRY(tfb__hf_find(L, names[i], out));
        if (out->t)
            return TFB_STATUS_OK;
    }
    return TFB_STATUS_OK;
}

static void hf_shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

/* src's shape must be exactly [d0] (ndim 1) or [d0,d1] (ndim 2). */
tfb_status tfb__hf_check_shape(const hf_src *src, int ndim, int64_t d0, int64_t d1) {
    const tfb__st_tensor *t = src->t;
    int64_t want[2] = {d0, d1};
    bool ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == want[i];
    if (ok)
        return TFB_STATUS_OK;
    char got_s[128], want_s[64], nb[96];
    hf_shape_str(got_s, sizeof got_s, t->ndim < TFB_ST_MAX_DIMS ? t->ndim : TFB_ST_MAX_DIMS, t->shape);
    hf_shape_str(want_s, sizeof want_s, ndim, want);
    return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' has shape %s, config.json implies %s",
                         src->f->label, tfb__st_clean(t->name, nb, sizeof nb), got_s, want_s);
}

/* Read a located tensor as floats (malloc'ed, [nelements]); it counts as used. */
tfb_status tfb__hf_read(hf_loader *L, const hf_src *src, float **out) {
    *out = NULL;
    size_t n = (size_t)src->t->nelements;
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    if (!buf)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for tensor '%s' (%zu elements)",
                             src->f->label, src->t->name, n);
    tfb_status s = tfb__st_read_f32(src->f, src->t, buf);
    if (s != TFB_STATUS_OK) {
        free(buf);
        return s;
    }
    L->used[src->f - L->files][src->t - src->f->t] = true;
    *out = buf;
    return TFB_STATUS_OK;
}

/* Store floats data [rows, cols] (or [cols] when rows == 0) under canon, converted to dt;
 * consumes data in every case. label names the source file in messages. */
tfb_status tfb__hf_store(hf_loader *L, const char *label, const char *canon, tfb_dtype dt, int64_t rows,
                           int64_t cols, float *data) {
    int ndim = rows ? 2 : 1;
    int64_t shape[2] = {rows ? rows : cols, cols};
    if (ndim == 1)
        shape[1] = 0;
    void *stored = data;
    if (dt != TFB_DTYPE_F32) {
        int64_t be = tfb_dtype_block_elems(dt);
        if (be <= 0 || cols % be != 0) {
            free(data);
            return tfb_error_set(
                TFB_STATUS_INPUT,
                "%s: %s has %lld input features, not a multiple of %lld: cannot quantize to %s", label, canon,
                (long long)cols, (long long)be, tfb_dtype_name(dt));
        }
        int64_t nrows = rows ? rows : 1;
        size_t rb = tfb_dtype_row_bytes(dt, cols);
        stored = malloc(rb * (size_t)nrows);
        if (!stored) {
            free(data);
            return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory quantizing %s", label, canon);
        }
        for (int64_t r = 0; r < nrows; r++)
            tfb_quantize_row(dt, data + r * cols, (char *)stored + (size_t)r * rb, cols);
        free(data);
    }
    return tfb_model_add(L->m, canon, dt, ndim, shape, stored);
}





/* Load the first present of names into canon. A missing tensor is an error naming the first
 * candidate; a present one must have exactly the shape the config implies. */
tfb_status tfb__hf_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                          const char *const *names, int n) {
    hf_src src;
    TFB_TRY(tfb__hf_find_any(L, names, n, &src));
    if (!src.t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench %s)", L->where, names[0],
                             canon);
    if (kind == HF_VEC) {
        /* final_logits_bias is [1,V]: a leading 1 is accepted for vectors. */
        if (!(src.t->ndim == 2 && src.t->shape[0] == 1 && src.t->shape[1] == d0))
            TFB_TRY(tfb__hf_check_shape(&src, 1, d0, 0));
    } else {
        TFB_TRY(tfb__hf_check_shape(&src, 2, d0, d1));
    }
    float *x;
    TFB_TRY(tfb__hf_read(L, &src, &x));
    switch (kind) {
    case HF_VEC:
        return tfb__hf_store(L, src.f->label, canon, TFB_DTYPE_F32, 0, d0, x);
    case HF_TABLE:
        return tfb__hf_store(L, src.f->label, canon, TFB_DTYPE_F32, d0, d1, x);
    case HF_LINEAR:
        return tfb__hf_store(L, src.f->label, canon, L->wtype, d0, d1, x);
    case HF_CONV1D: {
        float *y = malloc((size_t)(d0 * d1) * sizeof *y); /* [d1=out, d0=in] */
        if (!y) {
            free(x);
            return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory transposing %s", src.f->label, canon);
        }
        for (int64_t i = 0; i < d0; i++)
            for (int64_t o = 0; o < d1; o++)
                y[o * d0 + i] = x[i * d1 + o];
        free(x);
        return tfb__hf_store(L, src.f->label, canon, L->wtype, d1, d0, y);
    }
    }
    free(x);
    return tfb_error_set(TFB_STATUS_INTERNAL, "tfb__hf_take: bad kind %d", (int)kind);
}

tfb_status tfb__hf_tied_copy(hf_loader *L, const char *name, const char *canon) {
    hf_src src;
    TFB_TRY(tfb__hf_find(L, name, &src));
    if (!src.t)
        return TFB_STATUS_OK;
    const tfb_weight *w = tfb_model_find(L->m, canon);
    TFB_ASSERT(w && w->dtype == TFB_DTYPE_F32 && (w->ndim == 1 || w->ndim == 2));
    if (w->ndim == 1 && src.t->ndim == 2 && src.t->shape[0] == 1 && src.t->shape[1] == w->shape[0])
        ; /* a [1, n] bias like final_logits_bias */
    else
        TFB_TRY(tfb__hf_check_shape(&src, w->ndim, w->shape[0], w->ndim > 1 ? w->shape[1] : 0));
    float *x;
    TFB_TRY(tfb__hf_read(L, &src, &x));
    bool same = memcmp(x, w->data, (size_t)src.t->nelements * sizeof *x) == 0;
    free(x);
    if (!same)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: tensor '%s' differs from the table config.json ties it to (tfbench %s)",
                             src.f->label, name, canon);
    return TFB_STATUS_OK;
}

/* snprintf into a fixed name buffer; names are short and built from bounded layer indices. */
const char *tfb__hf_fmt(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}


/* Every tensor in the files is used by the description, a checked twin, or on the class's list of
 * ignorable ones: a checkpoint whose layout tfbench does not model never loads "successfully". */
static tfb_status hf_check_all_used(hf_loader *L, tfb__hf_family fam) {
    for (int i = 0; i < L->n_files; i++) {
        for (int64_t k = 0; k < L->files[i].n; k++) {
            const tfb__st_tensor *t = &L->files[i].t[k];
            if (L->used[i][k] || tfb__hf_ignorable(L, fam, &L->files[i], t))
                continue;
            char b[96];
            return tfb_error_set(TFB_STATUS_INPUT, "%s: unexpected tensor %s (config.json describes no use for it)",
                                 L->files[i].label, tfb__st_clean(t->name, b, sizeof b));
        }
    }
    return TFB_STATUS_OK;
}

/* ---- entry point ------------------------------------------------------------------------------- */

/* The config's name: the directory as given, or its last component when that does not fit. */
static void hf_set_name(tfb_config *c, const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *s = dir;
    if (n >= sizeof c->name) {
        s = dir + n;
        while (s > dir && s[-1] != '/')
            s--;
    }
    size_t k = (size_t)(dir + n - s);
    if (k >= sizeof c->name)
        k = sizeof c->name - 1;
    memcpy(c->name, s, k);
    c->name[k] = '\0';
}

tfb_status tfb__hf_load_config(const char *dir, tfb_config *out) {
    char *cfg_path = hf_join(dir, "config.json"), *text = NULL;
    size_t len = 0;
    tfb__hf_family fam;
    tfb_status s = cfg_path ? hf_read_text(cfg_path, &text, &len) : tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    if (s == TFB_STATUS_OK)
        s = tfb__hf_parse_config(cfg_path, text, len, out, &fam);
    if (s == TFB_STATUS_OK)
        hf_set_name(out, dir);
    free(text);
    free(cfg_path);
    return s;
}

tfb_status tfb_model_load_dir(const char *dir, tfb_dtype wtype, tfb_model *out) {
    if (!dir || !out)
        return tfb_error_set(TFB_STATUS_USAGE, "tfb_model_load_dir: NULL argument");
    memset(out, 0, sizeof *out);
    switch (wtype) {
    case TFB_DTYPE_F32:
    case TFB_DTYPE_F16:
    case TFB_DTYPE_BF16:
    case TFB_DTYPE_Q8_0:
    case TFB_DTYPE_Q4_0:
        break;
    default:
        return tfb_error_set(TFB_STATUS_USAGE, "%s: weight dtype %s is not a weight format", dir,
                             tfb_dtype_name(wtype));
    }

    hf_loader L = {.dir = dir, .m = out, .wtype = wtype, .c = &out->cfg};
    char *cfg_path = hf_join(dir, "config.json"), *text = NULL;
    size_t len = 0;
    tfb__hf_family fam = HF_GPT2;
    tfb_status s = cfg_path ? TFB_STATUS_OK : tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", dir);
    if (s == TFB_STATUS_OK)
        s = hf_read_text(cfg_path, &text, &len);
    if (s == TFB_STATUS_OK)
        s = tfb__hf_parse_config(cfg_path, text, len, &out->cfg, &fam);
    free(text);
    if (s == TFB_STATUS_OK) {
        hf_set_name(&out->cfg, dir);
        out->wtype = wtype;
        s = hf_open_weights(&L);
    }
    if (s == TFB_STATUS_OK) {
        switch (fam) {
        case HF_GPT2: s = tfb__hf_map_gpt2(&L); break;
        case HF_BERT: s = tfb__hf_map_bert(&L); break;
        case HF_MARIAN: s = tfb__hf_map_marian(&L); break;
        case HF_LLAMA:
        case HF_MISTRAL: s = tfb__hf_map_llama(&L); break;
        case HF_T5: s = tfb__hf_map_t5(&L); break;
        }
    }
    if (s == TFB_STATUS_OK)
        s = hf_check_all_used(&L, fam);
    if (s == TFB_STATUS_OK) {
        s = tfb_model_validate(out);
        if (s != TFB_STATUS_OK) {
            /* Make sure the message names the directory the model came from. */
            char msg[512];
            snprintf(msg, sizeof msg, "%s", tfb_error_last());
            if (strncmp(msg, dir, strlen(dir)) != 0)
                tfb_error_set(s, "%s: %s", dir, msg);
        }
    }
    for (int i = 0; i < L.n_files; i++) {
        tfb__st_close(&L.files[i]);
        free(L.used[i]);
    }
    free(L.files);
    free(L.used);
    free(L.where);
    free(cfg_path);
    if (s != TFB_STATUS_OK) {
        tfb_model_free(out);
        memset(out, 0, sizeof *out);
    }
    return s;
}
