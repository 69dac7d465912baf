#version 450
// out[t] = index of the row maximum, lowest index on ties; one workgroup per row.
#define WG 128
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BX { float X[]; };
layout(std430, binding = 4) writeonly buffer BO { int O[]; };

shared float sv[WG];
shared uint si[WG];

void main() {
    uint C = pc.cols, t = gl_WorkGroupID.x, lid = gl_LocalInvocationID.x;
    uint xo = (pc.off0 >> 2) + t * C;
    float best = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    for (uint c = lid; c < C; c += WG) {
        float v = X[xo + c];
        if (bi == 0xffffffffu || v > best) {
            best = v;
            bi = c;
        }
    }
    sv[lid] = best;
    si[lid] = bi;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float ov = sv[lid + s];
            uint oi = si[lid + s];
            if (oi != 0xffffffffu &&
                (si[lid] == 0xffffffffu || ov > sv[lid] || (ov == sv[lid] && oi < si[lid]))) {
                sv[lid] = ov;
                si[lid] = oi;
            }
        }
        barrier();
    }
    if (lid == 0u)
        O[(pc.offo >> 2) + t] = int(si[0]);
}
