/* Hugging Face tensor names of each model class tfbench loads, mapped to the canonical names of
 * include/tfbench/model.h, and the tensors a class's files may carry that the model does not use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/hf_load.h"

/* name matches pattern, where '#' stands for one or more digits. */
static bool name_match(const char *pat, const char *name) {
    while (*pat) {
        if (*pat == '#') {
            if (*name < '0' || *name > '9')
                return false;
            while (*name >= '0' && *name <= '9')
                name++;
            pat++;
        } else if (*pat++ != *name++) {
            return false;
        }
    }
    return *name == '\0';
}

/* name with any of the prefixes stripped matches one of the patterns. */
static bool match_any(const char *name, const char *const *prefixes, const char *const *pats) {
    for (const char *const *pre = prefixes; *pre; pre++) {
        size_t n = strlen(*pre);
        if (strncmp(name, *pre, n) != 0)
            continue;
        for (const char *const *p = pats; *p; p++)
            if (name_match(*p, name + n))
                return true;
    }
    return false;
}

/* ---- GPT2LMHeadModel --------------------------------------------------------------------------- */

/* name with and without the "transformer." prefix. */
static tfb_status g2_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                          const char *base) {
    char a[NB];
    tfb__hf_fmt(a, sizeof a, "transformer.%s", base);
    return tfb__hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base));
}

/* c_attn: Conv1D [C, 3C] (+ bias [3C]) split into wq, wk, wv [C,C] each ([out,in]). */
static tfb_status g2_c_attn(hf_loader *L, int layer) {
    int64_t C = L->c->d_model;
    char a[NB], b[NB], canon[NB];
    static const char *parts[3] = {"wq", "wk", "wv"};
    hf_src src;
    for (int bias = 0; bias < 2; bias++) {
        tfb__hf_fmt(b, sizeof b, "h.%d.attn.c_attn.%s", layer, bias ? "bias" : "weight");
        tfb__hf_fmt(a, sizeof a, "transformer.%s", b);
        TFB_TRY(tfb__hf_find_any(L, HF_NAMES(a, b), &src));
        if (!src.t)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor '%s'", L->where, b);
        if (bias)
            TFB_TRY(tfb__hf_check_shape(&src, 1, 3 * C, 0));
        else
            TFB_TRY(tfb__hf_check_shape(&src, 2, C, 3 * C));
        float *x;
        TFB_TRY(tfb__hf_read(L, &src, &x)); /* weight [C_in, 3C_out], bias [3C] */
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
            tfb__hf_fmt(canon, sizeof canon, "dec.%d.attn.%s%s", layer, parts[p], bias ? ".bias" : "");
            s = bias ? tfb__hf_store(L, src.f->label, canon, TFB_DTYPE_F32, 0, C, y)
                     : tfb__hf_store(L, src.f->label, canon, L->wtype, C, C, y);
        }
        free(x);
        TFB_TRY(s);
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__hf_map_gpt2(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->dec.d_ff, V = c->n_vocab, P = c->n_ctx;
    bool tied = c->head == TFB_HEAD_TOK_EMB;
    char canon[NB], base[NB];
    /* Tied twins: either copy may be the one a deduplicating writer kept. */
    TFB_TRY(tfb__hf_take(L, "tok_emb", HF_TABLE, V, C,
                         HF_NAMES("transformer.wte.weight", "wte.weight", tied ? "lm_head.weight" : NULL)));
    TFB_TRY(g2_take(L, "pos_emb", HF_TABLE, P, C, "wpe.weight"));
    for (int i = 0; i < (int)c->dec.n_layer; i++) {
        static const struct { const char *hf, *canon; } lns[] = {{"ln_1", "ln1"}, {"ln_2", "ln2"}};
        for (int k = 0; k < 2; k++) {
            TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.%s.g", i, lns[k].canon), HF_VEC, C, 0,
                            tfb__hf_fmt(base, NB, "h.%d.%s.weight", i, lns[k].hf)));
            TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.%s.b", i, lns[k].canon), HF_VEC, C, 0,
                            tfb__hf_fmt(base, NB, "h.%d.%s.bias", i, lns[k].hf)));
        }
        TFB_TRY(g2_c_attn(L, i));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.attn.wo", i), HF_CONV1D, C, C,
                        tfb__hf_fmt(base, NB, "h.%d.attn.c_proj.weight", i)));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.attn.wo.bias", i), HF_VEC, C, 0,
                        tfb__hf_fmt(base, NB, "h.%d.attn.c_proj.bias", i)));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.ffn.w1", i), HF_CONV1D, C, F,
                        tfb__hf_fmt(base, NB, "h.%d.mlp.c_fc.weight", i)));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.ffn.w1.bias", i), HF_VEC, F, 0,
                        tfb__hf_fmt(base, NB, "h.%d.mlp.c_fc.bias", i)));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.ffn.w2", i), HF_CONV1D, F, C,
                        tfb__hf_fmt(base, NB, "h.%d.mlp.c_proj.weight", i)));
        TFB_TRY(g2_take(L, tfb__hf_fmt(canon, NB, "dec.%d.ffn.w2.bias", i), HF_VEC, C, 0,
                        tfb__hf_fmt(base, NB, "h.%d.mlp.c_proj.bias", i)));
    }
    TFB_TRY(g2_take(L, "final_ln.g", HF_VEC, C, 0, "ln_f.weight"));
    TFB_TRY(g2_take(L, "final_ln.b", HF_VEC, C, 0, "ln_f.bias"));
    if (!tied)
        return tfb__hf_take(L, "lm_head", HF_LINEAR, V, C, HF_NAMES("lm_head.weight"));
    /* Tied to wte: a stored copy must be that copy. */
    TFB_TRY(tfb__hf_tied_copy(L, "lm_head.weight", "tok_emb"));
    return tfb__hf_tied_copy(L, "transformer.wte.weight", "tok_emb");
}

/* ---- BertForMaskedLM --------------------------------------------------------------------------- */

/* base with and without "bert."; LayerNorm parameters also under their TF names gamma/beta. */
static tfb_status bert_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                            const char *base, const char *alt) {
    char a[NB], b[NB];
    tfb__hf_fmt(a, sizeof a, "bert.%s", base);
    if (alt)
        tfb__hf_fmt(b, sizeof b, "bert.%s", alt);
    return tfb__hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base, alt ? b : NULL, alt));
}

/* LayerNorm pair: <hf>.weight|gamma -> <canon>.g, <hf>.bias|beta -> <canon>.b. */
static tfb_status bert_ln(hf_loader *L, const char *canon, const char *hf, bool prefixed) {
    int64_t C = L->c->d_model;
    char cn[NB], w[NB], g[NB];
    static const char *const sfx[2][3] = {{"g", "weight", "gamma"}, {"b", "bias", "beta"}};
    for (int k = 0; k < 2; k++) {
        tfb__hf_fmt(cn, NB, "%s.%s", canon, sfx[k][0]);
        tfb__hf_fmt(w, NB, "%s.%s", hf, sfx[k][1]);
        tfb__hf_fmt(g, NB, "%s.%s", hf, sfx[k][2]);
        if (prefixed)
            TFB_TRY(bert_take(L, cn, HF_VEC, C, 0, w, g));
        else
            TFB_TRY(tfb__hf_take(L, cn, HF_VEC, C, 0, HF_NAMES(w, g)));
    }
    return TFB_STATUS_OK;
}

/* nn.Linear pair: <hf>.weight [out,in] -> canon, <hf>.bias [out] -> canon.bias. */
static tfb_status bert_linear(hf_loader *L, const char *canon, const char *hf, int64_t out, int64_t in,
                              bool prefixed) {
    char cn[NB], w[NB], bi[NB];
    tfb__hf_fmt(w, NB, "%s.weight", hf);
    tfb__hf_fmt(bi, NB, "%s.bias", hf);
    tfb__hf_fmt(cn, NB, "%s.bias", canon);
    if (prefixed) {
        TFB_TRY(bert_take(L, canon, HF_LINEAR, out, in, w, NULL));
        return bert_take(L, cn, HF_VEC, out, 0, bi, NULL);
    }
    TFB_TRY(tfb__hf_take(L, canon, HF_LINEAR, out, in, HF_NAMES(w)));
    return tfb__hf_take(L, cn, HF_VEC, out, 0, HF_NAMES(bi));
}

tfb_status tfb__hf_map_bert(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->enc.d_ff, V = c->n_vocab, P = c->n_ctx;
    bool tied = c->has_lm_head && c->head == TFB_HEAD_TOK_EMB;
    char cn[NB], hf[NB];
    TFB_TRY(tfb__hf_take(L, "tok_emb", HF_TABLE, V, C,
                         HF_NAMES("bert.embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight",
                                  tied ? "cls.predictions.decoder.weight" : NULL)));
    TFB_TRY(bert_take(L, "pos_emb", HF_TABLE, P, C, "embeddings.position_embeddings.weight", NULL));
    TFB_TRY(
        bert_take(L, "type_emb", HF_TABLE, c->n_type, C, "embeddings.token_type_embeddings.weight", NULL));
    TFB_TRY(bert_ln(L, "emb_ln", "embeddings.LayerNorm", true));
    for (int i = 0; i < (int)c->enc.n_layer; i++) {
        static const char *const qkv[3][2] = {{"query", "wq"}, {"key", "wk"}, {"value", "wv"}};
        for (int k = 0; k < 3; k++)
            TFB_TRY(bert_linear(L, tfb__hf_fmt(cn, NB, "enc.%d.attn.%s", i, qkv[k][1]),
                                tfb__hf_fmt(hf, NB, "encoder.layer.%d.attention.self.%s", i, qkv[k][0]), C, C,
                                true));
        TFB_TRY(bert_linear(L, tfb__hf_fmt(cn, NB, "enc.%d.attn.wo", i),
                            tfb__hf_fmt(hf, NB, "encoder.layer.%d.attention.output.dense", i), C, C, true));
        TFB_TRY(bert_ln(L, tfb__hf_fmt(cn, NB, "enc.%d.ln1", i),
                        tfb__hf_fmt(hf, NB, "encoder.layer.%d.attention.output.LayerNorm", i), true));
        TFB_TRY(bert_linear(L, tfb__hf_fmt(cn, NB, "enc.%d.ffn.w1", i),
                            tfb__hf_fmt(hf, NB, "encoder.layer.%d.intermediate.dense", i), F, C, true));
        TFB_TRY(bert_linear(L, tfb__hf_fmt(cn, NB, "enc.%d.ffn.w2", i),
                            tfb__hf_fmt(hf, NB, "encoder.layer.%d.output.dense", i), C, F, true));
        TFB_TRY(bert_ln(L, tfb__hf_fmt(cn, NB, "enc.%d.ln2", i),
                        tfb__hf_fmt(hf, NB, "encoder.layer.%d.output.LayerNorm", i), true));
    }
    if (!c->has_lm_head)
        return TFB_STATUS_OK;
    TFB_TRY(bert_linear(L, "mlm.dense", "cls.predictions.transform.dense", C, C, false));
    TFB_TRY(bert_ln(L, "mlm.ln", "cls.predictions.transform.LayerNorm", false));
    TFB_TRY(tfb__hf_take(L, "lm_head.bias", HF_VEC, V, 0,
                         HF_NAMES("cls.predictions.bias", "cls.predictions.decoder.bias")));
    /* The decoder's bias is the same parameter as cls.predictions.bias: a second copy must agree. */
    TFB_TRY(tfb__hf_tied_copy(L, "cls.predictions.decoder.bias", "lm_head.bias"));
    TFB_TRY(tfb__hf_tied_copy(L, "cls.predictions.bias", "lm_head.bias"));
    if (!tied)
        return tfb__hf_take(L, "lm_head", HF_LINEAR, V, C, HF_NAMES("cls.predictions.decoder.weight"));
    TFB_TRY(tfb__hf_tied_copy(L, "cls.predictions.decoder.weight", "tok_emb"));
    TFB_TRY(tfb__hf_tied_copy(L, "bert.embeddings.word_embeddings.weight", "tok_emb"));
    return TFB_STATUS_OK;
}

/* ---- MarianMTModel ----------------------------------------------------------------------------- */

static tfb_status marian_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                              const char *base) {
    char a[NB];
    tfb__hf_fmt(a, sizeof a, "model.%s", base);
    return tfb__hf_take(L, canon, kind, d0, d1, HF_NAMES(a, base));
}

static tfb_status marian_linear(hf_loader *L, const char *canon, const char *hf, int64_t out, int64_t in) {
    char cn[NB], n[NB];
    TFB_TRY(marian_take(L, canon, HF_LINEAR, out, in, tfb__hf_fmt(n, NB, "%s.weight", hf)));
    return marian_take(L, tfb__hf_fmt(cn, NB, "%s.bias", canon), HF_VEC, out, 0, tfb__hf_fmt(n, NB, "%s.bias", hf));
}

static tfb_status marian_ln(hf_loader *L, const char *canon, const char *hf) {
    int64_t C = L->c->d_model;
    char cn[NB], n[NB];
    TFB_TRY(marian_take(L, tfb__hf_fmt(cn, NB, "%s.g", canon), HF_VEC, C, 0, tfb__hf_fmt(n, NB, "%s.weight", hf)));
    return marian_take(L, tfb__hf_fmt(cn, NB, "%s.b", canon), HF_VEC, C, 0, tfb__hf_fmt(n, NB, "%s.bias", hf));
}

/* One attention block: <hf>.{q,k,v,out}_proj -> <canon>.{wq,wk,wv,wo}. */
static tfb_status marian_attn(hf_loader *L, const char *canon, const char *hf) {
    static const char *const proj[4][2] = {
        {"q_proj", "wq"}, {"k_proj", "wk"}, {"v_proj", "wv"}, {"out_proj", "wo"}};
    int64_t C = L->c->d_model;
    char cn[NB], n[NB];
    for (int k = 0; k < 4; k++)
        TFB_TRY(marian_linear(L, tfb__hf_fmt(cn, NB, "%s.%s", canon, proj[k][1]),
                              tfb__hf_fmt(n, NB, "%s.%s", hf, proj[k][0]), C, C));
    return TFB_STATUS_OK;
}

tfb_status tfb__hf_map_marian(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, V = c->n_vocab, Vd = c->n_dec_vocab;
    char cn[NB], hf[NB];
    if (!c->dec_own_emb) {
        /* The shared embedding, or one of its twins when only those were saved; the others must
         * then be copies of it. */
        TFB_TRY(tfb__hf_take(L, "tok_emb", HF_TABLE, V, C,
                             HF_NAMES("model.shared.weight", "shared.weight", "model.encoder.embed_tokens.weight",
                                      "model.decoder.embed_tokens.weight", "encoder.embed_tokens.weight",
                                      "decoder.embed_tokens.weight",
                                      c->head == TFB_HEAD_TOK_EMB ? "lm_head.weight" : NULL)));
        static const char *const twins[] = {"model.shared.weight", "model.encoder.embed_tokens.weight",
                                            "model.decoder.embed_tokens.weight"};
        for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++)
            TFB_TRY(tfb__hf_tied_copy(L, twins[k], "tok_emb"));
    } else {
        TFB_TRY(marian_take(L, "tok_emb", HF_TABLE, V, C, "encoder.embed_tokens.weight"));
        /* MarianModel deep-copies its vocab_size-row table for the decoder: only the head and
         * final_logits_bias are decoder_vocab_size wide. */
        TFB_TRY(marian_take(L, "dec_tok_emb", HF_TABLE, V, C, "decoder.embed_tokens.weight"));
    }
    if (c->head == TFB_HEAD_OWN)
        TFB_TRY(tfb__hf_take(L, "lm_head", HF_LINEAR, Vd, C, HF_NAMES("lm_head.weight")));
    else
        TFB_TRY(tfb__hf_tied_copy(L, "lm_head.weight", c->head == TFB_HEAD_DEC_EMB ? "dec_tok_emb" : "tok_emb"));
    for (int side = 0; side < 2; side++) {
        const char *hs = side ? "decoder" : "encoder", *cs = side ? "dec" : "enc";
        const tfb_stack *st = side ? &c->dec : &c->enc;
        for (int i = 0; i < (int)st->n_layer; i++) {
            TFB_TRY(marian_attn(L, tfb__hf_fmt(cn, NB, "%s.%d.attn", cs, i),
                                tfb__hf_fmt(hf, NB, "%s.layers.%d.self_attn", hs, i)));
            TFB_TRY(marian_ln(L, tfb__hf_fmt(cn, NB, "%s.%d.ln1", cs, i),
                              tfb__hf_fmt(hf, NB, "%s.layers.%d.self_attn_layer_norm", hs, i)));
            if (side) {
                TFB_TRY(marian_attn(L, tfb__hf_fmt(cn, NB, "dec.%d.xattn", i),
                                    tfb__hf_fmt(hf, NB, "decoder.layers.%d.encoder_attn", i)));
                TFB_TRY(marian_ln(L, tfb__hf_fmt(cn, NB, "dec.%d.ln_x", i),
                                  tfb__hf_fmt(hf, NB, "decoder.layers.%d.encoder_attn_layer_norm", i)));
            }
            TFB_TRY(marian_linear(L, tfb__hf_fmt(cn, NB, "%s.%d.ffn.w1", cs, i),
                                  tfb__hf_fmt(hf, NB, "%s.layers.%d.fc1", hs, i), st->d_ff, C));
            TFB_TRY(marian_linear(L, tfb__hf_fmt(cn, NB, "%s.%d.ffn.w2", cs, i),
                                  tfb__hf_fmt(hf, NB, "%s.layers.%d.fc2", hs, i), C, st->d_ff));
            TFB_TRY(marian_ln(L, tfb__hf_fmt(cn, NB, "%s.%d.ln2", cs, i),
                              tfb__hf_fmt(hf, NB, "%s.layers.%d.final_layer_norm", hs, i)));
        }
    }
    return tfb__hf_take(L, "lm_head.bias", HF_VEC, Vd, 0, HF_NAMES("final_logits_bias", "model.final_logits_bias"));
}

/* ---- tensors a file may carry that the model does not use ------------------------------------ */

/* A stored sinusoidal position table (older Marian files) must be MarianSinusoidalPositionalEmbedding's:
 * sin(p * w_j) in columns [0, C/2), cos in [C/2, C), w_j = 10000^(-2j/C). */
static bool marian_positions_ok(hf_loader *L, const tfb__st_file *f, const tfb__st_tensor *t) {
    int64_t C = L->c->d_model;
    if (t->ndim != 2 || t->shape[1] != C || t->shape[0] < 1)
        return false;
    hf_src src = {(tfb__st_file *)f, t};
    float *x;
    if (tfb__hf_read(L, &src, &x) != TFB_STATUS_OK)
        return false;
    bool ok = true;
    for (int64_t p = 0; ok && p < t->shape[0]; p++) {
        for (int64_t j = 0; ok && j < C / 2; j++) {
            double a = (double)p / pow(10000.0, 2.0 * (double)j / (double)C);
            /* 2e-3: tables stored in f16 round by up to 2^-11 relative. */
            ok = fabs(x[p * C + j] - sin(a)) <= 2e-3 && fabs(x[p * C + C / 2 + j] - cos(a)) <= 2e-3;
        }
    }
    free(x);
    return ok;
}

bool tfb__hf_ignorable(hf_loader *L, tfb__hf_family fam, const tfb__st_file *f, const tfb__st_tensor *t) {
    static const char *const g2_pre[] = {"transformer.", "", NULL};
    /* The causal-mask buffers older GPT-2 files stored. */
    static const char *const g2_pats[] = {"h.#.attn.bias", "h.#.attn.masked_bias", NULL};
    static const char *const bert_pre[] = {"bert.", "", NULL};
    /* The position-id buffer, the pooler (BertModel's, unused by the last hidden state and by the
     * MLM head), and the next-sentence head of pre-training checkpoints. */
    static const char *const bert_pats[] = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias",
                                            NULL};
    static const char *const bert_cls[] = {"cls.seq_relationship.weight", "cls.seq_relationship.bias", NULL};
    static const char *const root[] = {"", NULL};
    static const char *const m_pre[] = {"model.", "", NULL};
    static const char *const m_pos[] = {"encoder.embed_positions.weight", "decoder.embed_positions.weight", NULL};
    static const char *const llama_pats[] = {"model.layers.#.self_attn.rotary_emb.inv_freq", NULL};
    switch (fam) {
    case HF_LLAMA:
    case HF_MISTRAL: return match_any(t->name, root, llama_pats) && tfb__hf_llama_inv_freq_ok(L, f, t);
    case HF_T5: return false;
    case HF_GPT2: return match_any(t->name, g2_pre, g2_pats);
    case HF_BERT: return match_any(t->name, bert_pre, bert_pats) || match_any(t->name, root, bert_cls);
    case HF_MARIAN:
        return match_any(t->name, m_pre, m_pos) && marian_positions_ok(L, f, t);
    }
    return false;
}

/* ---- LlamaForCausalLM (and MistralForCausalLM) ------------------------------------------------- */

static tfb_status llama_linear(hf_loader *L, const char *canon, const char *hf, int64_t out, int64_t in, bool bias) {
    char n[NB], cn[NB];
    TFB_TRY(tfb__hf_take(L, canon, HF_LINEAR, out, in, HF_NAMES(tfb__hf_fmt(n, NB, "%s.weight", hf))));
    if (!bias)
        return TFB_STATUS_OK;
    return tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.bias", canon), HF_VEC, out, 0,
                        HF_NAMES(tfb__hf_fmt(n, NB, "%s.bias", hf)));
}

tfb_status tfb__hf_map_llama(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, F = c->dec.d_ff, V = c->n_vocab, KV = tfb_config_kv_width(c, &c->dec);
    bool tied = c->head == TFB_HEAD_TOK_EMB;
    char cn[NB], hf[NB];
    TFB_TRY(tfb__hf_take(L, "tok_emb", HF_TABLE, V, C,
                         HF_NAMES("model.embed_tokens.weight", tied ? "lm_head.weight" : NULL)));
    for (int i = 0; i < (int)c->dec.n_layer; i++) {
        static const struct {
            const char *hf, *canon;
            bool kv;
        } attn[] = {{"q_proj", "wq", false}, {"k_proj", "wk", true}, {"v_proj", "wv", true}, {"o_proj", "wo", false}};
        for (int k = 0; k < 4; k++)
            TFB_TRY(llama_linear(L, tfb__hf_fmt(cn, NB, "dec.%d.attn.%s", i, attn[k].canon),
                                 tfb__hf_fmt(hf, NB, "model.layers.%d.self_attn.%s", i, attn[k].hf),
                                 attn[k].kv ? KV : C, C, c->attn_bias));
        static const struct {
            const char *hf, *canon;
            bool down;
        } mlp[] = {{"gate_proj", "wg", false}, {"up_proj", "w1", false}, {"down_proj", "w2", true}};
        for (int k = 0; k < 3; k++)
            TFB_TRY(llama_linear(L, tfb__hf_fmt(cn, NB, "dec.%d.ffn.%s", i, mlp[k].canon),
                                 tfb__hf_fmt(hf, NB, "model.layers.%d.mlp.%s", i, mlp[k].hf), mlp[k].down ? C : F,
                                 mlp[k].down ? F : C, c->ffn_bias));
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "dec.%d.ln1.g", i), HF_VEC, C, 0,
                             HF_NAMES(tfb__hf_fmt(hf, NB, "model.layers.%d.input_layernorm.weight", i))));
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "dec.%d.ln2.g", i), HF_VEC, C, 0,
                             HF_NAMES(tfb__hf_fmt(hf, NB, "model.layers.%d.post_attention_layernorm.weight", i))));
    }
    TFB_TRY(tfb__hf_take(L, "final_ln.g", HF_VEC, C, 0, HF_NAMES("model.norm.weight")));
    if (!tied)
        return tfb__hf_take(L, "lm_head", HF_LINEAR, V, C, HF_NAMES("lm_head.weight"));
    TFB_TRY(tfb__hf_tied_copy(L, "lm_head.weight", "tok_emb"));
    return tfb__hf_tied_copy(L, "model.embed_tokens.weight", "tok_emb");
}

/* Older Llama files store each layer's rotary inverse frequencies: they must be theta^(-2i/D). */
bool tfb__hf_llama_inv_freq_ok(hf_loader *L, const tfb__st_file *f, const tfb__st_tensor *t) {
    int64_t D = L->c->d_model / L->c->dec.n_head;
    if (t->ndim != 1 || t->shape[0] != D / 2)
        return false;
    hf_src src = {(tfb__st_file *)f, t};
    float *x;
    if (tfb__hf_read(L, &src, &x) != TFB_STATUS_OK)
        return false;
    bool ok = true;
    for (int64_t i = 0; ok && i < D / 2; i++) {
        double want = pow((double)L->c->rope_theta, -2.0 * (double)i / (double)D);
        ok = fabs(x[i] - want) <= 1e-6 * want + 1e-30;
    }
    free(x);
    return ok;
}

/* ---- T5ForConditionalGeneration ---------------------------------------------------------------- */

/* One T5 attention: <hf>.{q,k,v,o}.weight -> <canon>.{wq,wk,wv,wo}. */
static tfb_status t5_attn(hf_loader *L, const char *canon, const char *hf) {
    static const char *const proj[4][2] = {{"q", "wq"}, {"k", "wk"}, {"v", "wv"}, {"o", "wo"}};
    int64_t C = L->c->d_model;
    char cn[NB], n[NB];
    for (int k = 0; k < 4; k++)
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.%s", canon, proj[k][1]), HF_LINEAR, C, C,
                             HF_NAMES(tfb__hf_fmt(n, NB, "%s.%s.weight", hf, proj[k][0]))));
    return TFB_STATUS_OK;
}

static tfb_status t5_norm(hf_loader *L, const char *canon, const char *hf) {
    char cn[NB], n[NB];
    return tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.g", canon), HF_VEC, L->c->d_model, 0,
                        HF_NAMES(tfb__hf_fmt(n, NB, "%s.weight", hf)));
}

/* DenseReluDense: wi (or wi_0 the gate and wi_1) and wo. */
static tfb_status t5_ffn(hf_loader *L, const char *canon, const char *hf, const tfb_stack *st) {
    const tfb_config *c = L->c;
    char cn[NB], n[NB];
    if (c->ffn_gated) {
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.wg", canon), HF_LINEAR, st->d_ff, c->d_model,
                             HF_NAMES(tfb__hf_fmt(n, NB, "%s.wi_0.weight", hf))));
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.w1", canon), HF_LINEAR, st->d_ff, c->d_model,
                             HF_NAMES(tfb__hf_fmt(n, NB, "%s.wi_1.weight", hf))));
    } else {
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.w1", canon), HF_LINEAR, st->d_ff, c->d_model,
                             HF_NAMES(tfb__hf_fmt(n, NB, "%s.wi.weight", hf))));
    }
    return tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.w2", canon), HF_LINEAR, c->d_model, st->d_ff,
                        HF_NAMES(tfb__hf_fmt(n, NB, "%s.wo.weight", hf)));
}

tfb_status tfb__hf_map_t5(hf_loader *L) {
    const tfb_config *c = L->c;
    int64_t C = c->d_model, V = c->n_vocab;
    bool tied = c->head == TFB_HEAD_TOK_EMB;
    char cn[NB], hf[NB];
    /* The shared table, or one of its stored twins; the others must be copies of it. */
    TFB_TRY(tfb__hf_take(L, "tok_emb", HF_TABLE, V, C,
                         HF_NAMES("shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight",
                                  tied ? "lm_head.weight" : NULL)));
    static const char *const twins[] = {"shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
    for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++)
        TFB_TRY(tfb__hf_tied_copy(L, twins[k], "tok_emb"));
    if (tied)
        TFB_TRY(tfb__hf_tied_copy(L, "lm_head.weight", "tok_emb"));
    else
        TFB_TRY(tfb__hf_take(L, "lm_head", HF_LINEAR, V, C, HF_NAMES("lm_head.weight")));
    for (int side = 0; side < 2; side++) {
        const char *hs = side ? "decoder" : "encoder", *cs = side ? "dec" : "enc";
        const tfb_stack *st = side ? &c->dec : &c->enc;
        /* Layer 0's bias table, shared by every layer of the stack. */
        TFB_TRY(tfb__hf_take(L, tfb__hf_fmt(cn, NB, "%s.rel_bias", cs), HF_TABLE, c->rel_buckets, st->n_head,
                             HF_NAMES(tfb__hf_fmt(hf, NB, "%s.block.0.layer.0.SelfAttention.relative_attention_bias.weight", hs))));
        for (int i = 0; i < (int)st->n_layer; i++) {
            char p[NB];
            tfb__hf_fmt(p, NB, "%s.block.%d.layer", hs, i);
            TFB_TRY(t5_attn(L, tfb__hf_fmt(cn, NB, "%s.%d.attn", cs, i), tfb__hf_fmt(hf, NB, "%s.0.SelfAttention", p)));
            TFB_TRY(t5_norm(L, tfb__hf_fmt(cn, NB, "%s.%d.ln1", cs, i), tfb__hf_fmt(hf, NB, "%s.0.layer_norm", p)));
            if (side) {
                TFB_TRY(t5_attn(L, tfb__hf_fmt(cn, NB, "dec.%d.xattn", i), tfb__hf_fmt(hf, NB, "%s.1.EncDecAttention", p)));
                TFB_TRY(t5_norm(L, tfb__hf_fmt(cn, NB, "dec.%d.ln_x", i), tfb__hf_fmt(hf, NB, "%s.1.layer_norm", p)));
            }
            TFB_TRY(t5_ffn(L, tfb__hf_fmt(cn, NB, "%s.%d.ffn", cs, i),
                           tfb__hf_fmt(hf, NB, "%s.%d.DenseReluDense", p, side ? 2 : 1), st));
            TFB_TRY(t5_norm(L, tfb__hf_fmt(cn, NB, "%s.%d.ln2", cs, i),
                            tfb__hf_fmt(hf, NB, "%s.%d.layer_norm", p, side ? 2 : 1)));
        }
        TFB_TRY(t5_norm(L, side ? "final_ln" : "enc_final_ln", tfb__hf_fmt(hf, NB, "%s.final_layer_norm", hs)));
    }
    return TFB_STATUS_OK;
}
