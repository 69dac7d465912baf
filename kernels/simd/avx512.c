/* AVX-512 micro-kernels (built with -mavx512f -mavx512bw -mfma -mf16c; chosen at run time only when
 * the CPU reports avx512f and avx512bw). Tile 8 rows x 32 columns: 16 zmm accumulators. */
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

static inline float vreduce(VEC v) {
    return _mm512_reduce_add_ps(v);
}

/* fp16 scale of a quantized block, converted exactly (F16C). */
static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline void deq32(tfb_dtype dt, const void *w, int64_t k, float *dst) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        _mm512_storeu_ps(dst, _mm512_loadu_ps(p));
        _mm512_storeu_ps(dst + 16, _mm512_loadu_ps(p + 16));
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        _mm512_storeu_ps(dst, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)));
        _mm512_storeu_ps(dst + 16, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 16))));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int h = 0; h < 2; h++) {
            __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p + 16 * h)));
            _mm512_storeu_ps(dst + 16 * h, _mm512_castsi512_ps(_mm512_slli_epi32(u, 16)));
        }
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        __m512 d = _mm512_set1_ps(half_to_float(b->d));
        for (int h = 0; h < 2; h++) {
            __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b->qs + 16 * h)));
            _mm512_storeu_ps(dst + 16 * h, _mm512_mul_ps(d, _mm512_cvtepi32_ps(q)));
        }
        break;
    }
    case TFB_DTYPE_Q4_0: {
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        __m512 d = _mm512_set1_ps(half_to_float(b->d));
        __m128i v = _mm_loadu_si128((const __m128i *)b->qs);
        __m128i m = _mm_set1_epi8(0x0f);
        __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
        __m512i eight = _mm512_set1_epi32(8);
        __m512i ql = _mm512_sub_epi32(_mm512_cvtepu8_epi32(lo), eight);
        __m512i qh = _mm512_sub_epi32(_mm512_cvtepu8_epi32(hi), eight);
        _mm512_storeu_ps(dst, _mm512_mul_ps(d, _mm512_cvtepi32_ps(ql)));
        _mm512_storeu_ps(dst + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(qh)));
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

#define KERN_TABLE tfb__simd_kern_avx512
#define KERN_NAME "avx512"
#include "kernels/simd/kern_tmpl.h"
