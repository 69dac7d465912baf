/* The conformance tolerances beyond the op level, each with its reason: the model level and the
 * quantization-effect bounds. The op level's table (op x dtype, eps*sqrt(k) with reasons) is opdef.c,
 * shared with every backend's op tests. */
#include <math.h>

#include "conform.h"
#include "opdef.h"

/* Model level. Both sides use the same weights and the same activation numerics (f32, or with
 * --act q8 the same 8-bit rounding before q8_0/q4_0 matmuls), so the bound is the same for every
 * dtype: errors of ~1e-6 per op (the op bounds above) compound over the layers; 1e-4 of the logits'
 * RMS (NMSE 1e-8) holds gpt2-124m's 12 layers with a margin and is still ~100x below what a
 * one-ulp-per-element systematic error in a weight would produce.
 *
 * With --act q8, q8_0/q4_0 get a bound of their own: the rounding is discontinuous, so an upstream
 * difference of one ulp that carries an activation across a rounding boundary moves it by a whole
 * step amax/127, and GPT-2's outlier channels make that step large. Measured on gpt2-124m,
 * teacher-forced logits, NMSE at the worst position: the reference against itself with one-ulp
 * jitter on its layernorm outputs 9e-5 (q8_0); simd, whose act_q8 op cases all pass at the
 * eps*sqrt(K) bound, 1.7e-4 (q8_0) and 1.2e-4 (q4_0). The flips are sparse, so single logits move
 * further than the NMSE suggests: the largest |x - ref| / (rms + |ref|) seen was 0.045. The bounds
 * are NMSE 1e-3 (tol 3.2e-2, about 6x over the worst correct backend) and elements within 0.15 of
 * rms + |ref| (3.3x); a planted fault (dropped mask, wrong softmax scale, transposed weight, cache
 * position off by one) gives NMSE 0.7 to 1.6 on gpt2-tiny with --act q8; the 1e-3 perturbation of
 * one element passes here and fails at the op level. It cannot tell rounding from
 * f32 activations (their whole difference is 1.6e-4 on gpt2-124m): the op level, where both sides
 * round identical inputs, checks act_q8 itself (eps*sqrt(K); the actq8 planted fault fails there
 * at 1.5e-5 against ~1e-10). The tiny presets see few flips (simd within NMSE 2e-13 there). */
static const double model_tol[TFB_DTYPE_COUNT] = {
    [TFB_DTYPE_F32] = 1e-4,  [TFB_DTYPE_F16] = 1e-4,  [TFB_DTYPE_BF16] = 1e-4,
    [TFB_DTYPE_Q8_0] = 1e-4, [TFB_DTYPE_Q4_0] = 1e-4,
};
#define MODEL_TOL_ACT_Q8 3.1623e-2 /* NMSE 1e-3: see above */
#define MODEL_ETOL_ACT_Q8 0.15      /* element bound: see above */

double tfb__cf_model_tol(tfb_dtype wt, bool act_q8, double *etol, const char **why) {
    if (act_q8 && (wt == TFB_DTYPE_Q8_0 || wt == TFB_DTYPE_Q4_0)) {
        if (why)
            *why = "--act q8 on both sides: 8-bit rounding is discontinuous, one-ulp upstream differences flip "
                   "whole steps (measured NMSE 9e-5..1.7e-4, elements 0.045 of rms+|ref| on gpt2-124m), so NMSE "
                   "1e-3 and elements 0.15; the op level checks the rounding itself";
        *etol = MODEL_ETOL_ACT_Q8;
        return MODEL_TOL_ACT_Q8;
    }
    if (why)
        *why = "same activation numerics and same weights on both sides: 1e-4 of the RMS";
    *etol = model_tol[wt];
    return model_tol[wt];
}

/* Quantization effects: the backend at dtype D against the f32 reference, teacher-forced on the
 * f32 reference's tokens. These are sanity bounds that catch a broken quantized path (a wrong scale
 * or swapped nibbles give near-random top-1: 1/V = 0.2% on the tiny presets), not accuracy targets;
 * the figures themselves (KL mean and p99, RMS of the probability change) are reported.
 * Measured with the reference itself (seed 42; gpt2-tiny / bert-tiny / marian-tiny top-1):
 * f16 100/100/100%, bf16 100/87.5/100%, q8_0 95.7/100/100%, q4_0 56.5/56.2/93.8%. The tiny models'
 * logits are nearly flat (q4_0 moves probabilities by an RMS of ~2e-4 at V = 512), so top-1 margins
 * are small and q4_0 flips about half of them; the bounds sit below the measured figures with room
 * for another backend's legitimate rounding differences. */
static const double quant_min_top1[TFB_DTYPE_COUNT] = {
    [TFB_DTYPE_F32] = 1.0,   [TFB_DTYPE_F16] = 0.9,  [TFB_DTYPE_BF16] = 0.6,
    [TFB_DTYPE_Q8_0] = 0.75, [TFB_DTYPE_Q4_0] = 0.3,
};

double tfb__cf_quant_min_top1(tfb_dtype wt, const char **why) {
    if (why)
        *why =
            "sanity bound on top-1 agreement with the f32 reference (f16 0.9, bf16 0.6, q8_0 0.75, q4_0 0.3)";
    return quant_min_top1[wt];
}

void tfb__cf_print_tolerances(FILE *f) {
    tfb__opdef_print_tolerances(f);
    const char *why;
    for (int d = 0; d < TFB_DTYPE_I32; d++) {
        double et, t = tfb__cf_model_tol((tfb_dtype)d, false, &et, &why);
        fprintf(f, "model %-5s tol %g (NMSE %g): %s\n", tfb_dtype_name((tfb_dtype)d), t, t * t, why);
    }
    for (int d = TFB_DTYPE_Q8_0; d <= TFB_DTYPE_Q4_0; d++) {
        double et, t = tfb__cf_model_tol((tfb_dtype)d, true, &et, &why);
        fprintf(f, "model %-5s --act q8 tol %g (NMSE %g, elements %g): %s\n", tfb_dtype_name((tfb_dtype)d), t, t * t,
                et, why);
    }
    for (int d = 1; d < TFB_DTYPE_I32; d++) {
        double t = tfb__cf_quant_min_top1((tfb_dtype)d, &why);
        fprintf(f, "quant %-5s top-1 >= %g\n", tfb_dtype_name((tfb_dtype)d), t);
    }
}
