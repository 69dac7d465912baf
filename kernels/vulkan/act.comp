#version 450
// Elementwise activations: GELU (erf), GELU (tanh), ReLU, SiLU, and SCALE (pc.scale * x); the kind is
// pc.mode.
#define WG 256
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BA { float A[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7); GLSL has no erf.
float erf_as(float x) {
    float s = sign(x);
    x = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * x);
    float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
                     0.254829592) * t * exp(-x * x);
    return s * y;
}

void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    if (i >= pc.rows * pc.cols)
        return;
    float x = A[(pc.off0 >> 2) + i];
    float y;
    if (pc.mode == TFB_VK_ACT_GELU) {
        y = 0.5 * x * (1.0 + erf_as(x * 0.70710678118654752));
    } else if (pc.mode == TFB_VK_ACT_GELU_TANH) {
        // tanh of a clamped argument: tanh saturates long before 10, and some drivers give NaN
        // for exp overflow inside tanh.
        float u = clamp(0.79788456080286536 * (x + 0.044715 * x * x * x), -10.0, 10.0);
        y = 0.5 * x * (1.0 + tanh(u));
    } else if (pc.mode == TFB_VK_ACT_RELU) {
        y = max(x, 0.0);
    } else if (pc.mode == TFB_VK_ACT_SCALE) {
        y = pc.scale * x; // one correctly rounded product, as the reference's
    } else {
        y = x / (1.0 + exp(-x));
    }
    O[(pc.offo >> 2) + i] = y;
}
