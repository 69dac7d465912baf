/* out[T, N] = x[T, K] w[N, K]^T + bias[N] for CPU-like devices (CL_DEVICE_TYPE_CPU, e.g. PoCL).
 *
 * The local-memory tiled kernel (matmul.cl) suits GPUs; on a CPU driver local memory is ordinary
 * memory and every barrier splits the work-group loop, spilling each work-item's accumulators. Here
 * each work-item owns an RT x RN output block, walks K in float16 vectors (one AVX-512 register each)
 * with no barrier and no local memory, and lets the CPU caches do the staging. Weights are
 * dequantized 16 at a time: a q8_0/q4_0 block of 32 is two vectors. K tails (plain dtypes only;
 * quantized K is a multiple of 32) are done one element at a time with wload_*.
 * Every loop over the block's rows and columns is unrolled by _Pragma("unroll"): PoCL 3.1's LLVM
 * left them as loops, so the RT x RN accumulators lived in a stack array and each FMA loaded and
 * stored its accumulator (seen in the kernel's cached .so: one vfmadd213ps in a 4-trip loop). With
 * them unrolled the accumulators stay in registers: 60 -> 230-330 GFLOP/s at 512x768x768 f32.
 * Global (ceil(N/RN), ceil(T/RT)); blocks at the edges clamp their loads and skip their stores. */

inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

/* 16 weights of row n from column k (k % 16 == 0). */
inline float16 wvec_f32(__global const uchar *w, ulong rb, int n, int k) {
    return vload16(0, (__global const float *)(w + (ulong)n * rb) + k);
}
inline float16 wvec_f16(__global const uchar *w, ulong rb, int n, int k) {
    return vload_half16(0, (__global const half *)(w + (ulong)n * rb) + k);
}
inline float16 wvec_bf16(__global const uchar *w, ulong rb, int n, int k) {
    ushort16 h = vload16(0, (__global const ushort *)(w + (ulong)n * rb) + k);
    return as_float16(convert_uint16(h) << 16);
}
inline float16 wvec_q8_0(__global const uchar *w, ulong rb, int n, int k) {
    __global const uchar *b = w + (ulong)n * rb + (ulong)(k / 32) * 34;
    float d = vload_half(0, (__global const half *)b);
    return d * convert_float16(as_char16(vload16(0, b + 2 + (k % 32))));
}
inline float16 wvec_q4_0(__global const uchar *w, ulong rb, int n, int k) {
    __global const uchar *b = w + (ulong)n * rb + (ulong)(k / 32) * 18;
    float d = vload_half(0, (__global const half *)b);
    uchar16 q = vload16(0, b + 2);
    /* Low nibbles are elements 0..15 of the block, high nibbles 16..31. */
    uchar16 nib = (k % 32) < 16 ? (q & (uchar)0x0F) : (q >> (uchar)4);
    return d * (convert_float16(nib) - 8.0f);
}

#define TFB_DEFINE_MATMUL_VEC(NAME, RT, RN, WVEC, WLOAD)                                                       \
    __kernel void NAME(__global const float *x, ulong x_off, __global const uchar *w,                          \
                                      ulong w_off, ulong row_bytes, __global const float *bias,                \
                                      ulong b_off, int has_bias, __global float *out, ulong out_off,           \
                                      int T, int N, int K) {                                                   \
        int n0 = get_global_id(0) * RN, t0 = get_global_id(1) * RT;                                            \
        __global const float *xb = x + x_off;                                                                  \
        __global const uchar *wb = w + w_off;                                                                  \
        int tr[RT], nr[RN];                                                                                    \
        _Pragma("unroll") for (int i = 0; i < RT; i++)                                                         \
            tr[i] = min(t0 + i, T - 1);                                                                        \
        _Pragma("unroll") for (int j = 0; j < RN; j++)                                                         \
            nr[j] = min(n0 + j, N - 1);                                                                        \
        float16 acc[RT][RN];                                                                                   \
        _Pragma("unroll") for (int i = 0; i < RT; i++)                                                         \
            _Pragma("unroll") for (int j = 0; j < RN; j++)                                                     \
                acc[i][j] = (float16)(0.0f);                                                                   \
        int k = 0;                                                                                             \
        for (; k + 16 <= K; k += 16) {                                                                         \
            float16 xv[RT];                                                                                    \
            _Pragma("unroll") for (int i = 0; i < RT; i++)                                                     \
                xv[i] = vload16(0, xb + (ulong)tr[i] * K + k);                                                 \
            _Pragma("unroll") for (int j = 0; j < RN; j++) {                                                   \
                float16 wv = WVEC(wb, row_bytes, nr[j], k);                                                    \
                _Pragma("unroll") for (int i = 0; i < RT; i++)                                                 \
                    acc[i][j] = fma(xv[i], wv, acc[i][j]);                                                     \
            }                                                                                                  \
        }                                                                                                      \
        float s[RT][RN];                                                                                       \
        _Pragma("unroll") for (int i = 0; i < RT; i++)                                                         \
            _Pragma("unroll") for (int j = 0; j < RN; j++)                                                     \
                s[i][j] = hsum16(acc[i][j]);                                                                   \
        for (; k < K; k++)                                                                                     \
            _Pragma("unroll") for (int j = 0; j < RN; j++) {                                                   \
                float wk = WLOAD(wb, row_bytes, nr[j], k);                                                     \
                _Pragma("unroll") for (int i = 0; i < RT; i++)                                                 \
                    s[i][j] = fma(xb[(ulong)tr[i] * K + k], wk, s[i][j]);                                      \
            }                                                                                                  \
        _Pragma("unroll") for (int i = 0; i < RT; i++)                                                         \
            _Pragma("unroll") for (int j = 0; j < RN; j++)                                                     \
                if (t0 + i < T && n0 + j < N)                                                                  \
                    out[out_off + (ulong)(t0 + i) * N + n0 + j] =                                              \
                        s[i][j] + (has_bias ? bias[b_off + n0 + j] : 0.0f);                                    \
    }

/* Prefill: 6 rows x 4 weight rows (24 accumulators + 6 x vectors + 1 weight vector: 31 of the 32
 * zmm registers). Measured against 4x4 and 4x6 in alternating tfbench-kernels runs: 6x4 1.0-1.9x 4x4
 * at the GPT-2/Llama prefill shapes (f32 229-429 GFLOP/s, f16 322-455, q8_0 145-244: each weight
 * vector, dequantized once, feeds 6 FMAs instead of 4); 4x6 in between. */
TFB_DEFINE_MATMUL_VEC(matmul_vec_f32, 6, 4, wvec_f32, wload_f32)
TFB_DEFINE_MATMUL_VEC(matmul_vec_f16, 6, 4, wvec_f16, wload_f16)
TFB_DEFINE_MATMUL_VEC(matmul_vec_bf16, 6, 4, wvec_bf16, wload_bf16)
TFB_DEFINE_MATMUL_VEC(matmul_vec_q8_0, 6, 4, wvec_q8_0, wload_q8_0)
TFB_DEFINE_MATMUL_VEC(matmul_vec_q4_0, 6, 4, wvec_q4_0, wload_q4_0)
/* Decode (a few rows): one row x 8 weight rows per work-item, so no FMA is repeated. */
TFB_DEFINE_MATMUL_VEC(gemv_vec_f32, 1, 8, wvec_f32, wload_f32)
TFB_DEFINE_MATMUL_VEC(gemv_vec_f16, 1, 8, wvec_f16, wload_f16)
TFB_DEFINE_MATMUL_VEC(gemv_vec_bf16, 1, 8, wvec_bf16, wload_bf16)
TFB_DEFINE_MATMUL_VEC(gemv_vec_q8_0, 1, 8, wvec_q8_0, wload_q8_0)
TFB_DEFINE_MATMUL_VEC(gemv_vec_q4_0, 1, 8, wvec_q4_0, wload_q4_0)
