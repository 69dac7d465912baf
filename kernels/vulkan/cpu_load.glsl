// Reads of the CPU-device matmuls (matmul_cpu.comp, gemv_cpu.comp) through uniform texel buffers
// (binding 5: x, binding 6: the weight bytes); see matmul_cpu.comp for why. Defines: WT (weight
// dtype 0 f32, 1 f16, 2 bf16, 3 q8_0, 4 q4_0), XV4 (x rows 16-byte aligned: 128-bit texels), WV4
// (the weight through 128-bit texels: f32/f16/bf16 rows 16-byte aligned, q8_0/q4_0 always).
layout(binding = 5) uniform usamplerBuffer Xt;
layout(binding = 6) uniform usamplerBuffer Wt;

#if defined(WV4) && !defined(XV4)
#error "WV4 comes with XV4"
#endif

// Word i of the weight view (32-bit texels; not with WV4).
uint wword(uint i) {
    return texelFetch(Wt, int(i)).x;
}

// Values x[i .. i+7] (i a multiple of 4 with XV4).
void x8(uint i, out float v[8]) {
#ifdef XV4
    int b = int(i >> 2);
    vec4 a = uintBitsToFloat(texelFetch(Xt, b)), c = uintBitsToFloat(texelFetch(Xt, b + 1));
    v = float[8](a.x, a.y, a.z, a.w, c.x, c.y, c.z, c.w);
#else
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        v[j] = uintBitsToFloat(texelFetch(Xt, int(i + j)).x);
#endif
}

float xat(uint i) {
#ifdef XV4
    return uintBitsToFloat(texelFetch(Xt, int(i >> 2))[i & 3u]);
#else
    return uintBitsToFloat(texelFetch(Xt, int(i)).x);
#endif
}

#include "wrow.glsl"

// The 32 bits starting `sh` bits into lo (sh = 0 or 16), continuing into hi.
uint funnel(uint lo, uint hi, uint sh) {
    return sh == 0u ? lo : (lo >> sh) | (hi << (32u - sh));
}

#if WT <= 2
// Weights k0 .. k0+7 of the row at byte address r; k0 is a multiple of 8 and k0 + 8 <= K.
void w8(uint r, uint k0, out float w[8]) {
#if WT == 0 && defined(WV4)
    int b = int(((r >> 2) + k0) >> 2);
    vec4 a = uintBitsToFloat(texelFetch(Wt, b)), c = uintBitsToFloat(texelFetch(Wt, b + 1));
    w = float[8](a.x, a.y, a.z, a.w, c.x, c.y, c.z, c.w);
#elif WT == 0
    uint b = (r >> 2) + k0;
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] = uintBitsToFloat(wword(b + j));
#else
    uint a = r + 2u * k0;
#ifdef WV4
    uvec4 u = texelFetch(Wt, int(a >> 4));
#else
    uint b = a >> 2, sh = (a & 2u) * 8u;
    uint u0 = wword(b), u1 = wword(b + 1u), u2 = wword(b + 2u), u3 = wword(b + 3u), u4 = 0u;
    if (sh != 0u)
        u4 = wword(b + 4u);
    uvec4 u = uvec4(funnel(u0, u1, sh), funnel(u1, u2, sh), funnel(u2, u3, sh), funnel(u3, u4, sh));
#endif
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
#endif
}

// Element k of the row at byte address r (the K % 8 tail of f32/f16/bf16 rows).
float wat(uint r, uint k) {
#if WT == 0 && defined(WV4)
    return uintBitsToFloat(texelFetch(Wt, int(((r >> 2) + k) >> 2))[k & 3u]);
#elif WT == 0
    return uintBitsToFloat(wword((r >> 2) + k));
#else
    uint a = r + 2u * k;
#ifdef WV4
    uint w = texelFetch(Wt, int(a >> 4))[(a >> 2) & 3u];
#else
    uint w = wword(a >> 2);
#endif
#if WT == 1
    return unpackHalf2x16((a & 2u) != 0u ? (w >> 16) : w).x;
#else
    return uintBitsToFloat((a & 2u) != 0u ? (w & 0xffff0000u) : (w << 16));
#endif
#endif
}
#else
#if WT == 3
#define QW 8u // quant words per block
#else
#define QW 4u
#endif
// The q8_0 (34-byte) or q4_0 (18-byte) block at byte address a (2-byte aligned): its scale and its
// quant bytes as QW words. QW + 1 whole words from a & ~3 cover the block in both alignments.
// With WV4 they come from the 128-bit texels that hold the block (3 for q8_0, 2 for q4_0) and are
// picked by the block's word offset in the first: plain loads instead of QW + 1 hardware gathers,
// which stall on every cache miss (the q8_0 LM head GEMV streamed 2.7 GB/s from DRAM with them).
void qblock(uint a, out float d, out uint q[QW]) {
    uint sh = (a & 2u) * 8u, u[QW + 1u];
#ifdef WV4
    int t = int(a >> 4);
    uint o = (a >> 2) & 3u;
    uvec4 v0 = texelFetch(Wt, t), v1 = texelFetch(Wt, t + 1);
#if WT == 3
    uvec4 v2 = texelFetch(Wt, t + 2);
    uint v[12] = uint[12](v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w, v2.x, v2.y, v2.z, v2.w);
#else
    uint v[8] = uint[8](v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w);
#endif
    [[unroll]] for (uint i = 0u; i <= QW; i++) // constant indices only: selects, no per-lane indexing
        u[i] = o == 0u ? v[i] : o == 1u ? v[i + 1u] : o == 2u ? v[i + 2u] : v[i + 3u];
#else
    [[unroll]] for (uint i = 0u; i <= QW; i++)
        u[i] = wword((a >> 2) + i);
#endif
    d = unpackHalf2x16(sh != 0u ? u[0] >> 16 : u[0]).x;
    // Quants start 2 bytes into the block: word-aligned when the block is not.
    [[unroll]] for (uint i = 0u; i < QW; i++)
        q[i] = sh != 0u ? u[i + 1u] : (u[i] >> 16) | (u[i + 1u] << 16);
}

// The quantized values of weights 8s .. 8s+7 of a block (s < 4) alone (q8_0: q, q4_0: q - 8), from
// its quant words, for a caller that applies the scale once.
void wq8_raw(uint q[QW], uint s, out float w[8]) {
    [[unroll]] for (uint j = 0u; j < 8u; j++) {
#if WT == 3
        w[j] = float(bitfieldExtract(int(q[2u * s + j / 4u]), int((j & 3u) * 8u), 8));
#else
        // q4_0: element e < 16 is the low nibble of byte e, e >= 16 the high nibble of byte e - 16.
        uint word = q[2u * (s & 1u) + j / 4u];
        w[j] = float(int(bitfieldExtract(word, int((j & 3u) * 8u + (s >= 2u ? 4u : 0u)), 4)) - 8);
#endif
    }
}

// Weights 8s .. 8s+7 of a block (s < 4), from its scale and quant words.
void wq8(float d, uint q[QW], uint s, out float w[8]) {
    wq8_raw(q, s, w);
    [[unroll]] for (uint j = 0u; j < 8u; j++)
        w[j] *= d;
}
#endif

