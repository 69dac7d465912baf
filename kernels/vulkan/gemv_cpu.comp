#version 450
// One-row matmul (decode) for CPU devices with subgroups (lavapipe): out[1,N] = x[1,K] w[N,K]^T + bias.
// Each subgroup computes C outputs; its lanes split K: lane l takes chunks l, l + S, l + 2S, ... of
// every row (S = subgroup size; a chunk is 8 weights, or one q8_0/q4_0 block of 32), and a subgroup
// sum reduces the lanes' partial dot products at the end.
//
// Why: with one output column per lane (matmul_cpu.comp with R = 1), the 8 lanes of a SIMD register
// stream 8 x C different weight rows at once; once the weights come from DRAM rather than cache,
// that many concurrent streams defeat the hardware prefetchers. Here the lanes of one fetch read
// neighbouring 16-byte pieces of one row, so a subgroup streams C rows, front to back.
// The reads (texel widths, dequantization) are cpu_load.glsl's, shared with matmul_cpu.comp.
#define WG 64
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"
layout(local_size_x = WG) in;
#include "cpu_load.glsl"
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

#ifndef C
#define C 4 // outputs per subgroup
#endif

void main() {
    uint K = pc.cols, NP = pc.ncount; // NP: weight rows of this part
    uint S = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
    uint sg = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * gl_NumSubgroups + gl_SubgroupID;
    uint n0 = sg * C;
    if (n0 >= NP) // uniform per subgroup
        return;
    uint xr = pc.off0 >> 2, wr[C];
    [[unroll]] for (uint c = 0u; c < C; c++)
        wr[c] = w_row(min(n0 + c, NP - 1u), K);
    float acc[C];
    [[unroll]] for (uint c = 0u; c < C; c++)
        acc[c] = 0.0;
#if WT <= 2
    uint kfull = K & ~7u;
    for (uint k0 = lane * 8u; k0 < kfull; k0 += S * 8u) {
        float xv[8];
        x8(xr + k0, xv);
        [[unroll]] for (uint c = 0u; c < C; c++) {
            float w[8];
            w8(wr[c], k0, w);
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                acc[c] = fma(xv[j], w[j], acc[c]);
        }
    }
    for (uint k = kfull + lane; k < K; k += S) {
        float x = xat(xr + k);
        [[unroll]] for (uint c = 0u; c < C; c++)
            acc[c] = fma(x, wat(wr[c], k), acc[c]);
    }
#else
    uint bs = WT == 3 ? 34u : 18u;
    for (uint kb = lane; kb < K / 32u; kb += S) {
        float d[C];
        uint q[C][QW];
        [[unroll]] for (uint c = 0u; c < C; c++)
            qblock(wr[c] + kb * bs, d[c], q[c]);
        float p[C]; // the block's sum of x * q, scaled by d once
        [[unroll]] for (uint c = 0u; c < C; c++)
            p[c] = 0.0;
        [[unroll]] for (uint s = 0u; s < 4u; s++) {
            float xv[8];
            x8(xr + kb * 32u + s * 8u, xv);
            [[unroll]] for (uint c = 0u; c < C; c++) {
                float w[8];
                wq8_raw(q[c], s, w);
                [[unroll]] for (uint j = 0u; j < 8u; j++)
                    p[c] = fma(xv[j], w[j], p[c]);
            }
        }
        [[unroll]] for (uint c = 0u; c < C; c++)
            acc[c] = fma(d[c], p[c], acc[c]);
    }
#endif
    bool has_bias = (pc.mode & TFB_VK_MATMUL_BIAS) != 0u;
    uint oo = (pc.offo >> 2) + pc.nbase;
    [[unroll]] for (uint c = 0u; c < C; c++) {
        float s = subgroupAdd(acc[c]);
        uint n = n0 + c;
        if (subgroupElect() && n < NP)
            O[oo + n] = s + (has_bias ? Bias[(pc.off2 >> 2) + pc.nbase + n] : 0.0);
    }
}
