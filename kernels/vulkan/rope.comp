#version 450
// Rotary positions: one invocation per (row t, head h, pair i) rotates the pair (a, b) of head h by
// the angle (pos + t) * theta^(-2i/D), reading its cos and sin from a table the host computed in
// double (backends/vulkan/rope.c): an f32 angle p*freq is off by ~p ulps of its frequency, and GPU
// sin/cos of a large argument are worse, so none is formed here. Pairs are (i, i + D/2) for
// TFB_VK_ROPE_HALF and (2i, 2i + 1) for TFB_VK_ROPE_INTERLEAVED. Each invocation reads its two
// elements before writing them, so out may alias x.
#define WG 256
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
layout(std430, binding = 1) readonly buffer BT { float CS[]; }; // [positions][D/2][cos, sin]
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    uint HD = pc.n, H = pc.heads, D = HD / H, half_d = D / 2u;
    uint per_row = H * half_d;
    if (i >= pc.rows * per_row)
        return;
    uint t = i / per_row, r = i % per_row, h = r / half_d, k = r % half_d;
    uint a = pc.mode == TFB_VK_ROPE_HALF ? k : 2u * k;
    uint b = pc.mode == TFB_VK_ROPE_HALF ? k + half_d : 2u * k + 1u;
    uint xo = (pc.off0 >> 2) + t * HD + h * D, oo = (pc.offo >> 2) + t * HD + h * D;
    uint ti = (pc.off1 >> 2) + ((pc.pos + t) * half_d + k) * 2u;
    float xa = X[xo + a], xb = X[xo + b];
    float c = CS[ti], s = CS[ti + 1u];
    O[oo + a] = xa * c - xb * s;
    O[oo + b] = xa * s + xb * c;
}
