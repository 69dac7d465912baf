/* MATMUL on the SIMD backend: out[T,N] = x[T,K] w[N,K]^T + bias.
 *
 * Prefill (many rows): each thread owns a range of output columns (weight rows). For a panel of
 * NB columns and a K block of KC it dequantizes/transposes the weights into its own buffer
 * ([NB/nr][KC][nr] floats), or finds them packed once already (f32 weights, wpack_get), and for each
 * sliver of nr columns sweeps every row block of x over it with the register-blocked micro tile (the
 * sliver stays in L1, x streams from L2); the first K block's tiles start from the bias (or zero),
 * the others accumulate on c.
 * Decode (few rows): each thread streams its weight rows once, one at a time, dequantizing in
 * registers, against up to 4 activation rows at a time (bandwidth bound).
 * act_q8 with q8_0/q4_0 weights: decode rounds the activation rows once per matmul (quant_x) and
 * forms every block's dot product in integers (gemv_q8). Prefill does the same as a GEMM where the
 * ISA has an int8 dot product (gemm_q8_tile: each thread unpacks a panel of weight blocks into bytes
 * once and sweeps every row block over it); elsewhere it replaces x by its rounding d*q and runs the
 * f32 gemm. All compute the products tfb_quantize_act_q8 defines. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backends/simd/simd_impl.h"
#include "core/grow.h"

#define GEMV_MAX_ROWS 6 /* at most this many rows: the GEMV path */
/* Slivers of nr columns a prefill chunk holds at least. Each chunk sweeps every row of x over its
 * slivers, a K block at a time, so x (6 MB at 512 x 3072) comes from L3 once per chunk and is reused
 * from L2 by the chunk's other slivers. At N = 768 (24 slivers) one sliver a chunk read x 12 times a
 * thread: 4 measured 0.91-0.95x -> 0.97-0.98x oneDNN at 512x768x768 and 512x3072x768 (interleaved
 * rounds); 6 and 9 left too few chunks to balance two threads (0.74x). */
#define MIN_SLIVERS 4

typedef struct mm_job {
    const tfb__simd_kern *k;
    tfb_dtype dt;
    const char *w;     // [N, K] in dt, rows row_bytes apart
    size_t row_bytes;
    const float *x;    // [M, K]
    const float *bias; // [N] or NULL
    float *out;        // [M, N]
    int64_t M, N, K;
    float **scratch;   // per-thread panel buffers
    const tfb__xq *xq; // act_q8 decode: [M, K/32] rounded activation blocks
    const float *xd;   // and their scales [M, K/32]
    float *xr;         // act_q8 prefill without gemm_q8_tile: [M, K] the rounded activations d*q
    const float *wp;   // f32 prefill: the weight packed once (tfb__simd_wpack), or NULL: pack per call
} mm_job;

#define Q8_KCB 32 /* blocks of 32 per K block of an integer panel: 16 columns x 1024 elements = 18 KB */

static void range(int64_t n, int ith, int nth, int64_t *b, int64_t *e) {
    *b = n * ith / nth;
    *e = n * (ith + 1) / nth;
}

static void gemv_chunk(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const mm_job *j = arg;
    int64_t n0, n1;
    range(j->N, chunk, n_chunks, &n0, &n1);
    for (int64_t m0 = 0; m0 < j->M; m0 += 4) {
        int m = j->M - m0 < 4 ? (int)(j->M - m0) : 4;
        for (int64_t n = n0; n < n1; n++) {
            float r[4];
            j->k->gemv(j->dt, j->w + (size_t)n * j->row_bytes, j->x + m0 * j->K, j->K, m, j->K, r);
            for (int i = 0; i < m; i++)
                j->out[(m0 + i) * j->N + n] = r[i] + (j->bias ? j->bias[n] : 0.0f);
        }
    }
}

static void gemv_q8_chunk(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const mm_job *j = arg;
    int64_t n0, n1, nb = j->K / TFB_QK;
    range(j->N, chunk, n_chunks, &n0, &n1);
    for (int64_t m0 = 0; m0 < j->M; m0 += 4) {
        int m = j->M - m0 < 4 ? (int)(j->M - m0) : 4;
        float *o = j->out + m0 * j->N;
        j->k->gemv_q8(j->dt, j->w + (size_t)n0 * j->row_bytes, j->row_bytes, n1 - n0, j->xq + m0 * nb, j->xd + m0 * nb,
                      nb, m, j->K, o + n0, j->N);
        for (int i = 0; i < m && j->bias; i++)
            for (int64_t n = n0; n < n1; n++)
                o[i * j->N + n] += j->bias[n];
    }
}

/* Rows of x to their act_q8 rounding d*q, a block at a time. */
static void round_x_chunk(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const mm_job *j = arg;
    int64_t r0, r1;
    range(j->M, chunk, n_chunks, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t k = 0; k < j->K; k += TFB_QK) {
            tfb__xq blk;
            float d;
            j->k->quant_x(j->dt, j->x + r * j->K + k, TFB_QK, &blk, &d);
            for (int i = 0; i < TFB_QK; i++)
                j->xr[r * j->K + k + i] = d * (float)blk.q[i];
        }
    }
}

const float tfb__simd_zeros[64];

void tfb__simd_tile(const tfb__simd_kern *k, int64_t kc, const float *a, int64_t lda, const float *panel,
                    const float *init, float *c, int64_t ldc, int mr_v, int nr_v) {
    if (mr_v == k->mr && nr_v == k->nr) {
        k->gemm_tile(kc, a, lda, panel, init, c, ldc);
        return;
    }
    _Alignas(64) float ab[16 * TFB_SIMD_KC]; // [mr, kc] rows of a, zero past mr_v
    _Alignas(64) float cb[16 * 64];          // [mr, nr] tile of c
    _Alignas(64) float ib[64];               // init[nr], zero past nr_v
    TFB_ASSERT(k->mr <= 16 && k->nr <= 64 && kc <= TFB_SIMD_KC);
    memset(ab, 0, sizeof ab);
    memset(cb, 0, sizeof cb);
    memset(ib, 0, sizeof ib);
    if (init)
        memcpy(ib, init, (size_t)nr_v * sizeof(float));
    for (int r = 0; r < mr_v; r++) {
        memcpy(ab + r * kc, a + r * lda, (size_t)kc * sizeof(float));
        if (!init)
            memcpy(cb + r * k->nr, c + r * ldc, (size_t)nr_v * sizeof(float));
    }
    k->gemm_tile(kc, ab, kc, panel, init ? ib : NULL, cb, k->nr);
    for (int r = 0; r < mr_v; r++)
        memcpy(c + r * ldc, cb + r * k->nr, (size_t)nr_v * sizeof(float));
}

/* Columns [n0, n0+nb) of every output row start at the bias (or 0); the K blocks accumulate on it. */
static void init_panel(const mm_job *j, int64_t n0, int64_t nb) {
    for (int64_t m = 0; m < j->M; m++) {
        float *o = j->out + m * j->N + n0;
        if (j->bias)
            memcpy(o, j->bias + n0, (size_t)nb * sizeof(float));
        else
            memset(o, 0, (size_t)nb * sizeof(float));
    }
}

static void gemm_chunk(void *arg, int chunk, int n_chunks, int tid) {
    const mm_job *j = arg;
    const tfb__simd_kern *k = j->k;
    int64_t nr = k->nr, mr = k->mr, NB = nr * TFB_SIMD_NB_TILES;
    int64_t s0, s1; // this chunk's slivers of nr columns
    range((j->N + nr - 1) / nr, chunk, n_chunks, &s0, &s1);
    int64_t c_begin = s0 * nr, c_end = s1 * nr < j->N ? s1 * nr : j->N;
    float *buf = j->scratch[tid]; // [NB/nr][KC][nr], this thread's
    for (int64_t n0 = c_begin; n0 < c_end; n0 += NB) {
        int64_t nb = c_end - n0 < NB ? c_end - n0 : NB;
        int64_t n_sl = (nb + nr - 1) / nr;
        for (int64_t k0 = 0; k0 < j->K; k0 += TFB_SIMD_KC) {
            int64_t kc = j->K - k0 < TFB_SIMD_KC ? j->K - k0 : TFB_SIMD_KC;
            /* Sliver s's [kc][nr] panel: at pan + s * pstride. */
            const float *pan = buf;
            int64_t pstride = kc * nr;
            if (j->wp) {
                pan = j->wp + (n0 / nr) * j->K * nr + k0 * nr;
                pstride = j->K * nr;
            } else {
                for (int64_t s = 0; s < n_sl; s++) {
                    int nv = nb - s * nr < nr ? (int)(nb - s * nr) : (int)nr;
                    k->pack_b(j->dt, j->w + (size_t)(n0 + s * nr) * j->row_bytes, j->row_bytes, nv, k0, kc,
                              buf + s * kc * nr);
                }
            }
            for (int64_t s = 0; s < n_sl; s++) {
                int nv = nb - s * nr < nr ? (int)(nb - s * nr) : (int)nr;
                for (int64_t m0 = 0; m0 < j->M; m0 += mr) {
                    int mv = j->M - m0 < mr ? (int)(j->M - m0) : (int)mr;
                    /* The first K block starts from the bias (or zeros), the others from c. */
                    const float *init = k0 > 0 ? NULL : j->bias ? j->bias + n0 + s * nr : tfb__simd_zeros;
                    tfb__simd_tile(k, kc, j->x + m0 * j->K + k0, j->K, pan + s * pstride, init,
                                   j->out + m0 * j->N + n0 + s * nr, j->N, mv, nv);
                }
            }
        }
    }
}

/* ---- f32 weights packed once ------------------------------------------------------------------------
 * Packing a weight for the gemm (a transpose into slivers) on every call made f32 prefill matmuls
 * 1.5-4.5% slower (interleaved pairs at the GPT-2 and Llama shapes); oneDNN reorders a weight once
 * and keeps it. f32 weights are packed once here too, at their first prefill, into a copy as large
 * as the weight, within a budget of memory (wp_cap, simd.c) that every simd backend of the process
 * shares: conform and bench hold several. Other dtypes would grow (f16 doubles, q4_0 sevenfold) and
 * keep packing per call. */

static void wpack_fill_chunk(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const mm_job *j = arg;
    int64_t nr = j->k->nr, s0, s1;
    range((j->N + nr - 1) / nr, chunk, n_chunks, &s0, &s1);
    float *dst = (float *)j->wp;
    for (int64_t sl = s0; sl < s1; sl++) {
        int nv = j->N - sl * nr < nr ? (int)(j->N - sl * nr) : (int)nr;
        for (int64_t k0 = 0; k0 < j->K; k0 += TFB_SIMD_KC) {
            int64_t kc = j->K - k0 < TFB_SIMD_KC ? j->K - k0 : TFB_SIMD_KC;
            j->k->pack_b(j->dt, j->w + (size_t)sl * nr * j->row_bytes, j->row_bytes, nv, k0, kc,
                         dst + sl * j->K * nr + k0 * nr);
        }
    }
}

static _Atomic size_t wp_total; /* bytes of packed weights held by all simd backends of the process */

/* Claim n bytes of the shared budget cap; false when they do not fit. */
static bool budget_claim(size_t n, size_t cap) {
    size_t cur = atomic_load(&wp_total);
    do {
        if (n > cap || cur > cap - n)
            return false;
    } while (!atomic_compare_exchange_weak(&wp_total, &cur, cur + n));
    return true;
}

/* The packed form of j's weight w, packed now if it is new and fits the budget; NULL: pack per call. */
static tfb_status wpack_get(tfb__simd *s, const tfb_tensor *w, mm_job *j, int chunks) {
    j->wp = NULL;
    if (j->dt != TFB_DTYPE_F32)
        return TFB_STATUS_OK;
    for (int i = 0; i < s->n_wp; i++)
        if (s->wp[i].src == j->w && s->wp[i].N == j->N && s->wp[i].K == j->K) {
            j->wp = s->wp[i].data;
            return TFB_STATUS_OK;
        }
    int64_t nr = s->k->nr;
    size_t bytes = (size_t)((j->N + nr - 1) / nr * nr) * (size_t)j->K * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    if (s->n_wp == s->cap_wp) {
        tfb__simd_wpack *nw = tfb__grow(s->wp, &s->cap_wp, sizeof *nw);
        if (!nw)
            return tfb_error_set(TFB_STATUS_NOMEM, "simd: out of memory");
        s->wp = nw;
    }
    if (!budget_claim(bytes, s->wp_cap))
        return TFB_STATUS_OK; // over budget: this weight packs per call
    float *data = aligned_alloc(64, bytes);
    if (!data) {
        atomic_fetch_sub(&wp_total, bytes);
        return TFB_STATUS_OK; // no room for the copy: pack per call, as without a budget
    }
    j->wp = data;
    tfb__pool_run(s->pool, chunks, wpack_fill_chunk, j);
    s->wp[s->n_wp++] = (tfb__simd_wpack){.src = j->w, .buf = w->buf, .N = j->N, .K = j->K, .data = data, .bytes = bytes};
    return TFB_STATUS_OK;
}

void tfb__simd_wpack_drop(tfb__simd *s, const tfb_buffer *buf) {
    int n = 0;
    for (int i = 0; i < s->n_wp; i++) {
        if (buf && s->wp[i].buf != buf) {
            s->wp[n++] = s->wp[i];
            continue;
        }
        free(s->wp[i].data);
        atomic_fetch_sub(&wp_total, s->wp[i].bytes);
    }
    s->n_wp = n;
}

/* act_q8 prefill with integer tiles: like gemm_chunk, over panels of TFB_SIMD_NB_TILES slivers of
 * TFB_SIMD_Q8_NR columns and K blocks of Q8_KCB blocks. */
static void gemm_q8_chunk(void *arg, int chunk, int n_chunks, int tid) {
    const mm_job *j = arg;
    const tfb__simd_kern *k = j->k;
    const int64_t nr = TFB_SIMD_Q8_NR, NB = nr * TFB_SIMD_NB_TILES, nbt = j->K / TFB_QK;
    int64_t s0, s1;
    range((j->N + nr - 1) / nr, chunk, n_chunks, &s0, &s1);
    int64_t c_begin = s0 * nr, c_end = s1 * nr < j->N ? s1 * nr : j->N;
    uint8_t *buf = (uint8_t *)j->scratch[tid]; // [NB/nr][Q8_KCB] packed blocks
    for (int64_t n0 = c_begin; n0 < c_end; n0 += NB) {
        int64_t nb = c_end - n0 < NB ? c_end - n0 : NB;
        init_panel(j, n0, nb);
        int64_t n_sl = (nb + nr - 1) / nr;
        for (int64_t b0 = 0; b0 < nbt; b0 += Q8_KCB) {
            int64_t kb = nbt - b0 < Q8_KCB ? nbt - b0 : Q8_KCB;
            size_t sl_bytes = (size_t)kb * TFB_SIMD_Q8_PANEL;
            for (int64_t sl = 0; sl < n_sl; sl++) {
                int nv = nb - sl * nr < nr ? (int)(nb - sl * nr) : (int)nr;
                k->pack_q8(j->dt, j->w + (size_t)(n0 + sl * nr) * j->row_bytes, j->row_bytes, nv, b0, kb,
                           buf + (size_t)sl * sl_bytes);
            }
            for (int64_t m0 = 0; m0 < j->M; m0 += TFB_SIMD_Q8_MR) {
                int mv = j->M - m0 < TFB_SIMD_Q8_MR ? (int)(j->M - m0) : TFB_SIMD_Q8_MR;
                for (int64_t sl = 0; sl < n_sl; sl++) {
                    int nv = nb - sl * nr < nr ? (int)(nb - sl * nr) : (int)nr;
                    k->gemm_q8_tile(j->dt, kb, j->xq + m0 * nbt + b0, j->xd + m0 * nbt + b0, nbt,
                                    buf + (size_t)sl * sl_bytes, j->out + m0 * j->N + n0 + sl * nr, j->N, mv, nv);
                }
            }
        }
    }
}

/* Rows of x to act_q8 blocks for the integer tiles (quant_x with q4_0's bias, which both weight
 * kinds' tiles use). */
static void quant_x_chunk(void *arg, int chunk, int n_chunks, int tid) {
    (void)tid;
    const mm_job *j = arg;
    int64_t r0, r1, nb = j->K / TFB_QK;
    range(j->M, chunk, n_chunks, &r0, &r1);
    for (int64_t r = r0; r < r1; r++)
        j->k->quant_x(TFB_DTYPE_Q4_0, j->x + r * j->K, j->K, (tfb__xq *)j->xq + r * nb, (float *)j->xd + r * nb);
}

tfb_status tfb__simd_matmul(tfb__simd *s, const tfb_graph *g, const tfb_node *n) {
    mm_job j = {
        .k = s->k,
        .dt = n->in[1]->dtype,
        .w = tfb_tensor_host(n->in[1]),
        .x = tfb_tensor_host(n->in[0]),
        .bias = n->in[2] ? tfb_tensor_host(n->in[2]) : NULL,
        .out = tfb_tensor_host(n->out),
        .M = tfb_graph_rows(g, n->in[0]),
        .K = n->in[0]->shape[1],
        .N = n->in[1]->shape[0],
    };
    if (n->in[1]->shape[1] != j.K)
        return tfb_error_set(TFB_STATUS_INTERNAL, "simd: matmul %s: K %lld vs weight %lld", n->out->name,
                             (long long)j.K, (long long)n->in[1]->shape[1]);
    if ((j.dt == TFB_DTYPE_Q8_0 || j.dt == TFB_DTYPE_Q4_0) && j.K % TFB_QK != 0)
        return tfb_error_set(TFB_STATUS_INTERNAL, "simd: matmul %s: K %lld not a multiple of 32", n->out->name,
                             (long long)j.K);
    j.row_bytes = tfb_dtype_row_bytes(j.dt, j.K);
    /* Enough threads that each has real work: ~64k multiply-adds per thread at least. */
    int64_t work = j.M * j.N * j.K;
    int nth = s->n_threads;
    while (nth > 1 && work / nth < 65536)
        nth--;
    /* Four chunks per thread, claimed dynamically, so one descheduled thread does not stall the op. */
    int64_t chunks = nth > 1 ? 4 * (int64_t)nth : 1;
    bool act_q8 = s->act_q8 && (j.dt == TFB_DTYPE_Q8_0 || j.dt == TFB_DTYPE_Q4_0);
    int gemv_chunks = (int)(chunks < j.N ? chunks : j.N);
    if (j.M <= GEMV_MAX_ROWS && act_q8) {
        int64_t nb = j.K / TFB_QK; // rows of blocks, then rows of scales
        TFB_TRY(tfb__simd_abuf(s, (size_t)(j.M * nb) * (sizeof(tfb__xq) + sizeof(float))));
        tfb__xq *xq = s->abuf;
        float *xd = (float *)(xq + j.M * nb);
        for (int64_t m = 0; m < j.M; m++)
            s->k->quant_x(j.dt, j.x + m * j.K, j.K, xq + m * nb, xd + m * nb);
        j.xq = xq;
        j.xd = xd;
        tfb__pool_run(s->pool, gemv_chunks, gemv_q8_chunk, &j);
        return TFB_STATUS_OK;
    }
    if (j.M <= GEMV_MAX_ROWS) {
        tfb__pool_run(s->pool, gemv_chunks, gemv_chunk, &j);
        return TFB_STATUS_OK;
    }
    int64_t slivers;
    if (act_q8 && s->k->gemm_q8_tile) {
        int64_t nb = j.K / TFB_QK;
        TFB_TRY(tfb__simd_abuf(s, (size_t)(j.M * nb) * (sizeof(tfb__xq) + sizeof(float))));
        j.xq = s->abuf;
        j.xd = (const float *)(j.xq + j.M * nb);
        tfb__pool_run(s->pool, nth > 1 ? 2 * nth : 1, quant_x_chunk, &j);
        TFB_TRY(tfb__simd_scratch(s, (size_t)TFB_SIMD_NB_TILES * Q8_KCB * TFB_SIMD_Q8_PANEL / sizeof(float)));
        j.scratch = s->scratch;
        slivers = (j.N + TFB_SIMD_Q8_NR - 1) / TFB_SIMD_Q8_NR;
        int64_t per = nth > 1 ? slivers / (8 * (int64_t)nth) : slivers;
        per = per < 1 ? 1 : per;
        tfb__pool_run(s->pool, (int)((slivers + per - 1) / per), gemm_q8_chunk, &j);
        return TFB_STATUS_OK;
    }
    if (act_q8) {
        TFB_TRY(tfb__simd_abuf(s, (size_t)(j.M * j.K) * sizeof(float)));
        j.xr = s->abuf;
        tfb__pool_run(s->pool, nth > 1 ? 2 * nth : 1, round_x_chunk, &j);
        j.x = j.xr;
    }
    TFB_TRY(tfb__simd_scratch(s, (size_t)s->k->nr * TFB_SIMD_NB_TILES * TFB_SIMD_KC));
    j.scratch = s->scratch;
    /* Prefill: about eight chunks per thread where the columns allow (a chunk is a whole number of
     * nr-column slivers, each packed once), so the last chunk to finish leaves the others idle briefly;
     * but at least MIN_SLIVERS slivers a chunk, since every chunk streams all of x again. */
    slivers = (j.N + s->k->nr - 1) / s->k->nr;
    int64_t per = nth > 1 ? slivers / (8 * (int64_t)nth) : slivers;
    per = per < MIN_SLIVERS ? MIN_SLIVERS : per;
    int n_chunks = (int)((slivers + per - 1) / per);
    TFB_TRY(wpack_get(s, n->in[1], &j, n_chunks));
    tfb__pool_run(s->pool, n_chunks, gemm_chunk, &j);
    return TFB_STATUS_OK;
}
