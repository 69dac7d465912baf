/* The conformance comparator: NaN and inf rules first, then NMSE and the per-element bound, then the
 * degenerate-output rule. Also the verdict names, the result list and the deterministic random
 * numbers the cases draw their inputs from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

static const char *const verdict_names[] = {
    [TFB_CF_PASS] = "pass",
    [TFB_CF_NEAR_TIE] = "near-tie",
    [TFB_CF_MISTRUSTED] = "mistrusted",
    [TFB_CF_UNSUPPORTED] = "unsupported",
    [TFB_CF_UNAVAILABLE] = "unavailable",
    [TFB_CF_FAIL] = "FAIL",
    [TFB_CF_ERROR] = "ERROR",
};

const char *tfb__cf_verdict_name(tfb_cf_verdict v) {
    return verdict_names[v];
}

bool tfb__cf_verdict_fails(tfb_cf_verdict v) {
    return v == TFB_CF_FAIL || v == TFB_CF_ERROR;
}

/* ---- random numbers ------------------------------------------------------------------------------ */

uint64_t tfb__cf_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float tfb__cf_uniform(uint64_t *state, float lo, float hi) {
    double u = (double)(tfb__cf_rand(state) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
    return (float)(lo + (hi - lo) * u);
}

/* ---- guard bytes ------------------------------------------------------------------------------------ */

static unsigned char guard_byte(int64_t i, uint32_t seed) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 15;
    return (unsigned char)(h * 2246822519u >> 24);
}

void tfb__cf_guard_fill(unsigned char *p, int64_t n, uint32_t seed) {
    for (int64_t i = 0; i < n; i++)
        p[i] = guard_byte(i, seed);
}

int64_t tfb__cf_guard_first_diff(const unsigned char *p, int64_t n, uint32_t seed) {
    for (int64_t i = 0; i < n; i++)
        if (p[i] != guard_byte(i, seed))
            return i;
    return -1;
}

/* ---- comparison --------------------------------------------------------------------------------------- */

bool tfb__cf_degenerate(const float *v, int64_t n) {
    if (n <= 0)
        return true;
    int64_t zeros = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        zeros += v[i] == 0.0f;
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    }
    if ((double)zeros > 0.8 * (double)n)
        return true;
    if (lo > hi) /* nothing finite */
        return true;
    double mag = fabs((double)lo) > fabs((double)hi) ? fabs((double)lo) : fabs((double)hi);
    return (double)hi - (double)lo <= 1e-6 * mag;
}

static void add_first(tfb_cf_cmp *r, int64_t i) {
    if (r->n_first < TFB_CF_MAX_FIRST)
        r->first_bad[r->n_first++] = i;
}

void tfb__cf_compare(const float *x, const float *ref, int64_t n, double tol, tfb_cf_cmp *r) {
    tfb__cf_compare_elem(x, ref, n, tol, tol, r);
}

void tfb__cf_compare_elem(const float *x, const float *ref, int64_t n, double tol, double etol, tfb_cf_cmp *r) {
    memset(r, 0, sizeof *r);
    r->worst = -1;
    r->threshold = tol * tol;
    /* NaN on either side, or an inf not matched in sign, fails before any arithmetic. */
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(ref[i])) {
            r->verdict = TFB_CF_FAIL;
            r->nmse = NAN;
            r->worst = i;
            snprintf(r->detail, sizeof r->detail, "NaN at [%lld]: got %g, reference %g", (long long)i,
                     (double)x[i], (double)ref[i]);
            return;
        }
        if ((isinf(x[i]) || isinf(ref[i])) && x[i] != ref[i]) {
            r->verdict = TFB_CF_FAIL;
            r->nmse = INFINITY;
            r->worst = i;
            snprintf(r->detail, sizeof r->detail, "inf mismatch at [%lld]: got %g, reference %g",
                     (long long)i, (double)x[i], (double)ref[i]);
            return;
        }
    }
    double sd = 0.0, sr = 0.0;
    int64_t nf = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isinf(ref[i]))
            continue; /* matched infs: equal, and they would poison the sums */
        double d = (double)x[i] - (double)ref[i];
        sd += d * d;
        sr += (double)ref[i] * ref[i];
        nf++;
    }
    r->rms_ref = nf ? sqrt(sr / (double)nf) : 0.0;
    r->nmse = sr > 0.0 ? sd / sr : (sd > 0.0 ? INFINITY : 0.0);
    double atol = etol * r->rms_ref, worst_ratio = -1.0;
    for (int64_t i = 0; i < n; i++) {
        if (isinf(ref[i]))
            continue;
        double d = fabs((double)x[i] - (double)ref[i]);
        r->max_abs = d > r->max_abs ? d : r->max_abs;
        double bound = atol + etol * fabs((double)ref[i]);
        double ratio = bound > 0.0 ? d / bound : (d > 0.0 ? INFINITY : 0.0);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            r->worst = i;
        }
        if (d > bound) {
            r->n_bad++;
            add_first(r, i);
        }
    }
    if (r->n_bad > 0 || r->nmse > r->threshold) {
        r->verdict = TFB_CF_FAIL;
        int len = snprintf(r->detail, sizeof r->detail,
                           "%lld of %lld elements off; worst [%lld] got %.9g ref %.9g", (long long)r->n_bad,
                           (long long)n, (long long)r->worst, (double)x[r->worst], (double)ref[r->worst]);
        for (int k = 0; k < r->n_first && len > 0 && (size_t)len < sizeof r->detail; k++) {
            int64_t i = r->first_bad[k];
            len += snprintf(r->detail + len, sizeof r->detail - (size_t)len, "%s [%lld] %.7g vs %.7g",
                            k ? "," : "; first:", (long long)i, (double)x[i], (double)ref[i]);
        }
        if (r->n_bad == 0 && len > 0 && (size_t)len < sizeof r->detail)
            snprintf(r->detail + len, sizeof r->detail - (size_t)len, "; NMSE %.3g > %.3g", r->nmse,
                     r->threshold);
        return;
    }
    if (tfb__cf_degenerate(x, n) && tfb__cf_degenerate(ref, n)) {
        r->verdict = TFB_CF_MISTRUSTED;
        snprintf(r->detail, sizeof r->detail,
                 "both outputs are mostly zeros or constant: the case proves nothing");
        return;
    }
    r->verdict = TFB_CF_PASS;
    if (r->worst >= 0)
        snprintf(r->detail, sizeof r->detail, "max |err| %.3g at [%lld]", r->max_abs, (long long)r->worst);
}

void tfb__cf_compare_i32(const int32_t *x, const int32_t *ref, int64_t n, tfb_cf_cmp *r) {
    memset(r, 0, sizeof *r);
    r->worst = -1;
    bool constant = true;
    for (int64_t i = 0; i < n; i++) {
        constant = constant && ref[i] == ref[0] && x[i] == ref[0];
        if (x[i] != ref[i]) {
            if (r->worst < 0)
                r->worst = i;
            r->n_bad++;
            add_first(r, i);
        }
    }
    r->nmse = (double)r->n_bad / (double)(n ? n : 1); /* the fraction wrong */
    if (r->n_bad) {
        r->verdict = TFB_CF_FAIL;
        snprintf(r->detail, sizeof r->detail, "%lld of %lld indices differ; first [%lld] got %d ref %d",
                 (long long)r->n_bad, (long long)n, (long long)r->worst, x[r->worst], ref[r->worst]);
    } else if (constant && n > 1) {
        r->verdict = TFB_CF_MISTRUSTED;
        snprintf(r->detail, sizeof r->detail, "every index is %d on both sides: the case proves nothing",
                 ref[0]);
    } else {
        r->verdict = TFB_CF_PASS;
    }
}

bool tfb__cf_near_tie(const float *ref, int64_t n, double tol, double *margin, double *allowed) {
    int64_t a = 0;
    double sr = 0.0;
    for (int64_t i = 0; i < n; i++) {
        a = ref[i] > ref[a] ? i : a;
        sr += (double)ref[i] * ref[i];
    }
    double second = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (i != a && ref[i] > second)
            second = ref[i];
    double m = (double)ref[a] - second;
    double al = 2.0 * tol * (sqrt(sr / (double)(n ? n : 1)) + fabs((double)ref[a]));
    if (margin)
        *margin = m;
    if (allowed)
        *allowed = al;
    return m <= al;
}

/* ---- results ------------------------------------------------------------------------------------------ */

tfb_cf_result *tfb__cf_add(tfb_cf_report *rep) {
    if (rep->n == rep->cap) {
        int cap = rep->cap ? rep->cap * 2 : 64;
        tfb_cf_result *r = realloc(rep->r, (size_t)cap * sizeof *r);
        TFB_ASSERT(r != NULL);
        rep->r = r;
        rep->cap = cap;
    }
    tfb_cf_result *r = &rep->r[rep->n++];
    memset(r, 0, sizeof *r);
    return r;
}

void tfb__cf_report_free(tfb_cf_report *rep) {
    for (int i = 0; i < rep->n; i++)
        cJSON_Delete(rep->r[i].extra);
    free(rep->r);
    memset(rep, 0, sizeof *rep);
}
