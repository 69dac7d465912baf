/* Statistics against textbook values: medians, mean/stddev/CI, harmonic mean, percentiles, t
 * quantiles, and Mann-Whitney p-values (scipy.stats.mannwhitneyu(method="asymptotic") documents
 * the first example: U = 17, p = 0.11134688653314041). */
#include <math.h>
#include <stdio.h>

#include "stats.h"

static int failures;

static void near(const char *what, double got, double want, double tol) {
    if (!(fabs(got - want) <= tol)) {
        printf("FAIL %s: got %.10g, want %.10g (tol %g)\n", what, got, want, tol);
        failures++;
    }
}

int main(void) {
    tfb_stats st;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};
    tfb_stats_compute(odd, 3, false, &st);
    near("median odd", st.median, 2, 0);
    tfb_stats_compute(even, 4, false, &st);
    near("median even", st.median, 2.5, 0);

    /* Mean 5, sample variance 32/7; CI half-width t(0.975, 7) = 2.365 times s / sqrt(8). */
    double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    tfb_stats_compute(x, 8, false, &st);
    near("mean", st.mean, 5, 1e-12);
    near("stddev", st.stddev, sqrt(32.0 / 7.0), 1e-12);
    near("ci95", st.ci95, 2.365 * sqrt(32.0 / 7.0) / sqrt(8.0), 1e-9);
    near("cv", st.cv, sqrt(32.0 / 7.0) / 5, 1e-12);
    near("min", st.min, 2, 0);
    near("max", st.max, 9, 0);

    /* Rates average harmonically: 1, 2, 4 tokens/s -> 3 / (1 + 1/2 + 1/4). */
    double r[] = {1, 2, 4};
    tfb_stats_compute(r, 3, true, &st);
    near("harmonic mean", st.mean, 3.0 / 1.75, 1e-12);

    double one[] = {7};
    tfb_stats_compute(one, 1, false, &st);
    near("n=1 median", st.median, 7, 0);
    if (!isnan(st.ci95) || !isnan(st.stddev)) {
        printf("FAIL n=1 must leave stddev and CI undefined\n");
        failures++;
    }

    /* numpy.percentile (linear): [1..5] p90 = 4.6; [1..100] p99 = 99.01. */
    double five[] = {5, 3, 1, 4, 2}, hundred[100];
    for (int i = 0; i < 100; i++)
        hundred[i] = 100 - i;
    near("p90", tfb_percentile(five, 5, 90), 4.6, 1e-12);
    near("p99", tfb_percentile(hundred, 100, 99), 99.01, 1e-9);
    near("p50", tfb_percentile(hundred, 100, 50), 50.5, 1e-12);

    near("t975 df=1", tfb_t975(1), 12.706, 1e-9);
    near("t975 df=10", tfb_t975(10), 2.228, 1e-9);
    near("t975 df=40", tfb_t975(40), 2.021, 2e-3);
    near("t975 df=120", tfb_t975(120), 1.980, 2e-3);

    double u;
    double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    near("MW p (scipy docs)", tfb_mann_whitney(males, 5, females, 4, &u), 0.11134688653314041, 1e-9);
    near("MW U", u, 17, 0);
    /* Complete separation, 5 vs 5: U = 0, z = (12.5 - 0.5) / sqrt(25 * 11 / 12), p = 0.012186. */
    double lo[] = {1, 2, 3, 4, 5}, hi[] = {6, 7, 8, 9, 10};
    near("MW separated", tfb_mann_whitney(lo, 5, hi, 5, &u), 0.0121856, 1e-6);
    near("MW separated U", u, 0, 0);
    /* Ties: midranks and the tie correction of the variance (sum t^3 - t = 6 + 24 = 30 here). */
    double ta[] = {1, 2, 2, 3}, tb[] = {2, 3, 3, 4};
    near("MW ties", tfb_mann_whitney(ta, 4, tb, 4, &u), 0.17203370892182296, 1e-9);
    near("MW ties U", u, 3, 0);
    double same[] = {5, 5, 5};
    near("MW all tied", tfb_mann_whitney(same, 3, same, 3, &u), 1.0, 0);

    /* Bootstrap interval of a ratio of medians: constant samples give exactly the ratio; a clear 2x
     * speedup gives an interval around 2 that excludes 1; two draws of one distribution include 1;
     * fewer than 2 samples give none; the same input gives the same interval. */
    double rl, rh, rl2, rh2;
    double four[] = {4, 4, 4}, two[] = {2, 2, 2, 2};
    tfb_ratio_ci(four, 3, two, 4, &rl, &rh);
    near("ratio CI constant lo", rl, 2.0, 0);
    near("ratio CI constant hi", rh, 2.0, 0);
    double fast[] = {20.1, 19.7, 20.4, 20.0, 19.9, 20.3}, slow[] = {10.2, 9.9, 10.0, 10.1, 9.8, 10.3};
    tfb_ratio_ci(fast, 6, slow, 6, &rl, &rh);
    if (!(rl > 1.8 && rl <= 2.0 && rh >= 2.0 && rh < 2.2)) {
        printf("FAIL ratio CI 2x: [%g, %g]\n", rl, rh);
        failures++;
    }
    double d1[] = {9.0, 11.0, 10.5, 9.5, 10.0, 10.2}, d2[] = {10.1, 9.2, 10.8, 9.9, 10.4, 9.7};
    tfb_ratio_ci(d1, 6, d2, 6, &rl, &rh);
    if (!(rl < 1.0 && rh > 1.0)) {
        printf("FAIL ratio CI same distribution: [%g, %g] excludes 1\n", rl, rh);
        failures++;
    }
    tfb_ratio_ci(d1, 6, d2, 6, &rl2, &rh2);
    near("ratio CI repeatable lo", rl2, rl, 0);
    near("ratio CI repeatable hi", rh2, rh, 0);
    tfb_ratio_ci(d1, 1, d2, 6, &rl, &rh);
    if (!isnan(rl) || !isnan(rh)) {
        printf("FAIL ratio CI with one sample: [%g, %g]\n", rl, rh);
        failures++;
    }

    if (failures)
        printf("%d failures\n", failures);
    else
        printf("ok\n");
    return failures ? 1 : 0;
}
