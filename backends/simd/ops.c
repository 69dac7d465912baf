/* Every op but MATMUL (matmul.c) on the SIMD backend. Row-wise ops split rows over the pool; the
 * reductions that set the scale of a result (layernorm mean/variance, softmax sums) run in double,
 * and the transcendental functions come from libm, so accuracy does not hinge on vector
 * approximations. Semantics: include/tfbench/graph.h. */
#include <math.h>
#include <string.h>

#include "backends/simd/simd_impl.h"

#define F32(t) ((float *)tfb_tensor_host(t))
#define I32(t) ((int32_t *)tfb_tensor_host(t))

typedef struct row_job {
    tfb__simd *s;
    const tfb_graph *g;
    const tfb_node *n;
    int64_t rows, cols;
} row_job;

static void range(int64_t n, int ith, int nth, int64_t *b, int64_t *e) {
    *b = n * ith / nth;
    *e = n * (ith + 1) / nth;
}

/* Run fn over `rows` rows of `cols` elements, on as many threads as have ~16k units of work each
 * (cost: units per element). */
static void par_rows(tfb__simd *s, const tfb_graph *g, const tfb_node *n, int64_t rows, int64_t cols, int cost,
                     tfb__pool_fn fn) {
    row_job j = {s, g, n, rows, cols};
    int nth = s->n_threads;
    while (nth > 1 && (rows < nth || rows * cols * cost / nth < 16384))
        nth--;
    int64_t chunks = nth > 1 ? 4 * (int64_t)nth : 1; /* claimed dynamically by the pool's threads */
    tfb__pool_run(s->pool, (int)(chunks < rows ? chunks : rows), fn, &j);
}

/* ---- embedding ------------------------------------------------------------------------------- */

static void embed(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out);
    int64_t C = n->out->shape[1];
    const int32_t *ids = I32(n->in[0]);                 // [T]
    const float *tok = F32(n->in[1]);                   // [V, C]
    const float *pos = n->in[2] ? F32(n->in[2]) : NULL; // [P, C]
    const float *typ = n->in[3] ? F32(n->in[3]) : NULL; // [2, C]
    float *out = F32(n->out);                           // [T, C]
    int64_t p0 = g->params.pos, half = C / 2;
    for (int64_t t = 0; t < T; t++) {
        int64_t p = p0 + t;
        const float *e = tok + (int64_t)ids[t] * C;
        for (int64_t c = 0; c < C; c++) {
            double x = (double)n->scale * e[c];
            if (n->pos_kind == TFB_POS_LEARNED)
                x += pos[p * C + c];
            else if (n->pos_kind == TFB_POS_SINUSOIDAL) {
                int64_t jj = c < half ? c : c - half;
                double freq = pow(10000.0, -(double)jj / (double)half);
                x += c < half ? sin((double)p * freq) : cos((double)p * freq);
            }
            if (typ)
                x += typ[c];
            out[t * C + c] = (float)x;
        }
    }
}

/* ---- elementwise ------------------------------------------------------------------------------ */

static void add_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    int64_t r0, r1;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    const float *a = F32(j->n->in[0]) + r0 * j->cols, *b = F32(j->n->in[1]) + r0 * j->cols; // [T, C]
    float *out = F32(j->n->out) + r0 * j->cols;                                                // [T, C]
    int64_t len = (r1 - r0) * j->cols;
    for (int64_t i = 0; i < len; i++)
        out[i] = a[i] + b[i];
}

static void unary_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    int64_t r0, r1;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    const float *x = F32(j->n->in[0]) + r0 * j->cols; // [T, C]
    float *out = F32(j->n->out) + r0 * j->cols;       // [T, C]
    int64_t len = (r1 - r0) * j->cols;
    switch (j->n->op) {
    /* Both gelus in forms without the cancellation of 1 + erf/tanh for negative x:
     * 0.5*(1 + erf(z)) = 0.5*erfc(-z) and 0.5*(1 + tanh(u)) = 1/(1 + exp(-2u)), the latter (and
     * silu, x / (1 + exp(-x))) with the kernels' vector exp. */
    case TFB_OP_GELU:
        for (int64_t i = 0; i < len; i++)
            out[i] = 0.5f * x[i] * erfcf(-x[i] * 0.70710678118654752f);
        break;
    case TFB_OP_GELU_TANH:
    case TFB_OP_SILU:
        j->s->k->act(j->n->op, x, out, len);
        break;
    case TFB_OP_RELU:
        for (int64_t i = 0; i < len; i++)
            out[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    default: TFB_ASSERT(!"not an activation");
    }
}

/* ---- row-wise: norms and softmax ------------------------------------------------------------------ */

static void norm_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    const tfb_node *n = j->n;
    bool rms = n->op == TFB_OP_RMSNORM;
    int64_t r0, r1, C = j->cols;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    const float *gamma = F32(n->in[1]);                            // [C]
    const float *beta = (!rms && n->in[2]) ? F32(n->in[2]) : NULL; // [C]
    for (int64_t t = r0; t < r1; t++)
        j->s->k->norm(F32(n->in[0]) + t * C, C, rms, n->eps, gamma, beta, F32(n->out) + t * C);
}

/* SOFTMAX: the kernel table's softmax, a row at a time. */
static void softmax_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    int64_t r0, r1, C = j->cols;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    for (int64_t t = r0; t < r1; t++)
        j->s->k->softmax(F32(j->n->in[0]) + t * C, j->n->scale, F32(j->n->out) + t * C, C);
}

/* ---- attention: one task per (query row, head) -------------------------------------------------- */

/* Grouped-query attention: query head h reads kv head h / (H / Hkv) of caches Hkv*D wide. With a
 * relative position bias (in[3], [H, R]) each score is scale*q.k + bias, then a softmax at scale 1
 * (the same f32 product as the unbiased path, so nothing else changes). */
static void attention_rows(void *arg, int chunk, int n_chunks, int tid) {
    const row_job *j = arg;
    const tfb_node *n = j->n;
    const tfb__simd_kern *k = j->s->k;
    int64_t T = j->rows, HD = n->in[0]->shape[1], H = n->n_head, D = HD / H;
    int64_t Hkv = n->n_kv_head ? n->n_kv_head : H, KD = Hkv * D, group = H / Hkv;
    int64_t p0 = j->g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? j->g->params.n_src : p0 + T;
    const float *q = F32(n->in[0]);  // [T, H*D]
    const float *kc = F32(n->in[1]); // [S, Hkv*D], rows < L valid
    const float *vc = F32(n->in[2]); // [S, Hkv*D]
    const float *rb = n->in[3] ? F32(n->in[3]) : NULL; // [H, R] relative position bias, or none
    int64_t R = n->in[3] ? n->in[3]->shape[1] : 0;
    float *out = F32(n->out);          // [T, H*D]
    float *score = j->s->scratch[tid]; // [L], this thread's
    int64_t i0, i1;
    range(T * H, chunk, n_chunks, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        int64_t t = i / H, h = i % H, kvh = h / group;
        int64_t visible = n->mask == TFB_MASK_CAUSAL ? p0 + t + 1 : L;
        const float *qh = q + t * HD + h * D; // [D]
        const float *kh = kc + kvh * D, *vh = vc + kvh * D;
        for (int64_t s = 0; s < visible; s++)
            score[s] = k->dot_f32(qh, kh + s * KD, D);
        if (rb) {
            int64_t off = h * R + (R - 1) / 2 - (p0 + t); // rb[off + s]: the bias of key s
            for (int64_t s = 0; s < visible; s++)
                score[s] = n->scale * score[s] + rb[off + s];
        }
        k->softmax(score, rb ? 1.0f : n->scale, score, visible);
        float *o = out + t * HD + h * D; // [D]
        memset(o, 0, (size_t)D * sizeof *o);
        for (int64_t s = 0; s < visible; s++)
            k->axpy_f32(score[s], vh + s * KD, o, D);
    }
}

/* Many query rows (prefill, encoders): one task per head, in three passes over GEMM micro tiles.
 *   1. S = Q K^T: K's rows of each nr-key block are packed as a panel [D, nr]; only the row tiles
 *      that can see some key of the block are computed (causal).
 *   2. Softmax of each row over its visible keys; the probabilities past them are zeroed as far as
 *      the row's tile reads.
 *   3. O = P V: V's rows are already [key][d]; KC-key blocks of nr columns are packed and each row
 *      tile takes only the keys it can see.
 * The scratch holds S [T, L] and one panel [TFB_SIMD_KC, nr]. */
static void attention_gemm(void *arg, int chunk, int n_chunks, int tid) {
    const row_job *j = arg;
    const tfb_node *n = j->n;
    const tfb__simd_kern *k = j->s->k;
    int64_t T = j->rows, HD = n->in[0]->shape[1], H = n->n_head, D = HD / H, nr = k->nr, mr = k->mr;
    int64_t Hkv = n->n_kv_head ? n->n_kv_head : H, KD = Hkv * D, group = H / Hkv;
    int64_t p0 = j->g->params.pos;
    const float *rb = n->in[3] ? F32(n->in[3]) : NULL; // [H, R] relative position bias, or none
    int64_t R = n->in[3] ? n->in[3]->shape[1] : 0;
    bool causal = n->mask == TFB_MASK_CAUSAL;
    int64_t L = n->mask == TFB_MASK_CROSS ? j->g->params.n_src : p0 + T;
    const float *q = F32(n->in[0]);  // [T, H*D]
    const float *kc = F32(n->in[1]); // [S, Hkv*D], rows < L valid
    const float *vc = F32(n->in[2]); // [S, Hkv*D]
    float *out = F32(n->out);        // [T, H*D]
    float *S = j->s->scratch[tid];   // [T, L]
    float *panel = S + T * L;        // [TFB_SIMD_KC, nr]
    int64_t h0, h1;
    range(H, chunk, n_chunks, &h0, &h1);
    for (int64_t h = h0; h < h1; h++) {
        int64_t kvo = h / group * D; // offset of this head's kv head in a cache row
        for (int64_t c0 = 0; c0 < L; c0 += nr) { // 1. scores
            int nv = L - c0 < nr ? (int)(L - c0) : (int)nr;
            k->pack_b(TFB_DTYPE_F32, kc + c0 * KD + kvo, (size_t)KD * sizeof(float), nv, 0, D, panel);
            int64_t t_first = causal && c0 > p0 ? c0 - p0 : 0; // the first row that sees key c0
            for (int64_t t0 = t_first; t0 < T; t0 += mr) {
                int mv = T - t0 < mr ? (int)(T - t0) : (int)mr;
                tfb__simd_tile(k, D, q + t0 * HD + h * D, HD, panel, tfb__simd_zeros, S + t0 * L + c0, L, mv, nv);
            }
        }
        for (int64_t t = 0; t < T; t++) { // 2. probabilities
            int64_t vis = causal ? p0 + t + 1 : L;
            int64_t t_end = (t / mr + 1) * mr < T ? (t / mr + 1) * mr : T; // this row's tile in pass 3
            int64_t reach = causal ? p0 + t_end : L;
            float *st = S + t * L;
            if (rb) {
                int64_t off = h * R + (R - 1) / 2 - (p0 + t); // rb[off + c]: the bias of key c
                for (int64_t c = 0; c < vis; c++)
                    st[c] = n->scale * st[c] + rb[off + c];
            }
            k->softmax(st, rb ? 1.0f : n->scale, st, vis);
            memset(S + t * L + vis, 0, (size_t)(reach - vis) * sizeof(float));
        }
        for (int64_t d0 = 0; d0 < D; d0 += nr) { // 3. output
            int nv = D - d0 < nr ? (int)(D - d0) : (int)nr;
            for (int64_t k0 = 0; k0 < L; k0 += TFB_SIMD_KC) {
                int64_t kb = L - k0 < TFB_SIMD_KC ? L - k0 : TFB_SIMD_KC;
                for (int64_t i = 0; i < kb; i++) {
                    memcpy(panel + i * nr, vc + (k0 + i) * KD + kvo + d0, (size_t)nv * sizeof(float));
                    memset(panel + i * nr + nv, 0, (size_t)(nr - nv) * sizeof(float));
                }
                for (int64_t t0 = (k0 > p0 && causal ? (k0 - p0) / mr * mr : 0); t0 < T; t0 += mr) {
                    int mv = T - t0 < mr ? (int)(T - t0) : (int)mr;
                    int64_t reach = causal ? p0 + t0 + mv : L; // keys the tile's last row sees
                    if (k0 >= reach)
                        continue;
                    float *o = out + t0 * HD + h * D + d0;
                    int64_t kt = reach - k0 < kb ? reach - k0 : kb;
                    tfb__simd_tile(k, kt, S + t0 * L + k0, L, panel, k0 == 0 ? tfb__simd_zeros : NULL, o, HD, mv, nv);
                }
            }
        }
    }
}

static tfb_status attention(tfb__simd *s, const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t HD = n->in[0]->shape[1];
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : g->params.pos + T;
    if (n->n_head < 1 || HD % n->n_head != 0 || L > n->in[1]->shape[0] || L > n->in[2]->shape[0] || L < 1)
        return tfb_error_set(TFB_STATUS_INTERNAL, "simd: attention %s: %lld keys, %d heads, cache of %lld",
                             n->out->name, (long long)L, n->n_head, (long long)n->in[1]->shape[0]);
    row_job j = {s, g, n, T, HD};
    int nth = s->n_threads;
    if (T >= s->k->mr && HD / n->n_head <= TFB_SIMD_KC) { // many query rows: GEMM tiles, a head per task
        TFB_TRY(tfb__simd_scratch(s, (size_t)(T * L) + (size_t)TFB_SIMD_KC * (size_t)s->k->nr));
        while (nth > 1 && n->n_head < nth)
            nth--;
        tfb__pool_run(s->pool, nth > 1 ? n->n_head : 1, attention_gemm, &j);
        return TFB_STATUS_OK;
    }
    TFB_TRY(tfb__simd_scratch(s, (size_t)L));
    int64_t tasks = T * n->n_head;
    while (nth > 1 && (tasks < nth || tasks * L * (HD / n->n_head) / nth < 16384))
        nth--;
    int64_t chunks = nth > 1 ? 4 * (int64_t)nth : 1;
    tfb__pool_run(s->pool, (int)(chunks < tasks ? chunks : tasks), attention_rows, &j);
    return TFB_STATUS_OK;
}

/* ---- gated FFN, rescale, rotary positions --------------------------------------------------------- */

static void mul_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    int64_t r0, r1;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    const float *a = F32(j->n->in[0]) + r0 * j->cols, *b = F32(j->n->in[1]) + r0 * j->cols; // [T, C]
    float *out = F32(j->n->out) + r0 * j->cols;                                                // [T, C]
    int64_t len = (r1 - r0) * j->cols;
    for (int64_t i = 0; i < len; i++)
        out[i] = a[i] * b[i];
}

static void scale_rows(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const row_job *j = arg;
    int64_t r0, r1;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    const float *x = F32(j->n->in[0]) + r0 * j->cols; // [T, C]
    float *out = F32(j->n->out) + r0 * j->cols;       // [T, C]
    int64_t len = (r1 - r0) * j->cols;
    float sc = j->n->scale;
    for (int64_t i = 0; i < len; i++)
        out[i] = sc * x[i];
}

/* Each row's cos/sin table [D/2] comes from tfb_rope_cos_sin (angles in double) and is then used for
 * every head of the row, so the libm calls cost D per row, not H*D. The pairs (a, b) are (i, i+D/2)
 * (HALF) or (2i, 2i+1) (INTERLEAVED); both loops are unit-stride over i in the HALF layout. */
static void rope_rows(void *arg, int chunk, int n_chunks, int tid) {
    const row_job *j = arg;
    const tfb_node *n = j->n;
    int64_t r0, r1, HD = j->cols, H = n->n_head, D = HD / H, half = D / 2;
    range(j->rows, chunk, n_chunks, &r0, &r1);
    float *cs = j->s->scratch[tid], *sn = cs + half; // [D/2] cos, [D/2] sin
    bool inter = n->rope_layout == TFB_ROPE_INTERLEAVED;
    for (int64_t t = r0; t < r1; t++) {
        tfb_rope_cos_sin(n->rope_theta, D, j->g->params.pos + t, cs, sn, 1);
        for (int64_t h = 0; h < H; h++) {
            const float *x = F32(n->in[0]) + t * HD + h * D; // [D]
            float *o = F32(n->out) + t * HD + h * D;         // [D]
            if (inter) {
                for (int64_t i = 0; i < half; i++) {
                    float xa = x[2 * i], xb = x[2 * i + 1];
                    o[2 * i] = xa * cs[i] - xb * sn[i];
                    o[2 * i + 1] = xa * sn[i] + xb * cs[i];
                }
            } else {
                for (int64_t i = 0; i < half; i++) {
                    float xa = x[i], xb = x[i + half];
                    o[i] = xa * cs[i] - xb * sn[i];
                    o[i + half] = xa * sn[i] + xb * cs[i];
                }
            }
        }
    }
}

/* ---- the rest ------------------------------------------------------------------------------------ */

static tfb_status kv_write(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t C = n->in[0]->shape[1];
    int64_t p0 = n->kv_at_zero ? 0 : g->params.pos;
    if (p0 + T > n->out->shape[0] || n->out->shape[1] != C)
        return tfb_error_set(TFB_STATUS_INTERNAL, "simd: kv_write %s: rows [%lld, %lld) past the cache of %lld",
                             n->out->name, (long long)p0, (long long)(p0 + T), (long long)n->out->shape[0]);
    memcpy(F32(n->out) + p0 * C, F32(n->in[0]), (size_t)(T * C) * sizeof(float));
    return TFB_STATUS_OK;
}

static void argmax(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t C = n->in[0]->shape[1];
    const float *x = F32(n->in[0]); // [T, C]
    int32_t *out = I32(n->out);     // [T]
    for (int64_t t = 0; t < T; t++) {
        const float *r = x + t * C;
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++)
            if (r[c] > r[best])
                best = c;
        out[t] = (int32_t)best;
    }
}

tfb_status tfb__simd_node(tfb__simd *s, const tfb_graph *g, const tfb_node *n) {
    int64_t rows = tfb_graph_rows(g, n->out);
    int64_t cols = n->out->shape[1];
    switch (n->op) {
    case TFB_OP_EMBED: embed(g, n); break;
    case TFB_OP_MATMUL: return tfb__simd_matmul(s, g, n);
    case TFB_OP_ADD: par_rows(s, g, n, rows, cols, 1, add_rows); break;
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM: par_rows(s, g, n, rows, cols, 2, norm_rows); break;
    case TFB_OP_SOFTMAX: par_rows(s, g, n, rows, cols, 8, softmax_rows); break;
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU: par_rows(s, g, n, rows, cols, 8, unary_rows); break;
    case TFB_OP_KV_WRITE: return kv_write(g, n);
    case TFB_OP_ATTENTION: return attention(s, g, n);
    case TFB_OP_LAST_ROW: {
        int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
        memcpy(F32(n->out), F32(n->in[0]) + (T - 1) * C, (size_t)C * sizeof(float));
        break;
    }
    case TFB_OP_ARGMAX: argmax(g, n); break;
    case TFB_OP_MUL: par_rows(s, g, n, rows, cols, 1, mul_rows); break;
    case TFB_OP_SCALE: par_rows(s, g, n, rows, cols, 1, scale_rows); break;
    case TFB_OP_ROPE:
        TFB_TRY(tfb__simd_scratch(s, (size_t)(cols / n->n_head)));
        par_rows(s, g, n, rows, cols, 8, rope_rows);
        break;
    default: return tfb_error_set(TFB_STATUS_UNSUPPORTED, "simd: op %s", tfb_op_name(n->op));
    }
    return TFB_STATUS_OK;
}
