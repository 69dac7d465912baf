/* report --db: runs of the results database written as results files into DIR/db-runs/ (one per
 * run, db-run-N.json, kept beside the report as its inputs), which the report layer then renders
 * exactly as it renders any file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"

static tfb_status export_run(tfb_db *db, int64_t id, const char *dir, bool force, char **path) {
    tfb_results r;
    tfb_status st = tfb_db_load(db, &id, 1, &r);
    if (st != TFB_STATUS_OK)
        return st;
    char p[4200];
    snprintf(p, sizeof p, "%s/db-run-%lld.json", dir, (long long)id);
    char *json = tfb_results_to_json(&r);
    tfb_results_free(&r);
    if (!json)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    tfb_atomic_file af;
    if ((st = tfb_atomic_open(&af, p, force)) == TFB_STATUS_OK) {
        if (fputs(json, af.f) < 0 || fputc('\n', af.f) < 0) {
            tfb_atomic_abort(&af);
            st = tfb_error_set(TFB_STATUS_IO, "%s: write failed", p);
        } else {
            st = tfb_atomic_commit(&af);
        }
    }
    free(json);
    if (st == TFB_STATUS_OK && !(*path = strdup(p)))
        st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    return st;
}

tfb_status tfb_db_export(const char *url, const char *const *refs, int n_refs, const char *out, bool force,
                         char ***paths, int *n) {
    *paths = NULL;
    *n = 0;
    tfb_db *db;
    tfb_status st = tfb_db_open(url, false, &db);
    if (st != TFB_STATUS_OK)
        return st;
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (n_refs == 0) { /* the newest bench run of every machine */
        tfb_db_rows r;
        st = tfb__db_query(
            db, "SELECT MAX(id) FROM tfb_runs WHERE kind = 'bench' GROUP BY machine ORDER BY MAX(id)", 0,
            NULL, &r);
        if (st == TFB_STATUS_OK) {
            ids = malloc((r.n_rows ? r.n_rows : 1) * sizeof *ids);
            for (size_t i = 0; ids && i < r.n_rows; i++)
                ids[n_ids++] = atoll(tfb_db_at(&r, i, 0));
            tfb_db_rows_free(&r);
        }
    }
    for (int k = 0; k < n_refs && st == TFB_STATUS_OK; k++) {
        int64_t *found;
        size_t m;
        if ((st = tfb_db_find_runs(db, refs[k], NULL, &found, &m)) != TFB_STATUS_OK)
            break;
        if (m == 0)
            st = tfb_error_set(TFB_STATUS_INPUT, "%s: no run matches '%s'", tfb_db_label(db), refs[k]);
        int64_t *grown = realloc(ids, (n_ids + m + 1) * sizeof *ids);
        if (grown) {
            ids = grown;
            memcpy(ids + n_ids, found, m * sizeof *found);
            n_ids += m;
        }
        free(found);
    }
    if (st == TFB_STATUS_OK && n_ids == 0)
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: no bench runs stored", tfb_db_label(db));
    if (st == TFB_STATUS_OK && (!ids || !(*paths = calloc(n_ids, sizeof **paths))))
        st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/db-runs", out);
    if (st == TFB_STATUS_OK &&
        ((mkdir(out, 0777) != 0 && errno != EEXIST) || (mkdir(dir, 0777) != 0 && errno != EEXIST)))
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    for (size_t i = 0; i < n_ids && st == TFB_STATUS_OK; i++)
        if ((st = export_run(db, ids[i], dir, force, &(*paths)[*n])) == TFB_STATUS_OK)
            (*n)++;
    free(ids);
    tfb_db_close(db);
    return st;
}

void tfb_db_export_free(char **paths, int n) {
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}
