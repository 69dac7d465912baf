/* ATTENTION as two batched oneDNN matmuls around a oneDNN softmax, heads as the batch dimension,
 * over blocks of at most ATT_BLOCK query rows:
 *   scores[h, t, j] = scale * q[t, h*D:] . k[j, h*D:]     matmul, scale as its output scale
 *   scores[h, t, j] = -inf for keys j a query may not see  plain C (the mask)
 *   p = softmax(scores) along j                           softmax primitive
 *   out[t, h*D:] = sum_j p[h, t, j] v[j, h*D:]             matmul writing straight into out
 * Causal blocks: a block of rows t0..t0+bt-1 multiplies only with the Lb = pos+t0+bt keys its last
 * row can see, so the fully masked key columns right of the diagonal are never computed, softmaxed
 * or multiplied (for a 512-row prefill at pos 0 with 64-row blocks that is 56% of the dense work);
 * only the triangle inside the block's last 64 columns is masked in C. Non-causal attention (BIDIR,
 * CROSS) sees all L keys in every block; blocking then only bounds the score scratch.
 * Q, K, V and out are read in place through strided memory descriptors (head h at column h*D).
 * Both matmuls are created once per graph shape with runtime dimensions and strides for the rows,
 * the key count and the score row width, so neither the block nor the growing cache length ever
 * creates a matmul primitive (measured: as fast as fixed-shape ones here, both are gemm:jit).
 * Scores are dense [H, bt, W] (oneDNN 2.6 only has a reference softmax for strided layouts:
 * measured 1.4 s for 12 layers of 12x256x256, so they must be dense), softmax over a width W with
 * the columns past Lb masked: W = S (the whole cache) for single-row calls, so decoding always uses
 * the same softmax primitive; multi-row blocks use Lb rounded up to 64 (one softmax primitive per
 * (rows, W) pair, cached; at most S/64 widths). Scores live in a per-graph scratch of
 * H*ATT_BLOCK*S floats. */
#include <math.h>
#include <stdlib.h>

#include "backends/onednn/onednn.h"

#define RT DNNL_RUNTIME_DIM_VAL
#define ATT_BLOCK 64 /* query rows per block (measured: 64 beats 128 and dense at T = 512) */

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
    /* The scale as an output scale, not an eltwise post-op: the gemm-based matmul folds it into
     * its alpha instead of making a second pass over the scores (measured 17% off QK + PV). */
    dnnl_primitive_attr_t attr;
    DNNL_CHECK(dnnl_primitive_attr_create(&attr));
    dnnl_status_t ds = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &n->scale);
    if (ds != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return tfb__dnnl_fail(ds, "dnnl_primitive_attr_set_output_scales", __FILE__, __LINE__);
    }
    dnn_key key = {.kind = DNN_ATT_QK, .ints = {(int)H, (int)D, (int)a->Tmax, (int)S}, .f = n->scale};
    tfb_status st = tfb__dnn_prim_get(c, &key, &d, attr, qk);
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

/* One block of bt query rows starting at row t0 of this call: keys [0, Lb) of which row t sees
 * [0, vis(t)); scores are [H, bt, W] at sc. */
typedef struct att_block {
    int64_t t0, bt, Lb, W;
} att_block;

static tfb_status att_block_run(dnn_ctx *c, const tfb_graph *g, const tfb_node *n, const att_shape *a, bool causal,
                                int64_t L, const att_block *b, dnn_prim *qk, dnn_prim *pv, float *sc) {
    int64_t H = a->H, D = a->D, HD = a->HD, bt = b->bt, Lb = b->Lb, W = b->W;
    int64_t p0 = g->params.pos;
    dnn_prim *sm;
    dnnl_memory_desc_t smd;
    TFB_TRY(tfb__dnn_md2(&smd, H * bt, W, dnnl_f32));
    dnnl_softmax_desc_t sd;
    DNNL_CHECK(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &smd, 1));
    dnn_key skey = {.kind = DNN_SOFTMAX, .ints = {(int)(H * bt), (int)W, (int)W}};
    TFB_TRY(tfb__dnn_prim_get(c, &skey, &sd, NULL, &sm));

    /* Memory objects for this block (cheap wrappers; the primitives above are cached). */
    float *q = (float *)tfb_tensor_host(n->in[0]) + b->t0 * HD;  // [bt, H*D] rows t0.. of q
    float *out = (float *)tfb_tensor_host(n->out) + b->t0 * HD;  // [bt, H*D] rows t0.. of out
    dnnl_memory_t m[6] = {0};
    tfb_status st = mem3(c, &m[0], H, bt, D, D, HD, 1, q);
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[1], H, D, Lb, D, 1, HD, tfb_tensor_host(n->in[1]));
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[2], H, bt, Lb, bt * W, W, 1, sc);
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[3], H, Lb, D, D, HD, 1, tfb_tensor_host(n->in[2]));
    if (st == TFB_STATUS_OK)
        st = mem3(c, &m[4], H, bt, D, D, HD, 1, out);
    if (st == TFB_STATUS_OK && dnnl_memory_create(&m[5], &smd, c->engine, sc) != dnnl_success)
        st = tfb_error_set(TFB_STATUS_BACKEND, "onednn: dnnl_memory_create for attention scores failed");
    if (st == TFB_STATUS_OK)
        st = run(c, qk->prim, m[0], m[1], m[2]);
    if (st == TFB_STATUS_OK && dnnl_stream_wait(c->stream) != dnnl_success)
        st = tfb_error_set(TFB_STATUS_BACKEND, "onednn: dnnl_stream_wait failed");
    if (st == TFB_STATUS_OK) {
        for (int64_t h = 0; h < H; h++)
            for (int64_t t = 0; t < bt; t++) {
                int64_t vis = causal ? p0 + b->t0 + t + 1 : L;
                float *row = sc + (h * bt + t) * W; // [W]
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

tfb_status tfb__dnn_attention(dnn_ctx *c, const tfb_graph *g, dnn_graph *dg, const tfb_node *n) {
    att_shape a = {.H = n->n_head, .HD = n->in[0]->shape[1], .Tmax = n->in[0]->shape[0], .S = n->in[1]->shape[0]};
    a.D = a.HD / a.H;
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t p0 = g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : p0 + T;
    TFB_ASSERT(L >= 1 && L <= a.S && T <= a.Tmax);
    /* Planted fault 2 (tests only): no causal mask, every row sees all L keys. */
    bool causal = n->mask == TFB_MASK_CAUSAL && c->fault != 2;
    int64_t rows = a.Tmax < ATT_BLOCK ? a.Tmax : ATT_BLOCK;
    size_t need = (size_t)(a.H * rows * a.S);
    if (dg->scores_n < need) {
        free(dg->scores);
        dg->scores = aligned_alloc(64, (need * sizeof(float) + 63) & ~(size_t)63);
        dg->scores_n = dg->scores ? need : 0;
        if (!dg->scores)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate attention scores");
    }
    dnn_prim *qk, *pv;
    TFB_TRY(att_prims(c, n, &a, &qk, &pv));
    for (int64_t t0 = 0; t0 < T; t0 += ATT_BLOCK) {
        att_block b = {.t0 = t0, .bt = T - t0 < ATT_BLOCK ? T - t0 : ATT_BLOCK};
        b.Lb = causal ? p0 + t0 + b.bt : L;
        b.W = T == 1 ? a.S : ((b.Lb + 63) / 64) * 64;
        b.W = b.W < a.S ? b.W : a.S;
        TFB_TRY(att_block_run(c, g, n, &a, causal, L, &b, qk, pv, dg->scores));
    }
    return TFB_STATUS_OK;
}
