/* The micro-kernels written once over a small vector vocabulary; each ISA file defines the
 * vocabulary with its intrinsics, then includes this file. Not a public header; no include guard
 * on purpose (one inclusion per ISA file).
 *
 * The including file defines:
 *   VEC            vector of W floats
 *   W, MR, NV      vector width, gemm tile rows, vectors per tile row (tile columns NR = NV*W)
 *   VLOAD(p) VSTORE(p, v) VSET1(x) VZERO() VFMA(a, b, c) (= a*b + c) VADD(a, b)
 *   vreduce(v)     horizontal sum to float
 *   deq32(dt, w, k, dst)  elements [k, k+32) of weight row w (dtype dt, k % 32 == 0) -> dst[32],
 *                  exactly the values tfb_dequantize_row gives
 *   KERN_TABLE, KERN_NAME  the table's symbol and name */
#include <string.h>

#define NR (NV * W)

/* ---- prefill: register-blocked gemm tile ------------------------------------------------------- */

static void gemm_tile(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc) {
    VEC acc[MR][NV]; // the [MR, NR] tile of c, in registers
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[r][v] = VLOAD(c + r * ldc + v * W);
    for (int64_t k = 0; k < kc; k++) {
        VEC bv[NV]; // row k of the packed panel, [NR]
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            bv[v] = VLOAD(b + k * NR + v * W);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            VEC av = VSET1(a[r * lda + k]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++)
                acc[r][v] = VFMA(av, bv[v], acc[r][v]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            VSTORE(c + r * ldc + v * W, acc[r][v]);
}

/* Dequantize elements [k, k+n) of a weight row (n < 32 only for plain dtypes, the row's tail). */
static void deq_span(tfb_dtype dt, const void *w, int64_t k, int64_t n, float *dst) {
    if (n == 32)
        deq32(dt, w, k, dst);
    else
        tfb_dequantize_row(dt, (const char *)w + tfb_dtype_row_bytes(dt, k), dst, n);
}

static void pack_b(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t k0, int64_t kc, float *dst) {
    _Alignas(64) float tmp[32]; // 32 dequantized weights of one row
    for (int j = 0; j < n; j++) {
        const char *row = (const char *)w + (size_t)j * row_bytes; // [K] in dt
        for (int64_t k = 0; k < kc; k += 32) {
            int64_t len = kc - k < 32 ? kc - k : 32;
            deq_span(dt, row, k0 + k, len, tmp);
            for (int64_t i = 0; i < len; i++)
                dst[(k + i) * NR + j] = tmp[i];
        }
    }
    for (int j = n; j < NR; j++)
        for (int64_t k = 0; k < kc; k++)
            dst[k * NR + j] = 0.0f;
}

/* ---- decode: one weight row against up to 4 activation rows, dequantized in registers -------- */

static inline __attribute__((always_inline)) void gemv_m(const int M, tfb_dtype dt, const void *w,
                                                         const float *x, int64_t ldx, int64_t K, float *out) {
    _Alignas(64) float tmp[32]; // one dequantized block
    VEC acc[4][2];
    for (int r = 0; r < M; r++)
        acc[r][0] = acc[r][1] = VZERO();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        const float *wk = tmp;
        if (dt == TFB_DTYPE_F32)
            wk = (const float *)w + k;
        else
            deq32(dt, w, k, tmp);
#pragma GCC unroll 32
        for (int i = 0; i < 32; i += W) {
            VEC wv = VLOAD(wk + i);
            for (int r = 0; r < M; r++)
                acc[r][(i / W) & 1] = VFMA(VLOAD(x + r * ldx + k + i), wv, acc[r][(i / W) & 1]);
        }
    }
    float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (k < K) {
        deq_span(dt, w, k, K - k, tmp);
        for (int r = 0; r < M; r++)
            for (int64_t i = 0; i < K - k; i++)
                tail[r] += x[r * ldx + k + i] * tmp[i];
    }
    for (int r = 0; r < M; r++)
        out[r] = vreduce(VADD(acc[r][0], acc[r][1])) + tail[r];
}

static void gemv(tfb_dtype dt, const void *w, const float *x, int64_t ldx, int m, int64_t K, float *out) {
    switch (m) {
    case 1: gemv_m(1, dt, w, x, ldx, K, out); break;
    case 2: gemv_m(2, dt, w, x, ldx, K, out); break;
    case 3: gemv_m(3, dt, w, x, ldx, K, out); break;
    default: gemv_m(4, dt, w, x, ldx, K, out); break;
    }
}

/* ---- vector helpers for attention ------------------------------------------------------------- */

static float dot_f32(const float *a, const float *b, int64_t n) {
    VEC acc0 = VZERO(), acc1 = VZERO();
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        acc0 = VFMA(VLOAD(a + i), VLOAD(b + i), acc0);
        acc1 = VFMA(VLOAD(a + i + W), VLOAD(b + i + W), acc1);
    }
    float s = vreduce(VADD(acc0, acc1));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void axpy_f32(float a, const float *x, float *y, int64_t n) {
    VEC av = VSET1(a);
    int64_t i = 0;
    for (; i + W <= n; i += W)
        VSTORE(y + i, VFMA(av, VLOAD(x + i), VLOAD(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

const tfb__simd_kern KERN_TABLE = {
    .name = KERN_NAME,
    .mr = MR,
    .nr = NR,
    .gemm_tile = gemm_tile,
    .pack_b = pack_b,
    .gemv = gemv,
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
};

#undef NR
