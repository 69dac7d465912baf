/* Pieces the graph builders share: linear layers, norms, attention blocks, the LM head. */
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

tfb_tensor *tfb__sess_cache(tfb_session *s, int64_t layer, int which, bool cross) {
    int64_t i = (cross ? s->m->cfg.n_layer * 2 : 0) + layer * 2 + which;
    TFB_ASSERT(i < s->n_kv);
    return &s->kv[i];
}

tfb_op tfb__act_op(tfb_act a) {
    switch (a) {
    case TFB_ACT_GELU: return TFB_OP_GELU;
    case TFB_ACT_GELU_TANH: return TFB_OP_GELU_TANH;
    case TFB_ACT_RELU: return TFB_OP_RELU;
    case TFB_ACT_SILU: return TFB_OP_SILU;
    }
    return TFB_OP_GELU;
}

static tfb_tensor *act_like(tfb_graph *g, tfb_tensor *x, int64_t cols, const char *what) {
    return tfb_graph_new_act(g, what, x->dyn_rows ? 0 : x->shape[0], cols, TFB_DTYPE_F32);
}

tfb_tensor *tfb__linear(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what) {
    tfb_tensor *w = tfb__sess_weight(s, "%s%s", prefix, what);
    tfb_tensor *b = tfb__sess_weight(s, "%s%s.bias", prefix, what);
    char name[TFB_NAME_MAX];
    snprintf(name, sizeof name, "%s%s.out", prefix, what);
    tfb_tensor *y = act_like(g, x, w->shape[0], name);
    tfb_graph_add(g, TFB_OP_MATMUL, y, x, w, b, NULL);
    return y;
}

tfb_tensor *tfb__layernorm(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, const char *what) {
    char name[TFB_NAME_MAX];
    snprintf(name, sizeof name, "%s%s.out", prefix, what);
    tfb_tensor *y = act_like(g, x, x->shape[1], name);
    tfb_node *n = tfb_graph_add(g, TFB_OP_LAYERNORM, y, x, tfb__sess_weight(s, "%s%s.g", prefix, what),
                                tfb__sess_weight(s, "%s%s.b", prefix, what), NULL);
    n->eps = s->m->cfg.eps;
    return y;
}

tfb_tensor *tfb__unary(tfb_graph *g, tfb_op op, tfb_tensor *x) {
    tfb_tensor *y = act_like(g, x, x->shape[1], tfb_op_name(op));
    tfb_graph_add(g, op, y, x, NULL, NULL, NULL);
    return y;
}

tfb_tensor *tfb__add(tfb_graph *g, tfb_tensor *a, tfb_tensor *b) {
    tfb_tensor *y = act_like(g, a, a->shape[1], "residual");
    tfb_graph_add(g, TFB_OP_ADD, y, a, b, NULL, NULL);
    return y;
}

static tfb_tensor *attend(tfb_session *s, tfb_graph *g, tfb_tensor *q, tfb_tensor *k, tfb_tensor *v,
                          tfb_mask mask) {
    const tfb_config *c = &s->m->cfg;
    tfb_tensor *y = act_like(g, q, q->shape[1], "attention");
    tfb_node *n = tfb_graph_add(g, TFB_OP_ATTENTION, y, q, k, v, NULL);
    n->n_head = (int)c->n_head;
    n->mask = mask;
    n->scale = (float)(1.0 / sqrt((double)(c->d_model / c->n_head)));
    return y;
}

tfb_tensor *tfb__self_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer,
                                tfb_mask mask) {
    tfb_tensor *q = tfb__linear(s, g, x, prefix, "attn.wq");
    tfb_tensor *k = tfb__linear(s, g, x, prefix, "attn.wk");
    tfb_tensor *v = tfb__linear(s, g, x, prefix, "attn.wv");
    tfb_tensor *a;
    if (mask == TFB_MASK_BIDIR) {
        /* Encoder: the whole sequence in one call at position 0, so K/V need no cache. */
        a = attend(s, g, q, k, v, mask);
    } else {
        tfb_tensor *kc = tfb__sess_cache(s, layer, 0, false);
        tfb_tensor *vc = tfb__sess_cache(s, layer, 1, false);
        tfb_graph_add(g, TFB_OP_KV_WRITE, kc, k, kc, NULL, NULL);
        tfb_graph_add(g, TFB_OP_KV_WRITE, vc, v, vc, NULL, NULL);
        a = attend(s, g, q, kc, vc, mask);
    }
    return tfb__linear(s, g, a, prefix, "attn.wo");
}

/* Cross-attention on the cached encoder K/V of decoder layer `layer`. */
tfb_tensor *tfb__cross_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer);
tfb_tensor *tfb__cross_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer) {
    tfb_tensor *q = tfb__linear(s, g, x, prefix, "xattn.wq");
    tfb_tensor *a = attend(s, g, q, tfb__sess_cache(s, layer, 0, true), tfb__sess_cache(s, layer, 1, true),
                           TFB_MASK_CROSS);
    return tfb__linear(s, g, a, prefix, "xattn.wo");
}

tfb_tensor *tfb__ffn(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix) {
    tfb_tensor *h = tfb__linear(s, g, x, prefix, "ffn.w1");
    h = tfb__unary(g, tfb__act_op(s->m->cfg.act), h);
    return tfb__linear(s, g, h, prefix, "ffn.w2");
}

void tfb__head(tfb_session *s, tfb_sgraph *sg, tfb_tensor *x, const char *bias, bool all_rows) {
    tfb_graph *g = &sg->g;
    if (!all_rows) {
        tfb_tensor *last = tfb_graph_new_act(g, "last_row", 1, x->shape[1], TFB_DTYPE_F32);
        tfb_graph_add(g, TFB_OP_LAST_ROW, last, x, NULL, NULL, NULL);
        x = last;
    }
    tfb_tensor *logits = act_like(g, x, s->m->cfg.n_vocab, "logits");
    tfb_graph_add(g, TFB_OP_MATMUL, logits, x, s->head_p, bias ? tfb__sess_weight(s, "%s", bias) : NULL, NULL);
    g->output = logits;
    if (!all_rows) {
        sg->argmax = tfb_graph_new_act(g, "argmax", 1, 1, TFB_DTYPE_I32);
        sg->argmax->ndim = 1;
        tfb_graph_add(g, TFB_OP_ARGMAX, sg->argmax, logits, NULL, NULL, NULL);
    }
}
