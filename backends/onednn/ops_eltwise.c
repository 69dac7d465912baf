/* Row-wise and elementwise ops on oneDNN primitives: LAYERNORM (scale + shift), SOFTMAX (with its
 * scale applied first by an eltwise linear), GELU/GELU_TANH/RELU/SILU (eltwise), SCALE (eltwise
 * linear, alpha = scale, beta = 0), ADD and MUL (binary add / mul).
 * Primitives are keyed on the row count; memory objects are rebuilt only when it changes. */
#include "backends/onednn/onednn.h"

static tfb_status mem2(dnn_ctx *c, dnnl_memory_t *m, int64_t rows, int64_t cols, void *p) {
    dnnl_memory_desc_t md;
    TFB_TRY(tfb__dnn_md2(&md, rows, cols, dnnl_f32));
    DNNL_CHECK(dnnl_memory_create(m, &md, c->engine, p));
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_layernorm(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    if (s->rows != T) {
        tfb__dnn_node_reset(s);
        dnnl_memory_desc_t md;
        TFB_TRY(tfb__dnn_md2(&md, T, C, dnnl_f32));
        dnnl_layer_normalization_desc_t d;
        DNNL_CHECK(dnnl_layer_normalization_forward_desc_init(&d, dnnl_forward_inference, &md, NULL, n->eps,
                                                              dnnl_use_scale | dnnl_use_shift));
        dnn_key key = {.kind = DNN_LAYERNORM, .ints = {(int)T, (int)C}, .f = n->eps};
        TFB_TRY(tfb__dnn_prim_get(c, &key, &d, NULL, &s->p));
        TFB_TRY(mem2(c, &s->mem[0], T, C, tfb_tensor_host(n->in[0])));
        TFB_TRY(mem2(c, &s->mem[1], T, C, tfb_tensor_host(n->out)));
        dnnl_memory_desc_t cmd;
        dnnl_dims_t cdim = {C};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&cmd, 1, cdim, dnnl_f32, dnnl_a));
        DNNL_CHECK(dnnl_memory_create(&s->mem[2], &cmd, c->engine, tfb_tensor_host(n->in[1])));
        DNNL_CHECK(dnnl_memory_create(&s->mem[3], &cmd, c->engine, tfb_tensor_host(n->in[2])));
        s->rows = T;
    }
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, s->mem[0]}, {DNNL_ARG_DST, s->mem[1]}, {DNNL_ARG_SCALE, s->mem[2]},
                               {DNNL_ARG_SHIFT, s->mem[3]}};
    DNNL_CHECK(dnnl_primitive_execute(s->p->prim, c->stream, 4, args));
    return TFB_STATUS_OK;
}

static tfb_status eltwise_prim(dnn_ctx *c, int64_t len, int alg, float alpha, dnn_prim **out) {
    dnnl_memory_desc_t md;
    TFB_TRY(tfb__dnn_md2(&md, 1, len, dnnl_f32));
    dnnl_eltwise_desc_t d;
    DNNL_CHECK(dnnl_eltwise_forward_desc_init(&d, dnnl_forward_inference, (dnnl_alg_kind_t)alg, &md, alpha, 0.0f));
    dnn_key key = {.kind = DNN_ELTWISE, .ints = {(int)len, alg}, .f = alpha};
    return tfb__dnn_prim_get(c, &key, &d, NULL, out);
}

tfb_status tfb__dnn_eltwise(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    if (s->rows != T) {
        tfb__dnn_node_reset(s);
        float alpha = n->scale;
        int alg = n->op == TFB_OP_SCALE ? (int)dnnl_eltwise_linear : tfb__dnn_act_alg(n->op, &alpha);
        TFB_TRY(eltwise_prim(c, T * C, alg, alpha, &s->p));
        TFB_TRY(mem2(c, &s->mem[0], 1, T * C, tfb_tensor_host(n->in[0])));
        TFB_TRY(mem2(c, &s->mem[1], 1, T * C, tfb_tensor_host(n->out)));
        s->rows = T;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, s->mem[0]}, {DNNL_ARG_DST, s->mem[1]}};
    DNNL_CHECK(dnnl_primitive_execute(s->p->prim, c->stream, 2, args));
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_softmax(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    bool scaled = n->scale != 1.0f;
    if (s->rows != T) {
        tfb__dnn_node_reset(s);
        dnnl_memory_desc_t md;
        TFB_TRY(tfb__dnn_md2(&md, T, C, dnnl_f32));
        dnnl_softmax_desc_t d;
        DNNL_CHECK(dnnl_softmax_forward_desc_init(&d, dnnl_forward_inference, &md, 1));
        dnn_key key = {.kind = DNN_SOFTMAX, .ints = {(int)T, (int)C, (int)C}};
        TFB_TRY(tfb__dnn_prim_get(c, &key, &d, NULL, &s->p));
        if (scaled)
            TFB_TRY(eltwise_prim(c, T * C, dnnl_eltwise_linear, n->scale, &s->p2));
        TFB_TRY(mem2(c, &s->mem[0], T, C, tfb_tensor_host(n->in[0])));
        TFB_TRY(mem2(c, &s->mem[1], T, C, tfb_tensor_host(n->out)));
        TFB_TRY(mem2(c, &s->mem[2], 1, T * C, tfb_tensor_host(n->in[0])));
        TFB_TRY(mem2(c, &s->mem[3], 1, T * C, tfb_tensor_host(n->out)));
        s->rows = T;
    }
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, s->mem[0]}, {DNNL_ARG_DST, s->mem[1]}};
    if (scaled) {
        /* out = scale*x, then softmax in place on out. */
        dnnl_exec_arg_t lin[2] = {{DNNL_ARG_SRC, s->mem[2]}, {DNNL_ARG_DST, s->mem[3]}};
        DNNL_CHECK(dnnl_primitive_execute(s->p2->prim, c->stream, 2, lin));
        args[0].memory = s->mem[1];
    }
    DNNL_CHECK(dnnl_primitive_execute(s->p->prim, c->stream, 2, args));
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_binary(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    dnnl_alg_kind_t alg = n->op == TFB_OP_MUL ? dnnl_binary_mul : dnnl_binary_add;
    if (s->rows != T) {
        tfb__dnn_node_reset(s);
        dnnl_memory_desc_t md;
        TFB_TRY(tfb__dnn_md2(&md, 1, T * C, dnnl_f32));
        dnnl_binary_desc_t d;
        DNNL_CHECK(dnnl_binary_desc_init(&d, alg, &md, &md, &md));
        dnn_key key = {.kind = DNN_BINARY, .ints = {(int)(T * C), (int)alg}};
        TFB_TRY(tfb__dnn_prim_get(c, &key, &d, NULL, &s->p));
        TFB_TRY(mem2(c, &s->mem[0], 1, T * C, tfb_tensor_host(n->in[0])));
        TFB_TRY(mem2(c, &s->mem[1], 1, T * C, tfb_tensor_host(n->in[1])));
        TFB_TRY(mem2(c, &s->mem[2], 1, T * C, tfb_tensor_host(n->out)));
        s->rows = T;
    }
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, s->mem[0]}, {DNNL_ARG_SRC_1, s->mem[1]}, {DNNL_ARG_DST, s->mem[2]}};
    DNNL_CHECK(dnnl_primitive_execute(s->p->prim, c->stream, 3, args));
    return TFB_STATUS_OK;
}
