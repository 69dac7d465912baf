/* The act_q8 kernels for x86 (quant_x, gemv_q8), written once over 256-bit integer vectors; avx2.c
 * and avx512.c include this after defining how one block's integer dot product is formed:
 *   DOT_Q4(nib, x)  int32x8 lanes summing to sum(nib[j] * x->q[j]) + the bias, nib the block's 32
 *                   unsigned nibbles (0..15) in element order
 *   DOT_Q8(w, x)    lanes summing to sum(w[j] * x->q[j]), w the block's 32 int8 values
 *   WHALF8(dt, w)   the fp16 scales of the eight blocks from w, in 128 bits (q8_whalf8 below is the
 *                   portable one)
 * Not a public header; no include guard on purpose (one inclusion per ISA file). */
#include <string.h>

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* x[K] to blocks and scales, exactly as tfb_quantize_act_q8: amax by max of |x| (exact), d = amax/127
 * and x/d by IEEE division, rounded to nearest even by cvtps2dq under the default MXCSR. */
static void quant_x(tfb_dtype dt, const float *x, int64_t K, tfb__xq *dst, float *d) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < K / TFB_QK; b++) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int i = 0; i < 4; i++) {
            v[i] = _mm256_loadu_ps(x + b * TFB_QK + 8 * i);
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        d[b] = _mm_cvtss_f32(h) / 127.0f;
        __m256i q[4];
        for (int i = 0; i < 4; i++)
            q[i] = d[b] != 0.0f ? _mm256_cvtps_epi32(_mm256_div_ps(v[i], _mm256_set1_ps(d[b]))) : _mm256_setzero_si256();
        /* |q| <= 127: the saturating packs are exact; they interleave 4-byte groups across the two
         * 128-bit halves, which the dword permute puts back in element order. */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)dst[b].q, p);
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
        memset(dst[b].bias, 0, sizeof dst[b].bias);
        dst[b].bias[0] = dt == TFB_DTYPE_Q4_0 ? -8 * _mm_cvtsi128_si32(s4) : 0;
    }
}

/* Block j of weight row w (bb bytes a block) as 32 bytes in element order: q4_0 as unsigned nibbles
 * (low nibbles are elements 0..15, high 16..31), q8_0 as its int8 values. */
static inline __m256i q8_wload(const tfb_dtype dt, const char *w, size_t bb, int64_t j) {
    if (dt == TFB_DTYPE_Q4_0) {
        __m128i q = _mm_loadu_si128((const __m128i *)((const tfb_block_q4_0 *)(w + (size_t)j * bb))->qs);
        __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
        return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
    }
    return _mm256_loadu_si256((const __m256i *)((const tfb_block_q8_0 *)(w + (size_t)j * bb))->qs);
}

/* The fp16 scale of block j. */
static inline uint16_t q8_whalf(const tfb_dtype dt, const char *w, size_t bb, int64_t j) {
    return dt == TFB_DTYPE_Q4_0 ? ((const tfb_block_q4_0 *)(w + (size_t)j * bb))->d
                                : ((const tfb_block_q8_0 *)(w + (size_t)j * bb))->d;
}

/* The fp16 scales of the eight blocks at w: eight 16-bit loads put together in registers (eight
 * 2-byte stores read back as one 16-byte load would miss store forwarding). */
static inline __m128i q8_whalf8(const tfb_dtype dt, const char *w) {
    const size_t bb = dt == TFB_DTYPE_Q4_0 ? sizeof(tfb_block_q4_0) : sizeof(tfb_block_q8_0);
    return _mm_setr_epi16((short)q8_whalf(dt, w, bb, 0), (short)q8_whalf(dt, w, bb, 1), (short)q8_whalf(dt, w, bb, 2),
                          (short)q8_whalf(dt, w, bb, 3), (short)q8_whalf(dt, w, bb, 4), (short)q8_whalf(dt, w, bb, 5),
                          (short)q8_whalf(dt, w, bb, 6), (short)q8_whalf(dt, w, bb, 7));
}

/* acc += s * (float)dot(weight block wv, activation block x), as 8 lanes. */
static inline __attribute__((always_inline)) __m256 q8_fma(const tfb_dtype dt, __m256i wv, const tfb__xq *x, __m256 s,
                                                           __m256 acc) {
    __m256i isum = dt == TFB_DTYPE_Q4_0 ? DOT_Q4(wv, x) : DOT_Q8(wv, x);
    return _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum), acc);
}

/* M activation rows against one weight row. Eight blocks at a time: their fp16 scales are gathered
 * into one vector, converted and multiplied by each row's eight activation scales at once (the
 * products s = dw*dx, rounded to f32 once, as the scalar kernel forms them); then each block's bytes
 * are loaded once and dotted with every row. Blocks take turns over four accumulators per row, so
 * the adds form four chains, not one. */
static inline __attribute__((always_inline)) void gemv_q8_rows(const int M, const tfb_dtype dt, const char *w,
                                                               const tfb__xq *xq, const float *xd, int64_t ldq,
                                                               int64_t K, float *out, int64_t ldo) {
    const size_t bb = dt == TFB_DTYPE_Q4_0 ? sizeof(tfb_block_q4_0) : sizeof(tfb_block_q8_0);
    const int64_t nb = K / TFB_QK;
    __m256 acc[4][4];
    for (int i = 0; i < M; i++)
        acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256 dw = _mm256_cvtph_ps(WHALF8(dt, w + (size_t)b * bb));
        _Alignas(32) float sc[4][8];
        for (int i = 0; i < M; i++)
            _mm256_store_ps(sc[i], _mm256_mul_ps(dw, _mm256_loadu_ps(xd + i * ldq + b)));
        for (int j = 0; j < 8; j++) {
            __m256i wv = q8_wload(dt, w, bb, b + j);
            for (int i = 0; i < M; i++)
                acc[i][j & 3] = q8_fma(dt, wv, &xq[i * ldq + b + j], _mm256_broadcast_ss(&sc[i][j]), acc[i][j & 3]);
        }
    }
    for (; b < nb; b++) {
        __m256i wv = q8_wload(dt, w, bb, b);
        float dw = half_to_float(q8_whalf(dt, w, bb, b));
        for (int i = 0; i < M; i++)
            acc[i][0] = q8_fma(dt, wv, &xq[i * ldq + b], _mm256_set1_ps(dw * xd[i * ldq + b]), acc[i][0]);
    }
    for (int i = 0; i < M; i++)
        out[i * ldo] = hsum8(_mm256_add_ps(_mm256_add_ps(acc[i][0], acc[i][1]), _mm256_add_ps(acc[i][2], acc[i][3])));
}

static inline __attribute__((always_inline)) void gemv_q8_dt(const tfb_dtype dt, const char *w, size_t row_bytes,
                                                             int64_t nw, const tfb__xq *xq, const float *xd,
                                                             int64_t ldq, int m, int64_t K, float *out, int64_t ldo) {
    for (int64_t r = 0; r < nw; r++, w += row_bytes, out++) {
        switch (m) {
        case 1: gemv_q8_rows(1, dt, w, xq, xd, ldq, K, out, ldo); break;
        case 2: gemv_q8_rows(2, dt, w, xq, xd, ldq, K, out, ldo); break;
        case 3: gemv_q8_rows(3, dt, w, xq, xd, ldq, K, out, ldo); break;
        default: gemv_q8_rows(4, dt, w, xq, xd, ldq, K, out, ldo); break;
        }
    }
}

static void gemv_q8(tfb_dtype dt, const void *w, size_t row_bytes, int64_t nw, const tfb__xq *xq, const float *xd,
                    int64_t ldq, int m, int64_t K, float *out, int64_t ldo) {
    if (dt == TFB_DTYPE_Q4_0)
        gemv_q8_dt(TFB_DTYPE_Q4_0, w, row_bytes, nw, xq, xd, ldq, m, K, out, ldo);
    else
        gemv_q8_dt(TFB_DTYPE_Q8_0, w, row_bytes, nw, xq, xd, ldq, m, K, out, ldo);
}

#define KERN_QUANT_X quant_x
#define KERN_GEMV_Q8 gemv_q8
