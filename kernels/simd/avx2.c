/* AVX2 + FMA + F16C micro-kernels (chosen at run time when the CPU reports all three). Tile 6 rows x
 * 16 columns: 12 ymm accumulators, leaving room for the panel row and the broadcast. */
#include <immintrin.h>

#include "kernels/simd/kern.h"

typedef __m256 VEC;
#define W 8
#define MR 6
#define NV 2
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* a * 2^n for integral n with a * 2^n normal: n added to a's exponent bits */
#define VLDEXP(a, n)                                                                                  \
    _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)))

static inline float vreduce(VEC v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline void wload32(tfb_dtype dt, const void *w, int64_t k, VEC v[4]) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_loadu_ps(p + 8 * i);
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 8 * i)));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 4; i++) {
            __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 8 * i)));
            v[i] = _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
        }
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        for (int i = 0; i < 4; i++)
            v[i] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + 8 * i))));
        break;
    }
    case TFB_DTYPE_Q4_0: { // low nibbles are elements 0..15, high nibbles 16..31
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        __m128i q = _mm_loadu_si128((const __m128i *)b->qs);
        __m128i m = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
        __m128i nib[2] = {_mm_sub_epi8(_mm_and_si128(q, m), eight),
                          _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m), eight)};
        for (int h = 0; h < 2; h++) {
            v[2 * h] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(nib[h]));
            v[2 * h + 1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(nib[h], 8)));
        }
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

/* dst[i*ldd + r] = src[r*lds + i] for r, i < 8, in registers: pairs of rows interleaved, then
 * quadruples, then the 128-bit halves of the two row groups exchanged. */
#define HAVE_TRANSPOSE_W
static inline void transpose_w(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) { // r[4i + c]: rows 4i..4i+3 of columns c, c+4 (one per half)
        __m256d a = _mm256_castps_pd(t[4 * i]), b = _mm256_castps_pd(t[4 * i + 1]);
        __m256d c = _mm256_castps_pd(t[4 * i + 2]), d = _mm256_castps_pd(t[4 * i + 3]);
        r[4 * i + 0] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        _mm256_storeu_ps(dst + c * ldd, _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
        _mm256_storeu_ps(dst + (c + 4) * ldd, _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
    }
}

/* act_q8 block dot products: vpmaddubsw (unsigned x signed bytes, pairs summed to int16) then vpmaddwd
 * by ones. No pair can saturate: q4_0 nibbles are at most 15 (2*15*127 = 3810), and q8_0 goes through
 * |w| (at most 128) times x with w's sign (2*128*127 = 32512). */
static inline __m256i dot_q4(__m256i nib, const tfb__xq *x) {
    __m256i p = _mm256_maddubs_epi16(nib, _mm256_loadu_si256((const __m256i *)x->q));
    return _mm256_add_epi32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)), _mm256_loadu_si256((const __m256i *)x->bias));
}

static inline __m256i dot_q8(__m256i w, const tfb__xq *x) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x->q), w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

#define DOT_Q4 dot_q4
#define DOT_Q8 dot_q8
#define WHALF8 q8_whalf8
#include "kernels/simd/q8_x86.h"

#define KERN_TABLE tfb__simd_kern_avx2
#define KERN_NAME "avx2"
#include "kernels/simd/kern_tmpl.h"
