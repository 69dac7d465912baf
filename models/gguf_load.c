/* GGUF model files (llama.cpp's format) mapped onto the architecture descriptions of families.c:
 * the hyper-parameters from `<arch>.*` metadata, the tensors by llama.cpp's names (token_embd,
 * blk.N.attn_q, ...). Every file is hostile: the reader (formats/gguf.c) bounds every offset; here
 * every `<arch>.*` key must be one the description models (anything else, such as rope scaling, is
 * refused naming the key), every tensor must have the shape the metadata implies and a type tfbench
 * runs as stored, and every tensor in the file must be used. Errors are "<file>: <what>".
 *
 * llama.cpp's converter permutes the rows of each Q and K head so that Hugging Face's rotate-half
 * pairs (i, i + D/2) become adjacent pairs (2i, 2i + 1): the description uses the interleaved rope
 * layout on the stored rows, which computes the same q.k (both sides permuted alike), and V, O are
 * not permuted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/expect.h"
#include "models/families.h"
#include "models/formats/ggml_dequant.h"
#include "models/formats/gguf.h"
#include "models/gguf_load.h"
#include "models/safetensors.h" /* tfb__st_clean: names from the file in messages */
#include "tfbench/model.h"

/* tfb_model_set_gguf_convert's setting: process-wide, set once by the harness from --gguf-convert. */
static tfb_dtype gg_convert_to = TFB_DTYPE_COUNT;

void tfb_model_set_gguf_convert(tfb_dtype to) {
    gg_convert_to = to == TFB_DTYPE_Q8_0 || to == TFB_DTYPE_F16 ? to : TFB_DTYPE_COUNT;
}

/* ---- metadata ---------------------------------------------------------------------------------- */

const char *tfb__gg_key(const gg_loader *L, char *buf, const char *suffix) {
    snprintf(buf, GG_NB, "%s.%s", L->arch, suffix);
    return buf;
}

/* `<arch>.suffix` as an integer in [lo, hi]; def when absent and not required. */
tfb_status tfb__gg_int(gg_loader *L, const char *suffix, bool required, int64_t def, int64_t lo, int64_t hi,
                       int64_t *out) {
    char k[GG_NB];
    tfb__gg_key(L, k, suffix);
    if (!tfb__gguf_find_key(&L->f, k)) {
        if (required)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing key %s", L->path, k);
        *out = def;
        return TFB_STATUS_OK;
    }
    int64_t v;
    TFB_TRY(tfb__gguf_get_i64(&L->f, k, &v));
    if (v < lo || v > hi)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s = %lld, outside [%lld, %lld]", L->path, k,
                             (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return TFB_STATUS_OK;
}

/* `<arch>.suffix` as a positive finite float; def when absent and not required. */
tfb_status tfb__gg_float(gg_loader *L, const char *suffix, bool required, double def, float *out) {
    char k[GG_NB];
    tfb__gg_key(L, k, suffix);
    if (!tfb__gguf_find_key(&L->f, k)) {
        if (required)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing key %s", L->path, k);
        *out = (float)def;
        return TFB_STATUS_OK;
    }
    double v;
    TFB_TRY(tfb__gguf_get_f64(&L->f, k, &v));
    if (!(v > 0.0) || !isfinite(v) || v > 1e30)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s = %g, not a positive number", L->path, k, v);
    *out = (float)v;
    return TFB_STATUS_OK;
}

/* An optional integer key that, when present, must equal want (a size the description derives). */
tfb_status tfb__gg_same(gg_loader *L, const char *suffix, int64_t want) {
    int64_t v;
    TFB_TRY(tfb__gg_int(L, suffix, false, want, INT64_MIN, INT64_MAX, &v));
    if (v != want) {
        char k[GG_NB];
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s = %lld, tfbench models only %lld", L->path,
                             tfb__gg_key(L, k, suffix), (long long)v, (long long)want);
    }
    return TFB_STATUS_OK;
}

/* Special token ids from the tokenizer metadata, with defaults when absent. */
tfb_status tfb__gg_token_id(gg_loader *L, const char *which, int64_t def, int64_t *out) {
    char k[GG_NB];
    snprintf(k, sizeof k, "tokenizer.ggml.%s_token_id", which);
    if (!tfb__gguf_find_key(&L->f, k)) {
        *out = def;
        return TFB_STATUS_OK;
    }
    int64_t v;
    TFB_TRY(tfb__gguf_get_i64(&L->f, k, &v));
    if (v < 0 || v >= L->c->n_vocab)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s = %lld, outside the %lld-token vocabulary", L->path, k,
                             (long long)v, (long long)L->c->n_vocab);
    *out = v;
    return TFB_STATUS_OK;
}

/* Every `<arch>.` key is one the description models; split files are refused. */
static tfb_status gg_check_keys(gg_loader *L, const gg_arch *a) {
    size_t n = strlen(L->arch);
    char kb[96];
    for (int64_t i = 0; i < L->f.n_kv; i++) {
        const char *k = L->f.kv[i].key.s;
        if (strncmp(k, "split.", 6) == 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: split GGUF files (%s) are not supported", L->path,
                                 tfb__st_clean(k, kb, sizeof kb));
        if (strncmp(k, L->arch, n) != 0 || k[n] != '.')
            continue;
        bool known = false;
        for (const char *const *s = a->keys; *s && !known; s++)
            known = strcmp(k + n + 1, *s) == 0;
        if (!known)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: key %s is not modelled by tfbench", L->path,
                                 tfb__st_clean(k, kb, sizeof kb));
    }
    return TFB_STATUS_OK;
}

/* ---- tensors ----------------------------------------------------------------------------------- */

const tfb__gguf_tensor *tfb__gg_find(gg_loader *L, const char *name) {
    return tfb__gguf_find_tensor(&L->f, name);
}

/* t's shape must be [d0] or [d0, d1] in tfbench's order (ggml's ne is innermost first). */
tfb_status tfb__gg_check_shape(gg_loader *L, const tfb__gguf_tensor *t, gg_kind kind, int64_t d0,
                               int64_t d1) {
    bool ok = kind == GG_VEC ? t->n_dims == 1 && t->ne[0] == d0
                             : t->n_dims == 2 && t->ne[1] == d0 && t->ne[0] == d1;
    if (ok)
        return TFB_STATUS_OK;
    char got[96];
    size_t k = 0;
    for (int i = t->n_dims - 1; i >= 0 && k < sizeof got; i--)
        k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i == t->n_dims - 1 ? "" : ",",
                              (long long)t->ne[i]);
    if (kind == GG_VEC)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' has shape [%s], the metadata implies [%lld]",
                             L->path, t->name.s, got, (long long)d0);
    return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' has shape [%s], the metadata implies [%lld,%lld]",
                         L->path, t->name.s, got, (long long)d0, (long long)d1);
}

/* A tensor of a type tfbench does not run, converted (--gguf-convert): ggml's dequantization to F32,
 * then (a matrix not wanted in F32) tfbench's quantizer to L->convert. */
static tfb_status gg_convert(gg_loader *L, const tfb__gguf_tensor *t, bool to_f32, tfb_dtype *dt,
                             void **out) {
    const char *tn = tfb__gguf_ggml_name(t->ggml_type);
    if (L->convert == TFB_DTYPE_COUNT || !tfb__ggml_can_dequantize(t->ggml_type))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' is of type %s, which tfbench does not run%s",
                             L->path, t->name.s, tn ? tn : "?",
                             L->convert == TFB_DTYPE_COUNT && tfb__ggml_can_dequantize(t->ggml_type)
                                 ? " (--gguf-convert q8_0|f16 converts it at load)"
                                 : "");
    int64_t cols = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
    void *raw = malloc(t->nbytes ? (size_t)t->nbytes : 1);
    float *x = malloc((size_t)(cols * rows) * sizeof *x);
    tfb_status s =
        raw && x ? tfb__gguf_read(&L->f, t, raw, (size_t)t->nbytes)
                 : tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for tensor '%s'", L->path, t->name.s);
    size_t rb = (size_t)t->nbytes / (size_t)(rows ? rows : 1);
    for (int64_t r = 0; s == TFB_STATUS_OK && r < rows; r++)
        if (!tfb__ggml_dequantize_row(t->ggml_type, (const char *)raw + (size_t)r * rb, x + r * cols, cols))
            s = tfb_error_set(TFB_STATUS_INTERNAL, "%s: tensor '%s': cannot dequantize", L->path, t->name.s);
    free(raw);
    /* Scales are the file's fp16 bits: a NaN or inf would reach the quantizer (whose int8 cast it
     * would make undefined), and no trained weight holds one. */
    for (int64_t i = 0; s == TFB_STATUS_OK && i < cols * rows; i++)
        if (!isfinite(x[i]))
            s = tfb_error_set(TFB_STATUS_INPUT,
                              "%s: tensor '%s' (%s) dequantizes to a non-finite value at element %lld",
                              L->path, t->name.s, tn ? tn : "?", (long long)i);
    if (s != TFB_STATUS_OK) {
        free(x);
        return s;
    }
    if (!L->used[t - L->f.t])
        L->m->n_converted++;
    L->used[t - L->f.t] = true;
    *dt = TFB_DTYPE_F32;
    *out = x;
    if (to_f32 || cols % tfb_dtype_block_elems(L->convert) != 0)
        return TFB_STATUS_OK;
    size_t qb = tfb_dtype_row_bytes(L->convert, cols);
    void *q = malloc(qb * (size_t)(rows ? rows : 1));
    if (!q) {
        free(x);
        *out = NULL;
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory converting '%s'", L->path, t->name.s);
    }
    for (int64_t r = 0; r < rows; r++)
        tfb_quantize_row(L->convert, x + r * cols, (char *)q + (size_t)r * qb, cols);
    free(x);
    *dt = L->convert;
    *out = q;
    return TFB_STATUS_OK;
}

/* Read t as stored (*dt its dtype), or dequantized to F32 when to_f32; malloc'ed into *out. */
tfb_status tfb__gg_read(gg_loader *L, const tfb__gguf_tensor *t, bool to_f32, tfb_dtype *dt, void **out) {
    *out = NULL;
    if (!tfb__gguf_ggml_dtype(t->ggml_type, dt) || *dt == TFB_DTYPE_I32)
        return gg_convert(L, t, to_f32, dt, out);
    void *raw = malloc(t->nbytes ? (size_t)t->nbytes : 1);
    if (!raw)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for tensor '%s'", L->path, t->name.s);
    tfb_status s = tfb__gguf_read(&L->f, t, raw, (size_t)t->nbytes);
    if (s != TFB_STATUS_OK) {
        free(raw);
        return s;
    }
    L->used[t - L->f.t] = true;
    if (!to_f32 || *dt == TFB_DTYPE_F32) {
        *out = raw;
        return TFB_STATUS_OK;
    }
    int64_t cols = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
    float *x = malloc((size_t)(cols * rows) * sizeof *x);
    if (!x) {
        free(raw);
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for tensor '%s'", L->path, t->name.s);
    }
    size_t rb = tfb_dtype_row_bytes(*dt, cols);
    for (int64_t r = 0; r < rows; r++)
        tfb_dequantize_row(*dt, (const char *)raw + (size_t)r * rb, x + r * cols, cols);
    free(raw);
    *dt = TFB_DTYPE_F32;
    *out = x;
    return TFB_STATUS_OK;
}

/* Load tensor `name` as canon; a missing one is an error naming both. */
tfb_status tfb__gg_take(gg_loader *L, const char *canon, const char *name, gg_kind kind, int64_t d0,
                        int64_t d1) {
    const tfb__gguf_tensor *t = tfb__gg_find(L, name);
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench %s)", L->path, name, canon);
    TFB_TRY(tfb__gg_check_shape(L, t, kind, d0, d1));
    tfb_dtype dt;
    void *data;
    TFB_TRY(tfb__gg_read(L, t, kind != GG_MATRIX || L->f32_twin, &dt, &data));
    int64_t shape[2] = {d0, d1};
    return tfb_model_add(L->m, canon, dt, kind == GG_VEC ? 1 : 2, shape, data);
}

const char *tfb__gg_fmt(char *buf, const char *fmt, int i, const char *what) {
    snprintf(buf, GG_NB, fmt, i, what);
    return buf;
}

/* The head: `output.weight` when the file has one (untied, or llama.cpp's GPT-2 copy of the
 * embedding), else tied to tok_emb. A tied embedding stored in another dtype than F32 is also
 * loaded as stored into lm_head, so the head runs the file's blocks while EMBED gathers from the
 * exact F32 dequantization. Decides c->head at config time (m NULL) and loads at tensor time. */
tfb_status tfb__gg_head(gg_loader *L) {
    tfb_config *c = L->c;
    const tfb__gguf_tensor *out = tfb__gg_find(L, "output.weight"),
                           *emb = tfb__gg_find(L, "token_embd.weight");
    tfb_dtype edt = TFB_DTYPE_F32;
    bool emb_stored = emb && ((tfb__gguf_ggml_dtype(emb->ggml_type, &edt) && edt != TFB_DTYPE_F32) ||
                              (L->convert != TFB_DTYPE_COUNT && tfb__ggml_can_dequantize(emb->ggml_type)));
    c->head = out || (emb_stored && !L->f32_twin) ? TFB_HEAD_OWN : TFB_HEAD_TOK_EMB;
    if (!L->m || c->head == TFB_HEAD_TOK_EMB)
        return TFB_STATUS_OK;
    if (out)
        return tfb__gg_take(L, "lm_head", "output.weight", GG_MATRIX, c->n_dec_vocab, c->d_model);
    /* Tied, stored quantized: the same bytes again, as a matrix. */
    TFB_TRY(tfb__gg_check_shape(L, emb, GG_MATRIX, c->n_dec_vocab, c->d_model));
    tfb_dtype dt;
    void *data;
    TFB_TRY(tfb__gg_read(L, emb, false, &dt, &data));
    int64_t shape[2] = {c->n_dec_vocab, c->d_model};
    return tfb_model_add(L->m, "lm_head", dt, 2, shape, data);
}

/* n_vocab from token_embd's rows (the metadata's vocab_size, when present, must agree). */
tfb_status tfb__gg_vocab(gg_loader *L) {
    const tfb__gguf_tensor *t = tfb__gg_find(L, "token_embd.weight");
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor 'token_embd.weight' (tfbench tok_emb)",
                             L->path);
    if (t->n_dims != 2 || t->ne[1] < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor 'token_embd.weight' is not a 2-D table", L->path);
    L->c->n_vocab = L->c->n_dec_vocab = t->ne[1];
    return tfb__gg_same(L, "vocab_size", t->ne[1]);
}

/* ---- entry points ------------------------------------------------------------------------------ */

/* The config's name: the file's last path component, cut to fit. */
static void gg_set_name(tfb_config *c, const char *path) {
    const char *s = strrchr(path, '/');
    snprintf(c->name, sizeof c->name, "%s", s && s[1] ? s + 1 : path);
}

/* Open path and map its description into *c (L->m NULL: config only). */
static tfb_status gg_open_config(gg_loader *L, const gg_arch **arch) {
    TFB_TRY(L->mem ? tfb__gguf_open_mem(L->path, L->mem, L->mem_size, &L->f)
                   : tfb__gguf_open(L->path, &L->f));
    const tfb__gguf_str *a;
    if (!tfb__gguf_find_key(&L->f, "general.architecture"))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing key general.architecture", L->path);
    TFB_TRY(tfb__gguf_get_str(&L->f, "general.architecture", &a));
    *arch = NULL;
    for (size_t i = 0; i < (size_t)tfb__gg_n_archs; i++)
        if (strlen(tfb__gg_archs[i].name) == a->len && memcmp(tfb__gg_archs[i].name, a->s, a->len) == 0)
            *arch = &tfb__gg_archs[i];
    if (!*arch) {
        char shown[40];
        size_t n = 0;
        for (uint64_t i = 0; i < a->len && n + 1 < sizeof shown; i++)
            shown[n++] = a->s[i] >= 0x20 && a->s[i] < 0x7f ? a->s[i] : '?';
        shown[n] = '\0';
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: architecture '%s' is not modelled by tfbench (llama, gpt2, bert, t5)",
                             L->path, shown);
    }
    snprintf(L->arch, sizeof L->arch, "%s", (*arch)->name);
    TFB_TRY(gg_check_keys(L, *arch));
    TFB_TRY((*arch)->config(L));
    tfb__family_finish(L->c);
    gg_set_name(L->c, L->path);
    /* The head's source follows from the tensors present. */
    if (!L->c->has_lm_head)
        return TFB_STATUS_OK;
    tfb_model *m = L->m;
    L->m = NULL;
    tfb_status s = tfb__gg_head(L);
    L->m = m;
    return s;
}

tfb_status tfb_model_stored_dtype(const char *path, tfb_dtype *out) {
    tfb__gguf_file f;
    *out = TFB_DTYPE_F32;
    TFB_TRY(tfb__gguf_open(path, &f));
    /* The most common type among the 2-D tensors; a type to be converted counts as its target. */
    int count[TFB_DTYPE_COUNT] = {0};
    for (int64_t i = 0; i < f.n_t; i++) {
        tfb_dtype dt;
        if (f.t[i].n_dims != 2)
            continue;
        if (!tfb__gguf_ggml_dtype(f.t[i].ggml_type, &dt) || dt == TFB_DTYPE_I32)
            dt = gg_convert_to == TFB_DTYPE_COUNT ? TFB_DTYPE_Q8_0 : gg_convert_to;
        count[dt]++;
    }
    for (int d = 0; d < TFB_DTYPE_COUNT; d++)
        if (count[d] > count[*out])
            *out = (tfb_dtype)d;
    tfb__gguf_close(&f);
    return TFB_STATUS_OK;
}

tfb_status tfb__gguf_load_config(const char *path, tfb_config *out) {
    gg_loader L = {.path = path, .c = out, .convert = gg_convert_to};
    const gg_arch *arch;
    memset(out, 0, sizeof *out);
    tfb_status s = gg_open_config(&L, &arch);
    tfb__gguf_close(&L.f);
    return s;
}

static tfb_status gg_load(gg_loader *L) {
    tfb_model *out = L->m;
    const char *path = L->path;
    const gg_arch *arch = NULL;
    tfb_status s = gg_open_config(L, &arch);
    if (s == TFB_STATUS_OK && !(L->used = calloc((size_t)(L->f.n_t ? L->f.n_t : 1), sizeof *L->used)))
        s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    if (s == TFB_STATUS_OK)
        s = arch->tensors(L);
    char nb[96];
    for (int64_t i = 0; s == TFB_STATUS_OK && i < L->f.n_t; i++)
        if (!L->used[i])
            s = tfb_error_set(TFB_STATUS_INPUT,
                              "%s: unexpected tensor '%s' (the %s description has no use for it)", path,
                              tfb__st_clean(L->f.t[i].name.s, nb, sizeof nb), arch->name);
    if (s == TFB_STATUS_OK) {
        /* The label dtype: the most common among the matrices. */
        int count[TFB_DTYPE_COUNT] = {0};
        for (int i = 0; i < out->n_w; i++)
            if (out->w[i].ndim == 2 && strcmp(out->w[i].name, "tok_emb") != 0 &&
                strcmp(out->w[i].name, "pos_emb") != 0)
                count[out->w[i].dtype]++;
        out->wtype = TFB_DTYPE_F32;
        for (int d = 0; d < TFB_DTYPE_COUNT; d++)
            if (count[d] > count[out->wtype])
                out->wtype = (tfb_dtype)d;
        out->per_tensor = !L->f32_twin;
        s = tfb_model_validate(out);
    }
    tfb__gguf_close(&L->f);
    free(L->used);
    if (s != TFB_STATUS_OK) {
        tfb_model_free(out);
        memset(out, 0, sizeof *out);
    }
    return s;
}

tfb_status tfb_model_load_gguf(const char *path, bool f32_twin, tfb_model *out) {
    if (!path || !out)
        return tfb_error_set(TFB_STATUS_USAGE, "tfb_model_load_gguf: NULL argument");
    memset(out, 0, sizeof *out);
    /* The f32 twin dequantizes every type it can. */
    gg_loader L = {.path = path,
                   .m = out,
                   .c = &out->cfg,
                   .f32_twin = f32_twin,
                   .convert = f32_twin ? TFB_DTYPE_F32 : gg_convert_to};
    return gg_load(&L);
}

tfb_status tfb__gguf_load_mem(const char *label, const void *buf, size_t size, bool f32_twin,
                              tfb_model *out) {
    memset(out, 0, sizeof *out);
    /* The fuzz target converts too: every path of the mapping is reachable. */
    gg_loader L = {.path = label,
                   .mem = buf,
                   .mem_size = size,
                   .m = out,
                   .c = &out->cfg,
                   .f32_twin = f32_twin,
                   .convert = f32_twin ? TFB_DTYPE_F32 : TFB_DTYPE_Q8_0};
    return gg_load(&L);
}
