/* The SIMD micro-kernels: one table per instruction set, each built from kern_tmpl.h by a file
 * compiled with that ISA's flags (avx512.c, avx2.c, neon.c, scalar.c). The backend (backends/simd)
 * picks a table at run time and drives it: blocking, packing, threads.
 *
 * Numerics: weights are dequantized to exactly the floats tfb_dequantize_row gives (d * q rounded
 * once to f32; f16/bf16 converted exactly), so only the order of the f32 accumulation differs from
 * the reference. */
#ifndef TFB_KERNELS_SIMD_KERN_H
#define TFB_KERNELS_SIMD_KERN_H

#include "tfbench/tensor.h"

typedef struct tfb__simd_kern {
    const char *name; /* "avx512", "avx2", "neon", "scalar" */
    int mr;           /* rows of the gemm micro-tile */
    int nr;           /* columns of the gemm micro-tile (a multiple of the vector width) */
    /* c[mr, nr] (row stride ldc) += a[mr, kc] (row stride lda) * b[kc, nr] (packed, contiguous). */
    void (*gemm_tile)(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc);
    /* Pack rows [0, n) (n <= nr) of a weight panel, elements [k0, k0+kc), dequantized, transposed into
     * dst[kc, nr]; columns n..nr-1 are zero. w points at row 0, rows are row_bytes apart. k0 and kc are
     * multiples of 32 for q8_0/q4_0. */
    void (*pack_b)(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t k0, int64_t kc, float *dst);
    /* out[i] = dot(x + i*ldx, w) for i < m (m <= 4), w one weight row of K elements in dtype dt,
     * dequantized in registers. */
    void (*gemv)(tfb_dtype dt, const void *w, const float *x, int64_t ldx, int m, int64_t K, float *out);
    /* sum a[i]*b[i] in f32. */
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    /* y[i] += a*x[i]. */
    void (*axpy_f32)(float a, const float *x, float *y, int64_t n);
} tfb__simd_kern;

extern const tfb__simd_kern tfb__simd_kern_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const tfb__simd_kern tfb__simd_kern_avx2;
extern const tfb__simd_kern tfb__simd_kern_avx512;
#endif
#if defined(__aarch64__)
extern const tfb__simd_kern tfb__simd_kern_neon;
#endif

#endif
