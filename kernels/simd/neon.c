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
#define VDIV(a, b) vdivq_f32((a), (b))
#define VMIN(a, b) vminq_f32((a), (b))
#define VMAX(a, b) vmaxq_f32((a), (b))
#define VROUND(a) vrndnq_f32(a)
/* a * 2^n for integral n with a * 2^n normal: n added to a's exponent bits */
#define VLDEXP(a, n) vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(a), vshlq_n_s32(vcvtq_s32_f32(n), 23)))

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

/* ---- act_q8: widening int8 multiplies (baseline AArch64 has no dot-product instruction) ---------- */

/* sum(w[j] * x[j]) over 32 int8 pairs: vmull_s8 to int16 (|w*x| <= 128*127 fits), pairwise into int32. */
static inline int32x4_t dot32(int8x16_t w0, int8x16_t w1, const int8_t *x) {
    int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
    s = vpadalq_s16(s, vmull_s8(vget_high_s8(w0), vget_high_s8(x0)));
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(w1), vget_low_s8(x1)));
    return vpadalq_s16(s, vmull_s8(vget_high_s8(w1), vget_high_s8(x1)));
}

/* q4_0 nibbles are taken as nibble - 8 (signed), so the blocks' bias (which serves kernels that
 * multiply the unsigned nibbles) is not needed: the integer sums are the same. */
static void gemv_q8_row(tfb_dtype dt, const void *w, const tfb__xq *xq, const float *xd, int64_t ldq, int m,
                        int64_t K, float *out, int64_t ldo) {
    VEC acc[4] = {VZERO(), VZERO(), VZERO(), VZERO()};
    for (int64_t b = 0; b < K / TFB_QK; b++) {
        int8x16_t w0, w1;
        float dw;
        if (dt == TFB_DTYPE_Q4_0) {
            const tfb_block_q4_0 *blk = (const tfb_block_q4_0 *)w + b;
            uint8x16_t q = vld1q_u8(blk->qs);
            w0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8));
            w1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
            dw = half_to_float(blk->d);
        } else {
            const tfb_block_q8_0 *blk = (const tfb_block_q8_0 *)w + b;
            w0 = vld1q_s8(blk->qs);
            w1 = vld1q_s8(blk->qs + 16);
            dw = half_to_float(blk->d);
        }
        for (int i = 0; i < m; i++)
            acc[i] = vfmaq_n_f32(acc[i], vcvtq_f32_s32(dot32(w0, w1, xq[i * ldq + b].q)), dw * xd[i * ldq + b]);
    }
    for (int i = 0; i < m; i++)
        out[i * ldo] = vreduce(acc[i]);
}

#define KERN_QUANT_X tfb__simd_quant_x_c
#define KERN_GEMV_Q8_ROW gemv_q8_row
#define KERN_TABLE tfb__simd_kern_neon
#define KERN_NAME "neon"
#include "kernels/simd/kern_tmpl.h"
