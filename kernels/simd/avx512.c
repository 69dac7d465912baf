/* AVX-512 micro-kernels (built with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mfma -mf16c; chosen at
 * run time only when the CPU reports all of them: every AVX-512 CPU since Cascade Lake and Zen 4 has
 * VNNI, older ones take the avx2 path). Tile 8 rows x 32 columns: 16 zmm accumulators. */
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
