/* Family descriptions (families.h) and the small queries on a description (model.h). */
#include <math.h>

#include "models/families.h"

static tfb_config common(void) {
    return (tfb_config){
        .has_lm_head = true,
        .pos = TFB_POS_LEARNED,
        .emb_scale = 1.0f,
        .norm = TFB_NORM_LAYER,
        .eps = 1e-5f,
        .attn_bias = true,
        .ffn_bias = true,
        .attn_scaled = true,
        .head = TFB_HEAD_TOK_EMB,
        .head_scale = 1.0f,
    };
}

tfb_config tfb__family_gpt2(void) {
    tfb_config c = common();
    c.norm_place = TFB_NORM_PRE;
    c.final_norm = true;
    c.act = TFB_ACT_GELU_TANH;
    return c;
}

tfb_config tfb__family_bert(bool mlm_head) {
    tfb_config c = common();
    c.norm_place = TFB_NORM_POST;
    c.n_type = 2;
    c.emb_norm = true;
    c.eps = 1e-12f;
    c.act = TFB_ACT_GELU;
    c.has_lm_head = mlm_head;
    c.mlm_transform = mlm_head;
    c.head_bias = mlm_head;
    return c;
}

tfb_config tfb__family_marian(void) {
    tfb_config c = common();
    c.norm_place = TFB_NORM_POST;
    c.pos = TFB_POS_SINUSOIDAL;
    c.act = TFB_ACT_SILU;
    c.head_bias = true;
    return c;
}

tfb_config tfb__family_llama(void) {
    tfb_config c = common();
    c.norm = TFB_NORM_RMS;
    c.norm_place = TFB_NORM_PRE;
    c.final_norm = true;
    c.pos = TFB_POS_ROTARY;
    c.rope_theta = 10000.0f;
    c.rope_layout = TFB_ROPE_HALF;
    c.attn_bias = false;
    c.ffn_bias = false;
    c.act = TFB_ACT_SILU;
    c.ffn_gated = true;
    c.head = TFB_HEAD_OWN;
    return c;
}

tfb_config tfb__family_t5(bool gated) {
    tfb_config c = common();
    c.norm = TFB_NORM_RMS;
    c.norm_place = TFB_NORM_PRE;
    c.eps = 1e-6f;
    c.final_norm = true;
    c.pos = TFB_POS_RELATIVE;
    c.rel_buckets = 32;
    c.rel_max_distance = 128;
    c.attn_bias = false;
    c.ffn_bias = false;
    c.attn_scaled = false;
    c.act = gated ? TFB_ACT_GELU_TANH : TFB_ACT_RELU;
    c.ffn_gated = gated;
    return c;
}

void tfb__family_finish(tfb_config *c) {
    if (c->n_dec_vocab == 0)
        c->n_dec_vocab = c->n_vocab;
    if (c->emb_scale == 0.0f)
        c->emb_scale = 1.0f;
    if (c->head_scale == 0.0f)
        c->head_scale = 1.0f;
}

int64_t tfb_config_kv_width(const tfb_config *c, const tfb_stack *st) {
    return st->n_head > 0 ? tfb_stack_kv_heads(st) * (c->d_model / st->n_head) : 0;
}

int64_t tfb_config_out_width(const tfb_config *c) {
    return c->has_lm_head ? c->n_dec_vocab : c->d_model;
}

float tfb_config_attn_scale(const tfb_config *c, const tfb_stack *st, int64_t layer) {
    double s = c->attn_scaled ? 1.0 / sqrt((double)(c->d_model / st->n_head)) : 1.0;
    if (c->attn_scale_inv_layer)
        s /= (double)(layer + 1);
    return (float)s;
}
