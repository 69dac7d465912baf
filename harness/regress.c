/* `tfbench regress --base REF --new REF [--threshold 5]`: every (machine, backend, model, dtype,
 * threads, test, metric) present at both REFs compared on the pooled raw samples of the runs at each
 * REF on that machine. A change is called only when the Mann-Whitney test (exact without ties and
 * with at most 8 samples a side, else the normal approximation) gives p < 0.05 and the median moved
 * more than the threshold; where even the most extreme exact result could not reach p < 0.05 the
 * pair is "insufficient samples", never "no change". Exit 1 when something regressed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"

static bool same_key(const tfb_result_row *a, const tfb_result_row *b) {
    return strcmp(a->backend, b->backend) == 0 && strcmp(a->model, b->model) == 0 &&
           strcmp(a->dtype, b->dtype) == 0 && strcmp(a->act, b->act) == 0 && a->threads == b->threads &&
           strcmp(a->test, b->test) == 0 && strcmp(a->kind, b->kind) == 0 &&
           strcmp(a->metric, b->metric) == 0;
}

typedef struct regress_counts {
    int pairs, regressed, improved, unchanged, insufficient;
} regress_counts;

static void compare_machine(const char *machine, const tfb_results *base, const tfb_results *cur,
                            double threshold, regress_counts *c) {
    const double alpha = 0.05;
    for (size_t i = 0; i < base->n; i++) {
        const tfb_result_row *a = &base->rows[i], *b = NULL;
        for (size_t k = 0; k < cur->n && !b; k++)
            if (same_key(a, &cur->rows[k]))
                b = &cur->rows[k];
        if (!b)
            continue;
        c->pairs++;
        /* change > 0: the median moved the good way for this metric. */
        double ratio = b->st.median / a->st.median;
        double change = a->higher_is_better ? ratio - 1.0 : 1.0 / ratio - 1.0;
        double u, p = NAN;
        const char *verdict;
        if (tfb_mann_whitney_min_p(a->n_samples, b->n_samples) >= alpha) {
            verdict = "insufficient samples";
            c->insufficient++;
        } else {
            p = tfb_mann_whitney_auto(b->samples, b->n_samples, a->samples, a->n_samples, &u, NULL);
            bool moved = isfinite(change) && fabs(ratio - 1.0) > threshold;
            if (p < alpha && moved && change < 0) {
                verdict = "REGRESSED";
                c->regressed++;
            } else if (p < alpha && moved) {
                verdict = "improved";
                c->improved++;
            } else {
                verdict = "no change";
                c->unchanged++;
            }
        }
        char th[16], dt[16], ps[16] = "-";
        snprintf(th, sizeof th, "%d", a->threads);
        if (isfinite(p))
            snprintf(ps, sizeof ps, "%.3g", p);
        printf("| %s | %s | %s | %s | %s | %s | %s | %.4g (%zu) | %.4g (%zu) | %+.1f%% | %s | %s |\n",
               machine, a->backend, a->model, tfb_result_dtype_label(a, dt, sizeof dt),
               a->threads ? th : "default", a->test, a->metric, a->st.median, a->n_samples, b->st.median,
               b->n_samples, 100.0 * change, ps, verdict);
    }
}

int tfb_cmd_regress(int argc, char **argv) {
    const char *url = NULL, *base_ref = NULL, *new_ref = NULL, *only = NULL;
    double threshold = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--db", &v, &bad))
            url = v;
        else if (!bad && tfb_cli_opt(argc, argv, &i, "--base", &v, &bad))
            base_ref = v;
        else if (!bad && tfb_cli_opt(argc, argv, &i, "--new", &v, &bad))
            new_ref = v;
        else if (!bad && tfb_cli_opt(argc, argv, &i, "--machine", &v, &bad))
            only = v;
        else if (!bad && tfb_cli_opt(argc, argv, &i, "--threshold", &v, &bad)) {
            char *end;
            threshold = strtod(v, &end);
            if (*end == '%')
                end++;
            if (end == v || *end || !(threshold >= 0) || threshold >= 100)
                return tfb_cli_usage("--threshold", "expected a percentage like 5 or 5%%, got '%s'", v);
            threshold /= 100.0;
        } else if (bad) {
            return TFB_EXIT_USAGE;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tfbench regress [--db URL] --base REF --new REF [--threshold 5] [--machine H]\n"
                   "  REF: a run id (N or run:N), a date prefix (2026-12-06), or a commit prefix "
                   "(commit:abc)\n");
            return TFB_EXIT_OK;
        } else {
            return tfb_cli_usage("regress", "unknown argument '%s'", argv[i]);
        }
    }
    if (!(url = tfb_db_url(url)))
        return tfb_cli_usage("regress", "no database: give --db URL or set TFBENCH_DB");
    if (!base_ref || !new_ref)
        return tfb_cli_usage("regress", "--base REF and --new REF are required");
    tfb_db *db;
    tfb_status st = tfb_db_open(url, false, &db);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "--db");
    int64_t *ids[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    const char *refs[2] = {base_ref, new_ref};
    for (int s = 0; s < 2 && st == TFB_STATUS_OK; s++)
        if ((st = tfb_db_find_runs(db, refs[s], only, &ids[s], &n[s])) == TFB_STATUS_OK && n[s] == 0)
            st = tfb_error_set(TFB_STATUS_INPUT, "%s: no run matches %s '%s'%s%s", tfb_db_label(db),
                               s ? "--new" : "--base", refs[s], only ? " on machine " : "", only ? only : "");
    tfb_db_rows machines = {0};
    if (st == TFB_STATUS_OK)
        st = tfb_db_machines(db, ids[0], n[0], &machines);
    free(ids[0]);
    free(ids[1]);
    if (st != TFB_STATUS_OK) {
        tfb_db_close(db);
        return tfb_cli_fail(st, "regress");
    }
    printf("| machine | backend | model | dtype | threads | test | metric | base (n) | new (n) | change | p "
           "| verdict |\n");
    printf("| --- | --- | --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
    regress_counts c = {0};
    for (size_t m = 0; m < machines.n_rows && st == TFB_STATUS_OK; m++) {
        const char *machine = tfb_db_at(&machines, m, 0);
        tfb_results base, cur;
        if ((st = tfb_db_load_ref(db, base_ref, machine, &base)) != TFB_STATUS_OK)
            break;
        st = tfb_db_load_ref(db, new_ref, machine, &cur);
        if (st == TFB_STATUS_INPUT) { /* this machine has no run at the new REF: nothing to compare */
            tfb_results_free(&base);
            st = TFB_STATUS_OK;
            continue;
        }
        if (st == TFB_STATUS_OK) {
            compare_machine(machine, &base, &cur, threshold, &c);
            tfb_results_free(&cur);
        }
        tfb_results_free(&base);
    }
    tfb_db_rows_free(&machines);
    tfb_db_close(db);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "regress");
    if (c.pairs == 0)
        return tfb_cli_usage(
            "regress", "no (machine, backend, model, dtype, test, metric) is stored at both '%s' and '%s'",
            base_ref, new_ref);
    printf("\nregress: %d compared: %d regressed, %d improved, %d no change, %d insufficient samples "
           "(Mann-Whitney p < 0.05 and median moved > %.1f%%)\n",
           c.pairs, c.regressed, c.improved, c.unchanged, c.insufficient, 100 * threshold);
    return c.regressed ? TFB_EXIT_FAIL : TFB_EXIT_OK;
}
