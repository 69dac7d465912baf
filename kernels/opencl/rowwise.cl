/* Elementwise and row-wise kernels: embed, add, mul, unary activations and scale, copy, norms, softmax,
 * argmax, rope. */

/* out[t, c] = scale*tok[ids[t], c] + pos(p0+t, c) + type[0, c]. Global (C, T).
 * pos_kind: 0 none, 1 learned (pos rows), 2 sinusoidal (Marian: sin in [0,C/2), cos in [C/2,C)). */
__kernel void embed(__global const int *ids, ulong ids_off, __global const float *tok, ulong tok_off,
                    __global const float *pos, ulong pos_off, __global const float *typ, ulong typ_off,
                    __global float *out, ulong out_off, int C, int p0, float scale, int pos_kind,
                    int has_type) {
    int c = get_global_id(0), t = get_global_id(1);
    if (c >= C)
        return;
    int p = p0 + t;
    int id = ids[ids_off + t];
    float x = scale * tok[tok_off + (ulong)id * C + c];
    if (pos_kind == 1) {
        x += pos[pos_off + (ulong)p * C + c];
    } else if (pos_kind == 2) {
        int half_c = C / 2;
        int j = c < half_c ? c : c - half_c;
        /* In double where the device has it would be closer to the reference; float keeps OpenCL
         * 1.2 portability, and the error (~ulp(p)) is far inside the embed tolerance. */
        float freq = exp(-(float)j / (float)half_c * log(10000.0f));
        x += c < half_c ? sin((float)p * freq) : cos((float)p * freq);
    }
    if (has_type)
        x += typ[typ_off + c];
    out[out_off + (ulong)t * C + c] = x;
}

/* out = a + b over n elements. */
__kernel void add(__global const float *a, ulong a_off, __global const float *b, ulong b_off,
                  __global float *out, ulong out_off, int n) {
    int i = get_global_id(0);
    if (i < n)
        out[out_off + i] = a[a_off + i] + b[b_off + i];
}

/* out = a * b over n elements (the gate of a gated FFN): one correctly rounded product, as the
 * reference's double product rounded to f32. */
__kernel void mul(__global const float *a, ulong a_off, __global const float *b, ulong b_off,
                  __global float *out, ulong out_off, int n) {
    int i = get_global_id(0);
    if (i < n)
        out[out_off + i] = a[a_off + i] * b[b_off + i];
}

/* Activations, op: 0 gelu (erf), 1 gelu_tanh, 2 relu, 3 silu, 4 scale (s * x; s is unused otherwise);
 * written once for scalars and float16 vectors (T), for unary and unary_vec. */
#define TFB_UNARY_FORMULA(T, v, op, s)                                                                        \
    ((op) == 0   ? 0.5f * (v) * (1.0f + erf((v) * 0.70710678118654752f))                                      \
     : (op) == 1 ? 0.5f * (v) * (1.0f + tanh(0.79788456080286536f * ((v) + 0.044715f * (v) * (v) * (v))))   \
     : (op) == 2 ? fmax((v), (T)(0.0f))                                                                       \
     : (op) == 3 ? (v) / (1.0f + exp(-(v)))                                                                   \
                 : (s) * (v))

__kernel void unary(__global const float *x, ulong x_off, __global float *out, ulong out_off, int n, int op,
                    float s) {
    int i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + i];
    out[out_off + i] = TFB_UNARY_FORMULA(float, v, op, s);
}

/* unary for CPU-like devices: 16 elements a work-item through the float16 forms of the same
 * builtins (PoCL calls a vector math routine once where unary's work-items each called the scalar
 * one); the last work-item's tail, n % 16 elements, one at a time. */
__kernel void unary_vec(__global const float *x, ulong x_off, __global float *out, ulong out_off, int n, int op,
                        float s) {
    int i0 = get_global_id(0) * 16;
    if (i0 + 16 <= n) {
        float16 v = vload16(0, x + x_off + i0);
        vstore16(TFB_UNARY_FORMULA(float16, v, op, s), 0, out + out_off + i0);
        return;
    }
    for (int i = i0; i < n; i++) {
        float v = x[x_off + i];
        out[out_off + i] = TFB_UNARY_FORMULA(float, v, op, s);
    }
}

/* dst[i] = src[i], n floats (KV_WRITE, LAST_ROW). */
__kernel void copy(__global const float *src, ulong src_off, __global float *dst, ulong dst_off, int n) {
    int i = get_global_id(0);
    if (i < n)
        dst[dst_off + i] = src[src_off + i];
}

/* LayerNorm (rms = 0) or RMSNorm (rms = 1) of each row; one work-group of TFB_WG per row. beta may be
 * any buffer when has_beta = 0. Two passes (mean, then centred variance) as the reference does. */
__kernel void norm(__global const float *x, ulong x_off, __global const float *gamma, ulong g_off,
                   __global const float *beta, ulong b_off, __global float *out, ulong out_off, int C,
                   float eps, int rms, int has_beta) {
    __local float red[TFB_WG];
    int t = get_group_id(0), lid = get_local_id(0);
    __global const float *xr = x + x_off + (ulong)t * C;
    float mean = 0.0f;
    if (!rms) {
        float s = 0.0f;
        for (int c = lid; c < C; c += TFB_WG)
            s += xr[c];
        mean = wg_sum(red, s) / (float)C;
    }
    float s2 = 0.0f;
    for (int c = lid; c < C; c += TFB_WG) {
        float d = xr[c] - mean;
        s2 += d * d;
    }
    float inv = rsqrt(wg_sum(red, s2) / (float)C + eps);
    for (int c = lid; c < C; c += TFB_WG) {
        float y = (xr[c] - mean) * inv * gamma[g_off + c];
        if (has_beta)
            y += beta[b_off + c];
        out[out_off + (ulong)t * C + c] = y;
    }
}

/* out = softmax(scale * x) along each row; one work-group per row. */
__kernel void softmax(__global const float *x, ulong x_off, __global float *out, ulong out_off, int C,
                      float scale) {
    __local float red[TFB_WG];
    int t = get_group_id(0), lid = get_local_id(0);
    __global const float *xr = x + x_off + (ulong)t * C;
    __global float *yr = out + out_off + (ulong)t * C;
    float m = -INFINITY;
    for (int c = lid; c < C; c += TFB_WG)
        m = fmax(m, scale * xr[c]);
    m = wg_max(red, m);
    float s = 0.0f;
    for (int c = lid; c < C; c += TFB_WG)
        s += exp(scale * xr[c] - m);
    float inv = 1.0f / wg_sum(red, s);
    for (int c = lid; c < C; c += TFB_WG)
        yr[c] = exp(scale * xr[c] - m) * inv;
}

/* out[t] = index of the largest x[t, c], lowest index on ties; one work-group per row. */
__kernel void argmax(__global const float *x, ulong x_off, __global int *out, ulong out_off, int C) {
    __local float rv[TFB_WG];
    __local int ri[TFB_WG];
    int t = get_group_id(0), lid = get_local_id(0);
    __global const float *xr = x + x_off + (ulong)t * C;
    float bv = -INFINITY;
    int bi = -1;
    for (int c = lid; c < C; c += TFB_WG)
        if (bi < 0 || xr[c] > bv) {
            bv = xr[c];
            bi = c;
        }
    rv[lid] = bv;
    ri[lid] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = TFB_WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float ov = rv[lid + s];
            int oi = ri[lid + s];
            if (oi >= 0 && (ri[lid] < 0 || ov > rv[lid] || (ov == rv[lid] && oi < ri[lid]))) {
                rv[lid] = ov;
                ri[lid] = oi;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[out_off + t] = ri[0] < 0 ? 0 : ri[0];
}

/* Rotary positions: one work-item per (pair k, row t) over all heads, global (H*D/2, T). Pair k of head
 * h = k / (D/2), i = k % (D/2), is (i, i + D/2) when interleaved = 0 (rotate-half) and (2i, 2i + 1) when 1,
 * rotated by the angle (pos + t) * theta^(-2i/D). Its cos and sin come from the host's table
 * (backends/opencl/rope.c, computed in double as the reference does, [positions][D/2][cos, sin]): an
 * f32 angle p*freq is off by ~p ulps of its frequency, device sin/cos of a large argument lose more,
 * and fp64 is optional in OpenCL. Each work-item reads its two elements before writing them, so out
 * may be x itself. */
__kernel void rope(__global const float *x, ulong x_off, __global const float *cs, ulong cs_off,
                   __global float *out, ulong out_off, int H, int D, int pos, int interleaved) {
    int k = get_global_id(0), t = get_global_id(1);
    int half_d = D / 2;
    if (k >= H * half_d)
        return;
    int h = k / half_d, i = k % half_d;
    int a = interleaved ? 2 * i : i;
    int b = interleaved ? 2 * i + 1 : i + half_d;
    ulong row = (ulong)t * (ulong)(H * D) + (ulong)(h * D);
    ulong ci = cs_off + ((ulong)(pos + t) * (ulong)half_d + (ulong)i) * 2;
    float c = cs[ci], s = cs[ci + 1];
    float xa = x[x_off + row + a], xb = x[x_off + row + b];
    out[out_off + row + a] = fma(xa, c, -xb * s);
    out[out_off + row + b] = fma(xa, s, xb * c);
}
