/* The list of tensors each architecture needs. Canonical names: include/tfbench/model.h. */
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

/* A linear layer: weight [out, in] and bias [out]. */
static void linear(list *l, const char *prefix, const char *what, int64_t out, int64_t in) {
    put(l, TFB_WKIND_MATRIX, out, in, "%s%s", prefix, what);
    char bias[TFB_NAME_MAX];
    snprintf(bias, sizeof bias, "%s.bias", what);
    put(l, TFB_WKIND_VECTOR, out, 0, "%s%s", prefix, bias);
}

static void layernorm(list *l, const char *prefix, const char *what, int64_t c) {
    char g[TFB_NAME_MAX], b[TFB_NAME_MAX];
    snprintf(g, sizeof g, "%s.g", what);
    snprintf(b, sizeof b, "%s.b", what);
    put(l, TFB_WKIND_GAMMA, c, 0, "%s%s", prefix, g);
    put(l, TFB_WKIND_VECTOR, c, 0, "%s%s", prefix, b);
}

static void attention(list *l, const char *prefix, const char *which, int64_t c) {
    static const char *const mats[] = {"wq", "wk", "wv", "wo"};
    for (int i = 0; i < 4; i++) {
        char name[TFB_NAME_MAX];
        snprintf(name, sizeof name, "%s.%s", which, mats[i]);
        linear(l, prefix, name, c, c);
    }
}

static void layer(list *l, const tfb_config *cfg, const char *side, int64_t i, bool cross) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.%lld.", side, (long long)i);
    int64_t C = cfg->d_model, F = cfg->d_ff;
    attention(l, prefix, "attn", C);
    layernorm(l, prefix, "ln1", C);
    if (cross) {
        attention(l, prefix, "xattn", C);
        layernorm(l, prefix, "ln_x", C);
    }
    linear(l, prefix, "ffn.w1", F, C);
    linear(l, prefix, "ffn.w2", C, F);
    layernorm(l, prefix, "ln2", C);
}

int tfb__model_expect(const tfb_config *cfg, tfb_wexpect *out, int cap) {
    list l = {out, cap, 0};
    int64_t V = cfg->n_vocab, C = cfg->d_model;
    put(&l, TFB_WKIND_EMBED, V, C, "%s%s", "", "tok_emb");
    switch (cfg->arch) {
    case TFB_ARCH_DECODER:
        put(&l, TFB_WKIND_EMBED, cfg->n_ctx, C, "%s%s", "", "pos_emb");
        for (int64_t i = 0; i < cfg->n_layer; i++)
            layer(&l, cfg, "dec", i, false);
        layernorm(&l, "", "final_ln", C);
        break;
    case TFB_ARCH_ENCODER:
        put(&l, TFB_WKIND_EMBED, cfg->n_ctx, C, "%s%s", "", "pos_emb");
        put(&l, TFB_WKIND_EMBED, cfg->n_type, C, "%s%s", "", "type_emb");
        layernorm(&l, "", "emb_ln", C);
        for (int64_t i = 0; i < cfg->n_layer; i++)
            layer(&l, cfg, "enc", i, false);
        linear(&l, "", "mlm.dense", C, C);
        layernorm(&l, "", "mlm.ln", C);
        put(&l, TFB_WKIND_VECTOR, V, 0, "%s%s", "", "lm_head.bias");
        break;
    case TFB_ARCH_ENCDEC:
        for (int64_t i = 0; i < cfg->n_enc_layer; i++)
            layer(&l, cfg, "enc", i, false);
        for (int64_t i = 0; i < cfg->n_layer; i++)
            layer(&l, cfg, "dec", i, true);
        put(&l, TFB_WKIND_VECTOR, V, 0, "%s%s", "", "lm_head.bias");
        break;
    }
    return l.n;
}
