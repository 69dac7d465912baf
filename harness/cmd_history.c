/* `tfbench import results.json...` and `tfbench history`: loading results files into the results
 * database, and one metric over runs per machine, as a table and (--plot) a gnuplot figure drawn
 * through the report layer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"
#include "report.h"

/* ---- import ----------------------------------------------------------------------------------- */

int tfb_cmd_import(int argc, char **argv) {
    const char *url = NULL, *files[256];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--db", &v, &bad))
            url = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tfbench import [--db URL] RESULTS.json...   (--db defaults to $TFBENCH_DB)\n");
            return TFB_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1])
            return tfb_cli_usage("import", "unknown option '%s'", argv[i]);
        else if (n_files == 256)
            return tfb_cli_usage("import", "at most 256 files at once");
        else
            files[n_files++] = argv[i];
    }
    if (!(url = tfb_db_url(url)))
        return tfb_cli_usage("import", "no database: give --db URL or set TFBENCH_DB");
    if (!n_files)
        return tfb_cli_usage("import", "no results files (usage: tfbench import --db URL RESULTS.json...)");
    /* Every file is read before anything is written: a bad one leaves the database as it was. */
    tfb_results *res = calloc((size_t)n_files, sizeof *res);
    if (!res)
        return tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "out of memory"), "import");
    tfb_status st = TFB_STATUS_OK;
    int n_read = 0;
    for (; n_read < n_files && st == TFB_STATUS_OK; n_read++)
        st = tfb_results_read(files[n_read], &res[n_read]);
    int rc = st == TFB_STATUS_OK ? 0 : tfb_cli_fail(st, "import");
    tfb_db *db = NULL;
    if (rc == 0 && (st = tfb_db_open(url, true, &db)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "--db");
    for (int i = 0; rc == 0 && i < n_files; i++) {
        int64_t id = 0;
        bool dup = false;
        if ((st = tfb_db_import(db, &res[i], &id, &dup)) != TFB_STATUS_OK)
            rc = tfb_cli_fail(st, "--db");
        else if (dup)
            printf("import: %s: already stored as run %lld, skipped\n", files[i], (long long)id);
        else
            printf("import: %s: stored as run %lld (%zu rows)\n", files[i], (long long)id, res[i].n);
    }
    tfb_db_close(db);
    for (int i = 0; i < n_read; i++)
        tfb_results_free(&res[i]);
    free(res);
    return rc;
}

/* ---- history ---------------------------------------------------------------------------------- */

enum {
    H_MACHINE,
    H_BACKEND,
    H_MODEL,
    H_DTYPE,
    H_ACT,
    H_THREADS,
    H_TEST,
    H_METRIC,
    H_COMMIT,
    H_STARTED,
    H_RUN,
    H_MEDIAN,
    H_N,
    H_UNIT
};

static bool same_series(const tfb_db_rows *r, size_t a, size_t b) {
    for (int c = H_MACHINE; c <= H_METRIC; c++) {
        const char *x = tfb_db_at(r, a, (size_t)c), *y = tfb_db_at(r, b, (size_t)c);
        if (strcmp(x ? x : "", y ? y : "") != 0)
            return false;
    }
    return true;
}

/* One gnuplot figure: x = the run's position among the selected runs (labelled by commit), one
 * line per series. Data and script beside the output, rendered by tfb_rep_gnuplot. */
static tfb_status plot(const tfb_db_rows *r, const char *out) {
    const char *dot = strrchr(out, '.');
    const char *fmt = dot && strcmp(dot, ".svg") == 0   ? "svg"
                      : dot && strcmp(dot, ".png") == 0 ? "png"
                                                        : NULL;
    if (!fmt)
        return tfb_error_set(TFB_STATUS_USAGE, "--plot: %s: expected a .png or .svg file name", out);
    char dir[4096] = ".", base[1024];
    const char *slash = strrchr(out, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - out) ? (int)(slash - out) : 1, out);
    snprintf(base, sizeof base, "%.*s", (int)(dot - (slash ? slash + 1 : out)), slash ? slash + 1 : out);
    /* x positions: distinct runs in (started, id) order. */
    int64_t *runs = malloc((r->n_rows ? r->n_rows : 1) * sizeof *runs);
    if (!runs)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    size_t n_runs = 0;
    tfb_sbuf dat = {0}, gp = {0}, tics = {0};
    for (size_t i = 0; i < r->n_rows; i++) {
        int64_t id = atoll(tfb_db_at(r, i, H_RUN));
        bool seen = false;
        for (size_t k = 0; k < n_runs && !seen; k++)
            seen = runs[k] == id;
        if (!seen)
            runs[n_runs++] = id;
    }
    /* rows come ordered by series, then time: sort the run ids by id (ids grow with time). */
    for (size_t i = 1; i < n_runs; i++)
        for (size_t k = i; k > 0 && runs[k - 1] > runs[k]; k--) {
            int64_t t = runs[k];
            runs[k] = runs[k - 1];
            runs[k - 1] = t;
        }
    /* noenhanced: test and metric names have '_' and '@', which enhanced text would typeset. */
    bool one_unit = true;
    for (size_t i = 1; i < r->n_rows && one_unit; i++)
        one_unit = strcmp(tfb_db_at(r, i, H_UNIT) ? tfb_db_at(r, i, H_UNIT) : "",
                          tfb_db_at(r, 0, H_UNIT) ? tfb_db_at(r, 0, H_UNIT) : "") == 0;
    tfb_sbuf_printf(&gp, "set title \"tfbench history\" noenhanced\nset key below noenhanced\nset grid\n");
    tfb_sbuf_printf(&gp, "set xlabel \"run (commit #id)\"\nset ylabel \"median%s%s%s\" noenhanced\n",
                    one_unit ? " (" : "", one_unit ? tfb_db_at(r, 0, H_UNIT) : "", one_unit ? ")" : "");
    tfb_sbuf_printf(&gp, "set xtics rotate by -30 noenhanced\nset offsets 0.3, 0.3, 0, 0\n");
    tfb_sbuf_printf(&gp, "set terminal %s size 1200,700 noenhanced font \"Sans,11\"\nset output \"%s.%s\"\n",
                    strcmp(fmt, "png") == 0 ? "pngcairo" : "svg", base, fmt);
    int series = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        if (i == 0 || !same_series(r, i, i - 1)) {
            if (i)
                tfb_sbuf_printf(&dat, "\n\n");
            const char *th = tfb_db_at(r, i, H_THREADS);
            bool dflt = strcmp(th, "0") == 0;
            tfb_sbuf_printf(
                &gp,
                "%s \"%s.dat\" index %d using 1:2 with linespoints title \"%s %s %s %s%s%s%s%s %s "
                "%s\"",
                series ? ", \\\n    " : "plot ", base, series, tfb_db_at(r, i, H_MACHINE),
                tfb_db_at(r, i, H_BACKEND), tfb_db_at(r, i, H_MODEL), tfb_db_at(r, i, H_DTYPE),
                tfb_db_at(r, i, H_ACT)[0] ? "/a8" : "", dflt ? "" : " ", dflt ? "" : th, dflt ? "" : "t",
                tfb_db_at(r, i, H_TEST), tfb_db_at(r, i, H_METRIC));
            series++;
        }
        int64_t id = atoll(tfb_db_at(r, i, H_RUN));
        size_t x = 0;
        while (runs[x] != id)
            x++;
        tfb_sbuf_printf(&dat, "%zu %s\n", x + 1,
                        tfb_db_at(r, i, H_MEDIAN) ? tfb_db_at(r, i, H_MEDIAN) : "NaN");
    }
    tfb_sbuf_printf(&gp, "\n");
    for (size_t x = 0; x < n_runs; x++)
        for (size_t i = 0; i < r->n_rows; i++)
            if (atoll(tfb_db_at(r, i, H_RUN)) == runs[x]) {
                const char *c = tfb_db_at(r, i, H_COMMIT);
                tfb_sbuf_printf(&tics, "%s\"%.10s #%lld\" %zu", x ? ", " : "", c ? c : "?",
                                (long long)runs[x], x + 1);
                break;
            }
    free(runs);
    char path[5200];
    tfb_status st = TFB_STATUS_OK;
    snprintf(path, sizeof path, "%s/%s.dat", dir, base);
    FILE *f = fopen(path, "w");
    if (!f || fputs(dat.s ? dat.s : "", f) < 0)
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot write", path);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/%s.gp", dir, base);
    if (st == TFB_STATUS_OK && (f = fopen(path, "w"))) {
        fprintf(f, "set xtics (%s)\n%s", tics.s ? tics.s : "", gp.s);
        fclose(f);
    } else if (st == TFB_STATUS_OK) {
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot write", path);
    }
    tfb_sbuf_free(&dat);
    tfb_sbuf_free(&gp);
    tfb_sbuf_free(&tics);
    if (st != TFB_STATUS_OK)
        return st;
    snprintf(path, sizeof path, "%s.gp", base);
    int rc = tfb_rep_gnuplot(dir, path);
    if (rc == 127)
        return tfb_error_set(TFB_STATUS_IO, "--plot: gnuplot not found; render with: cd %s && gnuplot %s",
                             dir, path);
    if (rc != 0)
        return tfb_error_set(TFB_STATUS_INTERNAL, "--plot: gnuplot %s failed (exit %d)", path, rc);
    return TFB_STATUS_OK;
}

int tfb_cmd_history(int argc, char **argv) {
    const char *url = NULL, *out = NULL;
    bool force = false;
    /* Filters, in the order of the columns they narrow. */
    static const char *const flags[] = {"--machine", "--backend", "--model", "--dtype", "--test", "--metric"};
    static const char *const cols[] = {"u.machine", "r.backend", "r.model", "r.dtype", "r.test", "r.metric"};
    const char *filter[6] = {NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false, known = false;
        if (tfb_cli_opt(argc, argv, &i, "--db", &v, &bad)) {
            url = v;
            continue;
        }
        if (!bad && tfb_cli_opt(argc, argv, &i, "--plot", &v, &bad)) {
            out = v;
            continue;
        }
        for (int k = 0; k < 6 && !known && !bad; k++)
            if (tfb_cli_opt(argc, argv, &i, flags[k], &v, &bad))
                filter[k] = v, known = true;
        if (bad)
            return TFB_EXIT_USAGE;
        if (known)
            continue;
        if (strcmp(argv[i], "--force") == 0) {
            force = true;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: tfbench history [--db URL] [--machine H] [--backend B] [--model M] [--dtype D] "
                   "[--test T] [--metric X] [--plot out.png|svg [--force]]\n");
            return TFB_EXIT_OK;
        }
        return tfb_cli_usage("history", "unknown argument '%s'", argv[i]);
    }
    struct stat sb;
    if (out && !force && stat(out, &sb) == 0)
        return tfb_cli_usage("--plot", "%s: exists (use --force to overwrite)", out);
    if (!(url = tfb_db_url(url)))
        return tfb_cli_usage("history", "no database: give --db URL or set TFBENCH_DB");
    char sql[2048];
    int len = snprintf(sql, sizeof sql,
                       "SELECT u.machine, r.backend, r.model, r.dtype, r.act, r.threads, r.test, r.metric, "
                       "u.git_commit, u.started, u.id, r.median, r.n, r.unit FROM tfb_results r "
                       "JOIN tfb_runs u ON u.id = r.run_id WHERE 1 = 1");
    const char *params[6];
    int n_params = 0;
    for (int k = 0; k < 6; k++)
        if (filter[k]) {
            len += snprintf(sql + len, sizeof sql - (size_t)len, " AND %s = ?", cols[k]);
            params[n_params++] = filter[k];
        }
    snprintf(sql + len, sizeof sql - (size_t)len,
             " ORDER BY u.machine, r.backend, r.model, r.dtype, r.act, r.threads, r.test, r.metric, "
             "u.started, u.id");
    tfb_db *db;
    tfb_status st = tfb_db_open(url, false, &db);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "--db");
    tfb_db_rows r;
    st = tfb__db_query(db, sql, n_params, params, &r);
    tfb_db_close(db);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "--db");
    if (r.n_rows == 0) {
        tfb_db_rows_free(&r);
        return tfb_cli_usage("history", "no stored results match the filters");
    }
    printf("| machine | backend | model | dtype | threads | test | metric | run | commit | started | median "
           "| n |\n");
    printf("| --- | --- | --- | --- | ---: | --- | --- | ---: | --- | --- | ---: | ---: |\n");
    for (size_t i = 0; i < r.n_rows; i++) {
        const char *th = tfb_db_at(&r, i, H_THREADS), *c = tfb_db_at(&r, i, H_COMMIT);
        const char *med = tfb_db_at(&r, i, H_MEDIAN);
        printf("| %s | %s | %s | %s%s | %s | %s | %s | %s | %.12s | %s | %.5g %s | %s |\n",
               tfb_db_at(&r, i, H_MACHINE), tfb_db_at(&r, i, H_BACKEND), tfb_db_at(&r, i, H_MODEL),
               tfb_db_at(&r, i, H_DTYPE), tfb_db_at(&r, i, H_ACT)[0] ? "/a8" : "",
               strcmp(th, "0") == 0 ? "default" : th, tfb_db_at(&r, i, H_TEST), tfb_db_at(&r, i, H_METRIC),
               tfb_db_at(&r, i, H_RUN), c ? c : "", tfb_db_at(&r, i, H_STARTED), med ? atof(med) : NAN,
               tfb_db_at(&r, i, H_UNIT) ? tfb_db_at(&r, i, H_UNIT) : "", tfb_db_at(&r, i, H_N));
    }
    int rc = 0;
    if (out && (st = plot(&r, out)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "history");
    else if (out)
        printf("\nhistory: plot written to %s\n", out);
    tfb_db_rows_free(&r);
    return rc;
}
