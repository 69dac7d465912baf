// Byte address of a weight row's start for every weight dtype, shared by the storage-buffer reads
// (wload.glsl) and the texel-buffer reads of CPU devices (cpu_load.glsl). WT: 0 f32, 1 f16, 2 bf16,
// 3 q8_0 (34-byte blocks of 32), 4 q4_0 (18-byte blocks); pc.off1 is the weight's byte offset.
// Row n; K = row length in elements.
uint w_row(uint n, uint K) {
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
