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
