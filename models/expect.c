/* The list of tensors a description needs (canonical names: include/tfbench/model.h). */
#include <stdio.h>

#include "models/expect.h"

typedef struct list {
    tfb_wexpect *out;
    int cap, n;
} list;

static void put(list *l, tfb_wkind kind, int64_t rows, int64_t cols, const char *fmt, const char *prefix,
                const char *what) {
    if (l->n < l->cap) {
        tfb_wexpect *e = &l->out[l->n];
        snprintf(e->name, sizeof e->name, fmt, prefix, what);
        e->kind = kind;
        e->ndim = cols > 0 ? 2 : 1;
        e->shape[0] = rows;
        e->shape[1] = cols > 0 ? cols : 0;
    }
    l->n++;
}

/* A linear layer: weight [out, in] and, when bias, bias [out]. */
static void linear(list *l, const char *prefix, const char *what, int64_t out, int64_t in, bool bias) {
    put(l, TFB_WKIND_MATRIX, out, in, "%s%s", prefix, what);
    if (bias) {
        char b[TFB_NAME_MAX];
        snprintf(b, sizeof b, "%s.bias", what);
        put(l, TFB_WKIND_VECTOR, out, 0, "%s%s", prefix, b);
    }
}

static void norm(list *l, const tfb_config *c, const char *prefix, const char *what) {
    char g[TFB_NAME_MAX], b[TFB_NAME_MAX];
    snprintf(g, sizeof g, "%s.g", what);
    snprintf(b, sizeof b, "%s.b", what);
    put(l, TFB_WKIND_GAMMA, c->d_model, 0, "%s%s", prefix, g);
    if (c->norm == TFB_NORM_LAYER)
        put(l, TFB_WKIND_VECTOR, c->d_model, 0, "%s%s", prefix, b);
}

/* q, k, v, o; k and v of self-attention are kv_width wide (grouped-query attention). */
static void attention(list *l, const tfb_config *c, const char *prefix, const char *which, int64_t kv_width) {
    static const char *const mats[] = {"wq", "wk", "wv", "wo"};
    for (int i = 0; i < 4; i++) {
        char name[TFB_NAME_MAX];
        snprintf(name, sizeof name, "%s.%s", which, mats[i]);
        linear(l, prefix, name, i == 1 || i == 2 ? kv_width : c->d_model, c->d_model, c->attn_bias);
    }
}

static void stack(list *l, const tfb_config *c, const tfb_stack *st, const char *side, bool cross) {
    for (int64_t i = 0; i < st->n_layer; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s.%lld.", side, (long long)i);
        attention(l, c, prefix, "attn", tfb_config_kv_width(c, st));
        norm(l, c, prefix, "ln1");
        if (cross) {
            attention(l, c, prefix, "xattn", c->d_model);
            norm(l, c, prefix, "ln_x");
        }
        if (c->ffn_gated)
            linear(l, prefix, "ffn.wg", st->d_ff, c->d_model, c->ffn_bias);
        linear(l, prefix, "ffn.w1", st->d_ff, c->d_model, c->ffn_bias);
        linear(l, prefix, "ffn.w2", c->d_model, st->d_ff, c->ffn_bias);
        norm(l, c, prefix, "ln2");
    }
}

int tfb__model_expect(const tfb_config *c, tfb_wexpect *out, int cap) {
    list l = {out, cap, 0};
    int64_t C = c->d_model;
    put(&l, TFB_WKIND_EMBED, c->n_vocab, C, "%s%s", "", "tok_emb");
    if (c->dec_own_emb)
        put(&l, TFB_WKIND_EMBED, c->n_vocab, C, "%s%s", "", "dec_tok_emb");
    if (c->pos == TFB_POS_LEARNED)
        put(&l, TFB_WKIND_EMBED, c->n_ctx, C, "%s%s", "", "pos_emb");
    if (c->n_type > 0)
        put(&l, TFB_WKIND_EMBED, c->n_type, C, "%s%s", "", "type_emb");
    if (c->emb_norm)
        norm(&l, c, "", "emb_ln");
    if (c->pos == TFB_POS_RELATIVE && c->enc.n_layer > 0)
        put(&l, TFB_WKIND_EMBED, c->rel_buckets, c->enc.n_head, "%s%s", "", "enc.rel_bias");
    if (c->pos == TFB_POS_RELATIVE && c->dec.n_layer > 0)
        put(&l, TFB_WKIND_EMBED, c->rel_buckets, c->dec.n_head, "%s%s", "", "dec.rel_bias");
    stack(&l, c, &c->enc, "enc", false);
    if (c->final_norm && c->enc.n_layer > 0)
        norm(&l, c, "", "enc_final_ln");
    stack(&l, c, &c->dec, "dec", c->enc.n_layer > 0);
    if (c->final_norm && c->dec.n_layer > 0)
        norm(&l, c, "", "final_ln");
    if (c->has_lm_head) {
        if (c->mlm_transform) {
            linear(&l, "", "mlm.dense", C, C, true);
            norm(&l, c, "", "mlm.ln");
        }
        if (c->head == TFB_HEAD_OWN)
            put(&l, TFB_WKIND_MATRIX, c->n_dec_vocab, C, "%s%s", "", "lm_head");
        if (c->head_bias)
            put(&l, TFB_WKIND_VECTOR, c->n_dec_vocab, 0, "%s%s", "", "lm_head.bias");
    }
    return l.n;
}
