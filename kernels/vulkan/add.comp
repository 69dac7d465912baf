#version 450
// out = a + b (ADD) or a * b (MUL, pc.mode) over rows*cols elements; the grid may be 2-D for long
// tensors. Vulkan requires OpFAdd and OpFMul to be correctly rounded, so both are exact against the
// reference (double, then rounded to f32).
#define WG 256
#include "common.glsl"
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer BA { float A[]; };
layout(std430, binding = 1) readonly buffer BB { float B[]; };
layout(std430, binding = 4) writeonly buffer BO { float O[]; };

void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    if (i >= pc.rows * pc.cols)
        return;
    float a = A[(pc.off0 >> 2) + i], b = B[(pc.off1 >> 2) + i];
    O[(pc.offo >> 2) + i] = pc.mode == TFB_VK_BIN_MUL ? a * b : a + b;
}
