/* `tfbench compare BASE.json NEW.json`: rows matched by their parameters (backend, model, dtype,
 * act, threads, test, kind, metric), both medians and the speedup; a change is called significant only when
 * the Mann-Whitney U test on the raw samples gives p < 0.05 and the effect exceeds the threshold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "results.h"

static bool same_key(const tfb_result_row *a, const tfb_result_row *b) {
    /* act is part of the identity: a q4_0 row with 8-bit activations is other numerics, never a
     * speedup of a plain q4_0 row. */
    return strcmp(a->backend, b->backend) == 0 && strcmp(a->model, b->model) == 0 &&
           strcmp(a->dtype, b->dtype) == 0 && strcmp(a->act, b->act) == 0 && a->threads == b->threads &&
           strcmp(a->test, b->test) == 0 && strcmp(a->kind, b->kind) == 0 && strcmp(a->metric, b->metric) == 0;
}

int tfb_cmd_compare(int argc, char **argv) {
    const char *paths[2] = {NULL, NULL}, *url = NULL, *machine = NULL;
    int n_paths = 0;
    double threshold = 0.05, alpha = 0.05;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--threshold", &v, &bad)) {
            char *end;
            threshold = strtod(v, &end);
            if (*end == '%')
                end++;
            if (end == v || *end || !(threshold >= 0) || threshold >= 100)
                return tfb_cli_usage("--threshold", "expected a percentage like 5 or 5%%, got '%s'", v);
            threshold /= 100.0;
        } else if (!bad && tfb_cli_opt(argc, argv, &i, "--db", &v, &bad)) {
            url = v;
        } else if (!bad && tfb_cli_opt(argc, argv, &i, "--machine", &v, &bad)) {
            machine = v;
        } else if (bad) {
            return TFB_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return tfb_cli_usage("compare", "unknown option '%s'", argv[i]);
        } else if (n_paths < 2) {
            paths[n_paths++] = argv[i];
        } else {
            return tfb_cli_usage("compare", "expected two results files, got a third: '%s'", argv[i]);
        }
    }
    if (n_paths != 2)
        return tfb_cli_usage("compare", "usage: tfbench compare BASE NEW [--threshold 5] [--db URL] [--machine H] "
                                        "(BASE, NEW: results files or database REFs)");
    tfb_results base, cur;
    /* Files, or REFs of the results database (every run at a REF pooled, as regress does). */
    url = tfb_db_url(url);
    tfb_status st = tfb_db_read_selector(paths[0], url, machine, &base);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "compare");
    if ((st = tfb_db_read_selector(paths[1], url, machine, &cur)) != TFB_STATUS_OK) {
        tfb_results_free(&base);
        return tfb_cli_fail(st, "compare");
    }
    printf("| backend | model | dtype | threads | test | metric | base | new | speedup | p | verdict |\n");
    printf("| --- | --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
    int matched = 0, n_better = 0, n_worse = 0;
    for (size_t i = 0; i < base.n; i++) {
        const tfb_result_row *a = &base.rows[i], *b = NULL;
        for (size_t k = 0; k < cur.n && !b; k++)
            if (same_key(a, &cur.rows[k]))
                b = &cur.rows[k];
        if (!b)
            continue;
        matched++;
        /* Speedup > 1 means NEW is better, whichever direction the metric counts. */
        double ratio = b->st.median / a->st.median;
        double speedup = a->higher_is_better ? ratio : 1.0 / ratio;
        double u;
        double p = tfb_mann_whitney(b->samples, b->n_samples, a->samples, a->n_samples, &u);
        bool significant = p < alpha && fabs(speedup - 1.0) > threshold;
        const char *verdict = !significant ? "~" : speedup > 1 ? "better" : "WORSE";
        n_better += significant && speedup > 1;
        n_worse += significant && speedup < 1;
        char th[16], dt[16];
        snprintf(th, sizeof th, "%d", a->threads);
        printf("| %s | %s | %s | %s | %s | %s | %.4g | %.4g | %.3fx | %.3g | %s |\n", a->backend, a->model,
               tfb_result_dtype_label(a, dt, sizeof dt), a->threads ? th : "default", a->test, a->metric,
               a->st.median, b->st.median, speedup, p, verdict);
    }
    printf("\n%d rows matched (%zu in base, %zu in new); %d significantly better, %d significantly worse "
           "(Mann-Whitney p < %.2f and |change| > %.1f%%)\n",
           matched, base.n, cur.n, n_better, n_worse, alpha, 100 * threshold);
    tfb_results_free(&base);
    tfb_results_free(&cur);
    if (matched == 0)
        return tfb_cli_usage("compare", "no rows of %s match rows of %s", paths[0], paths[1]);
    return 0;
}
