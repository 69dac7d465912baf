/* The Mann-Whitney test regress uses, against known values. scipy.stats.mannwhitneyu's documentation
 * gives the first example (males vs females: U = 17, method="exact" p = 0.1111111111111111,
 * method="asymptotic" p = 0.11134688653314041); the other exact p-values were enumerated over every
 * arrangement of the pooled ranks in Python (the script is in tests/db/README.md), which is what scipy's
 * exact method computes. A test that cannot fail is a defect: each value is checked to 1e-12. */
#include <math.h>
#include <stdio.h>

#include "stats.h"

static int failures;

static void near(const char *what, double got, double want, double tol) {
    if (!(fabs(got - want) <= tol)) {
        printf("FAIL %s: got %.17g, want %.17g (tol %g)\n", what, got, want, tol);
        failures++;
    }
}

int main(void) {
    double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    double u;
    bool exact;
    double p = tfb_mann_whitney_auto(males, 5, females, 4, &u, &exact);
    near("scipy doc U", u, 17, 0);
    near("scipy doc exact p", p, 0.1111111111111111, 1e-12);
    if (!exact)
        printf("FAIL scipy doc: no ties and 4 samples a side must use the exact test\n"), failures++;
    near("scipy doc asymptotic p", tfb_mann_whitney(males, 5, females, 4, &u), 0.11134688653314041, 1e-12);
    /* Either side first: the same two-sided p. */
    near("swapped exact p", tfb_mann_whitney_auto(females, 4, males, 5, &u, NULL), 0.1111111111111111, 1e-12);
    near("swapped U", u, 3, 0);

    /* Three a side, fully separated: the smallest exact p, 2/C(6,3) = 0.1, which is never < 0.05. */
    double a3[] = {1, 2, 3}, b3[] = {4, 5, 6};
    near("3v3 separated", tfb_mann_whitney_auto(a3, 3, b3, 3, &u, NULL), 0.1, 1e-12);
    near("min p 3v3", tfb_mann_whitney_min_p(3, 3), 0.1, 1e-12);
    near("min p 3v4", tfb_mann_whitney_min_p(3, 4), 2.0 / 35, 1e-12);
    near("min p 4v4", tfb_mann_whitney_min_p(4, 4), 2.0 / 70, 1e-12);
    near("min p 5v5", tfb_mann_whitney_min_p(5, 5), 2.0 / 252, 1e-12);
    near("min p 1v1", tfb_mann_whitney_min_p(1, 1), 1.0, 0);

    /* 8 vs 9 overlapping: U = 68, exact p = 0.0009872480460715754 (enumerated). */
    double a8[] = {10.1, 10.5, 9.8, 10.9, 11.2, 10.3, 10.7, 11.5};
    double b9[] = {9.9, 9.5, 9.7, 10.0, 9.2, 9.6, 10.2, 9.4, 9.1};
    p = tfb_mann_whitney_auto(a8, 8, b9, 9, &u, &exact);
    near("8v9 U", u, 68, 0);
    near("8v9 exact p", p, 0.0009872480460715754, 1e-12);
    /* Identical samples in distribution: U at the centre gives p = 1. */
    near("centre", tfb_mann_whitney_exact_p(4, 4, 8), 1.0, 1e-12);
    /* Ties: the normal approximation. */
    double t1[] = {1, 2, 2, 3, 4}, t2[] = {2, 3, 3, 5, 6};
    tfb_mann_whitney_auto(t1, 5, t2, 5, &u, &exact);
    if (exact)
        printf("FAIL ties must use the normal approximation\n"), failures++;
    /* 8 against 1000 without ties: past the exact table's bound, the normal approximation (and fast). */
    static double big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = 0.5 + i;
    tfb_mann_whitney_auto(a8, 8, big, 1000, &u, &exact);
    if (exact)
        printf("FAIL 8 vs 1000 must use the normal approximation\n"), failures++;
    near("min p 8v1000 tiny", tfb_mann_whitney_min_p(8, 1000) < 1e-15, 1, 0);
    printf("test_mwu: %d failure(s)\n", failures);
    return failures != 0;
}
