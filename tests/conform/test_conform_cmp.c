/* The conformance comparator against known-bad inputs: every check it makes must be seen to fail. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conform.h"
#include "opdef.h"

static int failures;

#define EXPECT(cond)                                                                                         \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                              \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)

#define N 256

static void fill(float *x, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < N; i++)
        x[i] = tfb__cf_uniform(&st, -1.0f, 1.0f);
}

int main(void) {
    float ref[N], x[N];
    tfb_cf_cmp r;
    double tol = tfb__opdef_tol(TFB_OP_MATMUL, TFB_DTYPE_F32, 768, NULL);
    EXPECT(tol > 1e-6 && tol < 1e-4);

    /* identical: pass */
    fill(ref, 1);
    memcpy(x, ref, sizeof x);
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_PASS && r.nmse == 0.0);

    /* a rounding-sized error everywhere: pass */
    for (int i = 0; i < N; i++)
        x[i] = nextafterf(ref[i], INFINITY);
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_PASS);

    /* one element off by 1e-3 relative: fails, and is the worst and first mismatch */
    memcpy(x, ref, sizeof x);
    int k = 0;
    for (int i = 1; i < N; i++)
        if (fabsf(ref[i]) > fabsf(ref[k]))
            k = i;
    x[k] = ref[k] * (1.0f + 1e-3f);
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.worst == k && r.n_bad == 1 && r.first_bad[0] == k);

    /* a systematic error of 1.5 tol relative on every element: each element is inside
     * tol*(rms + |ref|) (|ref| <= 1 < 2 rms), so only the NMSE (2.25 tol^2 > tol^2) can catch it */
    for (int i = 0; i < N; i++)
        x[i] = (float)(ref[i] * (1.0 + 1.5 * tol));
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.n_bad == 0 && r.nmse > r.threshold);

    /* NaN on either side fails, even where the other side is also NaN */
    memcpy(x, ref, sizeof x);
    x[7] = NAN;
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.worst == 7 && strstr(r.detail, "NaN"));
    float ref2[N];
    memcpy(ref2, ref, sizeof ref2);
    ref2[9] = NAN;
    memcpy(x, ref2, sizeof x);
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.worst == 9);

    /* inf: same sign passes, other sign or finite fails */
    memcpy(ref2, ref, sizeof ref2);
    ref2[3] = INFINITY;
    memcpy(x, ref2, sizeof x);
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_PASS && isfinite(r.nmse));
    x[3] = -INFINITY;
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && strstr(r.detail, "inf"));
    x[3] = 1e30f;
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL);
    memcpy(x, ref, sizeof x);
    x[5] = INFINITY;
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL);

    /* degenerate outputs on both sides: mistrusted, not pass */
    for (int i = 0; i < N; i++)
        x[i] = ref2[i] = 0.25f;
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_MISTRUSTED);
    for (int i = 0; i < N; i++)
        x[i] = ref2[i] = i % 10 == 0 ? 1.0f : 0.0f; /* 90% zeros */
    tfb__cf_compare(x, ref2, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_MISTRUSTED);
    /* ... but a backend that is degenerate where the reference is not fails */
    for (int i = 0; i < N; i++)
        x[i] = 0.0f;
    tfb__cf_compare(x, ref, N, tol, &r);
    EXPECT(r.verdict == TFB_CF_FAIL);
    /* relu-like outputs (half zeros) are not degenerate */
    for (int i = 0; i < N; i++)
        ref2[i] = ref[i] > 0 ? ref[i] : 0.0f;
    EXPECT(!tfb__cf_degenerate(ref2, N));

    /* exact ops: tolerance 0, a one-ulp change fails */
    double t0 = tfb__opdef_tol(TFB_OP_ADD, TFB_DTYPE_F32, 1, NULL);
    EXPECT(t0 == 0.0);
    memcpy(x, ref, sizeof x);
    x[11] = nextafterf(x[11], INFINITY);
    tfb__cf_compare(x, ref, N, t0, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.worst == 11);

    /* int32: exact, constant on both sides mistrusted */
    int32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
    memcpy(b, a, sizeof b);
    tfb__cf_compare_i32(b, a, 8, &r);
    EXPECT(r.verdict == TFB_CF_PASS);
    b[4] = 0;
    tfb__cf_compare_i32(b, a, 8, &r);
    EXPECT(r.verdict == TFB_CF_FAIL && r.worst == 4);
    for (int i = 0; i < 8; i++)
        a[i] = b[i] = 3;
    tfb__cf_compare_i32(b, a, 8, &r);
    EXPECT(r.verdict == TFB_CF_MISTRUSTED);

    /* guard bytes: an untouched pattern reads back clean, one changed byte is found */
    unsigned char g[512];
    tfb__cf_guard_fill(g, sizeof g, 77);
    EXPECT(tfb__cf_guard_first_diff(g, sizeof g, 77) == -1);
    g[300] ^= 1;
    EXPECT(tfb__cf_guard_first_diff(g, sizeof g, 77) == 300);
    EXPECT(tfb__cf_guard_first_diff(g, sizeof g, 78) != -1); /* seeds differ */

    /* every op has a table entry, matmul one per weight dtype; the quantized matmul bound equals the
     * f32 one; every op has shapes in the one list, each a well-formed node whose k the table reads */
    for (int op = 0; op < TFB_OP_COUNT; op++) {
        const char *why = NULL;
        double t = tfb__opdef_tol((tfb_op)op, TFB_DTYPE_F32, 64, &why);
        EXPECT(t >= 0.0 && why && why[0]);
        int n_cases = 0;
        for (int i = 0; i < tfb__opdef_count(); i++)
            n_cases += tfb__opdef_get(i)->op == (tfb_op)op;
        EXPECT(n_cases > 0);
    }
    for (int d = 0; d < TFB_DTYPE_I32; d++) {
        const char *why = NULL;
        EXPECT(tfb__opdef_tol(TFB_OP_MATMUL, (tfb_dtype)d, 768, &why) == tol && why && why[0]);
    }
    for (int i = 0; i < tfb__opdef_count(); i++) {
        const tfb_opdef_case *c = tfb__opdef_get(i);
        for (int d = 0; d < TFB_DTYPE_I32; d++) {
            if (!tfb__opdef_applies(c, (tfb_dtype)d))
                continue;
            tfb_opdef_node on;
            tfb__opdef_node(c, (tfb_dtype)d, &on);
            EXPECT(tfb_node_well_formed(&on.node));
            if (c->op == TFB_OP_MATMUL)
                EXPECT(tfb__opdef_node_k(&on.node, &on.params) == c->K);
            if (c->op == TFB_OP_ATTENTION)
                EXPECT(tfb__opdef_node_k(&on.node, &on.params) ==
                       c->D + (c->mask == TFB_MASK_CROSS ? c->n_src : c->pos + c->T));
        }
    }

    /* near-tie: a margin within 2*tol*(rms + |top1|) is a tie, a clear margin is not */
    float logits[8] = {0.1f, -0.3f, 1.0f, 0.2f, 0.4f, -1.0f, 0.0f, 0.5f};
    double m, allowed, mt = 1e-4;
    EXPECT(!tfb__cf_near_tie(logits, 8, mt, &m, &allowed) && fabs(m - 0.5) < 1e-6 && allowed < 1e-3);
    logits[7] = nextafterf(1.0f, 0.0f);
    EXPECT(tfb__cf_near_tie(logits, 8, mt, &m, &allowed) && m > 0.0 && m <= allowed);
    logits[7] = 1.0f - 1e-2f;
    EXPECT(!tfb__cf_near_tie(logits, 8, mt, NULL, NULL));

    if (failures)
        fprintf(stderr, "%d comparator checks failed\n", failures);
    return failures ? 1 : 0;
}
