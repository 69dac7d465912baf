/* KL divergence, top-1 agreement and probability RMS between two sets of logits. */
#include <math.h>
#include <stdlib.h>

#include "quant_metrics.h"
#include "stats.h"

/* Softmax of one row in double precision into p[V]; returns the argmax (lowest index on ties). */
static int64_t softmax_row(const float *x, int64_t V, double *p) {
    int64_t best = 0;
    for (int64_t i = 1; i < V; i++)
        if (x[i] > x[best])
            best = i;
    double sum = 0;
    for (int64_t i = 0; i < V; i++) {
        p[i] = exp((double)x[i] - (double)x[best]);
        sum += p[i];
    }
    for (int64_t i = 0; i < V; i++)
        p[i] /= sum;
    return best;
}

tfb_status tfb_quant_metrics_compute(const float *ref, const float *q, int64_t rows, int64_t V,
                                     tfb_quant_metrics *out) {
    if (rows < 1 || V < 1)
        return tfb_error_set(TFB_STATUS_USAGE, "quant metrics: no rows");
    double *p = malloc((size_t)V * sizeof *p), *pq = malloc((size_t)V * sizeof *pq);
    double *kl = malloc((size_t)rows * sizeof *kl);
    if (!p || !pq || !kl) {
        free(p), free(pq), free(kl);
        return tfb_error_set(TFB_STATUS_NOMEM, "quant metrics: out of memory");
    }
    int64_t agree = 0;
    double sq = 0;
    for (int64_t r = 0; r < rows; r++) {
        int64_t a = softmax_row(ref + r * V, V, p), b = softmax_row(q + r * V, V, pq);
        agree += a == b;
        double k = 0;
        for (int64_t i = 0; i < V; i++) {
            if (p[i] > 0)
                k += p[i] * (log(p[i]) - log(pq[i] > 1e-300 ? pq[i] : 1e-300));
            sq += (pq[i] - p[i]) * (pq[i] - p[i]);
        }
        kl[r] = k > 0 ? k : 0; /* rounding can make an exact match slightly negative */
    }
    tfb_stats st;
    tfb_stats_compute(kl, (size_t)rows, false, &st);
    out->kl_mean = st.mean;
    out->kl_max = st.max;
    out->kl_p90 = tfb_percentile(kl, (size_t)rows, 90);
    out->kl_p99 = tfb_percentile(kl, (size_t)rows, 99);
    out->top1 = (double)agree / (double)rows;
    out->rms_dp = sqrt(sq / (double)(rows * V));
    out->rows = rows;
    free(p), free(pq), free(kl);
    return TFB_STATUS_OK;
}

void tfb_hidden_metrics_compute(const float *ref, const float *h, int64_t rows, int64_t C, tfb_hidden_metrics *out) {
    double e2 = 0.0, r2 = 0.0, cos_sum = 0.0, cos_min = 1.0;
    for (int64_t t = 0; t < rows; t++) {
        double dot = 0.0, a2 = 0.0, b2 = 0.0;
        for (int64_t i = 0; i < C; i++) {
            double x = h[t * C + i], y = ref[t * C + i];
            dot += x * y, a2 += x * x, b2 += y * y, e2 += (x - y) * (x - y);
        }
        r2 += b2;
        double cs = a2 > 0.0 && b2 > 0.0 ? dot / sqrt(a2 * b2) : 0.0;
        cos_sum += cs;
        cos_min = cs < cos_min ? cs : cos_min;
    }
    out->nmse = r2 > 0.0 ? e2 / r2 : INFINITY;
    out->cos_mean = rows > 0 ? cos_sum / (double)rows : 0.0;
    out->cos_min = cos_min;
}
