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

static inline float vreduce(VEC v) {
    return vaddvq_f32(v);
}

static inline void deq32(tfb_dtype dt, const void *w, int64_t k, float *dst) {
    switch (dt) {
    case TFB_DTYPE_F32: {
        const float *p = (const float *)w + k;
        for (int i = 0; i < 32; i += 4)
            vst1q_f32(dst + i, vld1q_f32(p + i));
        break;
    }
    case TFB_DTYPE_F16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 32; i += 4)
            vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + i))));
        break;
    }
    case TFB_DTYPE_BF16: {
        const uint16_t *p = (const uint16_t *)w + k;
        for (int i = 0; i < 32; i += 4)
            vst1q_f32(dst + i, vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p + i), 16)));
        break;
    }
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        float d = tfb_f16_to_f32(b->d);
        for (int i = 0; i < 32; i += 16) {
            int8x16_t q = vld1q_s8(b->qs + i);
            int16x8_t h[2] = {vmovl_s8(vget_low_s8(q)), vmovl_s8(vget_high_s8(q))};
            for (int j = 0; j < 2; j++) {
                vst1q_f32(dst + i + 8 * j, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[j]))), d));
                vst1q_f32(dst + i + 8 * j + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(h[j]))), d));
            }
        }
        break;
    }
    case TFB_DTYPE_Q4_0: {
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        float d = tfb_f16_to_f32(b->d);
        uint8x16_t v = vld1q_u8(b->qs);
        int8x16_t nib[2] = {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), vdupq_n_s8(8)),
                            vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), vdupq_n_s8(8))};
        for (int n = 0; n < 2; n++) {
            int16x8_t h[2] = {vmovl_s8(vget_low_s8(nib[n])), vmovl_s8(vget_high_s8(nib[n]))};
            for (int j = 0; j < 2; j++) {
                vst1q_f32(dst + 16 * n + 8 * j, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[j]))), d));
                vst1q_f32(dst + 16 * n + 8 * j + 4,
                          vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(h[j]))), d));
            }
        }
        break;
    }
    default: TFB_ASSERT(!"simd: bad weight dtype");
    }
}

#define KERN_TABLE tfb__simd_kern_neon
#define KERN_NAME "neon"
#include "kernels/simd/kern_tmpl.h"
