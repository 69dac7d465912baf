/* The kernel tables' softmax (kern_tmpl.h: a vector exp) on every SIMD path this CPU has, against a
 * double-precision softmax: random rows of lengths around the vector widths (tails), large and small
 * scales, rows with -inf scores (must give exactly 0 there), scores far below the max (underflow to
 * 0), and a NaN score (the row must be NaN, as with expf). A planted fault (one term 0.1% off, as
 * if a lane had left the sum) must be caught. Exit 0 all within bounds, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/simd/simd_impl.h"

enum { NMAX = 1100 };

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float urand(void) { /* [-1, 1) */
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

/* Relative error of each output against the double softmax of the same f32 products; prints and
 * returns 1 on the first element past 1e-5 relative (plus 1e-30 absolute). */
static int check(const tfb__simd_kern *k, const float *x, float scale, int64_t n, const char *what) {
    float w[NMAX];
    double want[NMAX], max = -INFINITY, sum = 0.0;
    k->softmax(x, scale, w, n);
    for (int64_t i = 0; i < n; i++)
        max = (double)(scale * x[i]) > max ? (double)(scale * x[i]) : max;
    for (int64_t i = 0; i < n; i++)
        sum += want[i] = exp((double)(scale * x[i] - (float)max));
    for (int64_t i = 0; i < n; i++) {
        want[i] /= sum;
        if (!(fabs(w[i] - want[i]) <= 1e-5 * want[i] + 1e-30)) {
            printf("FAIL %-8s %s n=%lld: element %lld is %.9g, want %.9g\n", k->name, what, (long long)n,
                   (long long)i, w[i], want[i]);
            return 1;
        }
    }
    return 0;
}

static void softmax_faulty(const float *x, float scale, float *w, int64_t n) {
    tfb__simd_kern_scalar.softmax(x, scale, w, n);
    if (n > 1)
        w[n - 1] *= 1.001f; // as if one lane's term had left the sum
}

int main(void) {
    const tfb__simd_kern *paths[8];
    int np = tfb__simd_paths_here(paths, 8), bad = 0, checks = 0;
    static const int64_t lens[] = {1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 100, 513, 1024, 1099};
    static const float scales[] = {0.125f, 1.0f, 30.0f};
    float x[NMAX], w[NMAX];
    for (int p = 0; p < np; p++) {
        const tfb__simd_kern *k = paths[p];
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
            for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
                for (int64_t i = 0; i < lens[l]; i++)
                    x[i] = 4.0f * urand();
                bad += check(k, x, scales[s], lens[l], "random");
                checks++;
                /* -inf scores (masked keys) and scores at least 100 below the max (scaled): exactly 0. */
                for (int64_t i = 0; i < lens[l]; i += 3)
                    x[i] = i % 2 ? -INFINITY : -4.0f - 100.0f / scales[s];
                x[lens[l] / 2] = 1.0f; // a finite max whatever was masked
                bad += check(k, x, scales[s], lens[l], "-inf/far");
                k->softmax(x, scales[s], w, lens[l]);
                for (int64_t i = 0; i < lens[l]; i += 3)
                    if (w[i] != 0.0f && i != lens[l] / 2) {
                        printf("FAIL %-8s n=%lld: element %lld (score %g) gave %g, not 0\n", k->name,
                               (long long)lens[l], (long long)i, x[i], w[i]);
                        bad++;
                    }
                checks++;
                /* One NaN score: every output NaN. */
                for (int64_t i = 0; i < lens[l]; i++)
                    x[i] = urand();
                x[(lens[l] * 2) / 3] = NAN;
                k->softmax(x, scales[s], w, lens[l]);
                for (int64_t i = 0; i < lens[l]; i++)
                    if (!isnan(w[i])) {
                        printf("FAIL %-8s n=%lld: a NaN score left element %lld at %g\n", k->name, (long long)lens[l],
                               (long long)i, w[i]);
                        bad++;
                        break;
                    }
                checks++;
            }
    }
    tfb__simd_kern faulty = tfb__simd_kern_scalar;
    faulty.name = "planted";
    faulty.softmax = softmax_faulty;
    for (int64_t i = 0; i < 17; i++)
        x[i] = urand();
    printf("planted fault (one term off the sum by 0.1%%):\n");
    if (check(&faulty, x, 1.0f, 17, "planted") == 0) {
        printf("FAIL the planted fault was not caught\n");
        bad++;
    }
    printf("test_simd_softmax: %d checks x %d paths, %s\n", checks / np, np, bad ? "FAILED" : "all within 1e-5");
    return bad ? 1 : 0;
}
