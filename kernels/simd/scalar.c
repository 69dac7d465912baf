/* Portable scalar kernels: the fallback where no vector path applies (and a path tests can force).
 * The same loops as the vector files with a "vector" of one float; tile 4 x 4. */
#include <math.h>
#include <string.h>

#include "kernels/simd/kern.h"

typedef float VEC;
#define W 1
#define MR 4
#define NV 4
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VZERO() 0.0f
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
/* The second operand when either is NaN, as minps/maxps (kern_tmpl.h's softmax relies on it). */
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VROUND(a) rintf(a)
#define VLDEXP(a, n) ldexpf((a), (int)(n))

static inline float vreduce(VEC v) {
    return v;
}

static inline float half_to_float(uint16_t h) {
    return tfb_f16_to_f32(h);
}

static inline void wload32(tfb_dtype dt, const void *w, int64_t k, VEC v[32]) {
    switch (dt) {
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = (const tfb_block_q8_0 *)w + k / TFB_QK;
        for (int i = 0; i < 32; i++)
            v[i] = (float)b->qs[i];
        break;
    }
    case TFB_DTYPE_Q4_0: { // low nibbles are elements 0..15, high nibbles 16..31
        const tfb_block_q4_0 *b = (const tfb_block_q4_0 *)w + k / TFB_QK;
        for (int i = 0; i < 16; i++) {
            v[i] = (float)((b->qs[i] & 0x0f) - 8);
            v[i + 16] = (float)((b->qs[i] >> 4) - 8);
        }
        break;
    }
    default: tfb_dequantize_row(dt, (const char *)w + tfb_dtype_row_bytes(dt, k), v, 32); break;
    }
}

/* ---- act_q8 -------------------------------------------------------------------------------------- */

void tfb__simd_quant_x_c(tfb_dtype dt, const float *x, int64_t K, tfb__xq *dst, float *d) {
    for (int64_t b = 0; b < K / TFB_QK; b++) {
        tfb_quantize_act_q8(x + b * TFB_QK, TFB_QK, dst[b].q, &d[b]);
        int32_t sum = 0;
        for (int i = 0; i < TFB_QK; i++)
            sum += dst[b].q[i];
        memset(dst[b].bias, 0, sizeof dst[b].bias);
        dst[b].bias[0] = dt == TFB_DTYPE_Q4_0 ? -8 * sum : 0;
    }
}

/* The vector kernels' arithmetic written out: q4_0 multiplies the unsigned nibbles and starts from
 * the bias, so this path checks the layout contract the vector ones rely on. */
static void gemv_q8_row(tfb_dtype dt, const void *w, const tfb__xq *xq, const float *xd, int64_t ldq, int m,
                        int64_t K, float *out, int64_t ldo) {
    for (int i = 0; i < m; i++) {
        float acc = 0.0f;
        for (int64_t b = 0; b < K / TFB_QK; b++) {
            const tfb__xq *x = &xq[i * ldq + b];
            int32_t isum = 0;
            for (int l = 0; l < 8; l++)
                isum += x->bias[l];
            float dw;
            if (dt == TFB_DTYPE_Q4_0) {
                const tfb_block_q4_0 *blk = (const tfb_block_q4_0 *)w + b;
                for (int j = 0; j < TFB_QK / 2; j++)
                    isum += (blk->qs[j] & 0x0f) * x->q[j] + (blk->qs[j] >> 4) * x->q[j + TFB_QK / 2];
                dw = half_to_float(blk->d);
            } else {
                const tfb_block_q8_0 *blk = (const tfb_block_q8_0 *)w + b;
                for (int j = 0; j < TFB_QK; j++)
                    isum += blk->qs[j] * x->q[j];
                dw = half_to_float(blk->d);
            }
            acc += (dw * xd[i * ldq + b]) * (float)isum;
        }
        out[i * ldo] = acc;
    }
}

#define KERN_QUANT_X tfb__simd_quant_x_c
#define KERN_GEMV_Q8_ROW gemv_q8_row
#define KERN_TABLE tfb__simd_kern_scalar
#define KERN_NAME "scalar"
#include "kernels/simd/kern_tmpl.h"
