/* The reference op kernels, written to be obviously correct: one plain loop nest per op,
 * every dot product and reduction accumulated in double, erf/tanh/exp from libm.
 * Semantics of every op: include/tfbench/graph.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference/ops.h"

#define F32(t) ((float *)tfb_tensor_host(t))
#define I32(t) ((int32_t *)tfb_tensor_host(t))

/* ---- embedding ------------------------------------------------------------------------------- */

static void embed(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out);
    int64_t C = n->out->shape[1];
    const int32_t *ids = I32(n->in[0]);                 // [T]
    const float *tok = F32(n->in[1]);                   // [V, C]
    const float *pos = n->in[2] ? F32(n->in[2]) : NULL; // [P, C]
    const float *typ = n->in[3] ? F32(n->in[3]) : NULL; // [2, C]
    float *out = F32(n->out);                           // [T, C]
    int64_t p0 = g->params.pos;
    for (int64_t t = 0; t < T; t++) {
        int64_t p = p0 + t;
        for (int64_t c = 0; c < C; c++) {
            double x = (double)n->scale * tok[(int64_t)ids[t] * C + c];
            if (n->pos_kind == TFB_POS_LEARNED)
                x += pos[p * C + c];
            else if (n->pos_kind == TFB_POS_SINUSOIDAL) {
                int64_t half = C / 2;
                int64_t j = c < half ? c : c - half;
                double freq = pow(10000.0, -(double)j / (double)half);
                x += c < half ? sin((double)p * freq) : cos((double)p * freq);
            }
            if (typ)
                x += typ[c];
            out[t * C + c] = (float)x;
        }
    }
}

/* ---- matmul: out = x w^T + bias, w in any weight dtype ------------------------------------------ */

/* act_q8 with q8_0/q4_0 weights: every x row is first replaced by its rounding through
 * tfb_quantize_act_q8, d*q, formed in double (exact: 24 x 8 bits). */
static void matmul(const tfb_graph *g, const tfb_node *n, bool act_q8) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t K = n->in[0]->shape[1];
    int64_t N = n->in[1]->shape[0];
    tfb_dtype wt = n->in[1]->dtype;
    const float *x = F32(n->in[0]);                       // [T, K]
    const char *w = tfb_tensor_host(n->in[1]);            // [N, K] in w dtype
    const float *bias = n->in[2] ? F32(n->in[2]) : NULL;  // [N]
    float *out = F32(n->out);                             // [T, N]
    size_t row_bytes = tfb_dtype_row_bytes(wt, K);
    double *xd = malloc((size_t)(T * K) * sizeof *xd);   // [T, K] the activations as used
    float *wrow = malloc((size_t)K * sizeof *wrow);       // [K] one dequantized weight row
    TFB_ASSERT(xd != NULL && wrow != NULL);
    if (act_q8 && (wt == TFB_DTYPE_Q8_0 || wt == TFB_DTYPE_Q4_0)) {
        int8_t *q = malloc((size_t)K);
        float *d = malloc((size_t)(K / TFB_QK) * sizeof *d);
        TFB_ASSERT(q != NULL && d != NULL);
        for (int64_t t = 0; t < T; t++) {
            tfb_quantize_act_q8(x + t * K, K, q, d);
            for (int64_t k = 0; k < K; k++)
                xd[t * K + k] = (double)d[k / TFB_QK] * q[k];
        }
        free(q);
        free(d);
    } else {
        for (int64_t i = 0; i < T * K; i++)
            xd[i] = x[i];
    }
    for (int64_t j = 0; j < N; j++) {
        tfb_dequantize_row(wt, w + (size_t)j * row_bytes, wrow, K);
        for (int64_t t = 0; t < T; t++) {
            double acc = bias ? bias[j] : 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += xd[t * K + k] * wrow[k];
            out[t * N + j] = (float)acc;
        }
    }
    free(xd);
    free(wrow);
}

/* ---- elementwise and row-wise ops ------------------------------------------------------------------ */

static void add(const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    const float *a = F32(n->in[0]), *b = F32(n->in[1]); // [T, C]
    float *out = F32(n->out);                            // [T, C]
    for (int64_t i = 0; i < len; i++)
        out[i] = (float)((double)a[i] + b[i]);
}

static void norm(const tfb_graph *g, const tfb_node *n, bool rms) {
    int64_t T = tfb_graph_rows(g, n->out);
    int64_t C = n->out->shape[1];
    const float *x = F32(n->in[0]);                          // [T, C]
    const float *gamma = F32(n->in[1]);                      // [C]
    const float *beta = (!rms && n->in[2]) ? F32(n->in[2]) : NULL; // [C]
    float *out = F32(n->out);                                // [T, C]
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * C;
        double mean = 0.0;
        if (!rms) {
            for (int64_t c = 0; c < C; c++)
                mean += xr[c];
            mean /= (double)C;
        }
        double var = 0.0;
        for (int64_t c = 0; c < C; c++)
            var += (xr[c] - mean) * (xr[c] - mean);
        var /= (double)C;
        double inv = 1.0 / sqrt(var + (double)n->eps);
        for (int64_t c = 0; c < C; c++)
            out[t * C + c] = (float)((xr[c] - mean) * inv * gamma[c] + (beta ? beta[c] : 0.0));
    }
}

static void softmax_row(const double *in, double *out, int64_t len) {
    double max = -INFINITY;
    for (int64_t i = 0; i < len; i++)
        max = in[i] > max ? in[i] : max;
    double sum = 0.0;
    for (int64_t i = 0; i < len; i++) {
        out[i] = exp(in[i] - max);
        sum += out[i];
    }
    for (int64_t i = 0; i < len; i++)
        out[i] /= sum;
}

static void softmax(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out);
    int64_t C = n->out->shape[1];
    const float *x = F32(n->in[0]); // [T, C]
    float *out = F32(n->out);       // [T, C]
    double *buf = malloc(2 * (size_t)C * sizeof *buf);
    TFB_ASSERT(buf != NULL);
    for (int64_t t = 0; t < T; t++) {
        for (int64_t c = 0; c < C; c++)
            buf[c] = (double)n->scale * x[t * C + c];
        softmax_row(buf, buf + C, C);
        for (int64_t c = 0; c < C; c++)
            out[t * C + c] = (float)buf[C + c];
    }
    free(buf);
}

static double act(tfb_op op, double x) {
    switch (op) {
    case TFB_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case TFB_OP_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case TFB_OP_RELU: return x > 0.0 ? x : 0.0;
    case TFB_OP_SILU: return x / (1.0 + exp(-x));
    default: TFB_ASSERT(!"not an activation");
    }
    return 0.0;
}

static void unary(const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    const float *x = F32(n->in[0]); // [T, C]
    float *out = F32(n->out);       // [T, C]
    for (int64_t i = 0; i < len; i++)
        out[i] = (float)act(n->op, x[i]);
}

/* ---- KV cache and attention ------------------------------------------------------------------------ */

static void kv_write(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t C = n->in[0]->shape[1];
    int64_t p0 = n->kv_at_zero ? 0 : g->params.pos;
    TFB_ASSERT(p0 + T <= n->out->shape[0]);
    const float *src = F32(n->in[0]); // [T, C]
    float *cache = F32(n->out);       // [S, C]
    memcpy(cache + p0 * C, src, (size_t)(T * C) * sizeof *src);
}

static void attention(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t HD = n->in[0]->shape[1];
    int64_t H = n->n_head, D = HD / H;
    int64_t Hkv = n->n_kv_head ? n->n_kv_head : H, KD = Hkv * D, group = H / Hkv;
    int64_t p0 = g->params.pos;
    int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : p0 + T;
    TFB_ASSERT(L <= n->in[1]->shape[0]);
    const float *q = F32(n->in[0]);  // [T, H*D]
    const float *k = F32(n->in[1]);  // [S, Hkv*D], rows < L valid
    const float *v = F32(n->in[2]);  // [S, Hkv*D]
    const float *rb = n->in[3] ? F32(n->in[3]) : NULL; // [H, R] relative position bias, or none
    int64_t R = n->in[3] ? n->in[3]->shape[1] : 0;
    float *out = F32(n->out);        // [T, H*D]
    double *score = malloc(2 * (size_t)L * sizeof *score); // [L] logits, then [L] weights
    TFB_ASSERT(score != NULL);
    for (int64_t t = 0; t < T; t++) {
        int64_t visible = n->mask == TFB_MASK_CAUSAL ? p0 + t + 1 : L;
        for (int64_t h = 0; h < H; h++) {
            const float *qh = q + t * HD + h * D;
            int64_t kvh = h / group; /* the kv head this query head shares */
            for (int64_t j = 0; j < visible; j++) {
                const float *kh = k + j * KD + kvh * D;
                double dot = 0.0;
                for (int64_t d = 0; d < D; d++)
                    dot += (double)qh[d] * kh[d];
                score[j] = (double)n->scale * dot;
                if (rb)
                    score[j] += rb[h * R + (j - (p0 + t)) + (R - 1) / 2];
            }
            double *w = score + L;
            softmax_row(score, w, visible);
            for (int64_t d = 0; d < D; d++) {
                double acc = 0.0;
                for (int64_t j = 0; j < visible; j++)
                    acc += w[j] * v[j * KD + kvh * D + d];
                out[t * HD + h * D + d] = (float)acc;
            }
        }
    }
    free(score);
}

/* ---- gated FFN and rotary positions -------------------------------------------------------------- */

static void mul(const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    const float *a = F32(n->in[0]), *b = F32(n->in[1]); // [T, C]
    float *out = F32(n->out);                           // [T, C]
    for (int64_t i = 0; i < len; i++)
        out[i] = (float)((double)a[i] * b[i]);
}

static void rope(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t HD = n->in[0]->shape[1], H = n->n_head, D = HD / H;
    const float *x = F32(n->in[0]); // [T, H*D]
    float *out = F32(n->out);       // [T, H*D]
    for (int64_t t = 0; t < T; t++) {
        double p = (double)(g->params.pos + t);
        for (int64_t h = 0; h < H; h++) {
            const float *xh = x + t * HD + h * D;
            float *oh = out + t * HD + h * D;
            for (int64_t i = 0; i < D / 2; i++) {
                double angle = p * pow((double)n->rope_theta, -2.0 * (double)i / (double)D);
                int64_t a = n->rope_layout == TFB_ROPE_HALF ? i : 2 * i;
                int64_t b = n->rope_layout == TFB_ROPE_HALF ? i + D / 2 : 2 * i + 1;
                double xa = xh[a], xb = xh[b];
                oh[a] = (float)(xa * cos(angle) - xb * sin(angle));
                oh[b] = (float)(xa * sin(angle) + xb * cos(angle));
            }
        }
    }
}

static void scale(const tfb_graph *g, const tfb_node *n) {
    int64_t len = tfb_graph_rows(g, n->out) * n->out->shape[1];
    const float *x = F32(n->in[0]); // [T, C]
    float *out = F32(n->out);       // [T, C]
    for (int64_t i = 0; i < len; i++)
        out[i] = (float)((double)n->scale * x[i]);
}

static void last_row(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t C = n->in[0]->shape[1];
    memcpy(F32(n->out), F32(n->in[0]) + (T - 1) * C, (size_t)C * sizeof(float));
}

static void argmax(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->in[0]);
    int64_t C = n->in[0]->shape[1];
    const float *x = F32(n->in[0]); // [T, C]
    int32_t *out = I32(n->out);     // [T]
    for (int64_t t = 0; t < T; t++) {
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++)
            if (x[t * C + c] > x[t * C + best])
                best = c;
        out[t] = (int32_t)best;
    }
}

tfb_status tfb__ref_node(const tfb_graph *g, const tfb_node *n, bool act_q8) {
    switch (n->op) {
    case TFB_OP_EMBED: embed(g, n); break;
    case TFB_OP_MATMUL: matmul(g, n, act_q8); break;
    case TFB_OP_ADD: add(g, n); break;
    case TFB_OP_LAYERNORM: norm(g, n, false); break;
    case TFB_OP_RMSNORM: norm(g, n, true); break;
    case TFB_OP_SOFTMAX: softmax(g, n); break;
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU: unary(g, n); break;
    case TFB_OP_KV_WRITE: kv_write(g, n); break;
    case TFB_OP_ATTENTION: attention(g, n); break;
    case TFB_OP_LAST_ROW: last_row(g, n); break;
    case TFB_OP_ARGMAX: argmax(g, n); break;
    case TFB_OP_MUL: mul(g, n); break;
    case TFB_OP_ROPE: rope(g, n); break;
    case TFB_OP_SCALE: scale(g, n); break;
    default: return tfb_error_set(TFB_STATUS_UNSUPPORTED, "reference: op %d", (int)n->op);
    }
    return TFB_STATUS_OK;
}
