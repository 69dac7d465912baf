#version 450
// Matmul for CPU devices (lavapipe): out[T,N] = x[T,K] w[N,K]^T + bias, each invocation an R x C
// block (rows t0.., columns n0..), no shared memory, no barrier. On lavapipe a storage-buffer load
// is a loop over the SIMD lanes with a branch per lane, while a texel-buffer fetch is one gather; so
// x and the weights are read here through uniform texel buffers of 32-bit words (binding 5: x,
// binding 6: the weight bytes), and the weights are dequantized 8 elements at a
// time from whole words. With VEC4 (f32 weights, K % 4 == 0, 16-byte aligned tensors) the views have
// 128-bit texels and each fetch reads 4 words. Rows past T or NP are clamped for loads and skipped for stores.
#define WG 64
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
layout(local_size_x = WG) in;
layout(binding = 5) uniform usamplerBuffer Xt;
layout(binding = 6) uniform usamplerBuffer Wt;
layout(std430, binding = 2) readonly buffer BB { float Bias[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

#ifndef R
#define R 4
#endif
#ifndef C
#define C 4
#endif

#ifdef VEC4
// f32 weights with 16-byte aligned rows (K % 4 == 0): 128-bit texels, 4 words per fetch.
uint wword(uint i) {
    return texelFetch(Wt, int(i >> 2))[i & 3u];
}
float xat(uint i) {
    return uintBitsToFloat(texelFetch(Xt, int(i >> 2))[i & 3u]);
}
#else
uint wword(uint i) {
    return texelFetch(Wt, int(i)).x;
}
float xat(uint i) {
    return uintBitsToFloat(texelFetch(Xt, int(i)).x);
}
#endif

float whalf(uint a) { // a is 2-byte aligned
    uint w = wword(a >> 2);
    return unpackHalf2x16((a & 2u) != 0u ? (w >> 16) : w).x;
}

// Byte address of weight row n's start; K = row length in elements.
uint wrow(uint n, uint K) {
#if WT == 0
    return pc.off1 + n * K * 4u;
#elif WT == 1 || WT == 2
    return pc.off1 + n * K * 2u;
#elif WT == 3
    return pc.off1 + n * (K / 32u) * 34u;
#else
    return pc.off1 + n * (K / 32u) * 18u;
#endif
}

// The 32 bits starting `sh` bits into lo (sh = 0, 8, 16 or 24), continuing into hi.
uint funnel(uint lo, uint hi, uint sh) {
    return sh == 0u ? lo : (lo >> sh) | (hi << (32u - sh));
}

// 8 bytes from byte address a (2-byte aligned).
uvec2 load8(uint a) {
    uint b = a >> 2, sh = (a & 2u) * 8u;
    uint u0 = wword(b), u1 = wword(b + 1u), u2 = 0u;
    if (sh != 0u)
        u2 = wword(b + 2u);
    return uvec2(funnel(u0, u1, sh), funnel(u1, u2, sh));
}

// 16 bytes from byte address a (2-byte aligned).
uvec4 load16(uint a) {
    uint b = a >> 2, sh = (a & 2u) * 8u;
    uint u0 = wword(b), u1 = wword(b + 1u), u2 = wword(b + 2u), u3 = wword(b + 3u), u4 = 0u;
    if (sh != 0u)
        u4 = wword(b + 4u);
    return uvec4(funnel(u0, u1, sh), funnel(u1, u2, sh), funnel(u2, u3, sh), funnel(u3, u4, sh));
}

// Weights k0 .. k0+7 of the row at byte address r; k0 is a multiple of 8 and k0 + 8 <= K.
void w8(uint r, uint k0, out float w[8]) {
#if WT == 0 && defined(VEC4)
    int b = int(((r >> 2) + k0) >> 2);
    uvec4 u0 = texelFetch(Wt, b), u1 = texelFetch(Wt, b + 1);
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
        w[j] = uintBitsToFloat(u0[j]);
        w[4u + j] = uintBitsToFloat(u1[j]);
    }
#elif WT == 0
    uint b = (r >> 2) + k0;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = uintBitsToFloat(wword(b + j));
#elif WT == 1 || WT == 2
    uvec4 u = load16(r + 2u * k0);
    [[unroll]] for (uint j = 0u; j < 4u; j++) {
#if WT == 1
        vec2 h = unpackHalf2x16(u[j]);
        w[2u * j] = h.x;
        w[2u * j + 1u] = h.y;
#else
        w[2u * j] = uintBitsToFloat(u[j] << 16);
        w[2u * j + 1u] = uintBitsToFloat(u[j] & 0xffff0000u);
#endif
    }
#elif WT == 3
    uint blk = r + (k0 / 32u) * 34u;
    float d = whalf(blk);
    uvec2 q = load8(blk + 2u + (k0 & 31u));
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(bitfieldExtract(int(q[j / 4u]), int((j & 3u) * 8u), 8));
#else
    uint blk = r + (k0 / 32u) * 18u;
    float d = whalf(blk);
    uint j0 = k0 & 31u;
    uvec2 q = load8(blk + 2u + (j0 & 15u));
    int sh = j0 >= 16u ? 4 : 0;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = d * float(int(bitfieldExtract(q[j / 4u], int((j & 3u) * 8u) + sh, 4)) - 8);
#endif
}

#if WT <= 2
// Element k of the row at byte address r (the K % 8 tail of f32/f16/bf16 rows).
float wat(uint r, uint k) {
#if WT == 0
    return uintBitsToFloat(wword((r >> 2) + k));
#elif WT == 1
    return whalf(r + 2u * k);
#else
    uint a = r + 2u * k;
    uint w = wword(a >> 2);
    return uintBitsToFloat((a & 2u) != 0u ? (w & 0xffff0000u) : (w << 16));
#endif
}
#endif

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
        wr[c] = wrow(min(n0 + c, NP - 1u), K);
    float acc[R * C];
    [[unroll]] for (uint i = 0u; i < R * C; i++)
        acc[i] = 0.0;
    uint kfull = K & ~7u;
    for (uint k0 = 0u; k0 < kfull; k0 += 8u) {
        float xv[R][8];
#ifdef VEC4
        [[unroll]] for (uint i = 0u; i < R; i++) {
            int b = int((xr[i] + k0) >> 2);
            uvec4 u0 = texelFetch(Xt, b), u1 = texelFetch(Xt, b + 1);
            [[unroll]] for (uint j = 0u; j < 4u; j++) {
                xv[i][j] = uintBitsToFloat(u0[j]);
                xv[i][4u + j] = uintBitsToFloat(u1[j]);
            }
        }
#else
        [[unroll]] for (uint i = 0u; i < R; i++)
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                xv[i][j] = xat(xr[i] + k0 + j);
#endif
        [[unroll]] for (uint c = 0u; c < C; c++) {
            float w[8];
            w8(wr[c], k0, w);
            [[unroll]] for (uint j = 0u; j < 8u; j++)
                [[unroll]] for (uint i = 0u; i < R; i++)
                    acc[i * C + c] += xv[i][j] * w[j];
        }
    }
#if WT <= 2
    for (uint k = kfull; k < K; k++) { // quantized rows are whole 32-element blocks
        [[unroll]] for (uint i = 0u; i < R; i++) {
            float x = xat(xr[i] + k);
            [[unroll]] for (uint c = 0u; c < C; c++)
                acc[i * C + c] += x * wat(wr[c], k);
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
