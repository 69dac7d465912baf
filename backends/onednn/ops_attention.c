/* ATTENTION as two batched oneDNN matmuls around a oneDNN softmax, heads as the batch dimension:
 *   scores[h, t, j] = scale * q[t, h*D:] . k[j, h*D:]     matmul, eltwise linear post-op for scale
 *   scores[h, t, j] = -inf for keys j a query may not see  plain C (the mask)
 *   p = softmax(scores) along j                           softmax primitive
 *   out[t, h*D:] = sum_j p[h, t, j] v[j, h*D:]             matmul writing straight into out
 * Q, K, V and out are read in place through strided memory descriptors (head h at column h*D).
 * Both matmuls are created once per graph with runtime dimensions and strides for the row count T,
 * the key count L and the score row width W, so the growing cache length never creates a
 * primitive. Scores are dense [H, T, W] (oneDNN 2.6 only has a reference softmax for strided
 * layouts: measured 1.4 s for 12 layers of 12x256x256, so they must be dense), softmax over a
 * width W with the columns past L masked: W = S (the whole cache) for single-row calls, so decoding
 * always uses the same softmax primitive; multi-row calls use L rounded up to 64. Scores live in a
 * per-graph scratch of H*Tmax*S floats. */
#include <math.h>
#include <stdlib.h>

#include "backends/onednn/onednn.h"

#define RT DNNL_RUNTIME_DIM_VAL

static tfb_status md3(dnnl_memory_desc_t *md, int64_t a, int64_t b, int64_t c, int64_t sa, int64_t sb, int64_t sc) {
    dnnl_dims_t dims = {a, b, c}, strides = {sa, sb, sc};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(md, 3, dims, dnnl_f32, strides));
    return TFB_STATUS_OK;
}

typedef struct att_shape {
    int64_t H, D, HD, Tmax, S;
} att_shape;

static tfb_status att_prims(dnn_ctx *c, const tfb_node *n, const att_shape *a, dnn_prim **qk, dnn_prim **pv) {
    int64_t H = a->H, D = a->D, HD = a->HD, S = a->S;
    dnnl_memory_desc_t q, k, sc, p, v, o;
    TFB_TRY(md3(&q, H, RT, D, D, HD, 1));
    TFB_TRY(md3(&k, H, D, RT, D, 1, HD));
    TFB_TRY(md3(&sc, H, RT, RT, RT, RT, 1));
    dnnl_matmul_desc_t d;
    DNNL_CHECK(dnnl_matmul_desc_init(&d, &q, &k, NULL, &sc));
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    DNNL_CHECK(dnnl_primitive_attr_create(&attr));
    DNNL_CHECK(dnnl_post_ops_create(&po));
    DNNL_CHECK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, n->scale, 0.0f));
    DNNL_CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnn_key key = {.kind = DNN_ATT_QK, .ints = {(int)H, (int)D, (int)a->Tmax, (int)S}, .f = n->scale};
    tfb_status st = tfb__dnn_prim_get(c, &key, &d, attr, qk);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    TFB_TRY(st);
    TFB_TRY(md3(&p, H, RT, RT, RT, RT, 1));
    TFB_TRY(md3(&v, H, RT, D, D, HD, 1));
    TFB_TRY(md3(&o, H, RT, D, D, HD, 1));
    DNNL_CHECK(dnnl_matmul_desc_init(&d, &p, &v, NULL, &o));
    dnn_key key2 = {.kind = DNN_ATT_PV, .ints = {(int)H, (int)D, (int)a->Tmax, (int)S}};
    return tfb__dnn_prim_get(c, &key2, &d, NULL, pv);
}

/* A memory object over p with a fully defined 3-D strided layout (runtime dims filled in). */
static tfb_status mem3(dnn_ctx *c, dnnl_memory_t *m, int64_t a, int64_t b, int64_t cc, int64_t sa, int64_t sb,
                       int64_t sc, void *p) {
    dnnl_memory_desc_t md;
    TFB_TRY(md3(&md, a, b, cc, sa, sb, sc));
    DNNL_CHECK(dnnl_memory_create(m, &md, c->engine, p));
    return TFB_STATUS_OK;
}

static tfb_status run(dnn_ctx *c, dnnl_primitive_t prim, dnnl_memory_t src, dnnl_memory_t wei, dnnl_memory_t dst) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    DNNL_CHECK(dnnl_primitive_execute(prim, c->stream, 3, args));
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_attention(dnn_ctx *c, const tfb_graph *g, dnn_graph *dg, const tfb_node *n) {
    att_shape a = {.H = n->n_head, .HD = n->in[0]->shape[1], .Tmax = n->in[0]->shape[0], .S = n->in[1]->shape[0]};
    a.D = a.HD / a.H;
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t p0 = g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : p0 + T;
    TFB_ASSERT(L >= 1 && L <= a.S && T <= a.Tmax);
    int64_t W = T == 1 ? a.S : ((L + 63) / 64) * 64;
    W = W < a.S ? W : a.S;
    size_t need = (size_t)(a.H * a.Tmax * a.S);
    if (dg->scores_n < need) {
        free(dg->scores);
        dg->scores = aligned_alloc(64, (need * sizeof(float) + 63) & ~(size_t)63);
        dg->scores_n = dg->scores ? need : 0;
        if (!dg->scores)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate attention scores");
    }
    dnn_prim *qk, *pv, *sm;
    TFB_TRY(att_prims(c, n, &a, &qk, &pv));
    int64_t TW = T * W;
    dnnl_memory_desc_t smd;
    TFB_TRY(tfb__dnn_md2(&smd, a.H * T, W, dnnl_f32));
    dnnl_softmax_desc_t sd;
    DNNL_CHECK(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &smd, 1));
    dnn_key skey = {.kind = DNN_SOFTMAX, .ints = {(int)(a.H * T), (int)W, (int)W}};
    TFB_TRY(tfb__dnn_prim_get(c, &skey, &sd, NULL, &sm));

    /* Memory objects for this call's T and L (cheap wrappers; primitives above are cached). */
    dnnl_memory_t m[6] = {0};
    float *sc = dg->scores; // [H, T, W] of the [H, Tmax, S] scratch
    tfb_status st = mem3(c, &m[0], a.H, T, a.D, a.D, a.HD, 1, tfb_tensor_host(n->in[0]));
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[1], a.H, a.D, L, a.D, 1, a.HD, tfb_tensor_host(n->in[1]));
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[2], a.H, T, L, TW, W, 1, sc);
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[3], a.H, L, a.D, a.D, a.HD, 1, tfb_tensor_host(n->in[2]));
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[4], a.H, T, a.D, a.D, a.HD, 1, tfb_tensor_host(n->out));
    if (st == TFB_STATUS_OK)
        st = tfb__dnn_md2(&smd, a.H * T, W, dnnl_f32);
    if (st == TFB_STATUS_OK && dnnl_memory_create(&m[5], &smd, c->engine, sc) != dnnl_success)
        st = tfb_error_set(TFB_STATUS_BACKEND, "onednn: dnnl_memory_create for attention scores failed");
    if (st == TFB_STATUS_OK)
        st = run(c, qk->prim, m[0], m[1], m[2]);
    if (st == TFB_STATUS_OK && dnnl_stream_wait(c->stream) != dnnl_success)
        st = tfb_error_set(TFB_STATUS_BACKEND, "onednn: dnnl_stream_wait failed");
    if (st == TFB_STATUS_OK) {
        for (int64_t h = 0; h < a.H; h++)
            for (int64_t t = 0; t < T; t++) {
                int64_t vis = n->mask == TFB_MASK_CAUSAL && c->fault != 2 ? p0 + t + 1 : L;
                float *row = sc + h * TW + t * W; // [W]
                for (int64_t j = vis; j < W; j++)
                    row[j] = -INFINITY;
            }
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, m[5]}, {DNNL_ARG_DST, m[5]}};
        if (dnnl_primitive_execute(sm->prim, c->stream, 2, args) != dnnl_success)
            st = tfb_error_set(TFB_STATUS_BACKEND, "onednn: attention softmax failed");
    }
    if (st == TFB_STATUS_OK)
        st = run(c, pv->prim, m[2], m[3], m[4]);
    for (int i = 0; i < 6; i++)
        if (m[i])
            dnnl_memory_destroy(m[i]);
    return st;
}
