/* Reading the results database back: runs selected by a REF (run id, date, commit prefix) and
 * machine, and their rows with the raw samples, equal keys pooled. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static bool all_digits(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool is_date(const char *s) {
    return strlen(s) >= 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-';
}

tfb_status tfb_db_find_runs(tfb_db *db, const char *ref, const char *machine, int64_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    char sql[256], pattern[256];
    const char *where, *arg = ref;
    if (strncmp(ref, "run:", 4) == 0 || all_digits(ref)) {
        arg = strncmp(ref, "run:", 4) == 0 ? ref + 4 : ref;
        where = "id = ?";
    } else if (is_date(ref)) {
        snprintf(pattern, sizeof pattern, "%s%%", ref);
        arg = pattern;
        where = "started LIKE ?";
    } else {
        snprintf(pattern, sizeof pattern, "%s%%", strncmp(ref, "commit:", 7) == 0 ? ref + 7 : ref);
        arg = pattern;
        where = "git_commit LIKE ?";
    }
    if (!*arg || strcmp(arg, "%") == 0)
        return tfb_error_set(TFB_STATUS_USAGE, "empty REF '%s'", ref);
    snprintf(sql, sizeof sql, "SELECT id FROM tfb_runs WHERE %s%s ORDER BY started, id", where,
             machine ? " AND machine = ?" : "");
    const char *p[] = {arg, machine};
    tfb_db_rows r;
    tfb_status st = tfb__db_query(db, sql, machine ? 2 : 1, p, &r);
    if (st != TFB_STATUS_OK)
        return st;
    *ids = malloc((r.n_rows ? r.n_rows : 1) * sizeof **ids);
    if (!*ids) {
        tfb_db_rows_free(&r);
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r.n_rows; i++)
        (*ids)[i] = atoll(tfb_db_at(&r, i, 0));
    *n = r.n_rows;
    tfb_db_rows_free(&r);
    return TFB_STATUS_OK;
}

/* "?, ?, ?" for n ids and their text, for an IN list. */
static tfb_status id_params(const int64_t *ids, size_t n, char **list, char ***params) {
    *list = malloc(3 * n + 1);
    *params = calloc(n ? n : 1, sizeof **params);
    if (!*list || !*params)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(*list + len, "%s?", i ? ", " : "");
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)ids[i]);
        (*params)[i] = strdup(buf);
        if (!(*params)[i])
            return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    }
    (*list)[len] = '\0';
    return TFB_STATUS_OK;
}

static void free_params(char *list, char **params, size_t n) {
    for (size_t i = 0; params && i < n; i++)
        free(params[i]);
    free(params);
    free(list);
}

static tfb_status query_ids(tfb_db *db, const char *fmt, const int64_t *ids, size_t n, tfb_db_rows *out) {
    char *list = NULL, **params = NULL;
    tfb_status st = id_params(ids, n, &list, &params);
    char *sql = st == TFB_STATUS_OK ? malloc(strlen(fmt) + strlen(list) + 1) : NULL;
    if (st == TFB_STATUS_OK && !sql)
        st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    if (st == TFB_STATUS_OK) {
        sprintf(sql, fmt, list);
        st = tfb__db_query(db, sql, (int)n, (const char *const *)params, out);
    }
    free(sql);
    free_params(list, params, n);
    return st;
}

tfb_status tfb_db_machines(tfb_db *db, const int64_t *ids, size_t n, tfb_db_rows *out) {
    memset(out, 0, sizeof *out);
    if (!n)
        return TFB_STATUS_OK;
    return query_ids(db, "SELECT DISTINCT machine FROM tfb_runs WHERE id IN (%s) ORDER BY machine", ids, n,
                     out);
}

/* One pooled key while loading. */
typedef struct pooled {
    tfb_result_row proto;
    double *x;
    size_t n, cap;
} pooled;

static tfb_status pool_add(pooled *p, double v) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        double *x = realloc(p->x, cap * sizeof *x);
        if (!x)
            return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
        p->x = x;
        p->cap = cap;
    }
    p->x[p->n++] = v;
    return TFB_STATUS_OK;
}

static bool same_key(const tfb_result_row *a, const tfb_result_row *b) {
    return strcmp(a->backend, b->backend) == 0 && strcmp(a->model, b->model) == 0 &&
           strcmp(a->dtype, b->dtype) == 0 && strcmp(a->act, b->act) == 0 && a->threads == b->threads &&
           strcmp(a->test, b->test) == 0 && strcmp(a->kind, b->kind) == 0 &&
           strcmp(a->metric, b->metric) == 0;
}

static void row_from(const tfb_db_rows *r, size_t i, tfb_result_row *w) {
    memset(w, 0, sizeof *w);
    const char *s;
#define STR(field, col) snprintf(w->field, sizeof w->field, "%s", (s = tfb_db_at(r, i, col)) ? s : "")
    STR(backend, 0);
    STR(model, 1);
    STR(dtype, 2);
    STR(act, 3);
    STR(test, 5);
    STR(kind, 6);
    STR(metric, 10);
    STR(unit, 11);
#undef STR
    w->threads = atoi(tfb_db_at(r, i, 4));
    w->n_prompt = atoll(tfb_db_at(r, i, 7) ? tfb_db_at(r, i, 7) : "0");
    w->n_gen = atoll(tfb_db_at(r, i, 8) ? tfb_db_at(r, i, 8) : "0");
    w->depth = atoll(tfb_db_at(r, i, 9) ? tfb_db_at(r, i, 9) : "0");
    w->higher_is_better = atoi(tfb_db_at(r, i, 12)) != 0;
    w->rate = strcmp(tfb_db_at(r, i, 13), "harmonic") == 0;
    w->p50 = w->p90 = w->p99 = NAN;
    w->ratio_lo = w->ratio_hi = NAN;
}

tfb_status tfb_db_load(tfb_db *db, const int64_t *ids, size_t n, tfb_results *out) {
    memset(out, 0, sizeof *out);
    if (!n)
        return TFB_STATUS_OK;
    tfb_db_rows r;
    tfb_status st =
        query_ids(db,
                  "SELECT r.backend, r.model, r.dtype, r.act, r.threads, r.test, r.kind, r.n_prompt, "
                  "r.n_gen, r.depth, r.metric, r.unit, r.higher_is_better, r.mean_kind, s.value "
                  "FROM tfb_results r JOIN tfb_samples s ON s.result_id = r.id "
                  "WHERE r.run_id IN (%s) ORDER BY r.run_id, r.id, s.idx",
                  ids, n, &r);
    if (st != TFB_STATUS_OK)
        return st;
    pooled *keys = NULL;
    size_t n_keys = 0, cap = 0, last = (size_t)-1;
    for (size_t i = 0; i < r.n_rows && st == TFB_STATUS_OK; i++) {
        tfb_result_row w;
        row_from(&r, i, &w);
        size_t k = last != (size_t)-1 && same_key(&keys[last].proto, &w) ? last : n_keys;
        for (size_t j = 0; k == n_keys && j < n_keys; j++)
            if (same_key(&keys[j].proto, &w))
                k = j;
        if (k == n_keys) {
            if (n_keys == cap) {
                cap = cap ? 2 * cap : 64;
                pooled *nk = realloc(keys, cap * sizeof *nk);
                if (!nk) {
                    st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
                    break;
                }
                keys = nk;
            }
            keys[n_keys++] = (pooled){.proto = w};
        }
        last = k;
        st = pool_add(&keys[k], atof(tfb_db_at(&r, i, 14)));
    }
    tfb_db_rows_free(&r);
    for (size_t k = 0; k < n_keys; k++) {
        if (st == TFB_STATUS_OK && !tfb_results_add(out, &keys[k].proto, keys[k].x, keys[k].n))
            st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
        free(keys[k].x);
    }
    free(keys);
    if (st == TFB_STATUS_OK) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)ids[n - 1]);
        const char *p[] = {id};
        if ((st = tfb__db_query(db, "SELECT manifest FROM tfb_runs WHERE id = ?", 1, p, &r)) ==
            TFB_STATUS_OK) {
            if (r.n_rows == 1 && tfb_db_at(&r, 0, 0))
                out->env = cJSON_Parse(tfb_db_at(&r, 0, 0));
            tfb_db_rows_free(&r);
        }
    }
    if (st != TFB_STATUS_OK)
        tfb_results_free(out);
    return st;
}

tfb_status tfb_db_load_ref(tfb_db *db, const char *ref, const char *machine, tfb_results *out) {
    memset(out, 0, sizeof *out);
    int64_t *ids;
    size_t n;
    tfb_status st = tfb_db_find_runs(db, ref, machine, &ids, &n);
    if (st != TFB_STATUS_OK)
        return st;
    if (n == 0)
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: no run matches '%s'%s%s", tfb_db_label(db), ref,
                           machine ? " on machine " : "", machine ? machine : "");
    else
        st = tfb_db_load(db, ids, n, out);
    free(ids);
    return st;
}

tfb_status tfb_db_read_selector(const char *arg, const char *url, const char *machine, tfb_results *out) {
    bool forced = strncmp(arg, "db:", 3) == 0;
    FILE *f = forced ? NULL : fopen(arg, "rb");
    if (f || (!forced && !url)) {
        if (f)
            fclose(f);
        return tfb_results_read(arg, out); /* a file (or, without a database, its error) */
    }
    if (!url)
        return tfb_error_set(TFB_STATUS_USAGE, "%s: a database selector needs --db URL or TFBENCH_DB", arg);
    tfb_db *db;
    tfb_status st = tfb_db_open(url, false, &db);
    if (st != TFB_STATUS_OK)
        return st;
    st = tfb_db_load_ref(db, forced ? arg + 3 : arg, machine, out);
    tfb_db_close(db);
    return st;
}
