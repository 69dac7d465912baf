/* The results database: URLs, the schema (created and migrated here), and appending one run in one
 * transaction. Reading runs back is in db_load.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "env.h"

struct tfb_db {
    const tfb__db_driver *drv;
    void *ctx;
    char label[1024]; /* the URL, password masked */
};

void tfb_db_rows_free(tfb_db_rows *r) {
    if (!r->val)
        return;
    for (size_t i = 0; i < r->n_rows * r->n_cols; i++)
        free(r->val[i]);
    free(r->val);
    memset(r, 0, sizeof *r);
}

const char *tfb_db_url(const char *flag) {
    if (flag && *flag)
        return flag;
    const char *e = getenv("TFBENCH_DB");
    return e && *e ? e : NULL;
}

static bool is_pg(const char *url) {
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

/* "postgresql://user:secret@host/db?password=x" -> "postgresql://user:***@host/db?password=***". */
void tfb_db_mask_url(const char *url, char *out, size_t len) {
    snprintf(out, len, "%s", url);
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *user = scheme + 3, *at = strchr(user, '@'), *slash = strchr(user, '/');
        char *colon = strchr(user, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", at);
            snprintf(colon, len - (size_t)(colon - out), ":***%s", rest);
        }
    }
    char *pw = strstr(out, "password=");
    if (pw) {
        char *end = pw + 9 + strcspn(pw + 9, "& ");
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", end);
        snprintf(pw + 9, len - (size_t)(pw + 9 - out), "***%s", rest);
    }
}

const char *tfb_db_label(const tfb_db *db) {
    return db->label;
}

/* Every error of the database reads "<url>: <what>". */
static tfb_status labelled(const tfb_db *db, tfb_status st) {
    if (st == TFB_STATUS_OK)
        return st;
    char what[1024];
    snprintf(what, sizeof what, "%s", tfb_error_last());
    return tfb_error_set(st == TFB_STATUS_NOMEM ? st : TFB_STATUS_INPUT, "%s: %s", db->label, what);
}

tfb_status tfb__db_query_typed(tfb_db *db, const char *sql, int n, const char *const *params,
                               const char *types, tfb_db_rows *rows) {
    return labelled(db, db->drv->query(db->ctx, sql, n, params, types, rows));
}

tfb_status tfb__db_query(tfb_db *db, const char *sql, int n, const char *const *params, tfb_db_rows *rows) {
    return tfb__db_query_typed(db, sql, n, params, NULL, rows);
}

static void rollback(tfb_db *db) {
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", tfb_error_last()); /* keep the error that caused it */
    db->drv->query(db->ctx, "ROLLBACK", 0, NULL, NULL, NULL);
    tfb_error_set(TFB_STATUS_INPUT, "%s", saved);
}

/* ---- schema ----------------------------------------------------------------------------------- */

/* Version 1. %s is the driver's auto-incrementing primary key type. Types are those SQLite and
 * PostgreSQL both read the same way. */
static const char *const schema_v1[] = {
    "CREATE TABLE tfbench_schema (version INTEGER NOT NULL)",
    "CREATE TABLE tfb_runs (id %s, kind TEXT NOT NULL, started TEXT NOT NULL, stored TEXT NOT NULL, "
    "machine TEXT NOT NULL, cpu_model TEXT, cores INTEGER, os TEXT, git_commit TEXT, version TEXT, "
    "compiler TEXT, cflags TEXT, build_type TEXT, command_line TEXT, act TEXT, manifest TEXT NOT NULL)",
    "CREATE INDEX tfb_runs_machine ON tfb_runs (machine, started)",
    "CREATE TABLE tfb_devices (run_id BIGINT NOT NULL REFERENCES tfb_runs (id), backend TEXT NOT NULL, "
    "device TEXT, driver TEXT, api TEXT, library TEXT)",
    "CREATE TABLE tfb_results (id %s, run_id BIGINT NOT NULL REFERENCES tfb_runs (id), backend TEXT NOT "
    "NULL, "
    "model TEXT NOT NULL, dtype TEXT NOT NULL, act TEXT NOT NULL, threads INTEGER NOT NULL, test TEXT NOT "
    "NULL, "
    "kind TEXT NOT NULL, n_prompt BIGINT, n_gen BIGINT, depth BIGINT, metric TEXT NOT NULL, unit TEXT, "
    "higher_is_better INTEGER NOT NULL, mean_kind TEXT NOT NULL, n INTEGER NOT NULL, median DOUBLE "
    "PRECISION)",
    "CREATE INDEX tfb_results_run ON tfb_results (run_id)",
    "CREATE TABLE tfb_samples (result_id BIGINT NOT NULL REFERENCES tfb_results (id), idx INTEGER NOT NULL, "
    "value DOUBLE PRECISION NOT NULL, device_s DOUBLE PRECISION, PRIMARY KEY (result_id, idx))",
    "CREATE TABLE tfb_conform (run_id BIGINT NOT NULL REFERENCES tfb_runs (id), backend TEXT NOT NULL, "
    "kind TEXT, name TEXT NOT NULL, dtype TEXT, act TEXT, verdict TEXT NOT NULL, metric TEXT, "
    "value DOUBLE PRECISION, threshold DOUBLE PRECISION, detail TEXT)",
    "INSERT INTO tfbench_schema (version) VALUES (1)",
    NULL,
};

/* migrations[v] takes a database at version v to v + 1 (none yet: version 1 is the first). */
static const char *const *const migrations[TFB_DB_SCHEMA_VERSION] = {NULL};

static tfb_status run_script(tfb_db *db, const char *const *script) {
    for (int i = 0; script[i]; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, script[i], db->drv->serial_pk);
        tfb_status st = tfb__db_query(db, sql, 0, NULL, NULL);
        if (st != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

/* Check (and when create, create or migrate) the schema. Inside a write transaction when create. */
static tfb_status check_schema(tfb_db *db, bool create) {
    tfb_db_rows t;
    tfb_status st = labelled(db, db->drv->tables(db->ctx, &t));
    if (st != TFB_STATUS_OK)
        return st;
    bool ours = false;
    char other[128] = "";
    for (size_t i = 0; i < t.n_rows; i++) {
        const char *name = tfb_db_at(&t, i, 0);
        if (name && strcmp(name, "tfbench_schema") == 0)
            ours = true;
        else if (name && !other[0])
            snprintf(other, sizeof other, "%s", name);
    }
    tfb_db_rows_free(&t);
    if (!ours && other[0])
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: not a tfbench database (it holds table '%s' and no tfbench_schema; tfbench "
                             "creates its tables only in an empty database)",
                             db->label, other);
    if (!ours && !create)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: an empty database: no tfbench runs stored yet",
                             db->label);
    if (!ours)
        return run_script(db, schema_v1);
    tfb_db_rows v;
    if ((st = tfb__db_query(db, "SELECT MAX(version) FROM tfbench_schema", 0, NULL, &v)) != TFB_STATUS_OK)
        return st;
    long version = v.n_rows && tfb_db_at(&v, 0, 0) ? atol(tfb_db_at(&v, 0, 0)) : 0;
    tfb_db_rows_free(&v);
    if (version > TFB_DB_SCHEMA_VERSION)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: database schema version %ld is newer than this tfbench understands (%d); "
                             "use a newer tfbench",
                             db->label, version, TFB_DB_SCHEMA_VERSION);
    if (version < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tfbench_schema holds no valid version", db->label);
    for (; version < TFB_DB_SCHEMA_VERSION; version++) {
        if (!create)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: database schema version %ld is older than this tfbench's (%d); a write "
                                 "(bench --db, import) migrates it",
                                 db->label, version, TFB_DB_SCHEMA_VERSION);
        if ((st = run_script(db, migrations[version])) != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

tfb_status tfb_db_open(const char *url, bool for_write, tfb_db **out) {
    *out = NULL;
    tfb_db *db = calloc(1, sizeof *db);
    if (!db)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    tfb_db_mask_url(url, db->label, sizeof db->label);
    db->drv = is_pg(url) ? &tfb__db_pg : &tfb__db_sqlite;
    tfb_status st = labelled(db, db->drv->open(url, for_write, &db->ctx));
    if (st == TFB_STATUS_OK && !for_write && (st = check_schema(db, false)) != TFB_STATUS_OK)
        db->drv->close(db->ctx);
    if (st != TFB_STATUS_OK) {
        free(db);
        return st;
    }
    *out = db;
    return TFB_STATUS_OK;
}

void tfb_db_close(tfb_db *db) {
    if (!db)
        return;
    db->drv->close(db->ctx);
    free(db);
}

/* ---- storing a run ---------------------------------------------------------------------------- */

static const char *env_str(const cJSON *env, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static tfb_status insert_id(tfb_db *db, const char *sql, int n, const char *const *p, const char *types,
                            int64_t *id) {
    tfb_db_rows r;
    tfb_status st = tfb__db_query_typed(db, sql, n, p, types, &r);
    if (st != TFB_STATUS_OK)
        return st;
    if (r.n_rows != 1 || !tfb_db_at(&r, 0, 0))
        st = tfb_error_set(TFB_STATUS_INPUT, "%s: INSERT returned no id", db->label);
    else
        *id = atoll(tfb_db_at(&r, 0, 0));
    tfb_db_rows_free(&r);
    return st;
}

/* The run's row and devices. With dedupe, a run of the same kind, machine, start time and command
 * line already stored is taken as this one: *dup set, *run_id its id, nothing written. */
static tfb_status store_run(tfb_db *db, const char *kind, const cJSON *env, bool dedupe, bool *dup,
                            int64_t *run_id) {
    char started[40], stored[40], cores[24], cmdline[4096] = "";
    tfb_env_timestamp(stored, sizeof stored);
    snprintf(started, sizeof started, "%s", env_str(env, "timestamp") ? env_str(env, "timestamp") : stored);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(env, "cores");
    snprintf(cores, sizeof cores, "%d", cJSON_IsNumber(c) ? c->valueint : -1);
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(env, "command_line"), *arg;
    size_t n = 0;
    cJSON_ArrayForEach(arg, cl) {
        if (cJSON_IsString(arg) && n < sizeof cmdline)
            n += (size_t)snprintf(cmdline + n, sizeof cmdline - n, "%s%s", n ? " " : "", arg->valuestring);
    }
    /* The machine: TFBENCH_MACHINE as the manifest recorded it, else the hostname (what tells two
     * machines' files apart), else the CPU. */
    const char *machine = env_str(env, "machine")     ? env_str(env, "machine")
                          : env_str(env, "hostname")  ? env_str(env, "hostname")
                          : env_str(env, "cpu_model") ? env_str(env, "cpu_model")
                                                      : "unknown";
    if (dedupe) {
        const char *q[] = {kind, machine, started, cmdline};
        tfb_db_rows r;
        tfb_status st =
            tfb__db_query(db,
                          "SELECT MIN(id) FROM tfb_runs WHERE kind = ? AND machine = ? AND started = ? "
                          "AND command_line = ?",
                          4, q, &r);
        if (st != TFB_STATUS_OK)
            return st;
        *dup = r.n_rows == 1 && tfb_db_at(&r, 0, 0);
        if (*dup)
            *run_id = atoll(tfb_db_at(&r, 0, 0));
        tfb_db_rows_free(&r);
        if (*dup)
            return TFB_STATUS_OK;
    }
    char *manifest = cJSON_PrintUnformatted(env);
    if (!manifest)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    const char *p[] = {kind,
                       started,
                       stored,
                       machine,
                       env_str(env, "cpu_model"),
                       cores,
                       env_str(env, "os"),
                       env_str(env, "git_commit"),
                       env_str(env, "tfbench_version"),
                       env_str(env, "compiler"),
                       env_str(env, "cflags"),
                       env_str(env, "build_type"),
                       cmdline,
                       env_str(env, "act") ? env_str(env, "act") : "f32",
                       manifest};
    tfb_status st =
        insert_id(db,
                  "INSERT INTO tfb_runs (kind, started, stored, machine, cpu_model, cores, os, "
                  "git_commit, version, compiler, cflags, build_type, command_line, act, manifest) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                  15, p, NULL, run_id);
    free(manifest);
    if (st != TFB_STATUS_OK)
        return st;
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", (long long)*run_id);
    const cJSON *be = cJSON_GetObjectItemCaseSensitive(env, "backends"), *b;
    cJSON_ArrayForEach(b, be) {
        const char *q[] = {rid,
                           b->string,
                           env_str(b, "device"),
                           env_str(b, "driver"),
                           env_str(b, "api"),
                           env_str(b, "library")};
        st = tfb__db_query(db,
                           "INSERT INTO tfb_devices (run_id, backend, device, driver, api, library) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           6, q, NULL);
        if (st != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

/* The samples of one row, up to 100 a statement. */
static tfb_status store_samples(tfb_db *db, int64_t result_id, const tfb_result_row *w) {
    enum { CHUNK = 100 };
    char sql[CHUNK * 16 + 128], vals[CHUNK][3][32], rid[24], types[CHUNK * 4 + 1];
    const char *p[CHUNK * 4];
    snprintf(rid, sizeof rid, "%lld", (long long)result_id);
    for (size_t k0 = 0; k0 < w->n_samples; k0 += CHUNK) {
        size_t m = w->n_samples - k0 < CHUNK ? w->n_samples - k0 : CHUNK;
        int len =
            snprintf(sql, sizeof sql, "INSERT INTO tfb_samples (result_id, idx, value, device_s) VALUES ");
        for (size_t j = 0; j < m; j++) {
            size_t k = k0 + j;
            len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(?, ?, ?, ?)", j ? ", " : "");
            snprintf(vals[j][0], 32, "%zu", k);
            snprintf(vals[j][1], 32, "%.17g", w->samples[k]);
            bool dev = w->device_s && k < w->n_device;
            if (dev)
                snprintf(vals[j][2], 32, "%.17g", w->device_s[k]);
            p[4 * j] = rid;
            p[4 * j + 1] = vals[j][0];
            p[4 * j + 2] = vals[j][1];
            p[4 * j + 3] = dev ? vals[j][2] : NULL;
            memcpy(types + 4 * j, "ttff", 4);
        }
        types[4 * m] = '\0';
        tfb_status st = tfb__db_query_typed(db, sql, (int)(4 * m), p, types, NULL);
        if (st != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

static tfb_status store_rows(tfb_db *db, int64_t run_id, const tfb_results *r) {
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", (long long)run_id);
    for (size_t i = 0; i < r->n; i++) {
        const tfb_result_row *w = &r->rows[i];
        char th[16], np[24], ng[24], dp[24], n[24], med[32];
        snprintf(th, sizeof th, "%d", w->threads);
        snprintf(np, sizeof np, "%lld", (long long)w->n_prompt);
        snprintf(ng, sizeof ng, "%lld", (long long)w->n_gen);
        snprintf(dp, sizeof dp, "%lld", (long long)w->depth);
        snprintf(n, sizeof n, "%zu", w->n_samples);
        snprintf(med, sizeof med, "%.17g", w->st.median);
        const char *p[] = {rid,
                           w->backend,
                           w->model,
                           w->dtype,
                           w->act,
                           th,
                           w->test,
                           w->kind,
                           np,
                           ng,
                           dp,
                           w->metric,
                           w->unit,
                           w->higher_is_better ? "1" : "0",
                           w->rate ? "harmonic" : "arithmetic",
                           n,
                           w->n_samples ? med : NULL};
        int64_t id = 0;
        tfb_status st =
            insert_id(db,
                      "INSERT INTO tfb_results (run_id, backend, model, dtype, act, threads, test, kind, "
                      "n_prompt, n_gen, depth, metric, unit, higher_is_better, mean_kind, n, median) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                      17, p, "tttttttttttttttttf", &id);
        if (st == TFB_STATUS_OK)
            st = store_samples(db, id, w);
        if (st != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

static tfb_status store_conform(tfb_db *db, int64_t run_id, const cJSON *cases) {
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", (long long)run_id);
    const cJSON *o;
    cJSON_ArrayForEach(o, cases) {
        char val[32] = "", thr[32] = "";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "threshold");
        if (cJSON_IsNumber(v))
            snprintf(val, sizeof val, "%.17g", v->valuedouble);
        if (cJSON_IsNumber(t))
            snprintf(thr, sizeof thr, "%.17g", t->valuedouble);
        const char *p[] = {rid,
                           env_str(o, "backend") ? env_str(o, "backend") : "",
                           env_str(o, "kind"),
                           env_str(o, "case") ? env_str(o, "case") : "",
                           env_str(o, "dtype"),
                           env_str(o, "act") ? env_str(o, "act") : "",
                           env_str(o, "verdict") ? env_str(o, "verdict") : "",
                           env_str(o, "metric"),
                           val[0] ? val : NULL,
                           thr[0] ? thr : NULL,
                           env_str(o, "detail")};
        tfb_status st =
            tfb__db_query_typed(db,
                                "INSERT INTO tfb_conform (run_id, backend, kind, name, dtype, act, verdict, "
                                "metric, value, threshold, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                11, p, "ttttttttfft", NULL);
        if (st != TFB_STATUS_OK)
            return st;
    }
    return TFB_STATUS_OK;
}

static tfb_status store(tfb_db *db, const char *kind, const tfb_results *r, const cJSON *conform, bool dedupe,
                        bool *dup, int64_t *run_id) {
    *dup = false;
    cJSON *own_env = r->env ? NULL : cJSON_CreateObject();
    const cJSON *env = r->env ? r->env : own_env;
    tfb_status st = labelled(db, db->drv->begin_write(db->ctx));
    if (st != TFB_STATUS_OK) {
        cJSON_Delete(own_env);
        return st;
    }
    if ((st = check_schema(db, true)) == TFB_STATUS_OK &&
        (st = store_run(db, kind, env, dedupe, dup, run_id)) == TFB_STATUS_OK && !*dup &&
        (st = store_rows(db, *run_id, r)) == TFB_STATUS_OK &&
        (!conform || (st = store_conform(db, *run_id, conform)) == TFB_STATUS_OK))
        st = tfb__db_query(db, "COMMIT", 0, NULL, NULL);
    else if (st == TFB_STATUS_OK) /* a duplicate: nothing was written */
        st = tfb__db_query(db, "COMMIT", 0, NULL, NULL);
    if (st != TFB_STATUS_OK)
        rollback(db);
    cJSON_Delete(own_env);
    return st;
}

tfb_status tfb_db_store(tfb_db *db, const char *kind, const tfb_results *r, const cJSON *conform,
                        int64_t *run_id) {
    bool dup;
    return store(db, kind, r, conform, false, &dup, run_id);
}

tfb_status tfb_db_import(tfb_db *db, const tfb_results *r, int64_t *run_id, bool *dup) {
    return store(db, "bench", r, NULL, true, dup, run_id);
}

int tfb_db_store_cli(const char *url, const char *kind, const tfb_results *r, const cJSON *conform) {
    tfb_db *db;
    tfb_status st = tfb_db_open(url, true, &db);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "--db");
    int64_t id = 0;
    st = tfb_db_store(db, kind, r, conform, &id);
    if (st == TFB_STATUS_OK)
        printf("%s: stored as run %lld in %s\n", kind, (long long)id, tfb_db_label(db));
    tfb_db_close(db);
    return st == TFB_STATUS_OK ? TFB_EXIT_OK : tfb_cli_fail(st, "--db");
}
