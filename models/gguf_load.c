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
#include "models/formats/gguf.h"
#include "tfbench/model.h"

#define GG_NB 96 /* name buffer */

typedef struct gg_loader {
    tfb__gguf_file f;
    const char *path; /* the file, or the label of a memory buffer */
    const void *mem;  /* memory-backed (the fuzz target): the whole file; NULL: read path */
    size_t mem_size;
    char arch[32];
    bool *used;   /* [f.n_t]: read into the model */
    tfb_model *m; /* NULL when only the config is wanted */
    tfb_config *c;
    bool f32_twin; /* every matrix dequantized to F32 */
} gg_loader;

/* One architecture: its name, the `<arch>.` keys it models, and its mapping. */
typedef struct gg_arch {
    const char *name;
    const char *const *keys; /* NULL-terminated suffixes after "<arch>." */
    tfb_status (*config)(gg_loader *L);
    tfb_status (*tensors)(gg_loader *L);
} gg_arch;

/* ---- metadata ---------------------------------------------------------------------------------- */

static const char *gg_key(const gg_loader *L, char *buf, const char *suffix) {
    snprintf(buf, GG_NB, "%s.%s", L->arch, suffix);
    return buf;
}

/* `<arch>.suffix` as an integer in [lo, hi]; def when absent and not required. */
static tfb_status gg_int(gg_loader *L, const char *suffix, bool required, int64_t def, int64_t lo, int64_t hi,
                         int64_t *out) {
    char k[GG_NB];
    gg_key(L, k, suffix);
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
static tfb_status gg_float(gg_loader *L, const char *suffix, bool required, double def, float *out) {
    char k[GG_NB];
    gg_key(L, k, suffix);
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
static tfb_status gg_same(gg_loader *L, const char *suffix, int64_t want) {
    int64_t v;
    TFB_TRY(gg_int(L, suffix, false, want, INT64_MIN, INT64_MAX, &v));
    if (v != want) {
        char k[GG_NB];
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s = %lld, tfbench models only %lld", L->path,
                             gg_key(L, k, suffix), (long long)v, (long long)want);
    }
    return TFB_STATUS_OK;
}

/* Special token ids from the tokenizer metadata, with defaults when absent. */
static tfb_status gg_token_id(gg_loader *L, const char *which, int64_t def, int64_t *out) {
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
    for (int64_t i = 0; i < L->f.n_kv; i++) {
        const char *k = L->f.kv[i].key.s;
        if (strncmp(k, "split.", 6) == 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: split GGUF files (%s) are not supported", L->path, k);
        if (strncmp(k, L->arch, n) != 0 || k[n] != '.')
            continue;
        bool known = false;
        for (const char *const *s = a->keys; *s && !known; s++)
            known = strcmp(k + n + 1, *s) == 0;
        if (!known)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: key %s is not modelled by tfbench", L->path, k);
    }
    return TFB_STATUS_OK;
}

/* ---- tensors ----------------------------------------------------------------------------------- */

typedef enum gg_kind {
    GG_VEC,    /* [d0] -> F32 */
    GG_TABLE,  /* [d0, d1] -> F32 (embeddings: EMBED gathers F32 rows), dequantized exactly */
    GG_MATRIX, /* [d0 = out, d1 = in] -> the stored dtype (F32 with f32_twin) */
} gg_kind;

static const tfb__gguf_tensor *gg_find(gg_loader *L, const char *name) {
    return tfb__gguf_find_tensor(&L->f, name);
}

/* t's shape must be [d0] or [d0, d1] in tfbench's order (ggml's ne is innermost first). */
static tfb_status gg_check_shape(gg_loader *L, const tfb__gguf_tensor *t, gg_kind kind, int64_t d0,
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

/* Read t as stored (*dt its dtype), or dequantized to F32 when to_f32; malloc'ed into *out. */
static tfb_status gg_read(gg_loader *L, const tfb__gguf_tensor *t, bool to_f32, tfb_dtype *dt, void **out) {
    *out = NULL;
    if (!tfb__gguf_ggml_dtype(t->ggml_type, dt) || *dt == TFB_DTYPE_I32) {
        const char *tn = tfb__gguf_ggml_name(t->ggml_type);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor '%s' is of type %s, which tfbench does not run",
                             L->path, t->name.s, tn ? tn : "?");
    }
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
static tfb_status gg_take(gg_loader *L, const char *canon, const char *name, gg_kind kind, int64_t d0,
                          int64_t d1) {
    const tfb__gguf_tensor *t = gg_find(L, name);
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench %s)", L->path, name, canon);
    TFB_TRY(gg_check_shape(L, t, kind, d0, d1));
    tfb_dtype dt;
    void *data;
    TFB_TRY(gg_read(L, t, kind != GG_MATRIX || L->f32_twin, &dt, &data));
    int64_t shape[2] = {d0, d1};
    return tfb_model_add(L->m, canon, dt, kind == GG_VEC ? 1 : 2, shape, data);
}

static const char *gg_fmt(char *buf, const char *fmt, int i, const char *what) {
    snprintf(buf, GG_NB, fmt, i, what);
    return buf;
}

/* The head: `output.weight` when the file has one (untied, or llama.cpp's GPT-2 copy of the
 * embedding), else tied to tok_emb. A tied embedding stored in another dtype than F32 is also
 * loaded as stored into lm_head, so the head runs the file's blocks while EMBED gathers from the
 * exact F32 dequantization. Decides c->head at config time (m NULL) and loads at tensor time. */
static tfb_status gg_head(gg_loader *L) {
    tfb_config *c = L->c;
    const tfb__gguf_tensor *out = gg_find(L, "output.weight"), *emb = gg_find(L, "token_embd.weight");
    tfb_dtype edt = TFB_DTYPE_F32;
    bool emb_stored = emb && tfb__gguf_ggml_dtype(emb->ggml_type, &edt) && edt != TFB_DTYPE_F32;
    c->head = out || (emb_stored && !L->f32_twin) ? TFB_HEAD_OWN : TFB_HEAD_TOK_EMB;
    if (!L->m || c->head == TFB_HEAD_TOK_EMB)
        return TFB_STATUS_OK;
    if (out)
        return gg_take(L, "lm_head", "output.weight", GG_MATRIX, c->n_dec_vocab, c->d_model);
    /* Tied, stored quantized: the same bytes again, as a matrix. */
    TFB_TRY(gg_check_shape(L, emb, GG_MATRIX, c->n_dec_vocab, c->d_model));
    tfb_dtype dt;
    void *data;
    TFB_TRY(gg_read(L, emb, false, &dt, &data));
    int64_t shape[2] = {c->n_dec_vocab, c->d_model};
    return tfb_model_add(L->m, "lm_head", dt, 2, shape, data);
}

/* n_vocab from token_embd's rows (the metadata's vocab_size, when present, must agree). */
static tfb_status gg_vocab(gg_loader *L) {
    const tfb__gguf_tensor *t = gg_find(L, "token_embd.weight");
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor 'token_embd.weight' (tfbench tok_emb)",
                             L->path);
    if (t->n_dims != 2 || t->ne[1] < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor 'token_embd.weight' is not a 2-D table", L->path);
    L->c->n_vocab = L->c->n_dec_vocab = t->ne[1];
    return gg_same(L, "vocab_size", t->ne[1]);
}

/* ---- llama ------------------------------------------------------------------------------------- */

static const char *const llama_keys[] = {"context_length",
                                         "embedding_length",
                                         "block_count",
                                         "feed_forward_length",
                                         "attention.head_count",
                                         "attention.head_count_kv",
                                         "rope.freq_base",
                                         "attention.layer_norm_rms_epsilon",
                                         "rope.dimension_count",
                                         "attention.key_length",
                                         "attention.value_length",
                                         "vocab_size",
                                         NULL};

static tfb_status llama_config(gg_loader *L) {
    tfb_config *c = L->c;
    const int64_t BIG = INT64_C(1) << 24;
    *c = tfb__family_llama();
    c->rope_layout = TFB_ROPE_INTERLEAVED;
    TFB_TRY(gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(gg_int(L, "block_count", true, 0, 1, 4096, &c->dec.n_layer));
    TFB_TRY(gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->dec.d_ff));
    TFB_TRY(gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->dec.n_head));
    TFB_TRY(gg_int(L, "attention.head_count_kv", false, c->dec.n_head, 1, c->dec.n_head, &c->dec.n_kv_head));
    TFB_TRY(gg_float(L, "rope.freq_base", false, 10000.0, &c->rope_theta));
    TFB_TRY(gg_float(L, "attention.layer_norm_rms_epsilon", true, 0.0, &c->eps));
    if (c->d_model % c->dec.n_head != 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: embedding_length %lld is not a multiple of head_count %lld", L->path,
                             (long long)c->d_model, (long long)c->dec.n_head);
    int64_t D = c->d_model / c->dec.n_head;
    TFB_TRY(gg_same(L, "rope.dimension_count", D));
    TFB_TRY(gg_same(L, "attention.key_length", D));
    TFB_TRY(gg_same(L, "attention.value_length", D));
    TFB_TRY(gg_vocab(L));
    TFB_TRY(gg_token_id(L, "bos", c->n_vocab > 1 ? 1 : 0, &c->bos_id));
    TFB_TRY(gg_token_id(L, "eos", c->n_vocab > 2 ? 2 : 0, &c->eos_id));
    TFB_TRY(gg_token_id(L, "padding", c->eos_id, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return TFB_STATUS_OK;
}

static tfb_status llama_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->dec.d_ff, V = c->n_vocab, KV = tfb_config_kv_width(c, &c->dec);
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, V, C));
    static const struct {
        const char *gguf, *canon;
        int out; /* 0: C, 1: KV, 2: F */
        int in;  /* 0: C, 2: F */
    } lin[] = {{"attn_q", "attn.wq", 0, 0},      {"attn_k", "attn.wk", 1, 0},  {"attn_v", "attn.wv", 1, 0},
               {"attn_output", "attn.wo", 0, 0}, {"ffn_gate", "ffn.wg", 2, 0}, {"ffn_up", "ffn.w1", 2, 0},
               {"ffn_down", "ffn.w2", 0, 2}};
    for (int i = 0; i < (int)c->dec.n_layer; i++) {
        for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++) {
            int64_t dims[3] = {C, KV, F};
            TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, lin[k].canon),
                            gg_fmt(gn, "blk.%d.%s.weight", i, lin[k].gguf), GG_MATRIX, dims[lin[k].out],
                            dims[lin[k].in]));
        }
        TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, "ln1.g"),
                        gg_fmt(gn, "blk.%d.%s", i, "attn_norm.weight"), GG_VEC, C, 0));
        TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, "ln2.g"), gg_fmt(gn, "blk.%d.%s", i, "ffn_norm.weight"),
                        GG_VEC, C, 0));
    }
    TFB_TRY(gg_take(L, "final_ln.g", "output_norm.weight", GG_VEC, C, 0));
    return gg_head(L);
}

/* ---- gpt2 -------------------------------------------------------------------------------------- */

static const char *const gpt2_keys[] = {"context_length",       "embedding_length",
                                        "block_count",          "feed_forward_length",
                                        "attention.head_count", "attention.layer_norm_epsilon",
                                        "vocab_size",           NULL};

static tfb_status gpt2_config(gg_loader *L) {
    tfb_config *c = L->c;
    const int64_t BIG = INT64_C(1) << 24;
    *c = tfb__family_gpt2();
    TFB_TRY(gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(gg_int(L, "block_count", true, 0, 1, 4096, &c->dec.n_layer));
    TFB_TRY(gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->dec.d_ff));
    TFB_TRY(gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->dec.n_head));
    TFB_TRY(gg_float(L, "attention.layer_norm_epsilon", true, 0.0, &c->eps));
    TFB_TRY(gg_vocab(L));
    TFB_TRY(gg_token_id(L, "bos", c->n_vocab - 1, &c->bos_id));
    TFB_TRY(gg_token_id(L, "eos", c->n_vocab - 1, &c->eos_id));
    TFB_TRY(gg_token_id(L, "padding", c->eos_id, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return TFB_STATUS_OK;
}

/* GPT-2's fused attn_qkv [3C, C] (+ bias [3C]) split into wq, wk, wv: whole rows, so the stored
 * blocks are kept. */
static tfb_status gpt2_qkv(gg_loader *L, int i) {
    int64_t C = L->c->d_model;
    char gn[GG_NB], cn[GG_NB];
    static const char *const part[3] = {"wq", "wk", "wv"};
    const tfb__gguf_tensor *t = gg_find(L, gg_fmt(gn, "blk.%d.%s", i, "attn_qkv.weight"));
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench dec.%d.attn.wq/wk/wv)",
                             L->path, gn, i);
    TFB_TRY(gg_check_shape(L, t, GG_MATRIX, 3 * C, C));
    tfb_dtype dt;
    void *data;
    TFB_TRY(gg_read(L, t, L->f32_twin, &dt, &data));
    size_t part_bytes = tfb_dtype_row_bytes(dt, C) * (size_t)C;
    tfb_status s = TFB_STATUS_OK;
    for (int k = 0; k < 3 && s == TFB_STATUS_OK; k++) {
        void *p = malloc(part_bytes);
        if (!p) {
            s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory splitting '%s'", L->path, gn);
            break;
        }
        memcpy(p, (const char *)data + (size_t)k * part_bytes, part_bytes);
        int64_t shape[2] = {C, C};
        s = tfb_model_add(L->m, gg_fmt(cn, "dec.%d.attn.%s", i, part[k]), dt, 2, shape, p);
    }
    free(data);
    if (s != TFB_STATUS_OK)
        return s;
    t = gg_find(L, gg_fmt(gn, "blk.%d.%s", i, "attn_qkv.bias"));
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench dec.%d.attn.wq.bias)",
                             L->path, gn, i);
    TFB_TRY(gg_check_shape(L, t, GG_VEC, 3 * C, 0));
    TFB_TRY(gg_read(L, t, true, &dt, &data));
    for (int k = 0; k < 3 && s == TFB_STATUS_OK; k++) {
        float *p = malloc((size_t)C * sizeof *p);
        if (!p) {
            s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory splitting '%s'", L->path, gn);
            break;
        }
        memcpy(p, (const float *)data + k * C, (size_t)C * sizeof *p);
        char nm[GG_NB];
        snprintf(nm, sizeof nm, "dec.%d.attn.%s.bias", i, part[k]);
        int64_t shape[1] = {C};
        s = tfb_model_add(L->m, nm, TFB_DTYPE_F32, 1, shape, p);
    }
    free(data);
    return s;
}

static tfb_status gpt2_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->dec.d_ff, V = c->n_vocab;
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, V, C));
    TFB_TRY(gg_take(L, "pos_emb", "position_embd.weight", GG_TABLE, c->n_ctx, C));
    static const struct {
        const char *gguf, *canon;
        int out, in; /* 0: C, 1: F */
    } lin[] = {{"attn_output", "attn.wo", 0, 0}, {"ffn_up", "ffn.w1", 1, 0}, {"ffn_down", "ffn.w2", 0, 1}};
    static const char *const norms[2][2] = {{"attn_norm", "ln1"}, {"ffn_norm", "ln2"}};
    for (int i = 0; i < (int)c->dec.n_layer; i++) {
        TFB_TRY(gpt2_qkv(L, i));
        for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++) {
            int64_t dims[2] = {C, F};
            char what[GG_NB];
            TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, lin[k].canon),
                            gg_fmt(gn, "blk.%d.%s.weight", i, lin[k].gguf), GG_MATRIX, dims[lin[k].out],
                            dims[lin[k].in]));
            snprintf(what, sizeof what, "%s.bias", lin[k].canon);
            TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, what), gg_fmt(gn, "blk.%d.%s.bias", i, lin[k].gguf),
                            GG_VEC, dims[lin[k].out], 0));
        }
        for (int k = 0; k < 2; k++) {
            char cw[GG_NB], gw[GG_NB];
            snprintf(cw, sizeof cw, "%s.g", norms[k][1]);
            snprintf(gw, sizeof gw, "%s.weight", norms[k][0]);
            TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, cw), gg_fmt(gn, "blk.%d.%s", i, gw), GG_VEC, C, 0));
            snprintf(cw, sizeof cw, "%s.b", norms[k][1]);
            snprintf(gw, sizeof gw, "%s.bias", norms[k][0]);
            TFB_TRY(gg_take(L, gg_fmt(cn, "dec.%d.%s", i, cw), gg_fmt(gn, "blk.%d.%s", i, gw), GG_VEC, C, 0));
        }
    }
    TFB_TRY(gg_take(L, "final_ln.g", "output_norm.weight", GG_VEC, C, 0));
    TFB_TRY(gg_take(L, "final_ln.b", "output_norm.bias", GG_VEC, C, 0));
    return gg_head(L);
}

/* ---- bert (headless: llama.cpp's converter drops the MLM head and the pooler) ------------------ */

static const char *const bert_keys[] = {
    "context_length",       "embedding_length",
    "block_count",          "feed_forward_length",
    "attention.head_count", "attention.layer_norm_epsilon",
    "attention.causal",     "pooling_type", /* how llama.cpp pools embeddings; no effect on hidden states */
    "vocab_size",           NULL};

static tfb_status bert_config(gg_loader *L) {
    tfb_config *c = L->c;
    const int64_t BIG = INT64_C(1) << 24;
    *c = tfb__family_bert(false);
    TFB_TRY(gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(gg_int(L, "block_count", true, 0, 1, 4096, &c->enc.n_layer));
    TFB_TRY(gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->enc.d_ff));
    TFB_TRY(gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->enc.n_head));
    TFB_TRY(gg_float(L, "attention.layer_norm_epsilon", true, 0.0, &c->eps));
    char k[GG_NB];
    bool causal = false;
    if (tfb__gguf_find_key(&L->f, gg_key(L, k, "attention.causal")))
        TFB_TRY(tfb__gguf_get_bool(&L->f, k, &causal));
    if (causal)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s is true: a causal BERT is not modelled by tfbench",
                             L->path, k);
    int64_t types = 2;
    if (tfb__gguf_find_key(&L->f, "tokenizer.ggml.token_type_count"))
        TFB_TRY(tfb__gguf_get_i64(&L->f, "tokenizer.ggml.token_type_count", &types));
    if (types < 1 || types > 16)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tokenizer.ggml.token_type_count = %lld, outside [1, 16]",
                             L->path, (long long)types);
    c->n_type = types;
    TFB_TRY(gg_vocab(L));
    TFB_TRY(gg_token_id(L, "cls", 0, &c->bos_id));
    TFB_TRY(gg_token_id(L, "seperator", 0, &c->eos_id)); /* llama.cpp's spelling */
    TFB_TRY(gg_token_id(L, "padding", 0, &c->pad_id));
    c->decoder_start_id = c->pad_id;
    return TFB_STATUS_OK;
}

/* <gguf>.weight as a matrix [out, in] and <gguf>.bias [out]. */
static tfb_status gg_linear(gg_loader *L, const char *canon, const char *gguf, int64_t out, int64_t in) {
    char cn[GG_NB], gn[GG_NB];
    snprintf(gn, sizeof gn, "%s.weight", gguf);
    TFB_TRY(gg_take(L, canon, gn, GG_MATRIX, out, in));
    snprintf(cn, sizeof cn, "%s.bias", canon);
    snprintf(gn, sizeof gn, "%s.bias", gguf);
    return gg_take(L, cn, gn, GG_VEC, out, 0);
}

/* A LayerNorm: <gguf>.weight, .bias -> <canon>.g, .b. */
static tfb_status gg_layernorm(gg_loader *L, const char *canon, const char *gguf, int64_t C) {
    char cn[GG_NB], gn[GG_NB];
    snprintf(cn, sizeof cn, "%s.g", canon);
    snprintf(gn, sizeof gn, "%s.weight", gguf);
    TFB_TRY(gg_take(L, cn, gn, GG_VEC, C, 0));
    snprintf(cn, sizeof cn, "%s.b", canon);
    snprintf(gn, sizeof gn, "%s.bias", gguf);
    return gg_take(L, cn, gn, GG_VEC, C, 0);
}

static tfb_status bert_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->enc.d_ff;
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, c->n_vocab, C));
    TFB_TRY(gg_take(L, "pos_emb", "position_embd.weight", GG_TABLE, c->n_ctx, C));
    TFB_TRY(gg_take(L, "type_emb", "token_types.weight", GG_TABLE, c->n_type, C));
    TFB_TRY(gg_layernorm(L, "emb_ln", "token_embd_norm", C));
    static const struct {
        const char *gguf, *canon;
        bool out_f, in_f;
    } lin[] = {{"attn_q", "attn.wq", false, false}, {"attn_k", "attn.wk", false, false},
               {"attn_v", "attn.wv", false, false}, {"attn_output", "attn.wo", false, false},
               {"ffn_up", "ffn.w1", true, false},   {"ffn_down", "ffn.w2", false, true}};
    for (int i = 0; i < (int)c->enc.n_layer; i++) {
        for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++)
            TFB_TRY(gg_linear(L, gg_fmt(cn, "enc.%d.%s", i, lin[k].canon),
                              gg_fmt(gn, "blk.%d.%s", i, lin[k].gguf), lin[k].out_f ? F : C,
                              lin[k].in_f ? F : C));
        TFB_TRY(gg_layernorm(L, gg_fmt(cn, "enc.%d.%s", i, "ln1"),
                             gg_fmt(gn, "blk.%d.%s", i, "attn_output_norm"), C));
        TFB_TRY(gg_layernorm(L, gg_fmt(cn, "enc.%d.%s", i, "ln2"),
                             gg_fmt(gn, "blk.%d.%s", i, "layer_output_norm"), C));
    }
    return TFB_STATUS_OK;
}

/* ---- t5 (enc. / dec. prefixes; relative positions' max distance 128: no key holds it) ---------- */

static const char *const t5_keys[] = {"context_length",
                                      "embedding_length",
                                      "feed_forward_length",
                                      "block_count",
                                      "attention.head_count",
                                      "attention.key_length",
                                      "attention.value_length",
                                      "attention.layer_norm_epsilon",
                                      "attention.layer_norm_rms_epsilon",
                                      "attention.relative_buckets_count",
                                      "decoder_start_token_id",
                                      "vocab_size",
                                      NULL};

static tfb_status t5_config(gg_loader *L) {
    tfb_config *c = L->c;
    const int64_t BIG = INT64_C(1) << 24;
    /* v1.1 (gated-gelu) when the file has a gate, v1.0 (relu) otherwise, as llama.cpp decides. */
    *c = tfb__family_t5(gg_find(L, "enc.blk.0.ffn_gate.weight") != NULL);
    int64_t H;
    TFB_TRY(gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(gg_int(L, "block_count", true, 0, 1, 4096, &c->enc.n_layer));
    TFB_TRY(gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->enc.d_ff));
    TFB_TRY(gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &H));
    TFB_TRY(gg_float(L, "attention.layer_norm_rms_epsilon", true, 0.0, &c->eps));
    TFB_TRY(gg_int(L, "attention.relative_buckets_count", true, 0, 2, 4096, &c->rel_buckets));
    if (c->d_model % H != 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: embedding_length %lld is not a multiple of head_count %lld", L->path,
                             (long long)c->d_model, (long long)H);
    TFB_TRY(gg_same(L, "attention.key_length", c->d_model / H));
    TFB_TRY(gg_same(L, "attention.value_length", c->d_model / H));
    c->enc.n_head = H;
    c->dec = c->enc; /* one block_count: as many decoder as encoder layers */
    c->rel_max_distance = 128;
    TFB_TRY(gg_vocab(L));
    /* Tied (no output.weight): transformers scales the head's input by d_model^-0.5. */
    if (!gg_find(L, "output.weight"))
        c->head_scale = (float)(1.0 / sqrt((double)c->d_model));
    TFB_TRY(gg_int(L, "decoder_start_token_id", false, 0, 0, c->n_vocab - 1, &c->decoder_start_id));
    TFB_TRY(gg_token_id(L, "padding", 0, &c->pad_id));
    TFB_TRY(gg_token_id(L, "eos", c->n_vocab > 1 ? 1 : 0, &c->eos_id));
    c->bos_id = c->eos_id; /* T5 has no BOS */
    return TFB_STATUS_OK;
}

static tfb_status t5_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->enc.d_ff;
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, c->n_vocab, C));
    static const char *const proj[4][2] = {{"q", "wq"}, {"k", "wk"}, {"v", "wv"}, {"o", "wo"}};
    for (int side = 0; side < 2; side++) {
        const char *gs = side ? "dec" : "enc";
        snprintf(gn, sizeof gn, "%s.blk.0.attn_rel_b.weight", gs);
        snprintf(cn, sizeof cn, "%s.rel_bias", gs);
        TFB_TRY(gg_take(L, cn, gn, GG_TABLE, c->rel_buckets, c->enc.n_head));
        for (int i = 0; i < (int)c->enc.n_layer; i++) {
            for (int x = 0; x < (side ? 2 : 1); x++)
                for (int k = 0; k < 4; k++) {
                    snprintf(cn, sizeof cn, "%s.%d.%s.%s", gs, i, x ? "xattn" : "attn", proj[k][1]);
                    snprintf(gn, sizeof gn, "%s.blk.%d.%s_%s.weight", gs, i, x ? "cross_attn" : "attn",
                             proj[k][0]);
                    TFB_TRY(gg_take(L, cn, gn, GG_MATRIX, C, C));
                }
            static const struct {
                const char *gguf, *canon;
                int out, in; /* 0: C, 1: F */
                bool gate, cross;
            } t[] = {{"attn_norm.weight", "ln1.g", 0, -1, false, false},
                     {"cross_attn_norm.weight", "ln_x.g", 0, -1, false, true},
                     {"ffn_norm.weight", "ln2.g", 0, -1, false, false},
                     {"ffn_up.weight", "ffn.w1", 1, 0, false, false},
                     {"ffn_gate.weight", "ffn.wg", 1, 0, true, false},
                     {"ffn_down.weight", "ffn.w2", 0, 1, false, false}};
            for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
                if ((t[k].cross && !side) || (t[k].gate && !c->ffn_gated))
                    continue;
                int64_t dims[2] = {C, F};
                snprintf(cn, sizeof cn, "%s.%d.%s", gs, i, t[k].canon);
                snprintf(gn, sizeof gn, "%s.blk.%d.%s", gs, i, t[k].gguf);
                TFB_TRY(t[k].in < 0 ? gg_take(L, cn, gn, GG_VEC, C, 0)
                                    : gg_take(L, cn, gn, GG_MATRIX, dims[t[k].out], dims[t[k].in]));
            }
        }
        snprintf(gn, sizeof gn, "%s.output_norm.weight", gs);
        TFB_TRY(gg_take(L, side ? "final_ln.g" : "enc_final_ln.g", gn, GG_VEC, C, 0));
    }
    return gg_head(L);
}

/* ---- entry points ------------------------------------------------------------------------------ */

static const gg_arch gg_archs[] = {
    {"llama", llama_keys, llama_config, llama_tensors},
    {"gpt2", gpt2_keys, gpt2_config, gpt2_tensors},
    {"bert", bert_keys, bert_config, bert_tensors},
    {"t5", t5_keys, t5_config, t5_tensors},
};

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
    for (size_t i = 0; i < sizeof gg_archs / sizeof gg_archs[0]; i++)
        if (strlen(gg_archs[i].name) == a->len && memcmp(gg_archs[i].name, a->s, a->len) == 0)
            *arch = &gg_archs[i];
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
    tfb_status s = gg_head(L);
    L->m = m;
    return s;
}

tfb_status tfb__gguf_load_config(const char *path, tfb_config *out) {
    gg_loader L = {.path = path, .c = out};
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
    for (int64_t i = 0; s == TFB_STATUS_OK && i < L->f.n_t; i++)
        if (!L->used[i])
            s = tfb_error_set(TFB_STATUS_INPUT,
                              "%s: unexpected tensor '%s' (the %s description has no use for it)", path,
                              L->f.t[i].name.s, arch->name);
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
    gg_loader L = {.path = path, .m = out, .c = &out->cfg, .f32_twin = f32_twin};
    return gg_load(&L);
}

tfb_status tfb__gguf_load_mem(const char *label, const void *buf, size_t size, bool f32_twin,
                              tfb_model *out) {
    memset(out, 0, sizeof *out);
    gg_loader L = {
        .path = label, .mem = buf, .mem_size = size, .m = out, .c = &out->cfg, .f32_twin = f32_twin};
    return gg_load(&L);
}
