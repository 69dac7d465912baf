/* One compute = every node of the graph enqueued on the in-order queue, kernels created once at init
 * and their arguments set per enqueue; no clFinish per op (synchronize and the blocking download do
 * that). Tensors are passed as their buffer's cl_mem plus an offset (elements for F32/I32, bytes for
 * weights), never as sub-buffers, whose origins must be aligned to CL_DEVICE_MEM_BASE_ADDR_ALIGN. */
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

/* What node() below dispatches, with the kernels' own limits: attention keeps a head's query and
 * accumulator in private arrays of TFB_CL_ATT_MAXD floats (attention.cl), so wider heads are refused;
 * it takes grouped-query kv heads, a relative position bias and any scale. ROPE needs a positive
 * theta (its table is theta^(-2i/D)). */
bool tfb__cl_supports(void *ctx, const tfb_node *n) {
    (void)ctx;
    switch (n->op) {
    case TFB_OP_MATMUL: return tfb_dtype_is_weight(n->in[1]->dtype);
    case TFB_OP_ATTENTION: return tfb_node_head_size(n) <= TFB_CL_ATT_MAXD;
    case TFB_OP_ROPE: return n->rope_theta > 0.0f;
    default: return tfb_op_is_rowwise(n->op);
    }
}

/* ---- argument setting -------------------------------------------------------------------------- */

typedef struct karg {
    cl_kernel k;
    cl_uint i;   /* next argument index */
    cl_int err;  /* first failure */
    cl_uint bad; /* its index */
} karg;

static void arg(karg *a, size_t size, const void *value) {
    cl_int e = clSetKernelArg(a->k, a->i, size, value);
    if (e != CL_SUCCESS && a->err == CL_SUCCESS) {
        a->err = e;
        a->bad = a->i;
    }
    a->i++;
}

static void arg_i32(karg *a, int64_t v) {
    cl_int x = (cl_int)v;
    arg(a, sizeof x, &x);
}

static void arg_f32(karg *a, float v) {
    arg(a, sizeof v, &v);
}

/* A tensor: its cl_mem, then its offset in elements of `elem` bytes. */
static void arg_tensor(karg *a, const tfb_tensor *t, size_t elem) {
    cl_mem m = tfb__cl_mem(t);
    TFB_ASSERT(t->offset % elem == 0);
    cl_ulong off = t->offset / elem;
    arg(a, sizeof m, &m);
    arg(a, sizeof off, &off);
}

/* An optional tensor: absent ones pass `stand_in` (never read by the kernel) at offset 0. */
static void arg_opt(karg *a, const tfb_tensor *t, const tfb_tensor *stand_in, size_t elem) {
    if (t) {
        arg_tensor(a, t, elem);
        return;
    }
    cl_mem m = tfb__cl_mem(stand_in);
    cl_ulong off = 0;
    arg(a, sizeof m, &m);
    arg(a, sizeof off, &off);
}

static size_t round_up(size_t n, size_t m) {
    return (n + m - 1) / m * m;
}

static tfb_status enqueue(tfb_cl *cl, karg *a, const char *kname, cl_uint dims, const size_t *global,
                          const size_t *local) {
    if (a->err != CL_SUCCESS)
        return tfb__cl_fail(a->err, "clSetKernelArg", __FILE__, __LINE__);
    (void)kname;
    cl_event ev = NULL;
    if (cl->profile && cl->n_events == cl->cap_events) {
        int cap = cl->cap_events ? 2 * cl->cap_events : 256;
        cl_event *p = realloc(cl->events, (size_t)cap * sizeof *p);
        if (p)
            cl->events = p;
        tfb_op *o = p ? realloc(cl->event_op, (size_t)cap * sizeof *o) : NULL;
        if (!o)
            return tfb_error_set(TFB_STATUS_NOMEM, "opencl: out of host memory for events");
        cl->event_op = o;
        cl->cap_events = cap;
    }
    CL_CHECK(clEnqueueNDRangeKernel(cl->queue, a->k, dims, NULL, global, local, 0, NULL, cl->profile ? &ev : NULL));
    if (ev) {
        cl->event_op[cl->n_events] = cl->cur_op;
        cl->events[cl->n_events++] = ev;
    }
    return TFB_STATUS_OK;
}

/* ---- one node ---------------------------------------------------------------------------------- */

static const size_t wg1[2] = {TFB_CL_WG, 1};

static tfb_status node_embed(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    karg a = {.k = cl->kernels[TFB_CLK_EMBED]};
    arg_tensor(&a, n->in[0], sizeof(int32_t));
    arg_tensor(&a, n->in[1], sizeof(float));
    arg_opt(&a, n->pos_kind == TFB_POS_LEARNED ? n->in[2] : NULL, n->in[1], sizeof(float));
    arg_opt(&a, n->in[3], n->in[1], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, C);
    arg_i32(&a, g->params.pos);
    arg_f32(&a, n->scale);
    arg_i32(&a, n->pos_kind == TFB_POS_LEARNED ? 1 : n->pos_kind == TFB_POS_SINUSOIDAL ? 2 : 0);
    arg_i32(&a, n->in[3] != NULL);
    size_t global[2] = {round_up((size_t)C, TFB_CL_WG), (size_t)T};
    return enqueue(cl, &a, "embed", 2, global, wg1);
}

static tfb_status node_matmul(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]), K = n->in[0]->shape[1], N = n->in[1]->shape[0];
    tfb_dtype wt = n->in[1]->dtype;
    if (wt >= TFB_DTYPE_I32 || n->in[1]->shape[1] != K)
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: matmul %s: bad weight", n->out->name);
    cl_ulong row_bytes = tfb_dtype_row_bytes(wt, K);
    /* GPUs: local-memory tiles for prefill, work-group reductions for decode. CPU devices: the
     * barrier-free vector kernels (6x4 blocks for prefill, 1x8 for decode). */
    bool gemv = T <= TFB_CL_GEMV_MAX_ROWS;
    tfb_cl_kernel_id kid = cl->cpu ? (gemv ? TFB_CLK_GEMV_VEC_F32 : TFB_CLK_MATMUL_VEC_F32)
                                   : (gemv ? TFB_CLK_GEMV_F32 : TFB_CLK_MATMUL_F32);
    karg a = {.k = cl->kernels[kid + (int)wt]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->in[1], 1);
    /* fp16 scales and halves are read with vload_half, which needs 2-byte alignment. */
    TFB_ASSERT(n->in[1]->offset % 2 == 0 && row_bytes % 2 == 0);
    arg(&a, sizeof row_bytes, &row_bytes);
    arg_opt(&a, n->in[2], n->in[0], sizeof(float));
    arg_i32(&a, n->in[2] != NULL);
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, T);
    arg_i32(&a, N);
    arg_i32(&a, K);
    if (cl->cpu && gemv) {
        size_t global[2] = {((size_t)N + TFB_CL_GV_N - 1) / TFB_CL_GV_N, (size_t)T};
        return enqueue(cl, &a, "gemv_vec", 2, global, NULL);
    }
    if (gemv) {
        size_t global[2] = {(size_t)N * TFB_CL_WG, (size_t)T};
        return enqueue(cl, &a, "gemv", 2, global, wg1);
    }
    if (cl->cpu) {
        size_t global[2] = {((size_t)N + TFB_CL_MV_RN - 1) / TFB_CL_MV_RN, ((size_t)T + TFB_CL_MV_RT - 1) / TFB_CL_MV_RT};
        return enqueue(cl, &a, "matmul_vec", 2, global, NULL); /* the driver picks the group size */
    }
    size_t tiles_n = ((size_t)N + TFB_CL_MM_TILE - 1) / TFB_CL_MM_TILE;
    size_t tiles_t = ((size_t)T + TFB_CL_MM_TILE - 1) / TFB_CL_MM_TILE;
    size_t global[2] = {tiles_n * TFB_CL_MM_WG, tiles_t * TFB_CL_MM_WG};
    size_t local[2] = {TFB_CL_MM_WG, TFB_CL_MM_WG};
    return enqueue(cl, &a, "matmul", 2, global, local);
}

/* ADD and MUL: the same arguments, elementwise over T*C. */
static tfb_status node_binary(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    karg a = {.k = cl->kernels[n->op == TFB_OP_MUL ? TFB_CLK_MUL : TFB_CLK_ADD]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->in[1], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, len);
    size_t global = round_up((size_t)len, TFB_CL_WG);
    return enqueue(cl, &a, "binary", 1, &global, wg1);
}

static tfb_status node_unary(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    int op = n->op == TFB_OP_GELU        ? 0
             : n->op == TFB_OP_GELU_TANH ? 1
             : n->op == TFB_OP_RELU      ? 2
             : n->op == TFB_OP_SILU      ? 3
                                         : 4; /* SCALE */
    karg a = {.k = cl->kernels[cl->cpu ? TFB_CLK_UNARY_VEC : TFB_CLK_UNARY]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, len);
    arg_i32(&a, op);
    arg_f32(&a, n->op == TFB_OP_SCALE ? n->scale : 1.0f);
    if (cl->cpu) { /* 16 elements a work-item */
        size_t global = ((size_t)len + 15) / 16;
        return enqueue(cl, &a, "unary_vec", 1, &global, NULL);
    }
    size_t global = round_up((size_t)len, TFB_CL_WG);
    return enqueue(cl, &a, "unary", 1, &global, wg1);
}

/* dst[dst_row*C ...] = src[src_row*C ...], rows*C floats. */
static tfb_status copy_rows(tfb_cl *cl, const tfb_tensor *src, int64_t src_row, const tfb_tensor *dst,
                            int64_t dst_row, int64_t C, int64_t rows) {
    int64_t len = rows * C;
    karg a = {.k = cl->kernels[TFB_CLK_COPY]};
    cl_mem sm = tfb__cl_mem(src), dm = tfb__cl_mem(dst);
    TFB_ASSERT(src->offset % sizeof(float) == 0 && dst->offset % sizeof(float) == 0);
    cl_ulong soff = src->offset / sizeof(float) + (cl_ulong)(src_row * C);
    cl_ulong doff = dst->offset / sizeof(float) + (cl_ulong)(dst_row * C);
    arg(&a, sizeof sm, &sm);
    arg(&a, sizeof soff, &soff);
    arg(&a, sizeof dm, &dm);
    arg(&a, sizeof doff, &doff);
    arg_i32(&a, len);
    size_t global = round_up((size_t)len, TFB_CL_WG);
    return enqueue(cl, &a, "copy", 1, &global, wg1);
}

static tfb_status node_kv_write(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
    int64_t p0 = n->kv_at_zero ? 0 : g->params.pos;
    if (p0 < 0 || p0 + T > n->out->shape[0])
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: kv_write %s: rows [%lld, %lld) outside the cache of %lld",
                             n->out->name, (long long)p0, (long long)(p0 + T), (long long)n->out->shape[0]);
    return copy_rows(cl, n->in[0], 0, n->out, p0, C, T);
}

static tfb_status node_norm(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    bool rms = n->op == TFB_OP_RMSNORM;
    const tfb_tensor *beta = rms ? NULL : n->in[2];
    karg a = {.k = cl->kernels[TFB_CLK_NORM]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->in[1], sizeof(float));
    arg_opt(&a, beta, n->in[1], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, C);
    arg_f32(&a, n->eps);
    arg_i32(&a, rms);
    arg_i32(&a, beta != NULL);
    size_t global = (size_t)T * TFB_CL_WG;
    return enqueue(cl, &a, "norm", 1, &global, wg1);
}

static tfb_status node_softmax(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    karg a = {.k = cl->kernels[TFB_CLK_SOFTMAX]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, C);
    arg_f32(&a, n->scale);
    size_t global = (size_t)T * TFB_CL_WG;
    return enqueue(cl, &a, "softmax", 1, &global, wg1);
}

static tfb_status node_attention(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]), HD = n->in[0]->shape[1];
    int64_t H = n->n_head, D = H > 0 ? HD / H : 0;
    int64_t Hkv = n->n_kv_head ? n->n_kv_head : H;
    int64_t p0 = g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : p0 + T;
    if (H < 1 || H * D != HD)
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: attention %s: %lld heads do not divide %lld",
                             n->out->name, (long long)H, (long long)HD);
    if (D > TFB_CL_ATT_MAXD)
        return tfb_error_set(TFB_STATUS_UNSUPPORTED, "opencl: attention: head dimension %lld > %d", (long long)D,
                             TFB_CL_ATT_MAXD);
    if (Hkv < 1 || H % Hkv != 0 || n->in[1]->shape[1] != Hkv * D || n->in[2]->shape[1] != Hkv * D)
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: attention %s: %lld kv heads for %lld heads, K/V rows of %lld",
                             n->out->name, (long long)Hkv, (long long)H, (long long)n->in[1]->shape[1]);
    if (L < 1 || L > n->in[1]->shape[0] || L > n->in[2]->shape[0])
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: attention %s: %lld keys outside the cache of %lld",
                             n->out->name, (long long)L, (long long)n->in[1]->shape[0]);
    int64_t R = 0;
    if (n->in[3]) {
        /* Every visible key's distance j - (pos + t) must index the bias: |distance| <= (R-1)/2. */
        R = n->in[3]->shape[1];
        int64_t reach = (R - 1) / 2;
        if (n->in[3]->shape[0] != H || R % 2 != 1 || p0 + T - 1 > reach || L - 1 - p0 > reach)
            return tfb_error_set(TFB_STATUS_INTERNAL,
                                 "opencl: attention %s: a relative bias [%lld, %lld] for %lld heads, keys 0..%lld "
                                 "at rows %lld..%lld",
                                 n->out->name, (long long)n->in[3]->shape[0], (long long)R, (long long)H,
                                 (long long)(L - 1), (long long)p0, (long long)(p0 + T - 1));
    }
    int mask = n->mask == TFB_MASK_CAUSAL ? 0 : n->mask == TFB_MASK_BIDIR ? 1 : 2;
    /* CPU devices: the barrier-free kernel where the head is 1, 4 or 8 float16 vectors wide. */
    tfb_cl_kernel_id kid = !cl->cpu ? TFB_CLK_ATTENTION
                           : D == 16 ? TFB_CLK_ATTENTION_VEC_D16
                           : D == 64 ? TFB_CLK_ATTENTION_VEC_D64
                           : D == 128 ? TFB_CLK_ATTENTION_VEC_D128
                                      : TFB_CLK_ATTENTION;
    karg a = {.k = cl->kernels[kid]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->in[1], sizeof(float));
    arg_tensor(&a, n->in[2], sizeof(float));
    arg_opt(&a, n->in[3], n->in[0], sizeof(float));
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, H);
    arg_i32(&a, D);
    arg_i32(&a, Hkv * D);
    arg_i32(&a, H / Hkv);
    arg_i32(&a, R);
    arg_i32(&a, L);
    arg_i32(&a, p0);
    arg_i32(&a, mask);
    arg_f32(&a, n->scale);
    if (kid != TFB_CLK_ATTENTION) {
        size_t global[2] = {(size_t)H, (size_t)T};
        return enqueue(cl, &a, "attention_vec", 2, global, NULL);
    }
    size_t global[2] = {(size_t)H * TFB_CL_WG, (size_t)T};
    return enqueue(cl, &a, "attention", 2, global, wg1);
}

/* Rotary positions from the node's cos/sin table (rope.c), prepared before the graph is enqueued. */
static tfb_status node_rope(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]), HD = n->in[0]->shape[1];
    int64_t H = n->n_head, D = H > 0 ? HD / H : 0, p0 = g->params.pos;
    int slot = tfb_rope_tables_find(&cl->ropes, n);
    cl_mem tab = slot >= 0 ? cl->rope_mem[slot] : NULL;
    if (H < 1 || H * D != HD || D % 2 != 0)
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: rope %s: %lld heads of %lld", n->out->name, (long long)H,
                             (long long)HD);
    if (!tab || cl->ropes.slot[slot].cap < p0 + T)
        return tfb_error_set(TFB_STATUS_INTERNAL, "opencl: rope %s: no table for positions up to %lld", n->out->name,
                             (long long)(p0 + T));
    karg a = {.k = cl->kernels[TFB_CLK_ROPE]};
    arg_tensor(&a, n->in[0], sizeof(float));
    cl_ulong zero = 0;
    arg(&a, sizeof tab, &tab);
    arg(&a, sizeof zero, &zero);
    arg_tensor(&a, n->out, sizeof(float));
    arg_i32(&a, H);
    arg_i32(&a, D);
    arg_i32(&a, p0);
    arg_i32(&a, n->rope_layout == TFB_ROPE_INTERLEAVED);
    size_t global[2] = {round_up((size_t)(H * D / 2), TFB_CL_WG), (size_t)T};
    return enqueue(cl, &a, "rope", 2, global, wg1);
}

static tfb_status node_argmax(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
    karg a = {.k = cl->kernels[TFB_CLK_ARGMAX]};
    arg_tensor(&a, n->in[0], sizeof(float));
    arg_tensor(&a, n->out, sizeof(int32_t));
    arg_i32(&a, C);
    size_t global = (size_t)T * TFB_CL_WG;
    return enqueue(cl, &a, "argmax", 1, &global, wg1);
}

static tfb_status node(tfb_cl *cl, const tfb_graph *g, const tfb_node *n) {
    switch (n->op) {
    case TFB_OP_EMBED: return node_embed(cl, g, n);
    case TFB_OP_MATMUL: return node_matmul(cl, g, n);
    case TFB_OP_ADD:
    case TFB_OP_MUL: return node_binary(cl, g, n);
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM: return node_norm(cl, g, n);
    case TFB_OP_SOFTMAX: return node_softmax(cl, g, n);
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU:
    case TFB_OP_SCALE: return node_unary(cl, g, n);
    case TFB_OP_ROPE: return node_rope(cl, g, n);
    case TFB_OP_KV_WRITE: return node_kv_write(cl, g, n);
    case TFB_OP_ATTENTION: return node_attention(cl, g, n);
    case TFB_OP_LAST_ROW: {
        int64_t T = tfb_graph_rows(g, n->in[0]);
        return copy_rows(cl, n->in[0], T - 1, n->out, 0, n->in[0]->shape[1], 1);
    }
    case TFB_OP_ARGMAX: return node_argmax(cl, g, n);
    default: return tfb_error_set(TFB_STATUS_UNSUPPORTED, "opencl: op %d", (int)n->op);
    }
}

/* ---- compute, synchronize, device time ----------------------------------------------------------- */

/* Add the device time of events [n_counted, n_events) to their ops' sums (op_profile on). */
static void count_events(tfb_cl *cl) {
    for (; cl->op_prof && cl->n_counted < cl->n_events; cl->n_counted++) {
        cl_event ev = cl->events[cl->n_counted];
        cl_ulong start = 0, end = 0;
        if (clWaitForEvents(1, &ev) == CL_SUCCESS &&
            clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) == CL_SUCCESS &&
            end >= start)
            cl->op_secs[cl->event_op[cl->n_counted]] += (double)(end - start) * 1e-9;
    }
}

void tfb__cl_events_release(tfb_cl *cl) {
    count_events(cl);
    for (int i = 0; i < cl->n_events; i++)
        clReleaseEvent(cl->events[i]);
    cl->n_events = 0;
    cl->n_counted = 0;
}

bool tfb__cl_op_profile(void *ctx, bool on, double *secs) {
    tfb_cl *cl = ctx;
    if (!cl->profile)
        return false;
    if (on) {
        memset(cl->op_secs, 0, sizeof cl->op_secs);
        cl->n_counted = cl->n_events; // earlier kernels are not part of this profile
    } else {
        count_events(cl);
        memcpy(secs, cl->op_secs, sizeof cl->op_secs);
    }
    cl->op_prof = on;
    return true;
}

tfb_status tfb__cl_compute(void *ctx, tfb_graph *g) {
    tfb_cl *cl = ctx;
    tfb__cl_events_release(cl);
    TFB_TRY(tfb__cl_rope_prepare(cl, g));
    for (int i = 0; i < g->n_nodes; i++) {
        cl->cur_op = g->nodes[i].op;
        tfb_status s = node(cl, g, &g->nodes[i]);
        if (s != TFB_STATUS_OK)
            return s;
    }
    /* Submit without waiting, so the device starts while the host goes on. */
    CL_CHECK(clFlush(cl->queue));
    return TFB_STATUS_OK;
}

tfb_status tfb__cl_synchronize(void *ctx) {
    tfb_cl *cl = ctx;
    CL_CHECK(clFinish(cl->queue));
    return TFB_STATUS_OK;
}

/* Span of the last compute on the device: first kernel's start to last kernel's end. */
double tfb__cl_last_device_time(void *ctx) {
    tfb_cl *cl = ctx;
    if (!cl->profile || cl->n_events == 0)
        return -1.0;
    if (clWaitForEvents(1, &cl->events[cl->n_events - 1]) != CL_SUCCESS)
        return -1.0;
    cl_ulong start = 0, end = 0;
    if (clGetEventProfilingInfo(cl->events[0], CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(cl->events[cl->n_events - 1], CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
            CL_SUCCESS ||
        end < start)
        return -1.0;
    return (double)(end - start) * 1e-9;
}
