#version 450
// Tiled matmul for prefill: out[T,N] = x[T,K] w[N,K]^T + bias. A 32x32 output tile per workgroup
// of 16x16 invocations (2x2 outputs each); 32-wide K tiles of x and dequantized w in shared memory.
#define WG 256
#include "common.glsl"
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
#include "wload.glsl"
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

shared float xs[32][33];
shared float ws[32][33];

void main() {
    uint T = pc.rows, K = pc.cols, N = pc.n, NP = pc.ncount; // NP: weight rows of this part
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint lid = ty * 16u + tx;
    uint n0 = gl_WorkGroupID.x * 32u, t0 = gl_WorkGroupID.y * 32u;
    uint xo = pc.off0 >> 2;
    float acc00 = 0.0, acc01 = 0.0, acc10 = 0.0, acc11 = 0.0;
    for (uint k0 = 0u; k0 < K; k0 += 32u) {
        for (uint i = 0u; i < 4u; i++) {
            uint e = lid + i * 256u;
            uint r = e / 32u, c = e % 32u;
            uint k = k0 + c;
            xs[r][c] = (t0 + r < T && k < K) ? X[xo + (t0 + r) * K + k] : 0.0;
            ws[r][c] = (n0 + r < NP && k < K) ? w_at(w_row(n0 + r, K), k) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < 32u; kk++) {
            float a0 = xs[ty][kk], a1 = xs[ty + 16u][kk];
            float b0 = ws[tx][kk], b1 = ws[tx + 16u][kk];
            acc00 += a0 * b0;
            acc01 += a0 * b1;
            acc10 += a1 * b0;
            acc11 += a1 * b1;
        }
        barrier();
    }
    uint oo = pc.offo >> 2, bo = pc.off2 >> 2;
    bool has_bias = (pc.mode & TFB_VK_MATMUL_BIAS) != 0u;
    uint ta = t0 + ty, tb = t0 + ty + 16u, na = n0 + tx, nb = n0 + tx + 16u;
    float ba = (has_bias && na < NP) ? Bias[bo + pc.nbase + na] : 0.0;
    float bb = (has_bias && nb < NP) ? Bias[bo + pc.nbase + nb] : 0.0;
    oo += pc.nbase;
    if (ta < T && na < NP) O[oo + ta * N + na] = acc00 + ba;
    if (ta < T && nb < NP) O[oo + ta * N + nb] = acc01 + bb;
    if (tb < T && na < NP) O[oo + tb * N + na] = acc10 + ba;
    if (tb < T && nb < NP) O[oo + tb * N + nb] = acc11 + bb;
}
