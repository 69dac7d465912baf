/* Quantization effects against the f32 reference (DESIGN.md, Conformance): KL divergence of the
 * softmax distributions, top-1 agreement and RMS of the probability change, over teacher-forced
 * logits rows. Shared by the benchmark runner; meant to be unified with the conformance checker's. */
#ifndef TFB_HARNESS_QUANT_METRICS_H
#define TFB_HARNESS_QUANT_METRICS_H

#include <stdint.h>

#include "tfbench/status.h"

typedef struct tfb_quant_metrics {
    double kl_mean, kl_p90, kl_p99, kl_max; /* KL(P_ref || P_q) per row, nats */
    double top1;                            /* fraction of rows whose argmax agrees */
    double rms_dp;                          /* RMS of p_q - p_ref over all rows and classes */
    int64_t rows;
} tfb_quant_metrics;

/* ref, q: logits [rows, V]. */
tfb_status tfb_quant_metrics_compute(const float *ref, const float *q, int64_t rows, int64_t V,
                                     tfb_quant_metrics *out);

/* A model without a head: its hidden states h [rows, C] against the f32 model's ref. */
typedef struct tfb_hidden_metrics {
    double nmse;               /* sum (h - ref)^2 / sum ref^2 */
    double cos_mean, cos_min;  /* cosine of each row's vectors */
} tfb_hidden_metrics;
void tfb_hidden_metrics_compute(const float *ref, const float *h, int64_t rows, int64_t C, tfb_hidden_metrics *out);

#endif
