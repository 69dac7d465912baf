/* Hugging Face model directories: config.json + model.safetensors (or a sharded index), with the
 * tensor names of GPT2LMHeadModel, BertForMaskedLM and MarianMTModel mapped to tfbench's canonical
 * names (include/tfbench/model.h). Every file is hostile: each value read from config.json is
 * range-checked (hf_config.c), each tensor's shape is checked against what the config implies before its data
 * is read, and every failure is "<file>: <what>". */
#define _POSIX_C_SOURCE 200809L

#include "models/hf_config.h"
#include "models/safetensors.h"
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

typedef struct hf_loader {
    const char *dir;
    char *where;         /* the weights file (or index) named when a tensor is missing */
    tfb__st_file *files; /* [n_files] */
    int n_files;
    tfb_model *m;
    tfb_dtype wtype;
    const tfb_config *c;
} hf_loader;

static tfb_status hf_open_file(hf_loader *L, const char *name) {
    char *path = hf_join(L->dir, name);
    if (!path)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", L->dir);
    tfb_status s = tfb__st_open(path, &L->files[L->n_files]);
    /* A missing shard is an incomplete directory, not an unreadable file. */
    if (s == TFB_STATUS_IO && !hf_exists(path))
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: missing (named by %s)", path, L->where);
    free(path);
    if (s == TFB_STATUS_OK)
        L->n_files++;
    return s;
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
    if (s == TFB_STATUS_OK && !(L->files = calloc((size_t)n_names, sizeof *L->files)))
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
        s = L->files ? hf_open_file(L, "model.safetensors")
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

/* A located tensor. */
typedef struct hf_src {
    tfb__st_file *f;
    const tfb__st_tensor *t;
} hf_src;

/* Look name up in every shard; a tensor in two shards is an error. */
static tfb_status hf_find(hf_loader *L, const char *name, hf_src *out) {
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
static tfb_status hf_find_any(hf_loader *L, const char *const *names, int n, hf_src *out) {
    for (int i = 0; i < n; i++) {
        if (!names[i])
            continue;
        TFB_TRY(hf_find(L, names[i], out));
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
static tfb_status hf_check_shape(const hf_src *src, int ndim, int64_t d0, int64_t d1) {
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

/* Read a located tensor as floats (malloc'ed, [nelements]). */
static tfb_status hf_read(const hf_src *src, float **out) {
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
    *out = buf;
    return TFB_STATUS_OK;
}

/* Store floats data [rows, cols] (or [cols] when rows == 0) under canon, converted to dt;
 * consumes data in every case. label names the source file in messages. */
static tfb_status hf_store(hf_loader *L, const char *label, const char *canon, tfb_dtype dt, int64_t rows,
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

enum hf_kind {
    HF_VEC,    /* HF [d0] (or [1,d0] when allowed) -> F32 [d0] */
    HF_TABLE,  /* HF [d0,d1] -> F32 [d0,d1] (embeddings) */
    HF_LINEAR, /* nn.Linear [out=d0, in=d1] -> wtype [out,in] */
    HF_CONV1D, /* GPT-2 Conv1D [in=d0, out=d1] -> wtype [out,in] (transposed) */
};

#define HF_NAMES(...)                                                                                        \
    ((const char *const[]){__VA_ARGS__}),                                                                    \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Load the first present of names into canon. A missing tensor is an error naming the first
 * candidate; a present one must have exactly the shape the config implies. */
static tfb_status hf_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                          const char *const *names, int n) {
    hf_src src;
    TFB_TRY(hf_find_any(L, names, n, &src));
    if (!src.t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench %s)", L->where, names[0],
                             canon);
    if (kind == HF_VEC) {
        /* final_logits_bias is [1,V]: a leading 1 is accepted for vectors. */
        if (!(src.t->ndim == 2 && src.t->shape[0] == 1 && src.t->shape[1] == d0))
            TFB_TRY(hf_check_shape(&src, 1, d0, 0));
    } else {
        TFB_TRY(hf_check_shape(&src, 2, d0, d1));
    }
    float *x;
    TFB_TRY(hf_read(&src, &x));
    switch (kind) {
    case HF_VEC:
        return hf_store(L, src.f->label, canon, TFB_DTYPE_F32, 0, d0, x);
    case HF_TABLE:
        return hf_store(L, src.f->label, canon, TFB_DTYPE_F32, d0, d1, x);
    case HF_LINEAR:
        return hf_store(L, src.f->label, canon, L->wtype, d0, d1, x);
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
        return hf_store(L, src.f->label, canon, L->wtype, d1, d0, y);
    }
    }
    free(x);
    return tfb_error_set(TFB_STATUS_INTERNAL, "hf_take: bad kind %d", (int)kind);
}

/* A tied twin (lm_head.weight, cls.predictions.decoder.weight) is not loaded, but when present it
 * must at least have the embedding's shape. */
static tfb_status hf_check_tied(hf_loader *L, const char *name, int64_t d0, int64_t d1) {
    hf_src src;
    TFB_TRY(hf_find(L, name, &src));
    return src.t ? hf_check_shape(&src, 2, d0, d1) : TFB_STATUS_OK;
}

/* snprintf into a fixed name buffer; names are short and built from bounded layer indices. */
static const char *hf_fmt(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static const char *hf_fmt(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return buf;
}

#define NB 160 /* name buffer size */

/* ---- GPT2LMHeadModel --------------------------------------------------------------------------- */

/* name with and without the "transformer." prefix. */
static tfb_status g2_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                          const char *base) {
    char a[NB];
    hf_fmt(a, sizeof a, "transformer.%s", base);
    return hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base));
}

/* c_attn: Conv1D [C, 3C] (+ bias [3C]) split into wq, wk, wv [C,C] each ([out,in]). */
static tfb_status g2_c_attn(hf_loader *L, int layer) {
    int64_t C = L->c->d_model;
    char a[NB], b[NB], canon[NB];
    static const char *parts[3] = {"wq", "wk", "wv"};
    hf_src src;
    for (int bias = 0; bias < 2; bias++) {
        hf_fmt(b, sizeof b, "h.%d.attn.c_attn.%s", layer, bias ? "bias" : "weight");
        hf_fmt(a, sizeof a, "transformer.%s", b);
        TFB_TRY(hf_find_any(L, HF_NAMES(a, b), &src));
        if (!src.t)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s'", L->where, b);
        if (bias)
            TFB_TRY(hf_check_shape(&src, 1, 3 * C, 0));
        else
            TFB_TRY(hf_check_shape(&src, 2, C, 3 * C));
        float *x;
        TFB_TRY(hf_read(&src, &x)); /* weight [C_in, 3C_out], bias [3C] */
        tfb_status s = TFB_STATUS_OK;
        for (int p = 0; p < 3 && s == TFB_STATUS_OK; p++) {
            float *y = malloc((size_t)(bias ? C : C * C) * sizeof *y); /* [C] or [C_out, C_in] */
            if (!y) {
                s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory splitting c_attn", src.f->label);
                break;
            }
            if (bias) {
                memcpy(y, x + p * C, (size_t)C * sizeof *y);
            } else {
                for (int64_t i = 0; i < C; i++)
                    for (int64_t o = 0; o < C; o++)
                        y[o * C + i] = x[i * 3 * C + p * C + o];
            }
            hf_fmt(canon, sizeof canon, "dec.%d.attn.%s%s", layer, parts[p], bias ? ".bias" : "");
            s = bias ? hf_store(L, src.f->label, canon, TFB_DTYPE_F32, 0, C, y)
                     : hf_store(L, src.f->label, canon, L->wtype, C, C, y);
        }
        free(x);
        TFB_TRY(s);
    }
    return TFB_STATUS_OK;
}

static tfb_status hf_map_gpt2(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->d_ff, V = c->n_vocab, P = c->n_ctx;
    char canon[NB], base[NB];
    /* Tied twins: either copy may be the one a deduplicating writer kept. */
    TFB_TRY(hf_take(L, "tok_emb", HF_TABLE, V, C,
                    HF_NAMES("transformer.wte.weight", "wte.weight", "lm_head.weight")));
    TFB_TRY(g2_take(L, "pos_emb", HF_TABLE, P, C, "wpe.weight"));
    for (int i = 0; i < (int)c->n_layer; i++) {
        static const struct { const char *hf, *canon; } lns[] = {{"ln_1", "ln1"}, {"ln_2", "ln2"}};
        for (int k = 0; k < 2; k++) {
            TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.%s.g", i, lns[k].canon), HF_VEC, C, 0,
                            hf_fmt(base, NB, "h.%d.%s.weight", i, lns[k].hf)));
            TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.%s.b", i, lns[k].canon), HF_VEC, C, 0,
                            hf_fmt(base, NB, "h.%d.%s.bias", i, lns[k].hf)));
        }
        TFB_TRY(g2_c_attn(L, i));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.attn.wo", i), HF_CONV1D, C, C,
                        hf_fmt(base, NB, "h.%d.attn.c_proj.weight", i)));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.attn.wo.bias", i), HF_VEC, C, 0,
                        hf_fmt(base, NB, "h.%d.attn.c_proj.bias", i)));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.ffn.w1", i), HF_CONV1D, C, F,
                        hf_fmt(base, NB, "h.%d.mlp.c_fc.weight", i)));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.ffn.w1.bias", i), HF_VEC, F, 0,
                        hf_fmt(base, NB, "h.%d.mlp.c_fc.bias", i)));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.ffn.w2", i), HF_CONV1D, F, C,
                        hf_fmt(base, NB, "h.%d.mlp.c_proj.weight", i)));
        TFB_TRY(g2_take(L, hf_fmt(canon, NB, "dec.%d.ffn.w2.bias", i), HF_VEC, C, 0,
                        hf_fmt(base, NB, "h.%d.mlp.c_proj.bias", i)));
    }
    TFB_TRY(g2_take(L, "final_ln.g", HF_VEC, C, 0, "ln_f.weight"));
    TFB_TRY(g2_take(L, "final_ln.b", HF_VEC, C, 0, "ln_f.bias"));
    /* The head is tied to wte; a stored copy is only checked. */
    return hf_check_tied(L, "lm_head.weight", V, C);
}

/* ---- BertForMaskedLM --------------------------------------------------------------------------- */

/* base with and without "bert."; LayerNorm parameters also under their TF names gamma/beta. */
static tfb_status bert_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                            const char *base, const char *alt) {
    char a[NB], b[NB];
    hf_fmt(a, sizeof a, "bert.%s", base);
    if (alt)
        hf_fmt(b, sizeof b, "bert.%s", alt);
    return hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base, alt ? b : NULL, alt));
}

/* LayerNorm pair: <hf>.weight|gamma -> <canon>.g, <hf>.bias|beta -> <canon>.b. */
static tfb_status bert_ln(hf_loader *L, const char *canon, const char *hf, bool prefixed) {
    int64_t C = L->c->d_model;
    char cn[NB], w[NB], g[NB];
    static const char *const sfx[2][3] = {{"g", "weight", "gamma"}, {"b", "bias", "beta"}};
    for (int k = 0; k < 2; k++) {
        hf_fmt(cn, NB, "%s.%s", canon, sfx[k][0]);
        hf_fmt(w, NB, "%s.%s", hf, sfx[k][1]);
        hf_fmt(g, NB, "%s.%s", hf, sfx[k][2]);
        if (prefixed)
            TFB_TRY(bert_take(L, cn, HF_VEC, C, 0, w, g));
        else
            TFB_TRY(hf_take(L, cn, HF_VEC, C, 0, HF_NAMES(w, g)));
    }
    return TFB_STATUS_OK;
}

/* nn.Linear pair: <hf>.weight [out,in] -> canon, <hf>.bias [out] -> canon.bias. */
static tfb_status bert_linear(hf_loader *L, const char *canon, const char *hf, int64_t out, int64_t in,
                              bool prefixed) {
    char cn[NB], w[NB], bi[NB];
    hf_fmt(w, NB, "%s.weight", hf);
    hf_fmt(bi, NB, "%s.bias", hf);
    hf_fmt(cn, NB, "%s.bias", canon);
    if (prefixed) {
        TFB_TRY(bert_take(L, canon, HF_LINEAR, out, in, w, NULL));
        return bert_take(L, cn, HF_VEC, out, 0, bi, NULL);
    }
    TFB_TRY(hf_take(L, canon, HF_LINEAR, out, in, HF_NAMES(w)));
    return hf_take(L, cn, HF_VEC, out, 0, HF_NAMES(bi));
}

static tfb_status hf_map_bert(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->d_ff, V = c->n_vocab, P = c->n_ctx;
    char cn[NB], hf[NB];
    TFB_TRY(hf_take(L, "tok_emb", HF_TABLE, V, C,
                    HF_NAMES("bert.embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight",
                             "cls.predictions.decoder.weight")));
    TFB_TRY(bert_take(L, "pos_emb", HF_TABLE, P, C, "embeddings.position_embeddings.weight", NULL));
    TFB_TRY(
        bert_take(L, "type_emb", HF_TABLE, c->n_type, C, "embeddings.token_type_embeddings.weight", NULL));
    TFB_TRY(bert_ln(L, "emb_ln", "embeddings.LayerNorm", true));
    for (int i = 0; i < (int)c->n_layer; i++) {
        static const char *const qkv[3][2] = {{"query", "wq"}, {"key", "wk"}, {"value", "wv"}};
        for (int k = 0; k < 3; k++)
            TFB_TRY(bert_linear(L, hf_fmt(cn, NB, "enc.%d.attn.%s", i, qkv[k][1]),
                                hf_fmt(hf, NB, "encoder.layer.%d.attention.self.%s", i, qkv[k][0]), C, C,
                                true));
        TFB_TRY(bert_linear(L, hf_fmt(cn, NB, "enc.%d.attn.wo", i),
                            hf_fmt(hf, NB, "encoder.layer.%d.attention.output.dense", i), C, C, true));
        TFB_TRY(bert_ln(L, hf_fmt(cn, NB, "enc.%d.ln1", i),
                        hf_fmt(hf, NB, "encoder.layer.%d.attention.output.LayerNorm", i), true));
        TFB_TRY(bert_linear(L, hf_fmt(cn, NB, "enc.%d.ffn.w1", i),
                            hf_fmt(hf, NB, "encoder.layer.%d.intermediate.dense", i), F, C, true));
        TFB_TRY(bert_linear(L, hf_fmt(cn, NB, "enc.%d.ffn.w2", i),
                            hf_fmt(hf, NB, "encoder.layer.%d.output.dense", i), C, F, true));
        TFB_TRY(bert_ln(L, hf_fmt(cn, NB, "enc.%d.ln2", i),
                        hf_fmt(hf, NB, "encoder.layer.%d.output.LayerNorm", i), true));
    }
    TFB_TRY(bert_linear(L, "mlm.dense", "cls.predictions.transform.dense", C, C, false));
    TFB_TRY(bert_ln(L, "mlm.ln", "cls.predictions.transform.LayerNorm", false));
    TFB_TRY(hf_take(L, "lm_head.bias", HF_VEC, V, 0,
                    HF_NAMES("cls.predictions.bias", "cls.predictions.decoder.bias")));
    return hf_check_tied(L, "cls.predictions.decoder.weight", V, C);
}

/* ---- MarianMTModel ----------------------------------------------------------------------------- */

static tfb_status marian_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                              const char *base) {
    char a[NB];
    hf_fmt(a, sizeof a, "model.%s", base);
    return hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base));
}

static tfb_status marian_linear(hf_loader *L, const char *canon, const char *hf, int64_t out, int64_t in) {
    char cn[NB], n[NB];
    TFB_TRY(marian_take(L, canon, HF_LINEAR, out, in, hf_fmt(n, NB, "%s.weight", hf)));
    return marian_take(L, hf_fmt(cn, NB, "%s.bias", canon), HF_VEC, out, 0, hf_fmt(n, NB, "%s.bias", hf));
}

static tfb_status marian_ln(hf_loader *L, const char *canon, const char *hf) {
    int64_t C = L->c->d_model;
    char cn[NB], n[NB];
    TFB_TRY(marian_take(L, hf_fmt(cn, NB, "%s.g", canon), HF_VEC, C, 0, hf_fmt(n, NB, "%s.weight", hf)));
    return marian_take(L, hf_fmt(cn, NB, "%s.b", canon), HF_VEC, C, 0, hf_fmt(n, NB, "%s.bias", hf));
}

/* One attention block: <hf>.{q,k,v,out}_proj -> <canon>.{wq,wk,wv,wo}. */
static tfb_status marian_attn(hf_loader *L, const char *canon, const char *hf) {
    static const char *const proj[4][2] = {
        {"q_proj", "wq"}, {"k_proj", "wk"}, {"v_proj", "wv"}, {"out_proj", "wo"}};
    int64_t C = L->c->d_model;
    char cn[NB], n[NB];
    for (int k = 0; k < 4; k++)
        TFB_TRY(marian_linear(L, hf_fmt(cn, NB, "%s.%s", canon, proj[k][1]),
                              hf_fmt(n, NB, "%s.%s", hf, proj[k][0]), C, C));
    return TFB_STATUS_OK;
}

static tfb_status hf_map_marian(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->d_ff, V = c->n_vocab;
    char cn[NB], hf[NB];
    /* The shared embedding, or either of its twins when only those were saved. */
    TFB_TRY(hf_take(L, "tok_emb", HF_TABLE, V, C,
                    HF_NAMES("model.shared.weight", "shared.weight", "model.encoder.embed_tokens.weight",
                             "model.decoder.embed_tokens.weight", "encoder.embed_tokens.weight",
                             "decoder.embed_tokens.weight", "lm_head.weight")));
    static const char *const twins[] = {"model.encoder.embed_tokens.weight",
                                        "model.decoder.embed_tokens.weight", "lm_head.weight"};
    for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++)
        TFB_TRY(hf_check_tied(L, twins[k], V, C));
    for (int side = 0; side < 2; side++) {
        const char *hs = side ? "decoder" : "encoder", *cs = side ? "dec" : "enc";
        int n = (int)(side ? c->n_layer : c->n_enc_layer);
        for (int i = 0; i < n; i++) {
            TFB_TRY(marian_attn(L, hf_fmt(cn, NB, "%s.%d.attn", cs, i),
                                hf_fmt(hf, NB, "%s.layers.%d.self_attn", hs, i)));
            TFB_TRY(marian_ln(L, hf_fmt(cn, NB, "%s.%d.ln1", cs, i),
                              hf_fmt(hf, NB, "%s.layers.%d.self_attn_layer_norm", hs, i)));
            if (side) {
                TFB_TRY(marian_attn(L, hf_fmt(cn, NB, "dec.%d.xattn", i),
                                    hf_fmt(hf, NB, "decoder.layers.%d.encoder_attn", i)));
                TFB_TRY(marian_ln(L, hf_fmt(cn, NB, "dec.%d.ln_x", i),
                                  hf_fmt(hf, NB, "decoder.layers.%d.encoder_attn_layer_norm", i)));
            }
            TFB_TRY(marian_linear(L, hf_fmt(cn, NB, "%s.%d.ffn.w1", cs, i),
                                  hf_fmt(hf, NB, "%s.layers.%d.fc1", hs, i), F, C));
            TFB_TRY(marian_linear(L, hf_fmt(cn, NB, "%s.%d.ffn.w2", cs, i),
                                  hf_fmt(hf, NB, "%s.layers.%d.fc2", hs, i), C, F));
            TFB_TRY(marian_ln(L, hf_fmt(cn, NB, "%s.%d.ln2", cs, i),
                              hf_fmt(hf, NB, "%s.layers.%d.final_layer_norm", hs, i)));
        }
    }
    return hf_take(L, "lm_head.bias", HF_VEC, V, 0, HF_NAMES("final_logits_bias", "model.final_logits_bias"));
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
        case HF_GPT2:
            s = hf_map_gpt2(&L);
            break;
        case HF_BERT:
            s = hf_map_bert(&L);
            break;
        case HF_MARIAN:
            s = hf_map_marian(&L);
            break;
        }
    }
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
    for (int i = 0; i < L.n_files; i++)
        tfb__st_close(&L.files[i]);
    free(L.files);
    free(L.where);
    free(cfg_path);
    if (s != TFB_STATUS_OK) {
        tfb_model_free(out);
        memset(out, 0, sizeof *out);
    }
    return s;
}
