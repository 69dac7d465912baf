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

static inline float vreduce(VEC v) {
    return v;
}

static inline void deq32(tfb_dtype dt, const void *w, int64_t k, float *dst) {
    tfb_dequantize_row(dt, (const char *)w + tfb_dtype_row_bytes(dt, k), dst, 32);
}

#define KERN_TABLE tfb__simd_kern_scalar
#define KERN_NAME "scalar"
#include "kernels/simd/kern_tmpl.h"
