/* act_q8's activation rounding on every SIMD path this CPU has: each path's quant_x must give exactly
 * the q and d of tfb_quantize_act_q8 (the definition the reference uses), and the bias its integer
 * dots start from (-8*sum(q) for q4_0 weights, 0 for q8_0). Exact equality, on random rows and on
 * the inputs where rounding can go astray: values exactly halfway between two steps (ties go to
 * even), the block maximum itself (+-127), zeros and -0, a block too small for its scale (amax/127
 * underflows to 0), huge values, one non-zero element. A planted fault (round half away from zero)
 * must be caught, so the comparison is shown able to fail. Exit 0 all equal, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/simd/simd_impl.h"

enum { K = 32 * 12 };

/* The blocks of row x that must round identically; returns the number of mismatches printed. */
static int check_row(const tfb__simd_kern *k, tfb_dtype dt, const float *x, const char *what) {
    int8_t q[K];
    float d[K / 32];
    tfb_quantize_act_q8(x, K, q, d);
    tfb__xq got[K / 32];
    float gd[K / 32];
    memset(got, 0x5a, sizeof got);
    k->quant_x(dt, x, K, got, gd);
    int bad = 0;
    for (int b = 0; b < K / 32 && bad < 3; b++) {
        int32_t sum = 0;
        for (int i = 0; i < 32; i++)
            sum += q[b * 32 + i];
        int32_t want_bias = dt == TFB_DTYPE_Q4_0 ? -8 * sum : 0;
        bool ok = memcmp(&gd[b], &d[b], sizeof(float)) == 0 && memcmp(got[b].q, q + b * 32, 32) == 0 &&
                  got[b].bias[0] == want_bias;
        for (int l = 1; l < 8; l++)
            ok = ok && got[b].bias[l] == 0;
        if (!ok) {
            int i = 0;
            while (i < 31 && got[b].q[i] == q[b * 32 + i])
                i++;
            printf("FAIL %s %s %s block %d: d %.9g vs %.9g, q[%d] %d vs %d (x %.9g), bias %d vs %d\n", k->name,
                   tfb_dtype_name(dt), what, b, gd[b], d[b], i, got[b].q[i], q[b * 32 + i], x[b * 32 + i],
                   got[b].bias[0], want_bias);
            bad++;
        }
    }
    return bad;
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static float urand(void) { /* [-1, 1) */
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* Rows built to hit the rounding's edges; row r of n. */
static void make_row(int r, float *x) {
    for (int i = 0; i < K; i++)
        x[i] = urand() * (r % 3 == 0 ? 1.0f : r % 3 == 1 ? 1e-3f : 300.0f);
    switch (r % 8) {
    case 1: /* block max 127/8 = 15.875 makes d = 0.125 exactly: x = (j + 0.5) * d are exact ties */
        for (int b = 0; b < K / 32; b++) {
            x[b * 32] = 15.875f;
            for (int i = 1; i < 32; i++)
                x[b * 32 + i] = ((float)((i * 7 + b) % 200 - 100) + 0.5f) * 0.125f;
        }
        break;
    case 2: /* zeros, negative zeros, and a block whose scale underflows to 0 */
        for (int i = 0; i < 64; i++)
            x[i] = i % 2 ? -0.0f : 0.0f;
        for (int i = 64; i < 96; i++)
            x[i] = i % 3 ? 1e-45f : -1e-45f;
        break;
    case 3: /* one non-zero element per block, alternately negative */
        for (int i = 0; i < K; i++)
            x[i] = i % 32 == (i / 32) % 32 ? ((i / 32) % 2 ? -3.25f : 3.25f) : 0.0f;
        break;
    case 4: /* huge magnitudes */
        for (int i = 0; i < K; i++)
            x[i] *= 1e36f;
        break;
    default: break;
    }
}

/* A planted fault: round half away from zero where the definition rounds half to even. */
static void quant_x_faulty(tfb_dtype dt, const float *x, int64_t n, tfb__xq *dst, float *d) {
    tfb__simd_quant_x_c(dt, x, n, dst, d);
    for (int64_t b = 0; b < n / 32; b++)
        for (int i = 0; i < 32; i++)
            if (d[b] != 0.0f)
                dst[b].q[i] = (int8_t)roundf(x[b * 32 + i] / d[b]);
}

int main(void) {
    const tfb__simd_kern *paths[8];
    int n = tfb__simd_paths_here(paths, 8);
    static const tfb_dtype dts[] = {TFB_DTYPE_Q8_0, TFB_DTYPE_Q4_0};
    int bad = 0, rows = 0;
    float x[K];
    for (int r = 0; r < 64; r++) {
        make_row(r, x);
        char what[32];
        snprintf(what, sizeof what, "row %d", r);
        for (int p = 0; p < n; p++)
            for (int t = 0; t < 2; t++)
                bad += check_row(paths[p], dts[t], x, what);
        rows++;
    }
    /* The planted fault must be caught on the tie row. */
    tfb__simd_kern faulty = tfb__simd_kern_scalar;
    faulty.name = "planted-fault";
    faulty.quant_x = quant_x_faulty;
    make_row(1, x);
    printf("planted fault (ties rounded away from zero):\n");
    if (check_row(&faulty, TFB_DTYPE_Q8_0, x, "ties") == 0) {
        printf("FAIL the planted fault was not caught\n");
        bad++;
    }
    printf("test_simd_quant: %d rows x %d paths x 2 dtypes, %s\n", rows, n, bad ? "FAILED" : "all exact");
    return bad ? 1 : 0;
}
