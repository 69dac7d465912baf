/* The graph builders: one embedding, one encoder block, one decoder block (with cross-attention
 * when the model has an encoder), one head. They read only the architecture description. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "models/session_impl.h"

tfb_tensor *tfb__sess_weight(tfb_session *s, const char *fmt, ...) {
    char name[TFB_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    for (int i = 0; i < s->m->n_w; i++)
        if (strcmp(s->m->w[i].name, name) == 0)
            return &s->wt[i];
    TFB_ASSERT(!"weight missing from a validated model");
    return NULL;
}

/* The weight, or NULL when the description says the model has none (biases, LayerNorm shifts). */
static tfb_tensor *weight_if(tfb_session *s, bool present, const char *prefix, const char *what) {
    return present ? tfb__sess_weight(s, "%s%s", prefix, what) : NULL;
}

tfb_tensor *tfb__sess_cache(tfb_session *s, int64_t layer, int which, bool cross) {
    int64_t i = (cross ? s->m->cfg.dec.n_layer * 2 : 0) + layer * 2 + which;
    TFB_ASSERT(i < s->n_kv);
    return &s->kv[i];
}

static tfb_op act_op(tfb_act a) {
    switch (a) {
    case TFB_ACT_GELU: return TFB_OP_GELU;
    case TFB_ACT_GELU_TANH: return TFB_OP_GELU_TANH;
    case TFB_ACT_RELU: return TFB_OP_RELU;
    case TFB_ACT_SILU: return TFB_OP_SILU;
    }
    TFB_ASSERT(!"unknown activation");
    return TFB_OP_GELU;
}

static tfb_tensor *act_like(tfb_graph *g, tfb_tensor *x, int64_t cols, const char *what) {
    return tfb_graph_new_act(g, what, x->dyn_rows ? 0 : x->shape[0], cols, TFB_DTYPE_F32);
}

/* y = x w^T (+ bias): w is <prefix><what>, the bias <prefix><what>.bias when `bias`. */
static tfb_tensor *linear(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what,
                          bool bias) {
    tfb_tensor *w = tfb__sess_weight(s, "%s%s", prefix, what);
    tfb_tensor *b = bias ? tfb__sess_weight(s, "%s%s.bias", prefix, what) : NULL;
    char name[TFB_NAME_MAX];
    snprintf(name, sizeof name, "%s%s.out", prefix, what);
    tfb_tensor *y = act_like(g, x, w->shape[0], name);
    tfb_graph_add(g, TFB_OP_MATMUL, y, x, w, b, NULL);
    return y;
}

/* The description's norm (LayerNorm or RMS) with weights <prefix><what>.g (and .b). */
static tfb_tensor *norm(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what) {
    const tfb_config *c = &s->m->cfg;
    char name[TFB_NAME_MAX], gn[TFB_NAME_MAX], bn[TFB_NAME_MAX];
    snprintf(name, sizeof name, "%s%s.out", prefix, what);
    snprintf(gn, sizeof gn, "%s.g", what);
    snprintf(bn, sizeof bn, "%s.b", what);
    tfb_tensor *y = act_like(g, x, x->shape[1], name);
    bool layer = c->norm == TFB_NORM_LAYER;
    tfb_node *n = tfb_graph_add(g, layer ? TFB_OP_LAYERNORM : TFB_OP_RMSNORM, y, x, weight_if(s, true, prefix, gn),
                                weight_if(s, layer, prefix, bn), NULL);
    n->eps = c->eps;
    return y;
}

static tfb_tensor *add(tfb_graph *g, tfb_tensor *a, tfb_tensor *b) {
    tfb_tensor *y = act_like(g, a, a->shape[1], "residual");
    tfb_graph_add(g, TFB_OP_ADD, y, a, b, NULL, NULL);
    return y;
}

static tfb_tensor *attend(tfb_session *s, tfb_graph *g, const tfb_stack *st, int64_t layer, tfb_tensor *q,
                          tfb_tensor *k, tfb_tensor *v, tfb_mask mask) {
    tfb_tensor *y = act_like(g, q, q->shape[1], "attention");
    /* T5: self-attention adds its stack's relative position bias; cross-attention none. */
    tfb_tensor *bias = NULL;
    if (s->m->cfg.pos == TFB_POS_RELATIVE && mask != TFB_MASK_CROSS)
        bias = &s->relb[st == &s->m->cfg.dec ? 1 : 0];
    tfb_node *n = tfb_graph_add(g, TFB_OP_ATTENTION, y, q, k, v, bias);
    n->n_head = (int)st->n_head;
    /* Grouped-query attention in self-attention; cross-attention K/V have every head. */
    n->n_kv_head = mask == TFB_MASK_CROSS ? 0 : (int)tfb_stack_kv_heads(st);
    n->mask = mask;
    n->scale = tfb_config_attn_scale(&s->m->cfg, st, layer);
    return y;
}

/* Rotary positions on x [T, n_head * D], at the call's positions. */
static tfb_tensor *rope(tfb_session *s, tfb_graph *g, tfb_tensor *x, int64_t n_head) {
    tfb_tensor *y = act_like(g, x, x->shape[1], "rope");
    tfb_node *n = tfb_graph_add(g, TFB_OP_ROPE, y, x, NULL, NULL, NULL);
    n->n_head = (int)n_head;
    n->rope_theta = s->m->cfg.rope_theta;
    n->rope_layout = s->m->cfg.rope_layout;
    return y;
}

/* Self-attention of layer `layer`: causal appends K/V to the layer's cache and attends to it;
 * bidirectional (encoders: the whole sequence in one call at position 0) attends to this call's K/V. */
static tfb_tensor *self_attention(tfb_session *s, tfb_graph *g, const tfb_stack *st, tfb_tensor *x,
                                  const char *prefix, int64_t layer, tfb_mask mask) {
    bool bias = s->m->cfg.attn_bias;
    tfb_tensor *q = linear(s, g, x, prefix, "attn.wq", bias);
    tfb_tensor *k = linear(s, g, x, prefix, "attn.wk", bias);
    tfb_tensor *v = linear(s, g, x, prefix, "attn.wv", bias);
    if (s->m->cfg.pos == TFB_POS_ROTARY) {
        q = rope(s, g, q, st->n_head);
        k = rope(s, g, k, tfb_stack_kv_heads(st));
    }
    tfb_tensor *a;
    if (mask == TFB_MASK_BIDIR) {
        a = attend(s, g, st, layer, q, k, v, mask);
    } else {
        tfb_tensor *kc = tfb__sess_cache(s, layer, 0, false), *vc = tfb__sess_cache(s, layer, 1, false);
        tfb_graph_add(g, TFB_OP_KV_WRITE, kc, k, kc, NULL, NULL);
        tfb_graph_add(g, TFB_OP_KV_WRITE, vc, v, vc, NULL, NULL);
        a = attend(s, g, st, layer, q, kc, vc, mask);
    }
    return linear(s, g, a, prefix, "attn.wo", bias);
}

/* Cross-attention of decoder layer `layer` on the encoder K/V cached by the encoder graph. */
static tfb_tensor *cross_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer) {
    bool bias = s->m->cfg.attn_bias;
    tfb_tensor *q = linear(s, g, x, prefix, "xattn.wq", bias);
    tfb_tensor *a = attend(s, g, &s->m->cfg.dec, layer, q, tfb__sess_cache(s, layer, 0, true),
                           tfb__sess_cache(s, layer, 1, true), TFB_MASK_CROSS);
    return linear(s, g, a, prefix, "xattn.wo", bias);
}

/* The FFN: w2(act(w1 x)), or gated: w2(act(wg x) * (w1 x)). */
static tfb_tensor *ffn(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix) {
    const tfb_config *c = &s->m->cfg;
    tfb_tensor *h = linear(s, g, x, prefix, c->ffn_gated ? "ffn.wg" : "ffn.w1", c->ffn_bias);
    tfb_tensor *y = act_like(g, h, h->shape[1], tfb_op_name(act_op(c->act)));
    tfb_graph_add(g, act_op(c->act), y, h, NULL, NULL, NULL);
    if (c->ffn_gated) {
        tfb_tensor *up = linear(s, g, x, prefix, "ffn.w1", c->ffn_bias);
        tfb_tensor *z = act_like(g, up, up->shape[1], "gated");
        tfb_graph_add(g, TFB_OP_MUL, z, y, up, NULL, NULL);
        y = z;
    }
    return linear(s, g, y, prefix, "ffn.w2", c->ffn_bias);
}

/* One residual sub-block around f's output, with the norm before (pre) or after (post). The
 * caller computes f on the tensor this returns in *in. */
typedef enum sub_kind { SUB_SELF, SUB_CROSS, SUB_FFN } sub_kind;

static tfb_tensor *sub_block(tfb_session *s, tfb_graph *g, const tfb_stack *st, tfb_tensor *x, const char *prefix,
                             int64_t layer, sub_kind kind, tfb_mask mask) {
    static const char *const ln[] = {[SUB_SELF] = "ln1", [SUB_CROSS] = "ln_x", [SUB_FFN] = "ln2"};
    bool pre = s->m->cfg.norm_place == TFB_NORM_PRE;
    tfb_tensor *h = pre ? norm(s, g, x, prefix, ln[kind]) : x;
    switch (kind) {
    case SUB_SELF: h = self_attention(s, g, st, h, prefix, layer, mask); break;
    case SUB_CROSS: h = cross_attention(s, g, h, prefix, layer); break;
    case SUB_FFN: h = ffn(s, g, h, prefix); break;
    }
    x = add(g, x, h);
    return pre ? x : norm(s, g, x, prefix, ln[kind]);
}

/* Token ids in, embeddings out: tok (or dec_tok) * emb_scale + positions (+ type 0), emb_ln. */
static tfb_tensor *embed(tfb_session *s, tfb_graph *g, bool decoder_side) {
    const tfb_config *c = &s->m->cfg;
    tfb_tensor *ids = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
    ids->ndim = 1;
    g->input = ids;
    tfb_tensor *x = tfb_graph_new_act(g, "embed", 0, c->d_model, TFB_DTYPE_F32);
    bool own = decoder_side && c->dec_own_emb;
    tfb_node *e = tfb_graph_add(g, TFB_OP_EMBED, x, ids, tfb__sess_weight(s, own ? "dec_tok_emb" : "tok_emb"),
                                weight_if(s, c->pos == TFB_POS_LEARNED, "", "pos_emb"),
                                weight_if(s, c->n_type > 0, "", "type_emb"));
    e->pos_kind = c->pos == TFB_POS_ROTARY || c->pos == TFB_POS_RELATIVE ? TFB_POS_NONE : c->pos;
    e->scale = c->emb_scale;
    return c->emb_norm ? norm(s, g, x, "", "emb_ln") : x;
}

/* The LM head on x: optional MLM transform, optional LAST_ROW, the head matmul (+ bias), argmax
 * of the last row when not all_rows. Sets g->output. */
static void head(tfb_session *s, tfb_sgraph *sg, tfb_tensor *x, bool all_rows) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    if (c->mlm_transform) {
        x = linear(s, g, x, "", "mlm.dense", true);
        tfb_tensor *y = act_like(g, x, x->shape[1], tfb_op_name(act_op(c->act)));
        tfb_graph_add(g, act_op(c->act), y, x, NULL, NULL, NULL);
        tfb_tensor *z = act_like(g, y, y->shape[1], "mlm.ln.out");
        tfb_graph_add(g, TFB_OP_LAYERNORM, z, y, tfb__sess_weight(s, "mlm.ln.g"), tfb__sess_weight(s, "mlm.ln.b"),
                      NULL)->eps = c->eps;
        x = z;
    }
    if (c->head_scale != 1.0f) {
        tfb_tensor *y = act_like(g, x, x->shape[1], "head_scale");
        tfb_graph_add(g, TFB_OP_SCALE, y, x, NULL, NULL, NULL)->scale = c->head_scale;
        x = y;
    }
    if (!all_rows) {
        tfb_tensor *last = tfb_graph_new_act(g, "last_row", 1, x->shape[1], TFB_DTYPE_F32);
        tfb_graph_add(g, TFB_OP_LAST_ROW, last, x, NULL, NULL, NULL);
        x = last;
    }
    tfb_tensor *logits = act_like(g, x, c->n_dec_vocab, "logits");
    tfb_graph_add(g, TFB_OP_MATMUL, logits, x, s->head_p, weight_if(s, c->head_bias, "", "lm_head.bias"), NULL);
    g->output = logits;
    if (!all_rows) {
        sg->argmax = tfb_graph_new_act(g, "argmax", 1, 1, TFB_DTYPE_I32);
        sg->argmax->ndim = 1;
        tfb_graph_add(g, TFB_OP_ARGMAX, sg->argmax, logits, NULL, NULL, NULL);
    }
}

void tfb__build_encoder(tfb_session *s, tfb_sgraph *sg) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    tfb_tensor *x = embed(s, g, false);
    for (int64_t l = 0; l < c->enc.n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "enc.%lld.", (long long)l);
        x = sub_block(s, g, &c->enc, x, p, l, SUB_SELF, TFB_MASK_BIDIR);
        x = sub_block(s, g, &c->enc, x, p, l, SUB_FFN, TFB_MASK_BIDIR);
    }
    if (c->final_norm)
        x = norm(s, g, x, "", "enc_final_ln");
    sg->hidden = x;
    tfb_graph_keep(g, x); /* read back (--dump-hidden) after the head ran */
    g->output = x;
    if (!tfb_config_has_decoder(c)) {
        if (c->has_lm_head)
            head(s, sg, x, true);
        return;
    }
    /* Cross-attention K/V of every decoder layer, computed once per source. */
    for (int64_t l = 0; l < c->dec.n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "dec.%lld.", (long long)l);
        tfb_tensor *k = linear(s, g, x, p, "xattn.wk", c->attn_bias);
        tfb_tensor *v = linear(s, g, x, p, "xattn.wv", c->attn_bias);
        tfb_tensor *kc = tfb__sess_cache(s, l, 0, true), *vc = tfb__sess_cache(s, l, 1, true);
        tfb_graph_add(g, TFB_OP_KV_WRITE, kc, k, kc, NULL, NULL)->kv_at_zero = true;
        tfb_graph_add(g, TFB_OP_KV_WRITE, vc, v, vc, NULL, NULL)->kv_at_zero = true;
    }
}

void tfb__build_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    bool cross = tfb_config_has_encoder(c);
    tfb_tensor *x = embed(s, g, true);
    for (int64_t l = 0; l < c->dec.n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "dec.%lld.", (long long)l);
        x = sub_block(s, g, &c->dec, x, p, l, SUB_SELF, TFB_MASK_CAUSAL);
        if (cross)
            x = sub_block(s, g, &c->dec, x, p, l, SUB_CROSS, TFB_MASK_CROSS);
        x = sub_block(s, g, &c->dec, x, p, l, SUB_FFN, TFB_MASK_CAUSAL);
    }
    if (c->final_norm)
        x = norm(s, g, x, "", "final_ln");
    sg->hidden = x;
    tfb_graph_keep(g, x);
    head(s, sg, x, all_rows);
}
