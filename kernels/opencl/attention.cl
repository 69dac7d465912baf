/* Attention over the KV cache: one work-group of TFB_WG per (query row t, head h).
 *
 * Keys are walked in chunks of ATT_CHUNK: the group computes the chunk's scores into local memory,
 * then folds them into a running (max, sum, output) with the online-softmax rescaling, so any cache
 * length fits in a fixed amount of local memory. Each work-item owns output dims d = lid + i*TFB_WG
 * (i < ATT_MAXD / TFB_WG): head dims up to ATT_MAXD. Float accumulation throughout.
 * mask: 0 causal (key j visible iff j <= pos+t), 1 bidirectional, 2 cross (L = n_src).
 * Grouped-query attention: K/V rows are KW = Hkv*D wide and query head h reads kv head h / group
 * (group = H / Hkv; 1 and KW = H*D without it). With R > 0, the relative position bias
 * bias[h, j - (pos + t) + (R-1)/2] ([H, R], T5) is added to key j's score; the host checks that every
 * visible key's distance lies within R. */
#define ATT_CHUNK 256
#define ATT_MAXD 256

__kernel __attribute__((reqd_work_group_size(TFB_WG, 1, 1))) void attention(
    __global const float *q, ulong q_off, __global const float *kc, ulong k_off, __global const float *vc,
    ulong v_off, __global const float *bias, ulong b_off, __global float *out, ulong out_off, int H, int D,
    int KW, int group, int R, int L, int pos, int mask, float scale) {
    __local float qs[ATT_MAXD];
    __local float p[ATT_CHUNK];
    __local float red[TFB_WG];
    int h = get_group_id(0), t = get_group_id(1), lid = get_local_id(0);
    int HD = H * D;
    int kvh = h / group;
    /* Key j's bias at bias[bo + j]; the row start, (R-1)/2 - (pos+t) before it, may be negative. */
    long bo = (long)b_off + (long)h * R + (R - 1) / 2 - (long)(pos + t);
    int visible = mask == 0 ? pos + t + 1 : L;
    for (int d = lid; d < D; d += TFB_WG)
        qs[d] = q[q_off + (ulong)t * HD + h * D + d];
    barrier(CLK_LOCAL_MEM_FENCE);
    float m = -INFINITY, sum = 0.0f;
    float acc[ATT_MAXD / TFB_WG];
    for (int i = 0; i < ATT_MAXD / TFB_WG; i++)
        acc[i] = 0.0f;
    for (int j0 = 0; j0 < visible; j0 += ATT_CHUNK) {
        int n = min(ATT_CHUNK, visible - j0);
        float cmax = -INFINITY;
        for (int j = lid; j < n; j += TFB_WG) {
            __global const float *kr = kc + k_off + (ulong)(j0 + j) * KW + kvh * D;
            float dot = 0.0f;
            for (int d = 0; d < D; d++)
                dot = fma(qs[d], kr[d], dot);
            float sc = scale * dot;
            if (R > 0)
                sc += bias[bo + j0 + j];
            p[j] = sc;
            cmax = fmax(cmax, p[j]);
        }
        float m_new = fmax(m, wg_max(red, cmax)); /* wg_max's barrier also publishes p[] */
        float psum = 0.0f;
        for (int j = lid; j < n; j += TFB_WG) {
            p[j] = exp(p[j] - m_new);
            psum += p[j];
        }
        psum = wg_sum(red, psum);
        float rescale = exp(m - m_new); /* 0 on the first chunk (m = -inf) */
        sum = sum * rescale + psum;
        for (int i = 0; i < ATT_MAXD / TFB_WG; i++) {
            int d = lid + i * TFB_WG;
            if (d < D) {
                __global const float *vr = vc + v_off + (ulong)j0 * KW + kvh * D + d;
                float a = 0.0f;
                for (int j = 0; j < n; j++)
                    a = fma(p[j], vr[(ulong)j * KW], a);
                acc[i] = acc[i] * rescale + a;
            }
        }
        m = m_new;
        barrier(CLK_LOCAL_MEM_FENCE); /* p[] is rewritten by the next chunk */
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < ATT_MAXD / TFB_WG; i++) {
        int d = lid + i * TFB_WG;
        if (d < D)
            out[out_off + (ulong)t * HD + h * D + d] = acc[i] * inv;
    }
}

/* Attention for CPU-like devices (CL_DEVICE_TYPE_CPU, e.g. PoCL) at head dimensions of NV float16
 * vectors (D = 16*NV): one work-item per (head h, query row t), no barrier and no local memory, as
 * matmul_vec. The query row and the output accumulator are NV float16 registers; keys are walked 16
 * at a time: 16 scores (a vector dot product each), then the online-softmax rescale once per 16
 * keys, the 16 exponentials as one float16 exp, and the value rows folded in. Keys past the visible
 * ones in the last group repeat the last visible key's address and get a -inf score (weight 0).
 * Arguments, masks, grouped-query heads and the relative bias as for attention above. */
#define TFB_DEFINE_ATTENTION_VEC(NAME, NV)                                                                    \
    __kernel void NAME(__global const float *q, ulong q_off, __global const float *kc, ulong k_off,          \
                       __global const float *vc, ulong v_off, __global const float *bias, ulong b_off,        \
                       __global float *out, ulong out_off, int H, int D, int KW, int group, int R, int L,     \
                       int pos, int mask, float scale) {                                                      \
        int h = get_global_id(0), t = get_global_id(1);                                                      \
        int HD = H * D, kvh = h / group;                                                                      \
        long bo = (long)b_off + (long)h * R + (R - 1) / 2 - (long)(pos + t);                                \
        int visible = mask == 0 ? pos + t + 1 : L;                                                            \
        __global const float *qr = q + q_off + (ulong)t * HD + h * D;                                        \
        __global const float *kb = kc + k_off + kvh * D, *vb = vc + v_off + kvh * D;                        \
        float16 qv[NV], acc[NV];                                                                              \
        _Pragma("unroll") for (int i = 0; i < NV; i++) {                                                     \
            qv[i] = vload16(i, qr);                                                                           \
            acc[i] = (float16)(0.0f);                                                                         \
        }                                                                                                     \
        float m = -INFINITY, sum = 0.0f;                                                                      \
        for (int j0 = 0; j0 < visible; j0 += 16) {                                                            \
            int last = min(16, visible - j0) - 1;                                                             \
            float s[16];                                                                                      \
            _Pragma("unroll") for (int jj = 0; jj < 16; jj++) {                                              \
                int j = j0 + min(jj, last);                                                                   \
                __global const float *kr = kb + (ulong)j * KW;                                                \
                float16 d = qv[0] * vload16(0, kr);                                                           \
                _Pragma("unroll") for (int i = 1; i < NV; i++) d = fma(qv[i], vload16(i, kr), d);            \
                float sc = scale * hsum16(d);                                                                 \
                if (R > 0)                                                                                    \
                    sc += bias[bo + j];                                                                       \
                s[jj] = jj <= last ? sc : -INFINITY;                                                          \
            }                                                                                                 \
            float16 sv = vload16(0, s);                                                                       \
            float8 mx8 = fmax(sv.lo, sv.hi);                                                                  \
            float4 mx4 = fmax(mx8.lo, mx8.hi);                                                                \
            float2 mx2 = fmax(mx4.lo, mx4.hi);                                                                \
            float m_new = fmax(m, fmax(mx2.x, mx2.y));                                                        \
            float rescale = exp(m - m_new); /* 0 on the first group (m = -inf) */                             \
            float16 pv = exp(sv - m_new);                                                                     \
            sum = sum * rescale + hsum16(pv);                                                                 \
            float p[16];                                                                                      \
            vstore16(pv, 0, p);                                                                               \
            _Pragma("unroll") for (int i = 0; i < NV; i++) acc[i] *= rescale;                                \
            _Pragma("unroll") for (int jj = 0; jj < 16; jj++) {                                              \
                __global const float *vr = vb + (ulong)(j0 + min(jj, last)) * KW;                             \
                _Pragma("unroll") for (int i = 0; i < NV; i++) acc[i] = fma((float16)(p[jj]), vload16(i, vr), \
                                                                            acc[i]);                          \
            }                                                                                                 \
            m = m_new;                                                                                        \
        }                                                                                                     \
        float inv = 1.0f / sum;                                                                               \
        _Pragma("unroll") for (int i = 0; i < NV; i++)                                                       \
            vstore16(acc[i] * inv, i, out + out_off + (ulong)t * HD + h * D);                                 \
    }

TFB_DEFINE_ATTENTION_VEC(attention_vec_d16, 1)
TFB_DEFINE_ATTENTION_VEC(attention_vec_d64, 4)
TFB_DEFINE_ATTENTION_VEC(attention_vec_d128, 8)
