#version 450
// LayerNorm (two passes: mean, then variance of x-mean) or RMSNorm; one workgroup per row.
#define WG 128
#define TFB_NEED_REDUCE
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
layout(std430, binding = 1) readonly buffer BG { float G[]; };
layout(std430, binding = 2) readonly buffer BB { float Bt[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint C = pc.cols, t = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
    uint xo = (pc.off0 >> 2) + t * C;
    bool rms = pc.mode == TFB_VK_NORM_RMS;
    float mean = 0.0;
    if (!rms) {
        float s = 0.0;
        for (uint c = lid; c < C; c += WG)
            s += X[xo + c];
        mean = wg_sum(s) / float(C);
    }
    float v = 0.0;
    for (uint c = lid; c < C; c += WG) {
        float d = X[xo + c] - mean;
        v += d * d;
    }
    float inv = inversesqrt(wg_sum(v) / float(C) + pc.eps);
    uint oo = (pc.offo >> 2) + t * C, go = pc.off1 >> 2, bo = pc.off2 >> 2;
    for (uint c = lid; c < C; c += WG)
        O[oo + c] = (X[xo + c] - mean) * inv * G[go + c] + (rms ? 0.0 : Bt[bo + c]);
}
