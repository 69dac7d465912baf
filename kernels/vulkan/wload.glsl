// Weight element access for every weight dtype, from a uint[] buffer so that no 8/16-bit storage
// feature is required. WT: 0 f32, 1 f16, 2 bf16, 3 q8_0 (34-byte blocks), 4 q4_0 (18-byte blocks).
// Blocks are not word aligned: bytes and halves are extracted from the containing words.
layout(std430, binding = 1) readonly buffer BW { uint W[]; };

uint w_byte(uint a) {
    return (W[a >> 2] >> ((a & 3u) * 8u)) & 0xffu;
}

float w_half(uint a) { // a is 2-byte aligned
    uint w = W[a >> 2];
    return unpackHalf2x16((a & 2u) != 0u ? (w >> 16) : w).x;
}

#include "wrow.glsl"

// Element k of the row starting at byte address r.
float w_at(uint r, uint k) {
#if WT == 0
    return uintBitsToFloat(W[(r >> 2) + k]);
#elif WT == 1
    return w_half(r + 2u * k);
#elif WT == 2
    uint a = r + 2u * k;
    uint w = W[a >> 2];
    return uintBitsToFloat((a & 2u) != 0u ? (w & 0xffff0000u) : (w << 16));
#elif WT == 3
    uint b = r + (k / 32u) * 34u;
    uint q = w_byte(b + 2u + (k & 31u));
    return w_half(b) * float(int(q << 24) >> 24);
#else
    uint b = r + (k / 32u) * 18u;
    uint j = k & 31u;
    uint q = w_byte(b + 2u + (j & 15u));
    q = j >= 16u ? (q >> 4) : (q & 15u);
    return w_half(b) * float(int(q) - 8);
#endif
}
