/* NEON micro-kernels (AArch64, where NEON is always present). Tile 8 rows x 8 columns: 16 of the 32
 * q registers hold accumulators. */
#include <arm_neon.h>

#include "kernels/simd/kern.h"

typedef float32x4_t VEC;
#define W 4
#define MR 8
#define NV 2
#define VLOAD(p) vld1q_f32(p)
#define VSTORE(p, v) vst1q_f32((p), (v))
#define VSET1(x) vdupq_n_f32(x)
#define VZERO() vdupq_n_f32(0.0f)
#define VFMA(a, b, c) vfmaq_f32((c), (a), (b))
#define VADD(a, b) vaddq_f32((a), (b))
#define VMUL(a, b) vmulq_f32((a), (b))

static inline float vreduce(VEC v) {
    return vaddvq_f32(v);
}

/* Eight vectors of four from 16 int8 values and the next 16. */
static inline void widen16(int8x16_t q, VEC *v) {
    int16x8_t h[2] = {vmovl_s8(vget_low_s8(q)), vmovl_s8(vget_high_s8(q))};
    for (int j = 0; j < 2; j++) {
        v[2 * j] = vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[j])));
        v[2 * j + 1] = vcvtq_f32_s32(vmovl_s16(vget_high_s16(h[j])));
    }
}

static inline float half_to_float(uint16_t h) {
    return tfb_f16_to_f32(h);
}

static inline void wload32(tfb_dtype dt, const void *w, int64_t k, VEC v[8]) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        for (int i = 0; i < 8; i++)
            v[i] = vld1q_f32(p + 4 * i);
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 8; i++)
            v[i] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + 4 * i)));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 8; i++)
            v[i] = vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p + 4 * i), 16));
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        widen16(vld1q_s8(b->qs), v);
        widen16(vld1q_s8(b->qs + 16), v + 4);
        break;
    }
    case TFB_DTYPE_Q4_0: { // low nibbles are elements 0..15, high nibbles 16..31
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        uint8x16_t q = vld1q_u8(b->qs);
        widen16(vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8)), v);
        widen16(vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8)), v + 4);
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

#define KERN_TABLE tfb__simd_kern_neon
#define KERN_NAME "neon"
#include "kernels/simd/kern_tmpl.h"
