#version 450
// Attention for CPU devices (lavapipe), head size D = 64: one invocation per (head h, query row t),
// consecutive invocations on consecutive rows of one head, so the lanes of a SIMD register read the
// same keys. Each invocation keeps its query and output row in registers and runs an online softmax
// (running max and sum, rescaling the partial output) over its visible keys: no shared memory, no
// barrier, no cross-lane reduction. Q, K and V are read through uniform texel buffers of 32-bit
// texels (bindings 5, 6, 7), a gather on lavapipe where a storage-buffer load is a per-lane loop.
// Grouped-query attention: K/V rows are pc.kvw = Hkv*D wide and head h reads K/V head h / pc.group.
// With pc.blen = R > 0, score += bias[h, j - (pos + t) + (R-1)/2] from input 3 ([H, R], binding 3).
#define WG 64
#define D 64
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(local_size_x = WG) in;
layout(binding = 5) uniform usamplerBuffer Qt;
layout(binding = 6) uniform usamplerBuffer Kt;
layout(binding = 7) uniform usamplerBuffer Vt;
layout(std430, binding = 3) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint HD = pc.n, H = pc.heads, T = pc.rows;
    uint id = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    uint h = id / T, t = id % T;
    if (h >= H)
        return;
    uint qo = (pc.off0 >> 2) + t * HD + h * D;
    uint KW = pc.kvw, kvh = h / pc.group;
    uint ko = (pc.off1 >> 2) + kvh * D, vo = (pc.off2 >> 2) + kvh * D;
    // Bias of key j at bo + j (ops.c checks that every visible key's distance lies within R).
    uint bo = (pc.off3 >> 2) + h * pc.blen + (pc.blen - 1u) / 2u - (pc.pos + t);
    float q[D], acc[D];
    [[unroll]] for (uint d = 0u; d < D; d++) {
        q[d] = uintBitsToFloat(texelFetch(Qt, int(qo + d)).x);
        acc[d] = 0.0;
    }
    uint visible = pc.mode == TFB_VK_MASK_CAUSAL ? pc.pos + t + 1u : pc.len;
    float m = -1.0 / 0.0, l = 0.0;
    for (uint j = 0u; j < visible; j++) {
        uint kj = ko + j * KW, vj = vo + j * KW;
        float dot = 0.0;
        [[unroll]] for (uint d = 0u; d < D; d++)
            dot += q[d] * uintBitsToFloat(texelFetch(Kt, int(kj + d)).x);
        float s = pc.scale * dot;
        if (pc.blen != 0u)
            s += Bias[bo + j];
        float mnew = max(m, s);
        float corr = exp(m - mnew); // 0 for the first key (m = -inf)
        float p = exp(s - mnew);
        l = l * corr + p;
        [[unroll]] for (uint d = 0u; d < D; d++)
            acc[d] = acc[d] * corr + p * uintBitsToFloat(texelFetch(Vt, int(vj + d)).x);
        m = mnew;
    }
    uint oo = (pc.offo >> 2) + t * HD + h * D;
    [[unroll]] for (uint d = 0u; d < D; d++)
        O[oo + d] = acc[d] / l;
}
