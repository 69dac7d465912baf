#version 450
// Matmul for CPU devices (lavapipe): out[T,N] = x[T,K] w[N,K]^T + bias, each invocation an R x C
// block (rows t0.., columns n0..), no shared memory, no barrier.
//
// On lavapipe every load whose address differs between invocations is a gather: a storage-buffer
// load is a loop over the SIMD lanes with a branch per lane, a texel-buffer fetch one call of ~45
// instructions for 8 lanes (measured: 65% of the time of a 4x8-block f32 matmul was spent in it).
// So everything here is read through uniform texel buffers (binding 5: x, binding 6: the weight
// bytes), as few fetches per multiply-add as possible:
// - XV4: x rows are 16-byte aligned (K % 4 == 0): 128-bit texels, 4 values per fetch;
// - WV4: f32/f16/bf16 weight rows are 16-byte aligned: 128-bit texels, 4 (f32) or 8 (f16/bf16)
//   weights per fetch; otherwise 32-bit words;
// - q8_0/q4_0 blocks are read whole, once (9 or 5 words for 32 weights), and dequantized 8 at a
//   time from registers.
// Large R x C blocks spread each fetch over many multiply-adds: 16 x 8 for prefill is ~2x the
// GFLOP/s of 4 x 8 here (tfbench-kernels matmul/vulkan). Rows past T or NP are clamped for loads
// and skipped for stores.
#define WG 64
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(local_size_x = WG) in;
#include "cpu_load.glsl"
#ifndef R // rows x columns of a block
#define R 4
#endif
#ifndef C
#define C 4
#endif
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint T = pc.rows, K = pc.cols, N = pc.n, NP = pc.ncount; // NP: weight rows of this part
    uint nb = (NP + C - 1u) / C;
    uint id = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    uint t0 = (id / nb) * R, n0 = (id % nb) * C;
    if (t0 >= T)
        return;
    uint xr[R], wr[C];
    [[unroll]] for (uint i = 0u; i < R; i++)
        xr[i] = (pc.off0 >> 2) + min(t0 + i, T - 1u) * K;
    [[unroll]] for (uint c = 0u; c < C; c++)
        wr[c] = w_row(min(n0 + c, NP - 1u), K);
    float acc[R * C];
    [[unroll]] for (uint i = 0u; i < R * C; i++)
        acc[i] = 0.0;
#if WT <= 2
    uint kfull = K & ~7u;
    for (uint k0 = 0u; k0 < kfull; k0 += 8u) {
        float xv[R][8];
        [[unroll]] for (uint i = 0u; i < R; i++)
            x8(xr[i] + k0, xv[i]);
        [[unroll]] for (uint c = 0u; c < C; c++) {
            float w[8];
            w8(wr[c], k0, w);
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                [[unroll]] for (uint i = 0u; i < R; i++)
                    acc[i * C + c] = fma(xv[i][j], w[j], acc[i * C + c]);
        }
    }
    for (uint k = kfull; k < K; k++) { // quantized rows are whole 32-element blocks
        [[unroll]] for (uint i = 0u; i < R; i++) {
            float x = xat(xr[i] + k);
            [[unroll]] for (uint c = 0u; c < C; c++)
                acc[i * C + c] = fma(x, wat(wr[c], k), acc[i * C + c]);
        }
    }
#else
    uint bs = WT == 3 ? 34u : 18u;
    for (uint kb = 0u; kb < K / 32u; kb++) {
        float d[C];
        uint q[C][QW];
        [[unroll]] for (uint c = 0u; c < C; c++)
            qblock(wr[c] + kb * bs, d[c], q[c]);
        [[unroll]] for (uint s = 0u; s < 4u; s++) {
            float xv[R][8];
            [[unroll]] for (uint i = 0u; i < R; i++)
                x8(xr[i] + kb * 32u + s * 8u, xv[i]);
            [[unroll]] for (uint c = 0u; c < C; c++) {
                float w[8];
                wq8(d[c], q[c], s, w);
                [[unroll]] for (uint j = 0u; j < 8u; j++)
                    [[unroll]] for (uint i = 0u; i < R; i++)
                        acc[i * C + c] = fma(xv[i][j], w[j], acc[i * C + c]);
            }
        }
    }
#endif
    bool has_bias = (pc.mode & TFB_VK_MATMUL_BIAS) != 0u;
    uint oo = (pc.offo >> 2) + pc.nbase;
    [[unroll]] for (uint c = 0u; c < C; c++) {
        uint n = n0 + c;
        if (n < NP) {
            float b = has_bias ? Bias[(pc.off2 >> 2) + pc.nbase + n] : 0.0;
            [[unroll]] for (uint i = 0u; i < R; i++)
                if (t0 + i < T)
                    O[oo + (t0 + i) * N + n] = acc[i * C + c] + b;
        }
    }
}
