/* out[T, N] = x[T, K] w[N, K]^T + bias[N], w in any weight dtype (dequantized on load).
 *
 * Prefill: matmul_<dtype>, a tiled kernel. A 16x16 work-group computes a 64x64 output tile, each
 * work-item a 4x4 register block strided by 16 (so neighbouring work-items touch neighbouring
 * columns); the K dimension is walked in slices of 16 staged through local memory, where the weight
 * slice is already dequantized. Edges are zero-padded, so any T, N, K works.
 * Decode: gemv_<dtype>, one work-group of TFB_WG per output element (t, n), the K-long dot product
 * split across the group and reduced in local memory. */

#define MM_TILE 64
#define MM_TK 16
#define MM_WG 16
#define MM_R (MM_TILE / MM_WG) /* 4x4 outputs per work-item */

#define TFB_DEFINE_MATMUL(SUFFIX, WLOAD)                                                                 \
    __kernel __attribute__((reqd_work_group_size(MM_WG, MM_WG, 1))) void matmul_##SUFFIX(              \
        __global const float *x, ulong x_off, __global const uchar *w, ulong w_off, ulong row_bytes,     \
        __global const float *bias, ulong b_off, int has_bias, __global float *out, ulong out_off,       \
        int T, int N, int K) {                                                                          \
        __local float xs[MM_TK][MM_TILE + 1];                                                           \
        __local float ws[MM_TK][MM_TILE + 1];                                                           \
        int lx = get_local_id(0), ly = get_local_id(1);                                                 \
        int n0 = get_group_id(0) * MM_TILE, t0 = get_group_id(1) * MM_TILE;                             \
        int l = ly * MM_WG + lx;                                                                        \
        __global const float *xb = x + x_off;                                                           \
        __global const uchar *wb = w + w_off;                                                           \
        float acc[MM_R][MM_R];                                                                          \
        for (int i = 0; i < MM_R; i++)                                                                  \
            for (int j = 0; j < MM_R; j++)                                                              \
                acc[i][j] = 0.0f;                                                                       \
        for (int k0 = 0; k0 < K; k0 += MM_TK) {                                                         \
            for (int e = 0; e < (MM_TILE * MM_TK) / (MM_WG * MM_WG); e++) {                             \
                int idx = l + e * MM_WG * MM_WG;                                                        \
                int r = idx / MM_TK, kk = idx % MM_TK;                                                  \
                int k = k0 + kk;                                                                        \
                xs[kk][r] = (t0 + r < T && k < K) ? xb[(ulong)(t0 + r) * K + k] : 0.0f;                 \
                ws[kk][r] = (n0 + r < N && k < K) ? WLOAD(wb, row_bytes, n0 + r, k) : 0.0f;             \
            }                                                                                           \
            barrier(CLK_LOCAL_MEM_FENCE);                                                               \
            for (int kk = 0; kk < MM_TK; kk++) {                                                        \
                float a[MM_R], b[MM_R];                                                                 \
                for (int i = 0; i < MM_R; i++)                                                          \
                    a[i] = xs[kk][ly + MM_WG * i];                                                      \
                for (int j = 0; j < MM_R; j++)                                                          \
                    b[j] = ws[kk][lx + MM_WG * j];                                                      \
                for (int i = 0; i < MM_R; i++)                                                          \
                    for (int j = 0; j < MM_R; j++)                                                      \
                        acc[i][j] = fma(a[i], b[j], acc[i][j]);                                         \
            }                                                                                           \
            barrier(CLK_LOCAL_MEM_FENCE);                                                               \
        }                                                                                               \
        for (int i = 0; i < MM_R; i++) {                                                                \
            int t = t0 + ly + MM_WG * i;                                                                \
            for (int j = 0; j < MM_R; j++) {                                                            \
                int n = n0 + lx + MM_WG * j;                                                            \
                if (t < T && n < N)                                                                     \
                    out[out_off + (ulong)t * N + n] = acc[i][j] + (has_bias ? bias[b_off + n] : 0.0f);  \
            }                                                                                           \
        }                                                                                               \
    }                                                                                                   \
                                                                                                        \
    __kernel __attribute__((reqd_work_group_size(TFB_WG, 1, 1))) void gemv_##SUFFIX(                   \
        __global const float *x, ulong x_off, __global const uchar *w, ulong w_off, ulong row_bytes,     \
        __global const float *bias, ulong b_off, int has_bias, __global float *out, ulong out_off,       \
        int T, int N, int K) {                                                                          \
        __local float red[TFB_WG];                                                                      \
        int n = get_group_id(0), t = get_group_id(1), lid = get_local_id(0);                            \
        __global const float *xr = x + x_off + (ulong)t * K;                                            \
        __global const uchar *wb = w + w_off;                                                           \
        float s = 0.0f;                                                                                 \
        for (int k = lid; k < K; k += TFB_WG)                                                           \
            s = fma(xr[k], WLOAD(wb, row_bytes, n, k), s);                                              \
        s = wg_sum(red, s);                                                                             \
        if (lid == 0)                                                                                   \
            out[out_off + (ulong)t * N + n] = s + (has_bias ? bias[b_off + n] : 0.0f);                  \
    }

TFB_DEFINE_MATMUL(f32, wload_f32)
TFB_DEFINE_MATMUL(f16, wload_f16)
TFB_DEFINE_MATMUL(bf16, wload_bf16)
TFB_DEFINE_MATMUL(q8_0, wload_q8_0)
TFB_DEFINE_MATMUL(q4_0, wload_q4_0)
