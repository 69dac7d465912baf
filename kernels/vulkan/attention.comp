#version 450
// One workgroup per (head h, query row t). Keys in chunks of WG with an online softmax (running
// max and sum, rescaling the partial output), so any key count L works with fixed shared memory.
// Each invocation owns output dims lid, lid+WG, lid+2WG, lid+3WG: head size D <= 4*WG.
// Grouped-query attention: K/V rows are pc.kvw = Hkv*D wide and head h reads K/V head h / pc.group.
// With pc.blen = R > 0, score += bias[h, j - (pos + t) + (R-1)/2] from input 3 ([H, R]).
#define WG 64
#define TFB_NEED_REDUCE
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BQ { float Q[]; };
layout(std430, binding = 1) readonly buffer BK { float Kc[]; };
layout(std430, binding = 2) readonly buffer BV { float Vc[]; };
layout(std430, binding = 3) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

shared float qs[4 * WG];
shared float ps[WG];

void main() {
    uint HD = pc.n, H = pc.heads, D = HD / H;
    uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, lid = gl_LocalInvocationID.x;
    uint qo = (pc.off0 >> 2) + t * HD + h * D;
    uint KW = pc.kvw, kvh = h / pc.group;
    uint ko = (pc.off1 >> 2) + kvh * D, vo = (pc.off2 >> 2) + kvh * D;
    // Bias of key j at bo + j (ops.c checks that every visible key's distance lies within R).
    uint bo = (pc.off3 >> 2) + h * pc.blen + (pc.blen - 1u) / 2u - (pc.pos + t);
    for (uint d = lid; d < D; d += WG)
        qs[d] = Q[qo + d];
    barrier();
    uint visible = pc.mode == TFB_VK_MASK_CAUSAL ? pc.pos + t + 1u : pc.len;
    float m = -1.0 / 0.0, l = 0.0;
    float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
    for (uint j0 = 0u; j0 < visible; j0 += WG) {
        uint j = j0 + lid;
        float s = -1.0 / 0.0;
        if (j < visible) {
            float dot = 0.0;
            for (uint d = 0u; d < D; d++)
                dot += qs[d] * Kc[ko + j * KW + d];
            s = pc.scale * dot;
            if (pc.blen != 0u)
                s += Bias[bo + j];
        }
        float mnew = max(m, wg_max(s));
        float p = j < visible ? exp(s - mnew) : 0.0;
        ps[lid] = p;
        float csum = wg_sum(p); // its barriers also publish ps
        float corr = exp(m - mnew);
        l = l * corr + csum;
        uint nj = min(uint(WG), visible - j0);
        for (uint i = 0u; i < 4u; i++) {
            uint d = lid + i * WG;
            if (d < D) {
                float a = acc[i] * corr;
                for (uint jj = 0u; jj < nj; jj++)
                    a += ps[jj] * Vc[vo + (j0 + jj) * KW + d];
                acc[i] = a;
            }
        }
        m = mnew;
        barrier();
    }
    uint oo = (pc.offo >> 2) + t * HD + h * D;
    for (uint i = 0u; i < 4u; i++) {
        uint d = lid + i * WG;
        if (d < D)
            O[oo + d] = acc[i] / l;
    }
}
