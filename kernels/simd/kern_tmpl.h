/* The micro-kernels written once over a small vector vocabulary; each ISA file defines the
 * vocabulary with its intrinsics, then includes this file. Not a public header; no include guard
 * on purpose (one inclusion per ISA file).
 *
 * The including file defines:
 *   VEC            vector of W floats
 *   W, MR, NV      vector width, gemm tile rows, vectors per tile row (tile columns NR = NV*W)
 *   VLOAD(p) VSTORE(p, v) VSET1(x) VZERO() VFMA(a, b, c) (= a*b + c) VADD(a, b)
 *   vreduce(v)     horizontal sum to float
 *   VMUL(a, b)
 *   wload32(dt, w, k, v)  elements [k, k+32) of weight row w (dtype dt, k % 32 == 0) as 32/W vectors
 *                  v[], WITHOUT the block scale: q8_0 gives q, q4_0 gives q - 8, plain dtypes give
 *                  their values exactly converted
 *   half_to_float(h)  an fp16 value as float, exactly
 *   KERN_TABLE, KERN_NAME  the table's symbol and name
 *   KERN_QUANT_X, KERN_GEMV_Q8  the act_q8 kernels (written per ISA: integer dot products have no
 *                  common vocabulary); or, instead of KERN_GEMV_Q8, KERN_GEMV_Q8_ROW: the same for
 *                  one weight row, which this file loops over the range */
#include <math.h>
#include <string.h>

#define NR (NV * W)
#define NV32 (32 / W) /* vectors per 32-element weight block */

/* The scale of the block holding element k of weight row w (q8_0/q4_0: its fp16 d; plain: 1). */
static inline float wscale(tfb_dtype dt, const void *w, int64_t k) {
    if (dt == TFB_DTYPE_Q8_0)
        return half_to_float(((const tfb_block_q8_0 *)w)[k / TFB_QK].d);
    if (dt == TFB_DTYPE_Q4_0)
        return half_to_float(((const tfb_block_q4_0 *)w)[k / TFB_QK].d);
    return 1.0f;
}

/* Elements [k, k+32) of weight row w dequantized into dst[32]: exactly the values tfb_dequantize_row
 * gives, because d (fp16, 11 significant bits) times q (at most 8 bits) is exact in f32. */
static inline void deq32(tfb_dtype dt, const void *w, int64_t k, float *dst) {
    VEC v[NV32];
    wload32(dt, w, k, v);
    if (dt == TFB_DTYPE_Q8_0 || dt == TFB_DTYPE_Q4_0) {
        VEC d = VSET1(wscale(dt, w, k));
        for (int i = 0; i < NV32; i++)
            v[i] = VMUL(d, v[i]);
    }
    for (int i = 0; i < NV32; i++)
        VSTORE(dst + i * W, v[i]);
}

/* ---- prefill: register-blocked gemm tile ------------------------------------------------------- */

static void gemm_tile(int64_t kc, const float *a, int64_t lda, const float *b, const float *init, float *c,
                      int64_t ldc) {
    VEC acc[MR][NV]; // the [MR, NR] tile of c, in registers
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++)
            acc[r][v] = VLOAD(init ? init + v * W : c + r * ldc + v * W);
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

#ifndef HAVE_TRANSPOSE_W
/* dst[i*ldd + r] = src[r*lds + i] for r, i < W: the portable fallback (ISA files with a register
 * transpose define HAVE_TRANSPOSE_W and their own). */
static inline void transpose_w(const float *src, int64_t lds, float *dst, int64_t ldd) {
    for (int i = 0; i < W; i++)
        for (int r = 0; r < W; r++)
            dst[i * ldd + r] = src[r * lds + i];
}
#endif

/* The packed panel dst[kc, NR] holds weight rows [0, n) transposed, columns n..NR-1 zero. W rows at a
 * time: each row's 32-element blocks are dequantized into tmp[W][32], then transposed W x W into dst. */
static void pack_b(tfb_dtype dt, const void *w, size_t row_bytes, int n, int64_t k0, int64_t kc, float *dst) {
    _Alignas(64) float tmp[W * 32]; // [W rows][32 elements]
    int64_t kfull = kc / 32 * 32;   // kc % 32 != 0 only for plain dtypes (the row's tail)
    for (int j0 = 0; j0 < NR; j0 += W) {
        for (int64_t k = 0; k < kfull; k += 32) {
            for (int r = 0; r < W; r++) {
                if (j0 + r < n)
                    deq32(dt, (const char *)w + (size_t)(j0 + r) * row_bytes, k0 + k, tmp + r * 32);
                else
                    memset(tmp + r * 32, 0, 32 * sizeof(float));
            }
            for (int i = 0; i < 32; i += W)
                transpose_w(tmp + i, 32, dst + (k + i) * NR + j0, NR);
        }
        for (int r = 0; r < W; r++) { // the tail, element by element
            int j = j0 + r;
            if (kfull == kc)
                break;
            if (j < n)
                tfb_dequantize_row(dt, (const char *)w + (size_t)j * row_bytes + tfb_dtype_row_bytes(dt, k0 + kfull),
                                   tmp, kc - kfull);
            for (int64_t i = 0; i < kc - kfull; i++)
                dst[(kfull + i) * NR + j] = j < n ? tmp[i] : 0.0f;
        }
    }
}

/* ---- decode: weight rows against up to 4 activation rows, dequantized in registers ---------- */

/* One 32-element block at k of weight row w against M activation rows: acc[i] += w[k..k+32) . x_i.
 * A quantized block's partial dot product sum(q*x) is formed first and scaled by d once: d*q is
 * exact in f32, so this only reorders the f32 rounding of the reference's sum(d*q*x). */
static inline __attribute__((always_inline)) void gemv_block(const int M, const tfb_dtype dt, const char *w,
                                                             const float *x, int64_t ldx, int64_t k, VEC *acc) {
    VEC wv[NV32];
    wload32(dt, w, k, wv);
    if (dt == TFB_DTYPE_Q8_0 || dt == TFB_DTYPE_Q4_0) {
        VEC d = VSET1(wscale(dt, w, k));
        for (int i = 0; i < M; i++) {
            const float *xi = x + i * ldx + k;
            VEC blk = VMUL(wv[0], VLOAD(xi));
            for (int v = 1; v < NV32; v++)
                blk = VFMA(wv[v], VLOAD(xi + v * W), blk);
            acc[i] = VFMA(d, blk, acc[i]);
        }
    } else {
        for (int i = 0; i < M; i++)
            for (int v = 0; v < NV32; v++)
                acc[i] = VFMA(wv[v], VLOAD(x + i * ldx + k + v * W), acc[i]);
    }
}

/* out[i] = dot(x + i*ldx, w) for i < M: one weight row streamed once, dequantized in registers,
 * alternate blocks into two accumulators so the adds are two chains, not one. The dtype is a
 * compile-time constant in every instantiation, so the block loop has no dispatch in it. One row
 * at a time on purpose: interleaving four rows' streams measured 1.6-1.9x slower on the 154 MB LM
 * head (DRAM-bound), though faster on cache-resident shapes. */
static inline __attribute__((always_inline)) void gemv_row(const int M, const tfb_dtype dt, const char *w,
                                                           const float *x, int64_t ldx, int64_t K, float *out) {
    VEC acc0[4], acc1[4];
    for (int i = 0; i < M; i++)
        acc0[i] = acc1[i] = VZERO();
    int64_t k = 0;
    for (; k + 64 <= K; k += 64) {
        gemv_block(M, dt, w, x, ldx, k, acc0);
        gemv_block(M, dt, w, x, ldx, k + 32, acc1);
    }
    if (k + 32 <= K) {
        gemv_block(M, dt, w, x, ldx, k, acc0);
        k += 32;
    }
    float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (k < K) { // plain dtypes only: K % 32 == 0 for quantized rows
        _Alignas(64) float tmp[32];
        tfb_dequantize_row(dt, w + tfb_dtype_row_bytes(dt, k), tmp, K - k);
        for (int i = 0; i < M; i++)
            for (int64_t j = 0; j < K - k; j++)
                tail[i] += x[i * ldx + k + j] * tmp[j];
    }
    for (int i = 0; i < M; i++)
        out[i] = vreduce(VADD(acc0[i], acc1[i])) + tail[i];
}

static inline __attribute__((always_inline)) void gemv_dt(const tfb_dtype dt, const char *w, const float *x,
                                                          int64_t ldx, int m, int64_t K, float *out) {
    switch (m) {
    case 1: gemv_row(1, dt, w, x, ldx, K, out); break;
    case 2: gemv_row(2, dt, w, x, ldx, K, out); break;
    case 3: gemv_row(3, dt, w, x, ldx, K, out); break;
    default: gemv_row(4, dt, w, x, ldx, K, out); break;
    }
}

static void gemv(tfb_dtype dt, const void *w, const float *x, int64_t ldx, int m, int64_t K, float *out) {
    const char *wc = w;
    switch (dt) {
    case TFB_DTYPE_F32: gemv_dt(TFB_DTYPE_F32, wc, x, ldx, m, K, out); break;
    case TFB_DTYPE_F16: gemv_dt(TFB_DTYPE_F16, wc, x, ldx, m, K, out); break;
    case TFB_DTYPE_BF16: gemv_dt(TFB_DTYPE_BF16, wc, x, ldx, m, K, out); break;
    case TFB_DTYPE_Q8_0: gemv_dt(TFB_DTYPE_Q8_0, wc, x, ldx, m, K, out); break;
    case TFB_DTYPE_Q4_0: gemv_dt(TFB_DTYPE_Q4_0, wc, x, ldx, m, K, out); break;
    default: TFB_ASSERT(!"simd: bad weight dtype");
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

/* ---- activations: exp in vectors ------------------------------------------------------------- */

/* e^x, Cody-Waite reduction by ln 2 and Cephes' degree-6 polynomial (within 2 ulp of expf). x is
 * clamped to [-86, 88]: both activations below only add the result to 1, where e^-86 is already
 * nothing and e^88 still finite, and the clamp keeps 2^n normal for VLDEXP. A NaN x gives a finite
 * value here on x86 and scalar (NaN on NEON); the activations' x / (1 + e) is NaN all the same, and
 * softmax masks it back to NaN. */
static inline VEC vexp(VEC x) {
    x = VMIN(VMAX(x, VSET1(-86.0f)), VSET1(88.0f));
    VEC n = VROUND(VMUL(x, VSET1(1.44269504088896341f)));
    VEC r = VFMA(n, VSET1(-0.693359375f), x);
    r = VFMA(n, VSET1(2.12194440e-4f), r);
    VEC p = VFMA(VSET1(1.9875691500e-4f), r, VSET1(1.3981999507e-3f));
    p = VFMA(p, r, VSET1(8.3334519073e-3f));
    p = VFMA(p, r, VSET1(4.1665795894e-2f));
    p = VFMA(p, r, VSET1(1.6666665459e-1f));
    p = VFMA(p, r, VSET1(5.0000001201e-1f));
    p = VFMA(p, VMUL(r, r), VADD(r, VSET1(1.0f)));
    return VLDEXP(p, n);
}

static inline VEC act_vec(tfb_op op, VEC x) {
    VEC u; /* out = x / (1 + e^u) */
    if (op == TFB_OP_SILU)
        u = VMUL(x, VSET1(-1.0f));
    else /* GELU_TANH: 0.5*(1 + tanh(v)) = 1/(1 + e^-2v), v = sqrt(2/pi)*(x + 0.044715 x^3) */
        u = VMUL(VSET1(-2.0f * 0.7978845608028654f), VFMA(VMUL(VMUL(x, x), x), VSET1(0.044715f), x));
    return VDIV(x, VADD(VSET1(1.0f), vexp(u)));
}

/* out[i] = op(x[i]) for SILU and GELU_TANH; the tail through a padded vector, so every element is
 * formed the same way. */
static void act(tfb_op op, const float *x, float *out, int64_t n) {
    int64_t i = 0;
    if (op == TFB_OP_SILU)
        for (; i + W <= n; i += W)
            VSTORE(out + i, act_vec(TFB_OP_SILU, VLOAD(x + i)));
    else
        for (; i + W <= n; i += W)
            VSTORE(out + i, act_vec(TFB_OP_GELU_TANH, VLOAD(x + i)));
    if (i < n) {
        float t[W] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof(float));
        VSTORE(t, act_vec(op, VLOAD(t)));
        memcpy(out + i, t, (size_t)(n - i) * sizeof(float));
    }
}

/* w[i] = e^(scale*x[i] - max) / sum, max and sum over the row: the scalar softmax's products
 * (scale*x, then minus max, in f32) with a vector exp. An exponent at or below -87 gives exactly 0
 * (e^-87 is 1.6e-38, nothing beside the max's 1; this covers -inf scores too), a NaN score makes the
 * row NaN, as expf would: VMIN/VMAX give NaN when their second operand is NaN on every ISA (x86
 * returns the second operand, scalar.c copies that, NEON propagates any NaN), so the mask below,
 * with u second, carries it. */
static void softmax(const float *x, float scale, float *w, int64_t n) {
    VEC sv = VSET1(scale), vm = VSET1(-INFINITY);
    int64_t i = 0;
    for (; i + W <= n; i += W)
        vm = VMAX(vm, VMUL(sv, VLOAD(x + i)));
    _Alignas(64) float lanes[W];
    VSTORE(lanes, vm);
    float max = -INFINITY;
    for (int l = 0; l < W; l++)
        max = lanes[l] > max ? lanes[l] : max;
    for (int64_t r = i; r < n; r++)
        max = scale * x[r] > max ? scale * x[r] : max;
    VEC nm = VSET1(-max), acc = VZERO();
    for (i = 0; i < n; i += W) {
        VEC u;
        if (i + W <= n) {
            u = VADD(VMUL(sv, VLOAD(x + i)), nm);
        } else { // the tail through a padded vector; padding at -inf gives 0
            for (int l = 0; l < W; l++)
                lanes[l] = i + l < n ? scale * x[i + l] - max : -INFINITY;
            u = VLOAD(lanes);
        }
        /* 1 for u > -87, 0 at or below it, NaN for NaN. */
        VEC keep = VMAX(VZERO(), VMIN(VSET1(1.0f), VMUL(VADD(u, VSET1(87.0f)), VSET1(1e30f))));
        VEC e = VMUL(vexp(u), keep);
        acc = VADD(acc, e);
        if (i + W <= n) {
            VSTORE(w + i, e);
        } else {
            VSTORE(lanes, e);
            memcpy(w + i, lanes, (size_t)(n - i) * sizeof(float));
        }
    }
    float inv = 1.0f / vreduce(acc);
    for (i = 0; i + W <= n; i += W)
        VSTORE(w + i, VMUL(VLOAD(w + i), VSET1(inv)));
    for (; i < n; i++)
        w[i] *= inv;
}

/* One row of LAYERNORM (rms false: x - mean over the variance) or RMSNORM (rms: x over the mean
 * square), as the reference forms it: the mean and the variance summed in double, two passes, then
 * out = (x - mean) * inv * gamma + beta in f32 (beta may be NULL). The sums run over 16 double
 * lanes in GCC's generic vectors, the same 16 partial sums on every ISA (the compiler maps them onto
 * its registers), so the mean and variance do not depend on the path; the 16 sums break the one long
 * dependency chain a scalar double sum is (6x oneDNN's time at 512x768), without trading the
 * reference's accuracy for f32. */
typedef double norm_vd __attribute__((vector_size(64)));
typedef float norm_vf __attribute__((vector_size(32)));

/* (By pointer: a 64-byte vector passed or returned by value changes the ABI on ISAs without 512-bit
 * registers.) */
static inline void norm_load(const float *x, norm_vd *d) {
    norm_vf f;
    memcpy(&f, x, sizeof f);
    *d = __builtin_convertvector(f, norm_vd);
}

static double norm_lanes(const norm_vd *a, const norm_vd *b) {
    double s = 0.0;
    for (int i = 0; i < 8; i++)
        s += (*a)[i] + (*b)[i];
    return s;
}

static void norm(const float *x, int64_t n, bool rms, float eps, const float *gamma, const float *beta,
                 float *out) {
    int64_t n16 = n / 16 * 16, i;
    double mean = 0.0;
    if (!rms) {
        norm_vd s0 = {0}, s1 = {0}, a, b;
        for (i = 0; i < n16; i += 16) {
            norm_load(x + i, &a);
            norm_load(x + i + 8, &b);
            s0 += a;
            s1 += b;
        }
        mean = norm_lanes(&s0, &s1);
        for (; i < n; i++)
            mean += x[i];
        mean /= (double)n;
    }
    norm_vd v0 = {0}, v1 = {0}, d0, d1, m = {mean, mean, mean, mean, mean, mean, mean, mean};
    for (i = 0; i < n16; i += 16) {
        norm_load(x + i, &d0);
        norm_load(x + i + 8, &d1);
        d0 -= m;
        d1 -= m;
        v0 += d0 * d0;
        v1 += d1 * d1;
    }
    double var = norm_lanes(&v0, &v1);
    for (; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= (double)n;
    float inv = (float)(1.0 / sqrt(var + (double)eps)), fmean = (float)mean;
    VEC vneg = VSET1(-fmean), vinv = VSET1(inv);
    for (i = 0; i + W <= n; i += W) {
        VEC t = VMUL(VADD(VLOAD(x + i), vneg), vinv);
        VSTORE(out + i, beta ? VFMA(t, VLOAD(gamma + i), VLOAD(beta + i)) : VMUL(t, VLOAD(gamma + i)));
    }
    for (; i < n; i++)
        out[i] = (x[i] - fmean) * inv * gamma[i] + (beta ? beta[i] : 0.0f);
}

#ifdef KERN_GEMV_Q8_ROW
static void gemv_q8_range(tfb_dtype dt, const void *w, size_t row_bytes, int64_t nw, const tfb__xq *xq,
                          const float *xd, int64_t ldq, int m, int64_t K, float *out, int64_t ldo) {
    for (int64_t r = 0; r < nw; r++)
        KERN_GEMV_Q8_ROW(dt, (const char *)w + (size_t)r * row_bytes, xq, xd, ldq, m, K, out + r, ldo);
}
#define KERN_GEMV_Q8 gemv_q8_range
#endif

const tfb__simd_kern KERN_TABLE = {
    .name = KERN_NAME,
    .mr = MR,
    .nr = NR,
    .gemm_tile = gemm_tile,
    .pack_b = pack_b,
    .gemv = gemv,
    .quant_x = KERN_QUANT_X,
    .gemv_q8 = KERN_GEMV_Q8,
#ifdef KERN_GEMM_Q8_TILE
    .pack_q8 = KERN_PACK_Q8,
    .gemm_q8_tile = KERN_GEMM_Q8_TILE,
#endif
    .dot_f32 = dot_f32,
    .axpy_f32 = axpy_f32,
    .act = act,
    .softmax = softmax,
    .norm = norm,
};

#undef NR
#undef NV32
