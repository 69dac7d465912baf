/* Core unit tests: dtype conversions, the quantizer, reference ops on hand-computed cases,
 * synthetic weights and determinism. Every check here has a failing twin (a planted fault). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tfbench/model.h"

static bool near(double a, double b, double tol) {
    return fabs(a - b) <= tol * (1.0 + fabs(b));
}

static void test_f16(void) {
    /* exact values, rounding to nearest even, overflow, subnormals, inf/NaN */
    CHECK(tfb_f32_to_f16(1.0f) == 0x3c00, "f16(1)");
    CHECK(tfb_f32_to_f16(-2.0f) == 0xc000, "f16(-2)");
    CHECK(tfb_f32_to_f16(65504.0f) == 0x7bff, "f16 max");
    CHECK(tfb_f32_to_f16(65520.0f) == 0x7c00, "f16 overflow to inf");
    CHECK(tfb_f32_to_f16(0x1p-24f) == 0x0001, "f16 smallest subnormal");
    CHECK(tfb_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00, "f16 tie rounds to even (down)");
    CHECK(tfb_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02, "f16 tie rounds to even (up)");
    CHECK(tfb_f32_to_f16(INFINITY) == 0x7c00, "f16 inf");
    CHECK(isnan(tfb_f16_to_f32(tfb_f32_to_f16(NAN))), "f16 NaN stays NaN");
    for (uint32_t h = 0; h < 0x10000; h++) { /* every finite half round-trips exactly */
        if ((h & 0x7c00) == 0x7c00)
            continue;
        float f = tfb_f16_to_f32((uint16_t)h);
        CHECK(tfb_f32_to_f16(f) == h, "f16 round trip %04x", h);
    }
    CHECK(tfb_f32_to_bf16(1.0f) == 0x3f80, "bf16(1)");
    CHECK(tfb_bf16_to_f32(0x3f80) == 1.0f, "bf16 back");
    CHECK(tfb_f32_to_bf16(1.0f + 0x1p-8f) == 0x3f80, "bf16 tie to even");
    CHECK(isnan(tfb_bf16_to_f32(tfb_f32_to_bf16(NAN))), "bf16 NaN");
}

static void test_quant(void) {
    float x[64], y[64];
    for (int i = 0; i < 64; i++)
        x[i] = sinf((float)i * 0.7f) * (i < 32 ? 1.0f : 0.01f);
    tfb_block_q8_0 q8[2];
    tfb_quantize_row(TFB_DTYPE_Q8_0, x, q8, 64);
    tfb_dequantize_row(TFB_DTYPE_Q8_0, q8, y, 64);
    for (int i = 0; i < 64; i++) {
        float amax = i < 32 ? 1.0f : 0.01f;
        CHECK(fabsf(x[i] - y[i]) <= amax / 127.0f * 0.5f + amax * 1e-3f, "q8_0 error at %d: %g vs %g", i, x[i], y[i]);
    }
    /* layout: block 0's scale maps its largest magnitude to +-127 */
    int amax_q = 0;
    for (int i = 0; i < 32; i++)
        amax_q = abs(q8[0].qs[i]) > amax_q ? abs(q8[0].qs[i]) : amax_q;
    CHECK(amax_q == 127, "q8_0 uses the full range (%d)", amax_q);
    tfb_block_q4_0 q4[2];
    tfb_quantize_row(TFB_DTYPE_Q4_0, x, q4, 64);
    tfb_dequantize_row(TFB_DTYPE_Q4_0, q4, y, 64);
    for (int i = 0; i < 64; i++) {
        float amax = i < 32 ? 1.0f : 0.01f;
        /* GGUF q4_0 spans [-8, 7]*d: values opposite in sign to the block maximum clip at 7|d|,
         * so the worst error is |d| = amax/8, not half a step. */
        CHECK(fabsf(x[i] - y[i]) <= amax / 8.0f + amax * 1e-3f, "q4_0 error at %d: %g vs %g", i, x[i], y[i]);
    }
    /* q4_0 nibble order: element 0 in the low nibble of byte 0, element 16 in its high nibble */
    float z[32] = {0};
    z[0] = -8.0f; /* d = 1, q = 0 */
    z[16] = 7.0f; /* q = 15 */
    tfb_block_q4_0 b;
    tfb_quantize_row(TFB_DTYPE_Q4_0, z, &b, 32);
    CHECK(tfb_f16_to_f32(b.d) == 1.0f && b.qs[0] == 0xf0 && b.qs[1] == 0x88, "q4_0 layout d=%g qs0=%02x qs1=%02x",
          tfb_f16_to_f32(b.d), b.qs[0], b.qs[1]);
}

/* One node on the reference backend with host tensors. */
typedef struct one {
    tfb_backend *b;
    tfb_graph g;
    tfb_buffer *buf;
} one;

static void one_run(one *o) {
    size_t bytes = tfb_graph_layout(&o->g);
    TFB_ASSERT(tfb_backend_buffer_alloc(o->b, bytes, &o->buf) == TFB_STATUS_OK);
    for (int i = 0; i < o->g.n_tensors; i++)
        o->g.tensors[i]->buf = o->buf;
}

static void test_ref_ops(tfb_backend *b) {
    /* softmax of [1, 2, 3] and layernorm of [1, 2, 3, 4] against values worked by hand */
    one o = {.b = b};
    tfb_graph_init(&o.g, 1);
    tfb_tensor *x = tfb_graph_new_act(&o.g, "x", 1, 4, TFB_DTYPE_F32);
    tfb_tensor *gm = tfb_graph_new_act(&o.g, "g", 1, 4, TFB_DTYPE_F32);
    tfb_tensor *bt = tfb_graph_new_act(&o.g, "b", 1, 4, TFB_DTYPE_F32);
    tfb_tensor *y = tfb_graph_new_act(&o.g, "y", 1, 4, TFB_DTYPE_F32);
    tfb_tensor *sm = tfb_graph_new_act(&o.g, "sm", 1, 4, TFB_DTYPE_F32);
    tfb_graph_add(&o.g, TFB_OP_LAYERNORM, y, x, gm, bt, NULL)->eps = 0.0f;
    tfb_graph_add(&o.g, TFB_OP_SOFTMAX, sm, x, NULL, NULL, NULL)->scale = 1.0f;
    one_run(&o);
    float xv[4] = {1, 2, 3, 4}, gv[4] = {1, 1, 1, 2}, bv[4] = {0, 0, 0, 1};
    memcpy(tfb_tensor_host(x), xv, sizeof xv);
    memcpy(tfb_tensor_host(gm), gv, sizeof gv);
    memcpy(tfb_tensor_host(bt), bv, sizeof bv);
    TFB_ASSERT(tfb_backend_compute(b, &o.g) == TFB_STATUS_OK);
    const float *yv = tfb_tensor_host(y), *smv = tfb_tensor_host(sm);
    double sd = sqrt(1.25); /* variance of 1..4 is 1.25 */
    CHECK(near(yv[0], -1.5 / sd, 1e-6) && near(yv[3], 2 * 1.5 / sd + 1, 1e-6), "layernorm %g %g", yv[0], yv[3]);
    double z = exp(1) + exp(2) + exp(3) + exp(4);
    CHECK(near(smv[0], exp(1) / z, 1e-6) && near(smv[3], exp(4) / z, 1e-6), "softmax %g %g", smv[0], smv[3]);
    tfb_backend_buffer_free(b, o.buf);
    tfb_graph_free(&o.g);

    /* causal attention, one head, D=1: query row t at pos p0+t sees keys 0..p0+t */
    tfb_graph_init(&o.g, 2);
    tfb_tensor *q = tfb_graph_new_act(&o.g, "q", 0, 1, TFB_DTYPE_F32);
    tfb_tensor *k = tfb_graph_new_act(&o.g, "k", 4, 1, TFB_DTYPE_F32);
    tfb_tensor *v = tfb_graph_new_act(&o.g, "v", 4, 1, TFB_DTYPE_F32);
    tfb_tensor *a = tfb_graph_new_act(&o.g, "a", 0, 1, TFB_DTYPE_F32);
    tfb_node *n = tfb_graph_add(&o.g, TFB_OP_ATTENTION, a, q, k, v, NULL);
    n->n_head = 1;
    n->mask = TFB_MASK_CAUSAL;
    n->scale = 1.0f;
    one_run(&o);
    float qv[2] = {1, 1}, kv[4] = {0, 1, 2, 100}, vv[4] = {1, 2, 3, 1000};
    memcpy(tfb_tensor_host(q), qv, sizeof qv);
    memcpy(tfb_tensor_host(k), kv, sizeof kv);
    memcpy(tfb_tensor_host(v), vv, sizeof vv);
    o.g.params = (tfb_graph_params){.n_rows = 2, .pos = 1};
    TFB_ASSERT(tfb_backend_compute(b, &o.g) == TFB_STATUS_OK);
    const float *av = tfb_tensor_host(a);
    double w0 = 1 / (1 + exp(1)), r0 = w0 * 1 + (1 - w0) * 2;        /* keys 0,1 */
    double zz = 1 + exp(1) + exp(2), r1 = (1 + 2 * exp(1) + 3 * exp(2)) / zz; /* keys 0,1,2; key 3 masked */
    CHECK(near(av[0], r0, 1e-6) && near(av[1], r1, 1e-6), "causal attention %g %g (want %g %g)", av[0], av[1], r0, r1);
    tfb_backend_buffer_free(b, o.buf);
    tfb_graph_free(&o.g);
}

static void test_synthetic_and_determinism(tfb_backend *b) {
    const char *names[] = {"gpt2-tiny", "bert-tiny", "marian-tiny"};
    tfb_dtype dts[] = {TFB_DTYPE_F32, TFB_DTYPE_Q4_0};
    for (int mi = 0; mi < 3; mi++) {
        for (int di = 0; di < 2; di++) {
            tfb_model m1, m2, m3;
            const tfb_config *c = tfb_preset_find(names[mi]);
            TFB_ASSERT(tfb_model_synthetic(c, 7, dts[di], &m1) == TFB_STATUS_OK);
            TFB_ASSERT(tfb_model_synthetic(c, 7, dts[di], &m2) == TFB_STATUS_OK);
            TFB_ASSERT(tfb_model_synthetic(c, 8, dts[di], &m3) == TFB_STATUS_OK);
            CHECK(tfb_model_validate(&m1) == TFB_STATUS_OK, "%s validates: %s", names[mi], tfb_error_last());
            const tfb_weight *w1 = tfb_model_find(&m1, "tok_emb"), *w3 = tfb_model_find(&m3, "tok_emb");
            CHECK(memcmp(w1->data, w3->data, 64) != 0, "different seeds give different weights");
            int64_t V = c->n_vocab, n = 6;
            int32_t toks[6] = {3, 1, 4, 1, 5, 9};
            float *l1 = malloc((size_t)(n * V) * sizeof *l1), *l2 = malloc((size_t)(n * V) * sizeof *l2);
            tfb_model *ms[2] = {&m1, &m2};
            float *ls[2] = {l1, l2};
            for (int r = 0; r < 2; r++) {
                tfb_session *s;
                TFB_ASSERT(tfb_session_init(b, ms[r], 0, &s) == TFB_STATUS_OK);
                if (tfb_config_encoder_only(c)) {
                    TFB_ASSERT(tfb_session_encode(s, toks, n, ls[r]) == TFB_STATUS_OK);
                } else {
                    if (tfb_config_has_cross(c))
                        TFB_ASSERT(tfb_session_encode(s, toks, n, NULL) == TFB_STATUS_OK);
                    TFB_ASSERT(tfb_session_decode(s, toks, n, 0, true, ls[r]) == TFB_STATUS_OK);
                }
                tfb_session_free(s);
            }
            CHECK(memcmp(l1, l2, (size_t)(n * V) * sizeof *l1) == 0, "%s %s: same seed, bit-identical logits",
                  names[mi], tfb_dtype_name(dts[di]));
            /* logits are spread, not degenerate: stddev of a row well above zero */
            double mean = 0, var = 0;
            for (int64_t i = 0; i < V; i++)
                mean += l1[i];
            mean /= (double)V;
            for (int64_t i = 0; i < V; i++)
                var += (l1[i] - mean) * (l1[i] - mean);
            CHECK(sqrt(var / (double)V) > 0.3, "%s logits spread %g", names[mi], sqrt(var / (double)V));
            free(l1);
            free(l2);
            tfb_model_free(&m1);
            tfb_model_free(&m2);
            tfb_model_free(&m3);
        }
    }
}

/* Prefill of n tokens then one decode step must equal a prefill of n+1 tokens (the KV cache). */
static void test_kv_cache(tfb_backend *b) {
    tfb_model m;
    TFB_ASSERT(tfb_model_synthetic(tfb_preset_find("gpt2-tiny"), 3, TFB_DTYPE_F32, &m) == TFB_STATUS_OK);
    int64_t V = m.cfg.n_vocab;
    int32_t toks[5] = {10, 20, 30, 40, 50};
    float *all = malloc((size_t)(5 * V) * sizeof *all), *last = malloc((size_t)V * sizeof *last);
    tfb_session *s;
    TFB_ASSERT(tfb_session_init(b, &m, 0, &s) == TFB_STATUS_OK);
    TFB_ASSERT(tfb_session_decode(s, toks, 5, 0, true, all) == TFB_STATUS_OK);
    TFB_ASSERT(tfb_session_decode(s, toks, 4, 0, false, NULL) == TFB_STATUS_OK);
    TFB_ASSERT(tfb_session_decode(s, toks + 4, 1, 4, false, last) == TFB_STATUS_OK);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < V; i++) {
        err += (last[i] - all[4 * V + i]) * (last[i] - all[4 * V + i]);
        ref += all[4 * V + i] * all[4 * V + i];
    }
    CHECK(err / ref < 1e-12, "cached decode equals full prefill (nmse %g)", err / ref);
    /* and a wrong position must NOT match: the check can fail */
    TFB_ASSERT(tfb_session_decode(s, toks + 4, 1, 3, false, last) == TFB_STATUS_OK);
    err = 0;
    for (int64_t i = 0; i < V; i++)
        err += (last[i] - all[4 * V + i]) * (last[i] - all[4 * V + i]);
    CHECK(err / ref > 1e-6, "decode at the wrong position differs (nmse %g)", err / ref);
    /* out-of-range positions and tokens are usage errors, not crashes */
    CHECK(tfb_session_decode(s, toks, 1, m.cfg.n_ctx, false, last) == TFB_STATUS_USAGE, "pos past context");
    int32_t bad = (int32_t)V;
    CHECK(tfb_session_decode(s, &bad, 1, 0, false, last) == TFB_STATUS_USAGE, "token outside vocab");
    tfb_session_free(s);
    free(all);
    free(last);
    tfb_model_free(&m);
}

/* Inputs longer than a decoder graph's rows (256) run in chunks: 300 prompt rows in one decode call
 * (chunks of 256 and 44) give the logits of 300 single-token calls, for a decoder with learned
 * positions and for Llama (rotary positions, grouped-query attention); a planted change of one
 * logit must be seen. */
static void test_chunked_prefill(tfb_backend *b) {
    const char *names[] = {"gpt2-tiny", "llama-tiny"};
    for (int mi = 0; mi < 2; mi++) {
        tfb_config c = *tfb_preset_find(names[mi]);
        c.n_ctx = 320;
        tfb_model m;
        CHECK(tfb_model_synthetic(&c, 7, TFB_DTYPE_F32, &m) == TFB_STATUS_OK, "%s: %s", names[mi], tfb_error_last());
        tfb_session *s1 = NULL, *s2 = NULL;
        CHECK(tfb_session_init(b, &m, 0, &s1) == TFB_STATUS_OK && tfb_session_init(b, &m, 0, &s2) == TFB_STATUS_OK,
              "%s sessions: %s", names[mi], tfb_error_last());
        int64_t T = 300, V = c.n_dec_vocab;
        int32_t *tok = malloc((size_t)T * sizeof *tok);
        float *all = malloc((size_t)(T * V) * sizeof *all), *steps = malloc((size_t)(T * V) * sizeof *steps);
        TFB_ASSERT(tok && all && steps);
        for (int64_t t = 0; t < T; t++)
            tok[t] = (int32_t)((t * 37 + 11) % c.n_vocab);
        CHECK(tfb_session_decode(s1, tok, T, 0, true, all) == TFB_STATUS_OK, "chunked decode: %s", tfb_error_last());
        for (int64_t t = 0; t < T; t++)
            CHECK(tfb_session_decode(s2, tok + t, 1, t, true, steps + t * V) == TFB_STATUS_OK, "step %lld", (long long)t);
        double worst = 0.0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1)
                steps[(T - 1) * V + 3] += 1e-3f * (fabsf(steps[(T - 1) * V + 3]) + 1.0f); /* planted */
            worst = 0.0;
            for (int64_t i = 0; i < T * V; i++)
                worst = fmax(worst, fabs((double)all[i] - steps[i]) / (fabs((double)steps[i]) + 1.0));
            if (pass == 0)
                CHECK(worst <= 1e-6, "%s: chunked prefill differs from single steps by %g", names[mi], worst);
            else
                CHECK(worst > 1e-6, "%s: a planted logit change went unseen", names[mi]);
        }
        free(tok), free(all), free(steps);
        tfb_session_free(s1);
        tfb_session_free(s2);
        tfb_model_free(&m);
    }
}

int main(void) {
    test_f16();
    test_quant();
    tfb_backend *b;
    TFB_ASSERT(tfb_backend_init(tfb_backend_find("reference"), NULL, &b) == TFB_STATUS_OK);
    test_ref_ops(b);
    test_synthetic_and_determinism(b);
    test_kv_cache(b);
    test_chunked_prefill(b);
    tfb_backend_free(b);
    printf("%s: %d failure(s)\n", __FILE__, failures);
    return failures ? 1 : 0;
}
