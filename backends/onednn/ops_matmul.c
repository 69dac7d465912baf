/* MATMUL: out[T,N] = x[T,K] w^T + bias, w stored [N,K] row-major (as oneDNN weights [K,N]: tag ba),
 * optionally with the next activation fused as an eltwise post-op, or the residual ADD that follows
 * it as a binary add post-op, or writing a KV cache's rows in place of the KV_WRITE that would
 * copy its output there (compute.c decides). Weights are reordered once into
 * the layout the primitive asks for (format_tag any) and kept by the backend (cache.c).
 * Primitives are keyed on the row count T: decode always has T = 1, so it only ever finds cached
 * ones. bf16/f16 weights run only where oneDNN offers them with f32 activations (device.c asks). */
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"

static tfb_status matmul_desc(dnnl_matmul_desc_t *d, int64_t T, int64_t K, int64_t N, dnnl_data_type_t src,
                              dnnl_data_type_t wei, bool bias) {
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    dnnl_dims_t wdims = {K, N};
    TFB_TRY(tfb__dnn_md2(&smd, T, K, src));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&wmd, 2, wdims, wei, dnnl_format_tag_any));
    TFB_TRY(tfb__dnn_md2(&bmd, 1, N, dnnl_f32));
    TFB_TRY(tfb__dnn_md2(&dmd, T, N, dnnl_f32));
    DNNL_CHECK(dnnl_matmul_desc_init(d, &smd, &wmd, bias ? &bmd : NULL, &dmd));
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_matmul_probe(dnn_ctx *c, dnnl_data_type_t src, dnnl_data_type_t wei, bool *ok) {
    /* A descriptor oneDNN rejects (invalid_arguments for a dtype mix) means unsupported too. */
    dnnl_matmul_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    *ok = matmul_desc(&d, 4, 64, 64, src, wei, true) == TFB_STATUS_OK &&
          dnnl_primitive_desc_create(&pd, &d, NULL, c->engine, NULL) == dnnl_success;
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return TFB_STATUS_OK;
}

int tfb__dnn_act_alg(tfb_op op, float *alpha) {
    *alpha = 0.0f;
    switch (op) {
    case TFB_OP_GELU: return dnnl_eltwise_gelu_erf;
    case TFB_OP_GELU_TANH: return dnnl_eltwise_gelu_tanh;
    case TFB_OP_RELU: return dnnl_eltwise_relu; /* alpha 0: plain max(x, 0) */
    case TFB_OP_SILU: *alpha = 1.0f; return dnnl_eltwise_swish; /* x*sigmoid(alpha*x) */
    default: return 0;
    }
}

static tfb_status matmul_prim(dnn_ctx *c, const tfb_node *n, const dnn_node *s, int64_t T, dnnl_data_type_t src,
                              dnn_prim **out) {
    int64_t K = n->in[0]->shape[1], N = n->in[1]->shape[0];
    dnnl_data_type_t wei = tfb__dnn_dtype(n->in[1]->dtype);
    bool bias = n->in[2] != NULL;
    bool resid = s->resid != NULL;
    dnn_key key = {.kind = DNN_MATMUL,
                   .ints = {(int)T, (int)K, (int)N, (int)wei, bias, s->post_alg, (int)src, resid}};
    dnnl_matmul_desc_t d;
    TFB_TRY(matmul_desc(&d, T, K, N, src, wei, bias));
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (s->post_alg || resid) {
        DNNL_CHECK(dnnl_primitive_attr_create(&attr));
        DNNL_CHECK(dnnl_post_ops_create(&po));
    }
    if (s->post_alg) {
        float alpha = s->post_alg == dnnl_eltwise_swish ? 1.0f : 0.0f; /* silu: x*sigmoid(1*x) */
        DNNL_CHECK(dnnl_post_ops_append_eltwise(po, 1.0f, (dnnl_alg_kind_t)s->post_alg, alpha, 0.0f));
    }
    if (resid) {
        dnnl_memory_desc_t rmd;
        TFB_TRY(tfb__dnn_md2(&rmd, T, N, dnnl_f32));
        DNNL_CHECK(dnnl_post_ops_append_binary(po, dnnl_binary_add, &rmd));
    }
    if (attr)
        DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    tfb_status st = tfb__dnn_prim_get(c, &key, &d, attr, out);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

/* Memory objects over this node's tensors for T rows (made when T changes). */
static tfb_status bind(dnn_ctx *c, const tfb_node *n, dnn_node *s, int64_t T) {
    tfb__dnn_node_reset(s);
    int64_t K = n->in[0]->shape[1], N = n->in[1]->shape[0];
    dnnl_memory_desc_t md;
    TFB_TRY(tfb__dnn_md2(&md, T, K, dnnl_f32));
    DNNL_CHECK(dnnl_memory_create(&s->mem[0], &md, c->engine, tfb_tensor_host(n->in[0])));
    TFB_TRY(tfb__dnn_md2(&md, T, N, dnnl_f32));
    DNNL_CHECK(dnnl_memory_create(&s->mem[2], &md, c->engine, tfb_tensor_host(s->dst)));
    s->dst_row = 0;
    if (n->in[2]) {
        TFB_TRY(tfb__dnn_md2(&md, 1, N, dnnl_f32));
        DNNL_CHECK(dnnl_memory_create(&s->mem[1], &md, c->engine, tfb_tensor_host(n->in[2])));
    }
    if (s->resid) {
        TFB_TRY(tfb__dnn_md2(&md, T, N, dnnl_f32));
        DNNL_CHECK(dnnl_memory_create(&s->mem[3], &md, c->engine, tfb_tensor_host(s->resid)));
    }
    s->rows = T;
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_matmul(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, dnn_node *s) {
    int64_t T = tfb_graph_rows(g, n->in[0]), N = n->in[1]->shape[0];
    tfb_dtype wt = n->in[1]->dtype;
    if (!(wt == TFB_DTYPE_F32 || (wt == TFB_DTYPE_BF16 && c->bf16_f32src) || (wt == TFB_DTYPE_F16 && c->f16_f32src)))
        return tfb_error_set(TFB_STATUS_UNSUPPORTED, "onednn: matmul with %s weights", tfb_dtype_name(wt));
    if (s->rows != T) {
        TFB_TRY(matmul_prim(c, n, s, T, dnnl_f32, &s->p));
        TFB_TRY(bind(c, n, s, T));
        s->wmem = NULL;
    }
    if (s->kv) {
        /* Writing a cache directly (compute.c, plan_kv): rows p0.. as the skipped KV_WRITE would. */
        int64_t p0 = s->kv->kv_at_zero ? 0 : g->params.pos;
        TFB_ASSERT(p0 + T <= s->dst->shape[0]);
        if (p0 != s->dst_row) {
            float *rows = (float *)tfb_tensor_host(s->dst) + p0 * N; // [T, N] rows p0.. of the cache
            DNNL_CHECK(dnnl_memory_set_data_handle(s->mem[2], rows));
            s->dst_row = p0;
        }
    }
    if (!s->wmem || s->wgen != c->wgen) {
        const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(s->p->pd, dnnl_query_weights_md, 0);
        TFB_TRY(tfb__dnn_weight_get(c, n->in[1], wmd, &s->wmem));
        s->wgen = c->wgen;
    }
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, s->mem[0]}, {DNNL_ARG_WEIGHTS, s->wmem}, {DNNL_ARG_DST, s->mem[2]}};
    int na = 3;
    if (n->in[2])
        args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, s->mem[1]};
    if (s->resid)
        args[na++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, s->mem[3]};
    DNNL_CHECK(dnnl_primitive_execute(s->p->prim, c->stream, na, args));
    return TFB_STATUS_OK;
}
