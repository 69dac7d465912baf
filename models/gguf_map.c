/* GGUF architectures mapped onto the family descriptions (families.c): the `<arch>.` keys each
 * models (gguf_load.c refuses any other), its hyper-parameters and llama.cpp's tensor names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/families.h"
#include "models/gguf_load.h"

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
    TFB_TRY(tfb__gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(tfb__gg_int(L, "block_count", true, 0, 1, 4096, &c->dec.n_layer));
    TFB_TRY(tfb__gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(tfb__gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->dec.d_ff));
    TFB_TRY(tfb__gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->dec.n_head));
    TFB_TRY(
        tfb__gg_int(L, "attention.head_count_kv", false, c->dec.n_head, 1, c->dec.n_head, &c->dec.n_kv_head));
    TFB_TRY(tfb__gg_float(L, "rope.freq_base", false, 10000.0, &c->rope_theta));
    TFB_TRY(tfb__gg_float(L, "attention.layer_norm_rms_epsilon", true, 0.0, &c->eps));
    if (c->d_model % c->dec.n_head != 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: embedding_length %lld is not a multiple of head_count %lld", L->path,
                             (long long)c->d_model, (long long)c->dec.n_head);
    int64_t D = c->d_model / c->dec.n_head;
    TFB_TRY(tfb__gg_same(L, "rope.dimension_count", D));
    TFB_TRY(tfb__gg_same(L, "attention.key_length", D));
    TFB_TRY(tfb__gg_same(L, "attention.value_length", D));
    TFB_TRY(tfb__gg_vocab(L));
    TFB_TRY(tfb__gg_token_id(L, "bos", c->n_vocab > 1 ? 1 : 0, &c->bos_id));
    TFB_TRY(tfb__gg_token_id(L, "eos", c->n_vocab > 2 ? 2 : 0, &c->eos_id));
    TFB_TRY(tfb__gg_token_id(L, "padding", c->eos_id, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return TFB_STATUS_OK;
}

static tfb_status llama_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->dec.d_ff, V = c->n_vocab, KV = tfb_config_kv_width(c, &c->dec);
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(tfb__gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, V, C));
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
            TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, lin[k].canon),
                                 tfb__gg_fmt(gn, "blk.%d.%s.weight", i, lin[k].gguf), GG_MATRIX,
                                 dims[lin[k].out], dims[lin[k].in]));
        }
        TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, "ln1.g"),
                             tfb__gg_fmt(gn, "blk.%d.%s", i, "attn_norm.weight"), GG_VEC, C, 0));
        TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, "ln2.g"),
                             tfb__gg_fmt(gn, "blk.%d.%s", i, "ffn_norm.weight"), GG_VEC, C, 0));
    }
    TFB_TRY(tfb__gg_take(L, "final_ln.g", "output_norm.weight", GG_VEC, C, 0));
    return tfb__gg_head(L);
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
    TFB_TRY(tfb__gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(tfb__gg_int(L, "block_count", true, 0, 1, 4096, &c->dec.n_layer));
    TFB_TRY(tfb__gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(tfb__gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->dec.d_ff));
    TFB_TRY(tfb__gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->dec.n_head));
    TFB_TRY(tfb__gg_float(L, "attention.layer_norm_epsilon", true, 0.0, &c->eps));
    TFB_TRY(tfb__gg_vocab(L));
    TFB_TRY(tfb__gg_token_id(L, "bos", c->n_vocab - 1, &c->bos_id));
    TFB_TRY(tfb__gg_token_id(L, "eos", c->n_vocab - 1, &c->eos_id));
    TFB_TRY(tfb__gg_token_id(L, "padding", c->eos_id, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return TFB_STATUS_OK;
}

/* GPT-2's fused attn_qkv [3C, C] (+ bias [3C]) split into wq, wk, wv: whole rows, so the stored
 * blocks are kept. */
static tfb_status gpt2_qkv(gg_loader *L, int i) {
    int64_t C = L->c->d_model;
    char gn[GG_NB], cn[GG_NB];
    static const char *const part[3] = {"wq", "wk", "wv"};
    const tfb__gguf_tensor *t = tfb__gg_find(L, tfb__gg_fmt(gn, "blk.%d.%s", i, "attn_qkv.weight"));
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench dec.%d.attn.wq/wk/wv)",
                             L->path, gn, i);
    TFB_TRY(tfb__gg_check_shape(L, t, GG_MATRIX, 3 * C, C));
    tfb_dtype dt;
    void *data;
    TFB_TRY(tfb__gg_read(L, t, L->f32_twin, &dt, &data));
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
        s = tfb_model_add(L->m, tfb__gg_fmt(cn, "dec.%d.attn.%s", i, part[k]), dt, 2, shape, p);
    }
    free(data);
    if (s != TFB_STATUS_OK)
        return s;
    t = tfb__gg_find(L, tfb__gg_fmt(gn, "blk.%d.%s", i, "attn_qkv.bias"));
    if (!t)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s' (tfbench dec.%d.attn.wq.bias)",
                             L->path, gn, i);
    TFB_TRY(tfb__gg_check_shape(L, t, GG_VEC, 3 * C, 0));
    TFB_TRY(tfb__gg_read(L, t, true, &dt, &data));
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
    TFB_TRY(tfb__gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, V, C));
    TFB_TRY(tfb__gg_take(L, "pos_emb", "position_embd.weight", GG_TABLE, c->n_ctx, C));
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
            TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, lin[k].canon),
                                 tfb__gg_fmt(gn, "blk.%d.%s.weight", i, lin[k].gguf), GG_MATRIX,
                                 dims[lin[k].out], dims[lin[k].in]));
            snprintf(what, sizeof what, "%s.bias", lin[k].canon);
            TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, what),
                                 tfb__gg_fmt(gn, "blk.%d.%s.bias", i, lin[k].gguf), GG_VEC, dims[lin[k].out],
                                 0));
        }
        for (int k = 0; k < 2; k++) {
            char cw[GG_NB], gw[GG_NB];
            snprintf(cw, sizeof cw, "%s.g", norms[k][1]);
            snprintf(gw, sizeof gw, "%s.weight", norms[k][0]);
            TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, cw), tfb__gg_fmt(gn, "blk.%d.%s", i, gw),
                                 GG_VEC, C, 0));
            snprintf(cw, sizeof cw, "%s.b", norms[k][1]);
            snprintf(gw, sizeof gw, "%s.bias", norms[k][0]);
            TFB_TRY(tfb__gg_take(L, tfb__gg_fmt(cn, "dec.%d.%s", i, cw), tfb__gg_fmt(gn, "blk.%d.%s", i, gw),
                                 GG_VEC, C, 0));
        }
    }
    TFB_TRY(tfb__gg_take(L, "final_ln.g", "output_norm.weight", GG_VEC, C, 0));
    TFB_TRY(tfb__gg_take(L, "final_ln.b", "output_norm.bias", GG_VEC, C, 0));
    return tfb__gg_head(L);
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
    TFB_TRY(tfb__gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(tfb__gg_int(L, "block_count", true, 0, 1, 4096, &c->enc.n_layer));
    TFB_TRY(tfb__gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(tfb__gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->enc.d_ff));
    TFB_TRY(tfb__gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &c->enc.n_head));
    TFB_TRY(tfb__gg_float(L, "attention.layer_norm_epsilon", true, 0.0, &c->eps));
    char k[GG_NB];
    bool causal = false;
    if (tfb__gguf_find_key(&L->f, tfb__gg_key(L, k, "attention.causal")))
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
    TFB_TRY(tfb__gg_vocab(L));
    TFB_TRY(tfb__gg_token_id(L, "cls", 0, &c->bos_id));
    TFB_TRY(tfb__gg_token_id(L, "seperator", 0, &c->eos_id)); /* llama.cpp's spelling */
    TFB_TRY(tfb__gg_token_id(L, "padding", 0, &c->pad_id));
    c->decoder_start_id = c->pad_id;
    return TFB_STATUS_OK;
}

/* <gguf>.weight as a matrix [out, in] and <gguf>.bias [out]. */
static tfb_status gg_linear(gg_loader *L, const char *canon, const char *gguf, int64_t out, int64_t in) {
    char cn[GG_NB], gn[GG_NB];
    snprintf(gn, sizeof gn, "%s.weight", gguf);
    TFB_TRY(tfb__gg_take(L, canon, gn, GG_MATRIX, out, in));
    snprintf(cn, sizeof cn, "%s.bias", canon);
    snprintf(gn, sizeof gn, "%s.bias", gguf);
    return tfb__gg_take(L, cn, gn, GG_VEC, out, 0);
}

/* A LayerNorm: <gguf>.weight, .bias -> <canon>.g, .b. */
static tfb_status gg_layernorm(gg_loader *L, const char *canon, const char *gguf, int64_t C) {
    char cn[GG_NB], gn[GG_NB];
    snprintf(cn, sizeof cn, "%s.g", canon);
    snprintf(gn, sizeof gn, "%s.weight", gguf);
    TFB_TRY(tfb__gg_take(L, cn, gn, GG_VEC, C, 0));
    snprintf(cn, sizeof cn, "%s.b", canon);
    snprintf(gn, sizeof gn, "%s.bias", gguf);
    return tfb__gg_take(L, cn, gn, GG_VEC, C, 0);
}

static tfb_status bert_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->enc.d_ff;
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(tfb__gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, c->n_vocab, C));
    TFB_TRY(tfb__gg_take(L, "pos_emb", "position_embd.weight", GG_TABLE, c->n_ctx, C));
    TFB_TRY(tfb__gg_take(L, "type_emb", "token_types.weight", GG_TABLE, c->n_type, C));
    TFB_TRY(gg_layernorm(L, "emb_ln", "token_embd_norm", C));
    static const struct {
        const char *gguf, *canon;
        bool out_f, in_f;
    } lin[] = {{"attn_q", "attn.wq", false, false}, {"attn_k", "attn.wk", false, false},
               {"attn_v", "attn.wv", false, false}, {"attn_output", "attn.wo", false, false},
               {"ffn_up", "ffn.w1", true, false},   {"ffn_down", "ffn.w2", false, true}};
    for (int i = 0; i < (int)c->enc.n_layer; i++) {
        for (size_t k = 0; k < sizeof lin / sizeof lin[0]; k++)
            TFB_TRY(gg_linear(L, tfb__gg_fmt(cn, "enc.%d.%s", i, lin[k].canon),
                              tfb__gg_fmt(gn, "blk.%d.%s", i, lin[k].gguf), lin[k].out_f ? F : C,
                              lin[k].in_f ? F : C));
        TFB_TRY(gg_layernorm(L, tfb__gg_fmt(cn, "enc.%d.%s", i, "ln1"),
                             tfb__gg_fmt(gn, "blk.%d.%s", i, "attn_output_norm"), C));
        TFB_TRY(gg_layernorm(L, tfb__gg_fmt(cn, "enc.%d.%s", i, "ln2"),
                             tfb__gg_fmt(gn, "blk.%d.%s", i, "layer_output_norm"), C));
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
    *c = tfb__family_t5(tfb__gg_find(L, "enc.blk.0.ffn_gate.weight") != NULL);
    int64_t H;
    TFB_TRY(tfb__gg_int(L, "embedding_length", true, 0, 1, BIG, &c->d_model));
    TFB_TRY(tfb__gg_int(L, "block_count", true, 0, 1, 4096, &c->enc.n_layer));
    TFB_TRY(tfb__gg_int(L, "context_length", true, 0, 1, BIG, &c->n_ctx));
    TFB_TRY(tfb__gg_int(L, "feed_forward_length", true, 0, 1, BIG, &c->enc.d_ff));
    TFB_TRY(tfb__gg_int(L, "attention.head_count", true, 0, 1, c->d_model, &H));
    TFB_TRY(tfb__gg_float(L, "attention.layer_norm_rms_epsilon", true, 0.0, &c->eps));
    TFB_TRY(tfb__gg_int(L, "attention.relative_buckets_count", true, 0, 2, 4096, &c->rel_buckets));
    if (c->d_model % H != 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: embedding_length %lld is not a multiple of head_count %lld", L->path,
                             (long long)c->d_model, (long long)H);
    TFB_TRY(tfb__gg_same(L, "attention.key_length", c->d_model / H));
    TFB_TRY(tfb__gg_same(L, "attention.value_length", c->d_model / H));
    c->enc.n_head = H;
    c->dec = c->enc; /* one block_count: as many decoder as encoder layers */
    c->rel_max_distance = 128;
    TFB_TRY(tfb__gg_vocab(L));
    /* Tied (no output.weight): transformers scales the head's input by d_model^-0.5. */
    if (!tfb__gg_find(L, "output.weight"))
        c->head_scale = (float)(1.0 / sqrt((double)c->d_model));
    TFB_TRY(tfb__gg_int(L, "decoder_start_token_id", false, 0, 0, c->n_vocab - 1, &c->decoder_start_id));
    TFB_TRY(tfb__gg_token_id(L, "padding", 0, &c->pad_id));
    TFB_TRY(tfb__gg_token_id(L, "eos", c->n_vocab > 1 ? 1 : 0, &c->eos_id));
    c->bos_id = c->eos_id; /* T5 has no BOS */
    return TFB_STATUS_OK;
}

static tfb_status t5_tensors(gg_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->enc.d_ff;
    char cn[GG_NB], gn[GG_NB];
    TFB_TRY(tfb__gg_take(L, "tok_emb", "token_embd.weight", GG_TABLE, c->n_vocab, C));
    static const char *const proj[4][2] = {{"q", "wq"}, {"k", "wk"}, {"v", "wv"}, {"o", "wo"}};
    for (int side = 0; side < 2; side++) {
        const char *gs = side ? "dec" : "enc";
        snprintf(gn, sizeof gn, "%s.blk.0.attn_rel_b.weight", gs);
        snprintf(cn, sizeof cn, "%s.rel_bias", gs);
        TFB_TRY(tfb__gg_take(L, cn, gn, GG_TABLE, c->rel_buckets, c->enc.n_head));
        for (int i = 0; i < (int)c->enc.n_layer; i++) {
            for (int x = 0; x < (side ? 2 : 1); x++)
                for (int k = 0; k < 4; k++) {
                    snprintf(cn, sizeof cn, "%s.%d.%s.%s", gs, i, x ? "xattn" : "attn", proj[k][1]);
                    snprintf(gn, sizeof gn, "%s.blk.%d.%s_%s.weight", gs, i, x ? "cross_attn" : "attn",
                             proj[k][0]);
                    TFB_TRY(tfb__gg_take(L, cn, gn, GG_MATRIX, C, C));
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
                TFB_TRY(t[k].in < 0 ? tfb__gg_take(L, cn, gn, GG_VEC, C, 0)
                                    : tfb__gg_take(L, cn, gn, GG_MATRIX, dims[t[k].out], dims[t[k].in]));
            }
        }
        snprintf(gn, sizeof gn, "%s.output_norm.weight", gs);
        TFB_TRY(tfb__gg_take(L, side ? "final_ln.g" : "enc_final_ln.g", gn, GG_VEC, C, 0));
    }
    return tfb__gg_head(L);
}

const gg_arch tfb__gg_archs[] = {
    {"llama", llama_keys, llama_config, llama_tensors},
    {"gpt2", gpt2_keys, gpt2_config, gpt2_tensors},
    {"bert", bert_keys, bert_config, bert_tensors},
    {"t5", t5_keys, t5_config, t5_tensors},
};
const int tfb__gg_n_archs = (int)(sizeof tfb__gg_archs / sizeof tfb__gg_archs[0]);
