/* The SIMD micro-kernels: one table per instruction set, each built from kern_tmpl.h by a file
 * compiled with that ISA's flags (avx512.c, avx2.c, neon.c, scalar.c). The backend (backends/simd)
 * picks a table at run time and drives it: blocking, packing, threads.
 *
 * Numerics: weights are dequantized to exactly the floats tfb_dequantize_row gives (d * q rounded
 * once to f32; f16/bf16 converted exactly), so only the order of the f32 accumulation differs from
 * the reference. With act_q8 (tfb_backend_opts), q8_0/q4_0 decode instead rounds the activation rows
 * to exactly tfb_quantize_act_q8's q and d (quant_x) and forms each block's dot product in integers
 * (gemv_q8): sum over blocks of (dw*dx rounded to f32) * isum, exact up to that rounding and the f32
 * sums' order. */
#ifndef TFB_KERNELS_SIMD_KERN_H
#define TFB_KERNELS_SIMD_KERN_H

#include "tfbench/graph.h"
#include "tfbench/tensor.h"

/* One 32-element block of an activation row rounded for act_q8: its q in element order, and the
 * integer the block's dot product starts from, spread over 8 lanes (lane 0 holds it, the rest 0):
 * -8*sum(q) for q4_0 weights, whose kernels multiply the unsigned nibbles 0..15 rather than
 * nibble-8; 0 for q8_0. The block scales live in a separate float array (contiguous, so a kernel
 * reads eight at once). 64 bytes: one cache line. */
typedef struct tfb__xq {
    int8_t q[32];
    int32_t bias[8];
} tfb__xq;

#define TFB_SIMD_Q8_NR 16                      /* columns of an integer gemm tile */
#define TFB_SIMD_Q8_MR 8                       /* rows of an integer gemm tile, at most */
#define TFB_SIMD_Q8_PANEL (32 * TFB_SIMD_Q8_NR + 4 * TFB_SIMD_Q8_NR) /* packed bytes a block */

typedef struct tfb__simd_kern {
    const char *name; /* "avx512", "avx2", "neon", "scalar" */
    int mr;           /* rows of the gemm micro-tile */
    int nr;           /* columns of the gemm micro-tile (a multiple of the vector width) */
    /* c[mr, nr] (row stride ldc) = c0 + a[mr, kc] (row stride lda) * b[kc, nr] (packed, contiguous),
     * where c0 is c itself, or with init every row of c0 is init[nr] (a bias, or zeros): then c is only
     * written. */
    void (*gemm_tile)(int64_t kc, const float *a, int64_t lda, const float *b, const float *init, float *c,
                      int64_t ldc);
    /* Pack rows [0, n) (n <= nr) of a weight panel, elements [k0, k0+kc), dequantized, transposed into
     * dst[kc, nr]; columns n..nr-1 are zero. w points at row 0, rows are row_bytes apart. k0 and kc are
     * multiples of 32 for q8_0/q4_0. */
    void (*pack_b)(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t k0, int64_t kc, float *dst);
    /* out[i] = dot(x + i*ldx, w) for i < m (m <= 4), w one weight row of K elements in dtype dt,
     * dequantized in registers. */
    void (*gemv)(tfb_dtype dt, const void *w, const float *x, int64_t ldx, int m, int64_t K, float *out);
    /* act_q8: x[K] (K % 32 == 0) rounded to K/32 blocks dst[] and scales d[], exactly the q and d of
     * tfb_quantize_act_q8, biased for weights of dtype dt (q8_0 or q4_0). */
    void (*quant_x)(tfb_dtype dt, const float *x, int64_t K, tfb__xq *dst, float *d);
    /* act_q8: out[i*ldo + r] = dot(activation row i, weight row r) for i < m (m <= 4), r < nw; w holds
     * nw q8_0/q4_0 rows of K elements, row_bytes apart, streamed one after another (the loop is in the
     * kernel so its set-up is paid once per range, not per row); activation row i's blocks are at
     * xq + i*ldq and its scales at xd + i*ldq (from quant_x). */
    void (*gemv_q8)(tfb_dtype dt, const void *w, size_t row_bytes, int64_t nw, const tfb__xq *xq, const float *xd,
                    int64_t ldq, int m, int64_t K, float *out, int64_t ldo);
    /* act_q8 prefill as an integer GEMM (NULL where the ISA has no int8 dot product instruction; the
     * backend then rounds x to d*q and runs the f32 gemm). Columns per tile: TFB_SIMD_Q8_NR; rows: at
     * most TFB_SIMD_Q8_MR.
     * pack_q8: weight rows [0, n) (n <= TFB_SIMD_Q8_NR, rows row_bytes apart) of q8_0/q4_0, blocks
     * [b0, b0 + nbk), into dst, TFB_SIMD_Q8_PANEL bytes a block: for each group g of 4 elements, the
     * 4 bytes of every column (column-major within the group) as unsigned bytes (q8_0: q + 128,
     * q4_0: the nibble, i.e. q + 8), then the columns' block scales as floats; absent columns 0.
     * gemm_q8_tile: c[i, j] (row stride ldc) += sum over the nbk blocks of (dw[j]*dx[i]) * (the block's
     * integer dot product of column j and activation row i), for i < mr, j < nv; activation row i's
     * blocks at xq + i*ldq (from quant_x with dt q4_0, whose bias -8*sum(q) removes the offset) and
     * scales at xd + i*ldq. The products are those gemv_q8 forms. */
    void (*pack_q8)(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t b0, int64_t nbk, uint8_t *dst);
    void (*gemm_q8_tile)(tfb_dtype dt, int64_t nbk, const tfb__xq *xq, const float *xd, int64_t ldq,
                         const uint8_t *panel, float *c, int64_t ldc, int mr, int nv);
    /* sum a[i]*b[i] in f32. */
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    /* y[i] += a*x[i]. */
    void (*axpy_f32)(float a, const float *x, float *y, int64_t n);
    /* out[i] = op(x[i]) for op SILU or GELU_TANH, x / (1 + e^u) with a vector e^u (kern_tmpl.h's
     * vexp, within 2 ulp of expf). */
    void (*act)(tfb_op op, const float *x, float *out, int64_t n);
    /* w[i] = softmax(scale*x)[i] over n elements (w may be x), with the same vector exp; an
     * exponent at or below -87 gives 0, a NaN gives a NaN row. */
    void (*softmax)(const float *x, float scale, float *w, int64_t n);
    /* One row of n elements of LAYERNORM (rms false) or RMSNORM (rms true): the mean and variance
     * summed in double, out[i] = (x[i] - mean) * inv * gamma[i] + beta[i] (beta may be NULL). */
    void (*norm)(const float *x, int64_t n, bool rms, float eps, const float *gamma, const float *beta,
                 float *out);
} tfb__simd_kern;

extern const tfb__simd_kern tfb__simd_kern_scalar;
/* The portable quant_x (tfb_quantize_act_q8, then the bias): scalar.c, also used by the NEON table. */
void tfb__simd_quant_x_c(tfb_dtype dt, const float *x, int64_t K, tfb__xq *dst, float *d);
#if defined(__x86_64__) || defined(_M_X64)
extern const tfb__simd_kern tfb__simd_kern_avx2;
extern const tfb__simd_kern tfb__simd_kern_avx512;
#endif
#if defined(__aarch64__)
extern const tfb__simd_kern tfb__simd_kern_neon;
#endif

#endif
