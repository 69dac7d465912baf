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

static inline float vreduce(VEC v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float half_to_float(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline void deq32(tfb_dtype dt, const void *w, int64_t k, float *dst) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        for (int i = 0; i < 32; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_loadu_ps(p + i));
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 32; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + i))));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 32; i += 8) {
            __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + i)));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(u, 16)));
        }
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        __m256 d = _mm256_set1_ps(half_to_float(b->d));
        for (int i = 0; i < 32; i += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b->qs + i)));
            _mm256_storeu_ps(dst + i, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q)));
        }
        break;
    }
    case TFB_DTYPE_Q4_0: {
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        __m256 d = _mm256_set1_ps(half_to_float(b->d));
        __m128i v = _mm_loadu_si128((const __m128i *)b->qs);
        __m128i m = _mm_set1_epi8(0x0f);
        __m128i nib[2] = {_mm_and_si128(v, m), _mm_and_si128(_mm_srli_epi16(v, 4), m)};
        __m256i eight = _mm256_set1_epi32(8);
        for (int h = 0; h < 2; h++) {
            __m256i q0 = _mm256_sub_epi32(_mm256_cvtepu8_epi32(nib[h]), eight);
            __m256i q1 = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(nib[h], 8)), eight);
            _mm256_storeu_ps(dst + 16 * h, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q0)));
            _mm256_storeu_ps(dst + 16 * h + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(q1)));
        }
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

#define KERN_TABLE tfb__simd_kern_avx2
#define KERN_NAME "avx2"
#include "kernels/simd/kern_tmpl.h"
