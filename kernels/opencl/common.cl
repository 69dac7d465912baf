/* Shared helpers for every tfbench OpenCL kernel (OpenCL C 1.2, no extensions needed).
 *
 * Addressing: every tensor is passed as its buffer's base pointer plus an offset (elements for F32/I32
 * tensors, bytes for weights), because sub-buffers need an alignment the tensor offsets don't have. */

/* One weight element of row n, column k, for each weight dtype. Rows are row_bytes long.
 * Quantized blocks are 34 (q8_0) or 18 (q4_0) bytes: only 2-byte aligned, so their bytes are read
 * one by one and the fp16 scale with vload_half (which needs only 2-byte alignment, no cl_khr_fp16). */
inline float wload_f32(__global const uchar *w, ulong row_bytes, int n, int k) {
    return ((__global const float *)(w + (ulong)n * row_bytes))[k];
}
inline float wload_f16(__global const uchar *w, ulong row_bytes, int n, int k) {
    return vload_half(k, (__global const half *)(w + (ulong)n * row_bytes));
}
inline float bf16_to_f32(ushort h) {
    return as_float((uint)h << 16);
}
inline float wload_bf16(__global const uchar *w, ulong row_bytes, int n, int k) {
    return bf16_to_f32(((__global const ushort *)(w + (ulong)n * row_bytes))[k]);
}
inline float wload_q8_0(__global const uchar *w, ulong row_bytes, int n, int k) {
    __global const uchar *b = w + (ulong)n * row_bytes + (ulong)(k / 32) * 34;
    float d = vload_half(0, (__global const half *)b);
    return d * (float)(char)b[2 + (k % 32)];
}
inline float wload_q4_0(__global const uchar *w, ulong row_bytes, int n, int k) {
    __global const uchar *b = w + (ulong)n * row_bytes + (ulong)(k / 32) * 18;
    float d = vload_half(0, (__global const half *)b);
    int j = k % 32;
    int q = j < 16 ? (b[2 + j] & 0x0F) : (b[2 + j - 16] >> 4);
    return d * (float)(q - 8);
}

/* Work-group reductions over local memory; every work-item of the group must call them. */
#define TFB_WG 64 /* work-group size of the row-wise kernels (norms, softmax, argmax, gemv) */

inline float wg_sum(__local float *red, float v) {
    int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = TFB_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float wg_max(__local float *red, float v) {
    int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = TFB_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            red[lid] = fmax(red[lid], red[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
