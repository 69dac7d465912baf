/* BERT: learned positions + token type 0, embedding LayerNorm, post-LN blocks, MLM head
 * (dense, activation, LayerNorm, tied decoder with bias). */
#include <stdio.h>

#include "models/session_impl.h"

/* Post-LN encoder layer (BERT, Marian encoder): x = LN(x + attn(x)); x = LN(x + ffn(x)). */
tfb_tensor *tfb__post_ln_layer(tfb_session *s, tfb_graph *g, tfb_tensor *x, int64_t l);
tfb_tensor *tfb__post_ln_layer(tfb_session *s, tfb_graph *g, tfb_tensor *x, int64_t l) {
    char p[32];
    snprintf(p, sizeof p, "enc.%lld.", (long long)l);
    x = tfb__layernorm(s, g, tfb__add(g, x, tfb__self_attention(s, g, x, p, l, TFB_MASK_BIDIR)), p, "ln1");
    return tfb__layernorm(s, g, tfb__add(g, x, tfb__ffn(s, g, x, p)), p, "ln2");
}

void tfb__build_encoder(tfb_session *s, tfb_sgraph *sg) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    tfb_tensor *ids = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
    ids->ndim = 1;
    g->input = ids;
    tfb_tensor *x = tfb_graph_new_act(g, "embed", 0, c->d_model, TFB_DTYPE_F32);
    tfb_node *e = tfb_graph_add(g, TFB_OP_EMBED, x, ids, tfb__sess_weight(s, "tok_emb"),
                                tfb__sess_weight(s, "pos_emb"), tfb__sess_weight(s, "type_emb"));
    e->pos_kind = TFB_POS_LEARNED;
    x = tfb__layernorm(s, g, x, "", "emb_ln");
    for (int64_t l = 0; l < c->n_layer; l++)
        x = tfb__post_ln_layer(s, g, x, l);
    sg->hidden = x;
    tfb_tensor *h = tfb__linear(s, g, x, "", "mlm.dense");
    h = tfb__unary(g, tfb__act_op(c->act), h);
    h = tfb__layernorm(s, g, h, "", "mlm.ln");
    tfb__head(s, sg, h, "lm_head.bias", true);
}
