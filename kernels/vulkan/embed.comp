#version 450
// out[t,c] = scale*tok[id[t],c] + pos(p0+t, c) + type[0,c]; invocation per c, workgroup row per t.
#define WG 64
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BI { int Ids[]; };
layout(std430, binding = 1) readonly buffer BT { float Tok[]; };
layout(std430, binding = 2) readonly buffer BP { float Pos[]; };
layout(std430, binding = 3) readonly buffer BY { float Typ[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint C = pc.cols;
    uint c = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
    if (c >= C || t >= pc.rows)
        return;
    uint id = uint(Ids[(pc.off0 >> 2) + t]);
    if (id < pc.nbase || id - pc.nbase >= pc.ncount) // another part of the table holds this token
        return;
    float x = pc.scale * Tok[(pc.off1 >> 2) + (id - pc.nbase) * C + c];
    uint p = pc.pos + t;
    if ((pc.mode & TFB_VK_EMBED_POS_LEARNED) != 0u)
        x += Pos[(pc.off2 >> 2) + p * C + c];
    if ((pc.mode & TFB_VK_EMBED_POS_SIN) != 0u) {
        uint half_c = C / 2u;
        uint j = c < half_c ? c : c - half_c;
        // freq = 10000^(-j/half) = 2^(-j/half * log2(10000))
        float freq = exp2(-float(j) / float(half_c) * 13.287712379549449);
        float a = float(p) * freq;
        x += c < half_c ? sin(a) : cos(a);
    }
    if ((pc.mode & TFB_VK_EMBED_TYPE) != 0u)
        x += Typ[(pc.off3 >> 2) + c];
    O[(pc.offo >> 2) + t * C + c] = x;
}
