/* AVX-512 micro-kernels (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mf16c; chosen at
 * run time only when the CPU reports all of them: every AVX-512 CPU since Cascade Lake and Zen 4 has
 * VNNI, older ones take the avx2 path). Tile 8 rows x 32 columns: 16 zmm accumulators. Measured
 * against 12 x 32 (24 accumulators) in interleaved pairs: 8 x 32 was 0-5% faster on the GPT-2 and
 * Llama prefill shapes; 14 x 32 runs out of row pointers, 6 x 64 and 7 x 64 were no better. */
#include <immintrin.h>

#include "kernels/simd/kern.h"

typedef __m512 VEC;
#define W 16
#define MR 8
#define NV 2
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VLDEXP(a, n) _mm512_scalef_ps((a), (n)) /* a * 2^n, n integral */

static inline float vreduce(VEC v) {
    return _mm512_reduce_add_ps(v);
}

/* fp16 scale of a quantized block, converted exactly (F16C). */
static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline void wload32(tfb_dtype dt, const void *w, int64_t k, VEC v[2]) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        v[0] = _mm512_loadu_ps(p);
        v[1] = _mm512_loadu_ps(p + 16);
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        v[0] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
        v[1] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 16)));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int h = 0; h < 2; h++) {
            __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p + 16 * h)));
            v[h] = _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
        }
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        for (int h = 0; h < 2; h++)
            v[h] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b->qs + 16 * h))));
        break;
    }
    case TFB_DTYPE_Q4_0: { // low nibbles are elements 0..15, high nibbles 16..31
        /* Each byte widened to a 32-bit lane, then the nibble looked up in a table of the floats
         * -8..7: vpermps reads only an index's low 4 bits, so the low nibble needs no mask and the
         * high one only a shift (4 ops where widening and converting took 9). */
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        const __m512 tbl = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
        __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b->qs));
        v[0] = _mm512_permutexvar_ps(q, tbl);
        v[1] = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), tbl);
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

/* dst[i*ldd + r] = src[r*lds + i] for r, i < 16, in registers: pairs of rows interleaved, then
 * quadruples, then 128-bit lanes gathered across the four row groups. */
#define HAVE_TRANSPOSE_W
static inline void transpose_w(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { // r[4i + c]: rows 4i..4i+3 of columns c, c+4, c+8, c+12 (one per lane)
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        __m512 s0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), s1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
        __m512 s2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        __m512 s3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
        _mm512_storeu_ps(dst + (c + 0) * ldd, _mm512_shuffle_f32x4(s0, s2, 0x88));
        _mm512_storeu_ps(dst + (c + 8) * ldd, _mm512_shuffle_f32x4(s0, s2, 0xdd));
        _mm512_storeu_ps(dst + (c + 4) * ldd, _mm512_shuffle_f32x4(s1, s3, 0x88));
        _mm512_storeu_ps(dst + (c + 12) * ldd, _mm512_shuffle_f32x4(s1, s3, 0xdd));
    }
}

/* act_q8 block dot products: vpdpbusd (unsigned x signed bytes, four products summed into each int32
 * lane, no intermediate saturation) on 256-bit vectors, which Zen 4 runs at full rate where 512-bit
 * ones take two passes. q8_0 goes through |w| times x with w's sign (unsigned x signed). */
static inline __m256i dot_q4(__m256i nib, const tfb__xq *x) {
    return _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)x->bias), nib,
                               _mm256_loadu_si256((const __m256i *)x->q));
}

static inline __m256i dot_q8(__m256i w, const tfb__xq *x) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w),
                               _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x->q), w));
}

/* The fp16 scales of eight blocks by word permutes of the bytes they span: q4_0's eight (18 bytes
 * apart) lie in the first 128 bytes, q8_0's (34 apart) in two runs of four, 136 bytes each, the
 * scales in the first 128. (The portable eight loads and inserts were about 20% of the q4_0 LM head.) */
static inline __m128i whalf8_avx512(const tfb_dtype dt, const char *w) {
    if (dt == TFB_DTYPE_Q4_0) {
        static const uint16_t i4[32] = {0, 9, 18, 27, 36, 45, 54, 63};
        __m512i idx = _mm512_loadu_si512(i4);
        __m512i h = _mm512_permutex2var_epi16(_mm512_loadu_si512(w), idx, _mm512_loadu_si512(w + 64));
        return _mm512_castsi512_si128(h);
    }
    static const uint16_t i8[32] = {0, 17, 34, 51};
    __m512i idx = _mm512_loadu_si512(i8);
    __m512i lo = _mm512_permutex2var_epi16(_mm512_loadu_si512(w), idx, _mm512_loadu_si512(w + 64));
    __m512i hi = _mm512_permutex2var_epi16(_mm512_loadu_si512(w + 136), idx, _mm512_loadu_si512(w + 200));
    return _mm_unpacklo_epi64(_mm512_castsi512_si128(lo), _mm512_castsi512_si128(hi));
}

#define DOT_Q4 dot_q4
#define DOT_Q8 dot_q8
#define WHALF8 whalf8_avx512
#include "kernels/simd/q8_x86.h"

/* ---- act_q8 decode: four blocks per 512-bit vector -------------------------------------------- */

/* An activation row's blocks 4g..4g+3 laid out for gemv_q8_512, one block per 128-bit lane: their
 * first 16 elements, their last 16, the integer each block's dot starts from (in the first lane of
 * its quarter: -8*sum(q) for q4_0's unsigned nibbles, -128*sum(q) for q8_0 taken as q+128) and the
 * block scales, each repeated four times. The row's quant_x blocks are re-laid out this way on entry,
 * a slice of K at a time (cheap: the activation is read once per weight row after that). */
typedef struct xq4 {
    int8_t lo[64];
    int8_t hi[64];
    int32_t bias[16];
    float d[16];
} xq4;

#define XQ4_STACK 65536 /* bytes of re-laid-out activation a call keeps: K up to 32768 for one row */

static void xq4_pack(tfb_dtype dt, const tfb__xq *xq, const float *xd, int64_t ng, xq4 *dst) {
    const __m512i lo_idx = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13);
    const __m512i hi_idx = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
    const __m512i d_idx = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i ones = _mm512_set1_epi8(1), mul = _mm512_set1_epi32(dt == TFB_DTYPE_Q4_0 ? -8 : -128);
    for (int64_t g = 0; g < ng; g++, xq += 4, xd += 4, dst++) {
        __m512i z01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)xq[0].q)),
                                         _mm256_loadu_si256((const __m256i *)xq[1].q), 1);
        __m512i z23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)xq[2].q)),
                                         _mm256_loadu_si256((const __m256i *)xq[3].q), 1);
        __m512i lo = _mm512_permutex2var_epi64(z01, lo_idx, z23), hi = _mm512_permutex2var_epi64(z01, hi_idx, z23);
        _mm512_storeu_si512(dst->lo, lo);
        _mm512_storeu_si512(dst->hi, hi);
        /* sum(q) of each block: four partial sums per quarter, then added across the quarter */
        __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, lo), ones, hi);
        s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
        s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
        _mm512_storeu_si512(dst->bias, _mm512_maskz_mullo_epi32(0x1111, s, mul));
        _mm512_storeu_ps(dst->d, _mm512_permutexvar_ps(d_idx, _mm512_castps128_ps512(_mm_loadu_ps(xd))));
    }
}

/* Word indices, within a group's first 128 bytes, of its four fp16 scales, each repeated four times
 * (q4_0 blocks are 9 words apart, q8_0 blocks 17). */
static const uint16_t q4_didx[32] = {0, 0, 0, 0, 9, 9, 9, 9, 18, 18, 18, 18, 27, 27, 27, 27};
static const uint16_t q8_didx[32] = {0, 0, 0, 0, 17, 17, 17, 17, 34, 34, 34, 34, 51, 51, 51, 51};

/* One group of four weight blocks at w against M activation rows (groups x + i*ldg). The weight
 * bytes, one block per 128-bit lane as xq4 has them, made unsigned: q4_0's four 16-byte runs of
 * nibbles by inserts, split into low and high nibbles; q8_0's four 32-byte blocks by two 256-bit
 * pairs and two qword permutes (first and last 16 elements), offset by 128. (Word permutes of whole
 * 64-byte loads gathered the same with fewer instructions but ran about 10% slower.) Only bytes of
 * the group itself are read. The scales by one word permute, converted; per row two vpdpbusd from
 * the bias give the four block sums, converted and multiplied by (dw*dx rounded to f32, as the
 * scalar kernel forms it) into acc[i*lda]. */
static inline __attribute__((always_inline)) void q8_group(const int M, const tfb_dtype dt, const char *w,
                                                           const xq4 *x, int64_t ldg, __m512 *acc, int64_t lda) {
    __m512i wl, wh, h;
    if (dt == TFB_DTYPE_Q4_0) {
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(w + 2)));
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 20)), 1);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 38)), 2);
        v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(w + 56)), 3);
        wl = _mm512_and_si512(v, m4);
        wh = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        h = _mm512_permutexvar_epi16(_mm512_loadu_si512(q4_didx), _mm512_loadu_si512(w));
    } else {
        const __m512i u8 = _mm512_set1_epi8((char)0x80);
        const __m512i lo_idx = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13);
        const __m512i hi_idx = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
        __m512i z01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w + 2))),
                                         _mm256_loadu_si256((const __m256i *)(w + 36)), 1);
        __m512i z23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w + 70))),
                                         _mm256_loadu_si256((const __m256i *)(w + 104)), 1);
        wl = _mm512_xor_si512(_mm512_permutex2var_epi64(z01, lo_idx, z23), u8);
        wh = _mm512_xor_si512(_mm512_permutex2var_epi64(z01, hi_idx, z23), u8);
        h = _mm512_permutex2var_epi16(_mm512_loadu_si512(w), _mm512_loadu_si512(q8_didx), _mm512_loadu_si512(w + 64));
    }
    __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
    for (int i = 0; i < M; i++, x += ldg) {
        __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(x->bias), wl, _mm512_loadu_si512(x->lo));
        s = _mm512_dpbusd_epi32(s, wh, _mm512_loadu_si512(x->hi));
        acc[i * lda] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_loadu_ps(x->d)), acc[i * lda]);
    }
}

/* M activation rows (groups xg + i*ldg) against one weight row's ng groups, two accumulators per
 * row taking turns; then the nt < 4 blocks past the groups (the 256-bit kernel), and out[i*ldo] set
 * (add: added to). */
static inline __attribute__((always_inline)) void gemv_groups(const int M, const tfb_dtype dt, const char *w,
                                                              const xq4 *xg, int64_t ldg, int64_t ng,
                                                              const tfb__xq *xt, const float *xdt, int64_t ldq,
                                                              int nt, float *out, int64_t ldo, bool add) {
    const size_t gb = 4 * (dt == TFB_DTYPE_Q4_0 ? sizeof(tfb_block_q4_0) : sizeof(tfb_block_q8_0));
    __m512 acc[4][2];
    for (int i = 0; i < M; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t g = 0; g < ng; g++, w += gb)
        q8_group(M, dt, w, xg + g, ldg, &acc[0][g & 1], 2);
    float t[4] = {0, 0, 0, 0};
    if (nt > 0)
        gemv_q8_rows(M, dt, w, xt, xdt, ldq, nt * TFB_QK, t, 1);
    for (int i = 0; i < M; i++) {
        float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][0], acc[i][1])) + t[i];
        out[i * ldo] = add ? out[i * ldo] + s : s;
    }
}

/* gemv_q8 (kern.h) over groups of four blocks: the activation rows re-laid out a slice of K at a
 * time (the whole of K unless m*K passes XQ4_STACK/2 bytes), every weight row streamed through each
 * slice; K under four blocks takes the 256-bit kernel. */
static void gemv_q8_512(tfb_dtype dt, const void *w, size_t row_bytes, int64_t nw, const tfb__xq *xq, const float *xd,
                        int64_t ldq, int m, int64_t K, float *out, int64_t ldo) {
    const int64_t nb = K / TFB_QK, ng = nb / 4, gs = XQ4_STACK / (int64_t)sizeof(xq4) / m;
    const size_t gb = 4 * (dt == TFB_DTYPE_Q4_0 ? sizeof(tfb_block_q4_0) : sizeof(tfb_block_q8_0));
    if (ng == 0) {
        gemv_q8(dt, w, row_bytes, nw, xq, xd, ldq, m, K, out, ldo);
        return;
    }
    xq4 xg[XQ4_STACK / sizeof(xq4)];
    for (int64_t g0 = 0; g0 < ng; g0 += gs) {
        const int64_t n = ng - g0 < gs ? ng - g0 : gs;
        const int nt = g0 + n == ng ? (int)(nb - 4 * ng) : 0; /* blocks past the last group */
        for (int i = 0; i < m; i++)
            xq4_pack(dt, xq + i * ldq + 4 * g0, xd + i * ldq + 4 * g0, n, xg + i * n);
        const char *wr = (const char *)w + (size_t)g0 * gb;
        const tfb__xq *xt = xq + 4 * (g0 + n);
        const float *xdt = xd + 4 * (g0 + n);
        for (int64_t r = 0; r < nw; r++, wr += row_bytes) {
            switch (m) {
#define ROWS(M)                                                                                  \
    case M: gemv_groups(M, dt, wr, xg, n, n, xt, xdt, ldq, nt, out + r, ldo, g0 > 0); break;
                ROWS(1) ROWS(2) ROWS(3)
            default: ROWS(4)
#undef ROWS
            }
        }
    }
}

#undef KERN_GEMV_Q8 /* q8_x86.h's gemv_q8 remains for K under four blocks and the blocks past the groups */
#define KERN_GEMV_Q8 gemv_q8_512

/* ---- act_q8 prefill: integer gemm tile -------------------------------------------------------- */

/* Weight rows [0, n) of blocks [b0, b0+nbk) into the panel layout kern.h describes: unsigned bytes
 * (q8_0 q + 128, q4_0 its nibble), each group of 4 elements of the 16 columns in one 64-byte vector,
 * so the tile multiplies a column vector by one broadcast activation dword (vpdpbusd). */
static void pack_q8(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t b0, int64_t nbk, uint8_t *dst) {
    const size_t bb = dt == TFB_DTYPE_Q4_0 ? sizeof(tfb_block_q4_0) : sizeof(tfb_block_q8_0);
    memset(dst, 0, (size_t)nbk * TFB_SIMD_Q8_PANEL);
    for (int j = 0; j < n; j++) {
        const char *row = (const char *)w + (size_t)j * row_bytes;
        for (int64_t b = 0; b < nbk; b++) {
            uint8_t *blk = dst + (size_t)b * TFB_SIMD_Q8_PANEL;
            __m256i v = q8_wload(dt, row, bb, b0 + b); /* element order */
            if (dt == TFB_DTYPE_Q8_0)
                v = _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80));
            uint32_t g[8];
            _mm256_storeu_si256((__m256i *)g, v);
            for (int k = 0; k < 8; k++)
                memcpy(blk + k * 64 + j * 4, &g[k], 4);
            float d = half_to_float(q8_whalf(dt, row, bb, b0 + b));
            memcpy(blk + 512 + j * 4, &d, 4);
        }
    }
}

/* mr rows (a compile-time constant after inlining) of the tile: eight independent vpdpbusd chains,
 * one per row, over each block's 8 groups. The integer sum starts at the offset's correction:
 * -8*sum(q) from quant_x for q4_0's +8, sixteen times that for q8_0's +128. */
static inline __attribute__((always_inline)) void gemm_q8_rows(tfb_dtype dt, int64_t nbk, const tfb__xq *xq,
                                                               const float *xd, int64_t ldq, const uint8_t *p,
                                                               float *c, int64_t ldc, const int mr, __mmask16 mask) {
    const int32_t cm = dt == TFB_DTYPE_Q8_0 ? 16 : 1;
    __m512 f[TFB_SIMD_Q8_MR];
    for (int r = 0; r < mr; r++)
        f[r] = _mm512_maskz_loadu_ps(mask, c + r * ldc);
    for (int64_t b = 0; b < nbk; b++, p += TFB_SIMD_Q8_PANEL) {
        __m512i acc[TFB_SIMD_Q8_MR];
        for (int r = 0; r < mr; r++)
            acc[r] = _mm512_set1_epi32(xq[r * ldq + b].bias[0] * cm);
        for (int k = 0; k < 8; k++) {
            __m512i wv = _mm512_loadu_si512(p + k * 64);
            for (int r = 0; r < mr; r++) {
                int32_t xk;
                memcpy(&xk, xq[r * ldq + b].q + 4 * k, 4);
                acc[r] = _mm512_dpbusd_epi32(acc[r], wv, _mm512_set1_epi32(xk));
            }
        }
        __m512 dw = _mm512_loadu_ps((const float *)(const void *)(p + 512));
        for (int r = 0; r < mr; r++)
            f[r] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(xd[r * ldq + b])), _mm512_cvtepi32_ps(acc[r]), f[r]);
    }
    for (int r = 0; r < mr; r++)
        _mm512_mask_storeu_ps(c + r * ldc, mask, f[r]);
}

static void gemm_q8_tile(tfb_dtype dt, int64_t nbk, const tfb__xq *xq, const float *xd, int64_t ldq,
                         const uint8_t *panel, float *c, int64_t ldc, int mr, int nv) {
    __mmask16 mask = nv >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nv) - 1);
    switch (mr) {
#define ROWS(n)                                                        \
    case n: gemm_q8_rows(dt, nbk, xq, xd, ldq, panel, c, ldc, n, mask); \
        break;
        ROWS(1) ROWS(2) ROWS(3) ROWS(4) ROWS(5) ROWS(6) ROWS(7) ROWS(8)
#undef ROWS
    default: TFB_ASSERT(!"gemm_q8_tile: rows out of range");
    }
}

#define KERN_PACK_Q8 pack_q8
#define KERN_GEMM_Q8_TILE gemm_q8_tile
#define KERN_TABLE tfb__simd_kern_avx512
#define KERN_NAME "avx512"
#include "kernels/simd/kern_tmpl.h"
