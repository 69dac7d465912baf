/* ATTENTION as two batched oneDNN matmuls around a oneDNN softmax, heads as the batch dimensions
 * ([kv heads, query heads per kv head]: K and V are broadcast over a kv head's query heads, which
 * is grouped-query attention; one query head per kv head otherwise), over blocks of at most
 * ATT_BLOCK query rows:
 *   scores[h, t, j] = scale * q[t, h*D:] . k[j, h*D:]     matmul, scale as its output scale
 *   scores[h, t, j] = -inf for keys j a query may not see  plain C (the mask)
 *   p = softmax(scores) along j                           softmax primitive
 *   out[t, h*D:] = sum_j p[h, t, j] v[j, h*D:]             matmul writing straight into out
 * Causal blocks: a block of rows t0..t0+bt-1 multiplies only with the Lb = pos+t0+bt keys its last
 * row can see, so the fully masked key columns right of the diagonal are never computed, softmaxed
 * or multiplied (for a 512-row prefill at pos 0 with 64-row blocks that is 56% of the dense work);
 * only the triangle inside the block's last 64 columns is masked in C. Non-causal attention (BIDIR,
 * CROSS) sees all L keys in every block; blocking then only bounds the score scratch.
 *
 * Threads: the tasks (a block x a group of heads) run in ONE OpenMP region, each task's three
 * primitives single-threaded on its thread (oneDNN does not nest parallelism), on that thread's own
 * stream and score scratch, largest blocks first. Running each primitive with all threads instead
 * costs a fork/join per primitive (3 per block: 288 per GPT-2 prefill), and on a shared machine a
 * join waits a whole time slice whenever one thread is descheduled. The primitives use user
 * scratchpads (the library's shared one is not safe for concurrent execution). Heads are split into
 * groups only when there are too few blocks to share between threads (decode: one block).
 *
 * Q, K, V and out are read in place through strided memory descriptors (head h at column h*D).
 * Both matmuls are created once per graph shape and head-group size with runtime dimensions and
 * strides for the rows, the key count and the score row width, so neither the block nor the
 * growing cache length ever creates a matmul primitive (measured: as fast as fixed-shape ones
 * here, both are gemm:jit). Scores are dense [Hg, bt, W] (oneDNN 2.6 only has a reference softmax
 * for strided layouts: measured 1.4 s for 12 layers of 12x256x256, so they must be dense), softmax
 * over a width W with the columns past Lb masked: W = S (the whole cache) for single-row calls, so
 * decoding always uses the same softmax primitive; multi-row blocks use Lb rounded up to 64 (one
 * softmax primitive per (rows, W) pair, cached; at most S/64 widths). Scores live in a per-graph
 * scratch of H*ATT_BLOCK*S floats per thread. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "backends/onednn/onednn.h"

#define RT DNNL_RUNTIME_DIM_VAL
#define ATT_BLOCK 64 /* query rows per block (measured: 64 beats 128 and dense at T = 512) */

/* 4-D tensors [kv heads, query heads per kv head, rows, columns]: the K and V operands have 1 in the
 * second dimension and are broadcast over a kv head's query heads (grouped-query attention). */
static tfb_status md4(dnnl_memory_desc_t *md, const int64_t d[4], const int64_t st[4]) {
    dnnl_dims_t dims = {d[0], d[1], d[2], d[3]}, strides = {st[0], st[1], st[2], st[3]};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(md, 4, dims, dnnl_f32, strides));
    return TFB_STATUS_OK;
}

/* A task's Hg query heads are B1 kv heads x B2 query heads each (B2 = the group when a task spans
 * whole groups, else B1 = 1 and B2 = Hg within one group). */
typedef struct att_shape {
    int64_t H, Hg, D, HD, Tmax, S; /* Hg: heads per task */
    int64_t group, KD, B1, B2;     /* query heads per kv head, cache row width, task split */
} att_shape;

/* Attributes with a user scratchpad, and the output scale when scale != 1. */
static tfb_status make_attr(dnnl_primitive_attr_t *attr, float scale) {
    DNNL_CHECK(dnnl_primitive_attr_create(attr));
    dnnl_status_t st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success && scale != 1.0f)
        st = dnnl_primitive_attr_set_output_scales(*attr, 1, 0, &scale);
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        return tfb__dnnl_fail(st, "dnnl_primitive_attr_set_*", __FILE__, __LINE__);
    }
    return TFB_STATUS_OK;
}

static tfb_status get_prim(dnn_ctx *c, const dnn_key *key, const_dnnl_op_desc_t d, float scale, dnn_prim **out) {
    dnnl_primitive_attr_t attr;
    TFB_TRY(make_attr(&attr, scale));
    tfb_status st = tfb__dnn_prim_get(c, key, d, attr, out);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

static tfb_status att_prims(dnn_ctx *c, const tfb_node *n, const att_shape *a, dnn_prim **qk, dnn_prim **pv) {
    int64_t B1 = a->B1, B2 = a->B2, D = a->D, HD = a->HD, KD = a->KD;
    dnnl_memory_desc_t q, k, sc, p, v, o;
    const int64_t qd[4] = {B1, B2, RT, D}, qs[4] = {B2 * D, D, HD, 1};
    const int64_t kd[4] = {B1, 1, D, RT}, ks[4] = {D, D, 1, KD};
    const int64_t sd[4] = {B1, B2, RT, RT}, ss[4] = {RT, RT, RT, 1};
    const int64_t vd[4] = {B1, 1, RT, D}, vs[4] = {D, D, KD, 1};
    TFB_TRY(md4(&q, qd, qs));
    TFB_TRY(md4(&k, kd, ks));
    TFB_TRY(md4(&sc, sd, ss));
    dnnl_matmul_desc_t d;
    DNNL_CHECK(dnnl_matmul_desc_init(&d, &q, &k, NULL, &sc));
    /* A relative position bias (T5) is added in C to the scaled scores, where the mask is written.
     * The scale as an output scale, not an eltwise post-op: the gemm-based matmul folds it into
     * its alpha instead of making a second pass over the scores (measured 17% off QK + PV). */
    dnn_key key = {.kind = DNN_ATT_QK, .ints = {(int)B1, (int)B2, (int)D, (int)HD, (int)KD}, .f = n->scale};
    TFB_TRY(get_prim(c, &key, &d, n->scale, qk));
    TFB_TRY(md4(&p, sd, ss));
    TFB_TRY(md4(&v, vd, vs));
    TFB_TRY(md4(&o, qd, qs));
    DNNL_CHECK(dnnl_matmul_desc_init(&d, &p, &v, NULL, &o));
    dnn_key key2 = {.kind = DNN_ATT_PV, .ints = {(int)B1, (int)B2, (int)D, (int)HD, (int)KD}};
    return get_prim(c, &key2, &d, 1.0f, pv);
}

static size_t scratch_bytes(const dnn_prim *p) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

/* One task: heads [h0, h0+Hg) of the query rows [t0, t0+bt), which see keys [0, Lb) (row t at
 * most [0, vis(t))); scores [Hg, bt, W]. */
typedef struct att_task {
    int64_t t0, bt, Lb, W, h0;
    dnn_prim *sm;
    dnnl_status_t st; /* written by the thread that ran it */
} att_task;

/* What every task reads. */
typedef struct att_run {
    dnnl_engine_t engine;
    const att_shape *a;
    const float *q, *k, *v; // [T, H*D], [S, Hkv*D], [S, Hkv*D]
    const float *rb;        // [H, R] relative position bias, or NULL
    float *out;             // [T, H*D]
    int64_t p0, L, R;
    bool causal;
    dnn_prim *qk, *pv;
} att_run;

static dnnl_status_t mem4(const att_run *r, dnnl_memory_t *m, int64_t a, int64_t b, int64_t cc, int64_t dd,
                          int64_t sa, int64_t sb, int64_t sc, int64_t sd, const float *p) {
    dnnl_dims_t dims = {a, b, cc, dd}, strides = {sa, sb, sc, sd};
    dnnl_memory_desc_t md;
    dnnl_status_t st = dnnl_memory_desc_init_by_strides(&md, 4, dims, dnnl_f32, strides);
    return st == dnnl_success ? dnnl_memory_create(m, &md, r->engine, (void *)p) : st;
}

static dnnl_status_t exec(const att_run *r, const dnn_prim *p, dnnl_stream_t s, void *scratch, int n,
                          dnnl_exec_arg_t *args) {
    dnnl_memory_t sp = NULL;
    if (scratch_bytes(p)) {
        dnnl_status_t st = dnnl_memory_create(&sp, dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0),
                                              r->engine, scratch);
        if (st != dnnl_success)
            return st;
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, sp};
    }
    dnnl_status_t st = dnnl_primitive_execute(p->prim, s, n, args);
    if (st == dnnl_success)
        st = dnnl_stream_wait(s);
    if (sp)
        dnnl_memory_destroy(sp);
    return st;
}

/* Runs on any thread: only oneDNN calls that touch objects of this task, its stream and scratch. */
static dnnl_status_t task_run(const att_run *r, const att_task *t, dnnl_stream_t s, float *sc, void *scratch) {
    const att_shape *a = r->a;
    int64_t Hg = a->Hg, D = a->D, HD = a->HD, KD = a->KD, B1 = a->B1, B2 = a->B2;
    int64_t bt = t->bt, Lb = t->Lb, W = t->W;
    const float *q = r->q + t->t0 * HD + t->h0 * D;  // [bt, Hg*D] of q
    const float *k = r->k + t->h0 / a->group * D;    // [Lb, B1*D] of the key cache
    const float *v = r->v + t->h0 / a->group * D;    // [Lb, B1*D] of the value cache
    float *out = r->out + t->t0 * HD + t->h0 * D;    // [bt, Hg*D] of out
    dnnl_memory_t m[6] = {0};
    dnnl_status_t st = mem4(r, &m[0], B1, B2, bt, D, B2 * D, D, HD, 1, q);
    if (st == dnnl_success)
        st = mem4(r, &m[1], B1, 1, D, Lb, D, D, 1, KD, k);
    if (st == dnnl_success)
        st = mem4(r, &m[2], B1, B2, bt, Lb, B2 * bt * W, bt * W, W, 1, sc);
    if (st == dnnl_success)
        st = mem4(r, &m[3], B1, 1, Lb, D, D, D, KD, 1, v);
    if (st == dnnl_success)
        st = mem4(r, &m[4], B1, B2, bt, D, B2 * D, D, HD, 1, out);
    if (st == dnnl_success)
        st = dnnl_memory_create(&m[5], dnnl_primitive_desc_query_md(t->sm->pd, dnnl_query_src_md, 0), r->engine, sc);
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}};
        st = exec(r, r->qk, s, scratch, 3, args);
    }
    if (st == dnnl_success) {
        for (int64_t h = 0; h < Hg; h++)
            for (int64_t i = 0; i < bt; i++) {
                int64_t vis = r->causal ? r->p0 + t->t0 + i + 1 : r->L;
                float *row = sc + (h * bt + i) * W; // [W]
                if (r->rb) { /* scale*q.k (the matmul's output scale) + bias[h, j - (p0+t) + (R-1)/2] */
                    int64_t off = (t->h0 + h) * r->R + (r->R - 1) / 2 - (r->p0 + t->t0 + i);
                    for (int64_t j = 0; j < vis; j++)
                        row[j] += r->rb[off + j];
                }
                for (int64_t j = vis; j < W; j++)
                    row[j] = -INFINITY;
            }
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, m[5]}, {DNNL_ARG_DST, m[5]}};
        st = exec(r, t->sm, s, scratch, 2, args);
    }
    if (st == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m[2]}, {DNNL_ARG_WEIGHTS, m[3]}, {DNNL_ARG_DST, m[4]}};
        st = exec(r, r->pv, s, scratch, 3, args);
    }
    for (int i = 0; i < 6; i++)
        if (m[i])
            dnnl_memory_destroy(m[i]);
    return st;
}

/* Heads per task: all of them, unless the blocks are too few to give every thread two tasks; then
 * the smallest divisor of H that does (a bounded set of primitive shapes per graph) and that covers
 * whole kv groups or lies within one (a multiple or a divisor of the group). */
static int64_t heads_per_task(int64_t H, int64_t group, int64_t n_blocks, int n_threads) {
    if (n_threads <= 1 || n_blocks >= 2 * n_threads)
        return H;
    for (int64_t g = 2; g < H; g++)
        if (H % g == 0 && n_blocks * g >= 2 * n_threads && ((H / g) % group == 0 || group % (H / g) == 0))
            return H / g;
    return 1;
}

/* Per-graph and per-context storage the tasks need, grown on demand (never in steady decode). */
static tfb_status att_storage(dnn_ctx *c, dnn_graph *dg, size_t scores_per_thread, size_t scratch_per_thread,
                              int n_tasks) {
    int nt = c->n_threads;
    if (!c->tstreams) {
        dnnl_stream_t *ts = calloc((size_t)nt, sizeof *ts);
        if (!ts)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
        for (int i = 0; i < nt; i++) {
            dnnl_status_t st = dnnl_stream_create(&ts[i], c->engine, dnnl_stream_default_flags);
            if (st != dnnl_success) {
                for (int j = 0; j < i; j++)
                    dnnl_stream_destroy(ts[j]);
                free(ts);
                return tfb__dnnl_fail(st, "dnnl_stream_create", __FILE__, __LINE__);
            }
        }
        c->tstreams = ts;
    }
    size_t need = (size_t)nt * scores_per_thread;
    if (dg->scores_n < need) {
        free(dg->scores);
        dg->scores = aligned_alloc(64, need * sizeof(float));
        dg->scores_n = dg->scores ? need : 0;
        if (!dg->scores)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate attention scores");
    }
    need = (size_t)nt * scratch_per_thread;
    if (dg->scratch_n < need) {
        free(dg->scratch);
        dg->scratch = aligned_alloc(64, need);
        dg->scratch_n = dg->scratch ? need : 0;
        if (!dg->scratch)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate attention scratchpads");
    }
    if (dg->tasks_n < n_tasks) {
        void *p = realloc(dg->tasks, (size_t)n_tasks * sizeof(att_task));
        if (!p)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
        dg->tasks = p;
        dg->tasks_n = n_tasks;
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_attention(dnn_ctx *c, const tfb_graph *g, dnn_graph *dg, const tfb_node *n) {
    att_shape a = {.H = n->n_head, .HD = n->in[0]->shape[1], .Tmax = n->in[0]->shape[0], .S = n->in[1]->shape[0]};
    a.D = a.HD / a.H;
    a.KD = n->in[1]->shape[1];
    a.group = a.H / (n->n_kv_head ? n->n_kv_head : a.H);
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t p0 = g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : p0 + T;
    TFB_ASSERT(L >= 1 && L <= a.S && T <= a.Tmax);
    bool causal = n->mask == TFB_MASK_CAUSAL;
    int64_t n_blocks = (T + ATT_BLOCK - 1) / ATT_BLOCK;
    a.Hg = heads_per_task(a.H, a.group, n_blocks, c->n_threads);
    a.B2 = a.Hg % a.group == 0 ? a.group : a.Hg;
    a.B1 = a.Hg / a.B2;
    int64_t n_groups = a.H / a.Hg;
    int n_tasks = (int)(n_blocks * n_groups);

    /* Everything that creates or looks up primitives or allocates happens here, on this thread. */
    dnn_prim *qk, *pv;
    TFB_TRY(att_prims(c, n, &a, &qk, &pv));
    size_t scratch = scratch_bytes(qk) > scratch_bytes(pv) ? scratch_bytes(qk) : scratch_bytes(pv);
    int64_t rows = a.Tmax < ATT_BLOCK ? a.Tmax : ATT_BLOCK;
    size_t scores = ((size_t)(a.H * rows * a.S) + 15) & ~(size_t)15; /* floats per thread, 64-byte multiple */
    TFB_TRY(att_storage(c, dg, scores, 0, n_tasks));
    att_task *tasks = dg->tasks;
    for (int i = 0; i < n_tasks; i++) {
        /* Largest blocks first (the last rows see the most keys), so the tail of the loop is short. */
        int64_t blk = n_blocks - 1 - i / n_groups;
        att_task *t = &tasks[i];
        t->t0 = blk * ATT_BLOCK;
        t->bt = T - t->t0 < ATT_BLOCK ? T - t->t0 : ATT_BLOCK;
        t->h0 = (i % n_groups) * a.Hg;
        t->Lb = causal ? p0 + t->t0 + t->bt : L;
        t->W = T == 1 ? a.S : ((t->Lb + 63) / 64) * 64;
        t->W = t->W < a.S ? t->W : a.S;
        t->st = dnnl_success;
        dnnl_memory_desc_t smd;
        TFB_TRY(tfb__dnn_md2(&smd, a.Hg * t->bt, t->W, dnnl_f32));
        dnnl_softmax_desc_t sd;
        DNNL_CHECK(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &smd, 1));
        dnn_key skey = {.kind = DNN_ATT_SOFTMAX, .ints = {(int)(a.Hg * t->bt), (int)t->W}};
        TFB_TRY(get_prim(c, &skey, &sd, 1.0f, &t->sm));
        size_t sb = scratch_bytes(t->sm);
        scratch = sb > scratch ? sb : scratch;
    }
    scratch = (scratch + 63) & ~(size_t)63;
    TFB_TRY(att_storage(c, dg, scores, scratch, n_tasks));
    DNNL_CHECK(dnnl_stream_wait(c->stream)); /* q, k, v written by earlier primitives */

    att_run r = {.engine = c->engine, .a = &a, .q = tfb_tensor_host(n->in[0]), .k = tfb_tensor_host(n->in[1]),
                 .v = tfb_tensor_host(n->in[2]), .out = tfb_tensor_host(n->out), .p0 = p0, .L = L,
                 .rb = n->in[3] ? tfb_tensor_host(n->in[3]) : NULL, .R = n->in[3] ? n->in[3]->shape[1] : 0,
                 .causal = causal, .qk = qk, .pv = pv};
    float *scores_all = dg->scores;
    char *scratch_all = dg->scratch;
    dnnl_stream_t *streams = c->tstreams;
    /* One task alone runs outside any team, so its primitives use every thread themselves. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(c->n_threads) if (n_tasks > 1)
    for (int i = 0; i < n_tasks; i++) {
        int th = omp_get_thread_num();
        tasks[i].st = task_run(&r, &tasks[i], streams[th], scores_all + (size_t)th * scores,
                               scratch_all ? scratch_all + (size_t)th * scratch : NULL);
    }
    for (int i = 0; i < n_tasks; i++)
        if (tasks[i].st != dnnl_success)
            return tfb__dnnl_fail(tasks[i].st, "attention task (matmul/softmax)", __FILE__, __LINE__);
    return TFB_STATUS_OK;
}
