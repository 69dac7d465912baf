/* Ops with no oneDNN primitive, in plain C on the host tensors: EMBED (gather + positions),
 * KV_WRITE (a row copy), LAST_ROW (a row copy), ARGMAX, RMSNORM (oneDNN 2.6 has no RMS variant of
 * layer normalization), ROPE (no rotary primitive). Semantics: include/tfbench/graph.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"

#define F32(t) ((float *)tfb_tensor_host(t))

static void embed(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    const int32_t *ids = tfb_tensor_host(n->in[0]);     // [T]
    const float *tok = F32(n->in[1]);                   // [V, C]
    const float *pos = n->in[2] ? F32(n->in[2]) : NULL; // [P, C]
    const float *typ = n->in[3] ? F32(n->in[3]) : NULL; // [2, C]
    float *out = F32(n->out);                           // [T, C]
    int64_t half = C / 2;
    for (int64_t t = 0; t < T; t++) {
        int64_t p = g->params.pos + t;
        for (int64_t c = 0; c < C; c++) {
            double x = (double)n->scale * tok[(int64_t)ids[t] * C + c];
            if (n->pos_kind == TFB_POS_LEARNED) {
                x += pos[p * C + c];
            } else if (n->pos_kind == TFB_POS_SINUSOIDAL) {
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

static void rmsnorm(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), C = n->out->shape[1];
    const float *x = F32(n->in[0]);     // [T, C]
    const float *gamma = F32(n->in[1]); // [C]
    float *out = F32(n->out);           // [T, C]
    for (int64_t t = 0; t < T; t++) {
        double ss = 0.0;
        for (int64_t c = 0; c < C; c++)
            ss += (double)x[t * C + c] * x[t * C + c];
        double inv = 1.0 / sqrt(ss / (double)C + (double)n->eps);
        for (int64_t c = 0; c < C; c++)
            out[t * C + c] = (float)(x[t * C + c] * inv * gamma[c]);
    }
}

/* Each row's cos/sin (tfb_rope_cos_sin: angles in double), applied to every head of the row. */
static void rope(const tfb_graph *g, const tfb_node *n) {
    int64_t T = tfb_graph_rows(g, n->out), HD = n->out->shape[1], H = n->n_head, D = HD / H, half = D / 2;
    const float *x = F32(n->in[0]); // [T, H*D]
    float *out = F32(n->out);       // [T, H*D]
    float *cs = malloc((size_t)D * sizeof *cs), *sn = cs ? cs + half : NULL; // [D/2] cos, [D/2] sin
    TFB_ASSERT(cs != NULL);
    bool inter = n->rope_layout == TFB_ROPE_INTERLEAVED;
    for (int64_t t = 0; t < T; t++) {
        tfb_rope_cos_sin(n->rope_theta, D, g->params.pos + t, cs, sn, 1);
        for (int64_t h = 0; h < H; h++) {
            const float *xh = x + t * HD + h * D; // [D]
            float *oh = out + t * HD + h * D;     // [D]
            for (int64_t i = 0; i < half; i++) {
                int64_t a = inter ? 2 * i : i, b = inter ? 2 * i + 1 : i + half;
                float xa = xh[a], xb = xh[b];
                oh[a] = xa * cs[i] - xb * sn[i];
                oh[b] = xa * sn[i] + xb * cs[i];
            }
        }
    }
    free(cs);
}

void tfb__dnn_host_node(const tfb_graph *g, const tfb_node *n) {
    switch (n->op) {
    case TFB_OP_EMBED: embed(g, n); break;
    case TFB_OP_KV_WRITE: {
        int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
        int64_t p0 = n->kv_at_zero ? 0 : g->params.pos;
        TFB_ASSERT(p0 + T <= n->out->shape[0]);
        memcpy(F32(n->out) + p0 * C, F32(n->in[0]), (size_t)(T * C) * sizeof(float));
        break;
    }
    case TFB_OP_LAST_ROW: {
        int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
        memcpy(F32(n->out), F32(n->in[0]) + (T - 1) * C, (size_t)C * sizeof(float));
        break;
    }
    case TFB_OP_ARGMAX: {
        int64_t T = tfb_graph_rows(g, n->in[0]), C = n->in[0]->shape[1];
        const float *x = F32(n->in[0]); // [T, C]
        int32_t *out = tfb_tensor_host(n->out); // [T]
        for (int64_t t = 0; t < T; t++) {
            int64_t best = 0;
            for (int64_t c = 1; c < C; c++)
                if (x[t * C + c] > x[t * C + best])
                    best = c;
            out[t] = (int32_t)best;
        }
        break;
    }
    case TFB_OP_RMSNORM: rmsnorm(g, n); break;
    case TFB_OP_ROPE: rope(g, n); break;
    default: TFB_ASSERT(!"not a host op");
    }
}
