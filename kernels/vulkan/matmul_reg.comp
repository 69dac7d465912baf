#version 450
// Barrier-free matmul for CPU devices (lavapipe), where workgroup barriers and shared memory are
// expensive: each invocation computes a 4x4 block of out[T,N] = x[T,K] w[N,K]^T + bias straight from
// global memory (16 FMAs per 4 x loads + 4 weight loads). Rows past T or NP are clamped for loads
// and skipped for stores.
#define WG 64
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
#include "wload.glsl"
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint T = pc.rows, K = pc.cols, N = pc.n, NP = pc.ncount;
    uint nb = (NP + 3u) / 4u;
    uint id = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    uint t0 = (id / nb) * 4u, n0 = (id % nb) * 4u;
    if (t0 >= T)
        return;
    uint xr[4], wr[4];
    for (uint i = 0u; i < 4u; i++) {
        xr[i] = (pc.off0 >> 2) + min(t0 + i, T - 1u) * K;
        wr[i] = w_row(min(n0 + i, NP - 1u), K);
    }
    float acc[16];
    for (uint i = 0u; i < 16u; i++)
        acc[i] = 0.0;
    for (uint k = 0u; k < K; k++) {
        float x0 = X[xr[0] + k], x1 = X[xr[1] + k], x2 = X[xr[2] + k], x3 = X[xr[3] + k];
        for (uint j = 0u; j < 4u; j++) {
            float w = w_at(wr[j], k);
            acc[j] += x0 * w;
            acc[4u + j] += x1 * w;
            acc[8u + j] += x2 * w;
            acc[12u + j] += x3 * w;
        }
    }
    bool has_bias = (pc.mode & TFB_VK_MATMUL_BIAS) != 0u;
    uint oo = (pc.offo >> 2) + pc.nbase;
    for (uint j = 0u; j < 4u; j++) {
        uint n = n0 + j;
        if (n >= NP)
            break;
        float b = has_bias ? Bias[(pc.off2 >> 2) + pc.nbase + n] : 0.0;
        for (uint i = 0u; i < 4u; i++)
            if (t0 + i < T)
                O[oo + (t0 + i) * N + n] = acc[i * 4u + j] + b;
    }
}
