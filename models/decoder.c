/* GPT-2: learned positions, pre-LN blocks, gelu_tanh FFN, final LayerNorm, head tied to tok_emb. */
#include <stdio.h>

#include "models/session_impl.h"

static tfb_tensor *ids_input(tfb_graph *g) {
    tfb_tensor *ids = tfb_graph_new_act(g, "ids", 0, 1, TFB_DTYPE_I32);
    ids->ndim = 1;
    g->input = ids;
    return ids;
}

void tfb__build_decoder(tfb_session *s, tfb_sgraph *sg, bool all_rows) {
    const tfb_config *c = &s->m->cfg;
    tfb_graph *g = &sg->g;
    tfb_tensor *ids = ids_input(g);
    tfb_tensor *x = tfb_graph_new_act(g, "embed", 0, c->d_model, TFB_DTYPE_F32);
    tfb_node *e = tfb_graph_add(g, TFB_OP_EMBED, x, ids, tfb__sess_weight(s, "tok_emb"),
                                tfb__sess_weight(s, "pos_emb"), NULL);
    e->pos_kind = TFB_POS_LEARNED;
    for (int64_t l = 0; l < c->n_layer; l++) {
        char p[32];
        snprintf(p, sizeof p, "dec.%lld.", (long long)l);
        tfb_tensor *h = tfb__layernorm(s, g, x, p, "ln1");
        x = tfb__add(g, x, tfb__self_attention(s, g, h, p, l, TFB_MASK_CAUSAL));
        h = tfb__layernorm(s, g, x, p, "ln2");
        x = tfb__add(g, x, tfb__ffn(s, g, h, p));
    }
    x = tfb__layernorm(s, g, x, "", "final_ln");
    sg->hidden = x;
    tfb__head(s, sg, x, NULL, all_rows);
}
