/* Summary statistics for benchmark samples: median, mean (arithmetic or harmonic), stddev,
 * 95% confidence interval from the t-distribution, coefficient of variation, percentiles, and the
 * Mann-Whitney U rank test (normal approximation with tie and continuity correction). */
#ifndef TFB_HARNESS_STATS_H
#define TFB_HARNESS_STATS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tfb_stats {
    size_t n;
    double median;
    double mean;   /* arithmetic, or harmonic when computed for a rate */
    double stddev; /* sample standard deviation (n-1); NAN when n < 2 */
    double ci95;   /* half-width of the 95% CI of the mean: t(0.975, n-1) * stddev / sqrt(n); NAN when n < 2 */
    double cv;     /* stddev / arithmetic mean; NAN when n < 2 */
    double min, max;
} tfb_stats;

/* Summarise x[0..n). harmonic: the mean is the harmonic mean (rates: tokens/s); stddev, CI and CV
 * are always of the samples as given. n == 0 gives all NAN. */
void tfb_stats_compute(const double *x, size_t n, bool harmonic, tfb_stats *out);
/* Percentile p in [0, 100] with linear interpolation between closest ranks (numpy's default). */
double tfb_percentile(const double *x, size_t n, double p);
/* Two-sided 97.5% quantile of Student's t with df degrees of freedom. */
double tfb_t975(size_t df);
/* Mann-Whitney U test of a vs b: *u gets U of a (count of pairs a > b, ties half), returns the
 * two-sided p-value of the normal approximation with tie correction and continuity correction
 * (scipy.stats.mannwhitneyu(method="asymptotic")). 1.0 when either side is empty or all values tie. */
double tfb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u);

/* Two-sided p of the exact Mann-Whitney test for U (of either side) with n1 and n2 samples and no
 * ties: 2 * P(U' >= max(U, n1*n2 - U)), capped at 1 (mwu.c). */
double tfb_mann_whitney_exact_p(size_t n1, size_t n2, double u);
/* The smallest two-sided p the exact test can give with n1 and n2 samples: 2 / C(n1 + n2, n1). When
 * it is 0.05 or more (3 samples a side: 0.1) no result can be significant: "insufficient samples". */
double tfb_mann_whitney_min_p(size_t n1, size_t n2);
/* scipy.stats.mannwhitneyu(method="auto"): exact when there are no ties and one side has at most 8
 * samples (and na*nb <= 4000, where the table stays cheap), else the normal approximation of
 * tfb_mann_whitney. *u as there; *exact (may be NULL) says
 * which was used. */
double tfb_mann_whitney_auto(const double *a, size_t na, const double *b, size_t nb, double *u, bool *exact);

/* 95% percentile-bootstrap interval of median(a) / median(b): 2000 resamples of each side with a
 * fixed-seed generator, so the same samples always give the same interval. NAN unless both sides
 * have at least 2 samples. */
void tfb_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double *lo, double *hi);

#endif
