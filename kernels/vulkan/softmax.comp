#version 450
// out = softmax(scale*x) along each row; one workgroup per row.
#define WG 128
#define TFB_NEED_REDUCE
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
layout(std430, binding = 4) buffer BO { float O[]; };

void main() {
    uint C = pc.cols, t = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
    uint xo = (pc.off0 >> 2) + t * C, oo = (pc.offo >> 2) + t * C;
    float m = -1.0 / 0.0;
    for (uint c = lid; c < C; c += WG)
        m = max(m, pc.scale * X[xo + c]);
    m = wg_max(m);
    float s = 0.0;
    for (uint c = lid; c < C; c += WG) {
        float e = exp(pc.scale * X[xo + c] - m);
        O[oo + c] = e;
        s += e;
    }
    float inv = 1.0 / wg_sum(s);
    // Each invocation rereads only what it wrote itself, so no barrier is needed here.
    for (uint c = lid; c < C; c += WG)
        O[oo + c] *= inv;
}
