/* report --db: runs of the results database exported as results files into a scratch folder, so the
 * report layer renders them exactly as it renders files (one file per run, named db-run-N.json). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"

static tfb_status export_run(tfb_db *db, int64_t id, const char *dir, char **path) {
    tfb_results r;
    tfb_status st = tfb_db_load(db, &id, 1, &r);
    if (st != TFB_STATUS_OK)
        return st;
    char p[4200];
    snprintf(p, sizeof p, "%s/db-run-%lld.json", dir, (long long)id);
    char *json = tfb_results_to_json(&r);
    tfb_results_free(&r);
    FILE *f = json ? fopen(p, "w") : NULL;
    if (!f || fputs(json, f) < 0)
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot write", p);
    if (f && fclose(f) != 0 && st == TFB_STATUS_OK)
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot write", p);
    free(json);
    if (st == TFB_STATUS_OK && !(*path = strdup(p)))
        st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    return st;
}

tfb_status tfb_db_export(const char *url, const char *const *refs, int n_refs, char *dir, char ***paths,
                         int *n) {
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
    if (st == TFB_STATUS_OK && !mkdtemp(dir))
        st = tfb_error_set(TFB_STATUS_IO, "%s: cannot create a scratch folder", dir);
    for (size_t i = 0; i < n_ids && st == TFB_STATUS_OK; i++)
        if ((st = export_run(db, ids[i], dir, &(*paths)[*n])) == TFB_STATUS_OK)
            (*n)++;
    free(ids);
    tfb_db_close(db);
    return st;
}

void tfb_db_export_free(char *dir, char **paths, int n) {
    for (int i = 0; i < n; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    if (dir && !strstr(dir, "XXXXXX"))
        rmdir(dir);
}
