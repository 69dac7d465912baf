/* Summary statistics and the Mann-Whitney U test. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static double *sorted_copy(const double *x, size_t n) {
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NULL;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return s;
}

/* Quantiles of Student's t at 0.975 for df = 1..30 (any statistics table). */
static const double t975_table[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120,  2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

double tfb_t975(size_t df) {
    if (df == 0)
        return NAN;
    if (df <= 30)
        return t975_table[df - 1];
    /* Cornish-Fisher expansion around the normal quantile; error < 1e-3 for df > 30. */
    double z = 1.959964, d = (double)df;
    return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

double tfb_percentile(const double *x, size_t n, double p) {
    if (n == 0)
        return NAN;
    double *s = sorted_copy(x, n);
    if (!s)
        return NAN;
    double r = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(r), hi = lo + 1 < n ? lo + 1 : lo;
    double v = s[lo] + (r - (double)lo) * (s[hi] - s[lo]);
    free(s);
    return v;
}

void tfb_stats_compute(const double *x, size_t n, bool harmonic, tfb_stats *out) {
    out->n = n;
    out->median = out->mean = out->stddev = out->ci95 = out->cv = out->min = out->max = NAN;
    if (n == 0)
        return;
    out->median = tfb_percentile(x, n, 50);
    double sum = 0, inv = 0;
    out->min = out->max = x[0];
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        inv += 1.0 / x[i];
        out->min = fmin(out->min, x[i]);
        out->max = fmax(out->max, x[i]);
    }
    double am = sum / (double)n;
    out->mean = harmonic ? (double)n / inv : am;
    if (n < 2)
        return;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - am) * (x[i] - am);
    out->stddev = sqrt(ss / (double)(n - 1));
    out->ci95 = tfb_t975(n - 1) * out->stddev / sqrt((double)n);
    out->cv = am != 0 ? out->stddev / fabs(am) : NAN;
}

typedef struct ranked {
    double v;
    int side; /* 0 = a, 1 = b */
} ranked;

static int cmp_ranked(const void *pa, const void *pb) {
    return cmp_double(&((const ranked *)pa)->v, &((const ranked *)pb)->v);
}

double tfb_mann_whitney(const double *a, size_t na, const double *b, size_t nb, double *u) {
    *u = NAN;
    if (na == 0 || nb == 0)
        return 1.0;
    size_t n = na + nb;
    ranked *r = malloc(n * sizeof *r);
    if (!r)
        return 1.0;
    for (size_t i = 0; i < na; i++)
        r[i] = (ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] = (ranked){b[i], 1};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Midranks; ties contribute t^3 - t to the variance correction. */
    double rank_a = 0, tie_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double mid = ((double)(i + 1) + (double)(j + 1)) / 2.0, t = (double)(j - i + 1);
        tie_sum += t * t * t - t;
        for (size_t k = i; k <= j; k++)
            if (r[k].side == 0)
                rank_a += mid;
        i = j + 1;
    }
    free(r);
    double n1 = (double)na, n2 = (double)nb, N = (double)n;
    *u = rank_a - n1 * (n1 + 1) / 2.0;
    double mu = n1 * n2 / 2.0;
    double var = n1 * n2 / 12.0 * ((N + 1) - tie_sum / (N * (N - 1)));
    if (var <= 0)
        return 1.0;
    double z = (fabs(*u - mu) - 0.5) / sqrt(var);
    if (z < 0)
        z = 0;
    double p = erfc(z / sqrt(2.0));
    return p > 1.0 ? 1.0 : p;
}

/* xorshift64*: a small, fixed-seed generator for the bootstrap (repeatable, not cryptographic). */
static uint64_t next_rand(uint64_t *st) {
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * 2685821657736338717ull;
}

static double resampled_median(const double *x, size_t n, double *tmp, uint64_t *rng) {
    for (size_t i = 0; i < n; i++)
        tmp[i] = x[next_rand(rng) % n];
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

void tfb_ratio_ci(const double *a, size_t na, const double *b, size_t nb, double *lo, double *hi) {
    enum { B = 2000 };
    *lo = *hi = NAN;
    if (na < 2 || nb < 2)
        return;
    double *ratio = malloc(B * sizeof *ratio), *tmp = malloc((na > nb ? na : nb) * sizeof *tmp);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    if (ratio && tmp) {
        for (int i = 0; i < B; i++) {
            double ma = resampled_median(a, na, tmp, &rng);
            ratio[i] = ma / resampled_median(b, nb, tmp, &rng);
        }
        *lo = tfb_percentile(ratio, B, 2.5);
        *hi = tfb_percentile(ratio, B, 97.5);
    }
    free(ratio);
    free(tmp);
}
