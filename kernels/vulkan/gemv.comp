#version 450
// Matrix-vector path for decode (few rows): one workgroup per output element (n, t); the
// invocations split K (whole 32-element blocks for q8_0/q4_0, reading each scale once) and reduce.
#define WG 64
#define TFB_NEED_REDUCE
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
#include "wload.glsl"
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint K = pc.cols, N = pc.n;
    uint n = gl_WorkGroupID.x + gl_NumWorkGroups.x * gl_WorkGroupID.z;
    uint t = gl_WorkGroupID.y;
    if (n >= pc.ncount) // uniform per workgroup
        return;
    uint lid = gl_LocalInvocationID.x;
    uint xo = (pc.off0 >> 2) + t * K;
    uint r = w_row(n, K);
    float acc = 0.0;
#if WT == 3 || WT == 4
    for (uint b = lid; b < K / 32u; b += WG) {
#if WT == 3
        uint base = r + b * 34u;
#else
        uint base = r + b * 18u;
#endif
        float d = w_half(base);
        float s = 0.0;
        for (uint j = 0u; j < 32u; j++) {
#if WT == 3
            float q = float(int(w_byte(base + 2u + j) << 24) >> 24);
#else
            uint qb = w_byte(base + 2u + (j & 15u));
            float q = float(int(j >= 16u ? (qb >> 4) : (qb & 15u)) - 8);
#endif
            s += X[xo + b * 32u + j] * q;
        }
        acc += d * s;
    }
#else
    for (uint k = lid; k < K; k += WG)
        acc += X[xo + k] * w_at(r, k);
#endif
    float sum = wg_sum(acc);
    if (lid == 0u) {
        if ((pc.mode & TFB_VK_MATMUL_BIAS) != 0u)
            sum += Bias[(pc.off2 >> 2) + pc.nbase + n];
        O[(pc.offo >> 2) + t * N + pc.nbase + n] = sum;
    }
}
