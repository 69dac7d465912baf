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

/* 95% percentile-bootstrap interval of median(a) / median(b): 2000 resamples of each side with a
 * fixed-seed generator, so the same samples always give the same interval. NAN unless both sides
 * have at least 2 samples. */
void tfb_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double *lo, double *hi);

#endif
