/* The exact null distribution of the Mann-Whitney U statistic, and the test as regress runs it:
 * exact when there are no ties and one side has at most 8 samples (and na*nb <= 4000), else the
 * normal approximation (stats.c) — scipy.stats.mannwhitneyu's method="auto". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

double tfb_mann_whitney_exact_p(size_t n1, size_t n2, double u) {
    if (n1 == 0 || n2 == 0)
        return 1.0;
    if (n1 > n2) { /* the distribution is symmetric in the two sizes: keep the table small */
        size_t t = n1;
        n1 = n2;
        n2 = t;
    }
    size_t deg = n1 * n2;
    /* g[n][k]: partitions of k into at most n parts, each at most m (m = 0, 1, ..., n2 in turn); at
     * m = n2 that is the number of arrangements of the two samples with U = k. Sums of positive
     * counts only, so doubles keep their relative precision. */
    double *g = calloc((n1 + 1) * (deg + 1), sizeof *g);
    if (!g)
        return NAN;
    for (size_t n = 0; n <= n1; n++)
        g[n * (deg + 1)] = 1.0;
    for (size_t m = 1; m <= n2; m++)
        for (size_t n = 1; n <= n1; n++)
            for (size_t k = deg; k >= m; k--) {
                g[n * (deg + 1) + k] += g[(n - 1) * (deg + 1) + k - m];
                if (k == m)
                    break;
            }
    double total = 0, tail = 0;
    double um = fmax(u, (double)deg - u); /* the larger of U1 and U2 */
    const double *f = g + n1 * (deg + 1);
    for (size_t k = 0; k <= deg; k++) {
        total += f[k];
        if ((double)k >= um - 1e-9)
            tail += f[k];
    }
    free(g);
    double p = 2.0 * tail / total;
    return p < 1.0 ? p : 1.0;
}

double tfb_mann_whitney_min_p(size_t n1, size_t n2) {
    if (n1 == 0 || n2 == 0)
        return 1.0;
    double c = 1.0; /* C(n1 + n2, n1) */
    for (size_t i = 1; i <= n1; i++)
        c = c * (double)(n2 + i) / (double)i;
    double p = 2.0 / c;
    return p < 1.0 ? p : 1.0;
}

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static bool has_ties(const double *a, size_t na, const double *b, size_t nb) {
    size_t n = na + nb;
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return true;
    memcpy(x, a, na * sizeof *x);
    memcpy(x + na, b, nb * sizeof *x);
    qsort(x, n, sizeof *x, cmp_double);
    bool tie = false;
    for (size_t i = 1; i < n && !tie; i++)
        tie = x[i] == x[i - 1];
    free(x);
    return tie;
}

double tfb_mann_whitney_auto(const double *a, size_t na, const double *b, size_t nb, double *u, bool *exact) {
    double p = tfb_mann_whitney(a, na, b, nb, u);
    /* The table costs (na*nb)^2 steps: beyond na*nb = 4000 (8 against 500) the normal approximation
     * is as good and scipy's faster exact algorithm is not worth its code here. */
    bool ex = na && nb && (na <= 8 || nb <= 8) && na * nb <= 4000 && !has_ties(a, na, b, nb);
    if (ex)
        p = tfb_mann_whitney_exact_p(na, nb, *u);
    if (exact)
        *exact = ex;
    return p;
}
