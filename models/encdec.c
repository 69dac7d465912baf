/* Marian: sinusoidal positions, embeddings scaled by sqrt(d_model), post-LN blocks, swish FFN,
 * cross-attention on K/V computed once per source (by the encoder graph) and cached,
 * head tied to tok_emb plus final_logits_bias. */
#include <math.h>
#include <stdio.h>

#include "models/session_impl.h"

tfb_tensor *tfb__post_ln_layer(tfb_session *s, tfb_graph *g, tfb_tensor *x, int64_t l);
tfb_tensor *tfb__cross_attention(tfb_session *s, tfb_graph *g, tfb_tensor *x, const char *prefix, int64_t layer);

static tfb_tensor *embed(tfb_session *s, tfb_graph *g) {
    const tfb_config *c = &s->m->cfg;
    tfb_tensor *ids = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
    ids->ndim = 1;
    g->input = ids;
    tfb_tensor *x = tfb_graph_new_act(g, "embed", 0, c->d_model, TFB_DTYPE_F32);
    tfb_node *e = tfb_graph_add(g, TFB_OP_EMBED, x, ids, tfb__sess_weight(s, "tok_emb"), NULL, NULL);
    e->pos_kind = TFB_POS_SINUSOIDAL;
    e->scale = c->scale_embed ? (float)sqrt((double)c->d_model) : 1.0f;
    return x;
}

void tfb__build_encdec_encoder(tfb_session *s, tfb_sgraph *sg) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    tfb_tensor *x = embed(s, g);
    for (int64_t l = 0; l < c->n_enc_layer; l++)
        x = tfb__post_ln_layer(s, g, x, l);
    sg->hidden = x;
    g->output = x;
    /* Cross-attention K/V of every decoder layer, computed once per source. */
    for (int64_t l = 0; l < c->n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "dec.%lld.", (long long)l);
        tfb_tensor *k = tfb__linear(s, g, x, p, "xattn.wk");
        tfb_tensor *v = tfb__linear(s, g, x, p, "xattn.wv");
        tfb_tensor *kc = tfb__sess_cache(s, l, 0, true), *vc = tfb__sess_cache(s, l, 1, true);
        tfb_graph_add(g, TFB_OP_KV_WRITE, kc, k, kc, NULL, NULL)->kv_at_zero = true;
        tfb_graph_add(g, TFB_OP_KV_WRITE, vc, v, vc, NULL, NULL)->kv_at_zero = true;
    }
}

void tfb__build_encdec_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    tfb_tensor *x = embed(s, g);
    for (int64_t l = 0; l < c->n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "dec.%lld.", (long long)l);
        x = tfb__layernorm(s, g, tfb__add(g, x, tfb__self_attention(s, g, x, p, l, TFB_MASK_CAUSAL)), p, "ln1");
        x = tfb__layernorm(s, g, tfb__add(g, x, tfb__cross_attention(s, g, x, p, l)), p, "ln_x");
        x = tfb__layernorm(s, g, tfb__add(g, x, tfb__ffn(s, g, x, p)), p, "ln2");
    }
    sg->hidden = x;
    tfb__head(s, sg, x, "lm_head.bias", all_rows);
}
