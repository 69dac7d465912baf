/* Portable scalar kernels: the fallback where no vector path applies (and a path tests can force).
 * The same loops as the vector files with a "vector" of one float; tile 4 x 4. */
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

#define KERN_TABLE tfb__simd_kern_scalar
#define KERN_NAME "scalar"
#include "kernels/simd/kern_tmpl.h"
