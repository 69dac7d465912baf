/* The SQLite driver of the results database: a file, waited for while another writer holds it
 * (busy timeout, $TFBENCH_DB_BUSY_MS or 10 s), written in BEGIN IMMEDIATE transactions. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

#ifdef TFB_WITH_SQLITE
#include <sqlite3.h>

/* Accepts "sqlite:PATH", "sqlite://PATH" or a plain PATH. */
static const char *sqlite_path(const char *url) {
    if (strncmp(url, "sqlite://", 9) == 0)
        return url + 9;
    if (strncmp(url, "sqlite:", 7) == 0)
        return url + 7;
    return url;
}

static tfb_status fail(sqlite3 *db, const char *what) {
    return tfb_error_set(TFB_STATUS_INPUT, "%s%s%s", what ? what : "", what ? ": " : "",
                         db ? sqlite3_errmsg(db) : "out of memory");
}

static tfb_status sq_open(const char *url, bool create, void **ctx) {
    sqlite3 *db = NULL;
    const char *path = sqlite_path(url);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        tfb_status st = create ? fail(db, NULL) : tfb_error_set(TFB_STATUS_INPUT, "no such database file");
        sqlite3_close(db);
        return st;
    }
    const char *ms = getenv("TFBENCH_DB_BUSY_MS");
    sqlite3_busy_timeout(db, ms && *ms ? atoi(ms) : 10000);
    sqlite3_extended_result_codes(db, 1);
    *ctx = db;
    return TFB_STATUS_OK;
}

static void sq_close(void *ctx) {
    sqlite3_close((sqlite3 *)ctx);
}

static tfb_status sq_query(void *ctx, const char *sql, int n_params, const char *const *params,
                           const char *types, tfb_db_rows *rows) {
    sqlite3 *db = ctx;
    sqlite3_stmt *stmt = NULL;
    if (rows)
        memset(rows, 0, sizeof *rows);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return fail(db, NULL);
    for (int i = 0; i < n_params; i++) {
        int rc = !params[i]                 ? sqlite3_bind_null(stmt, i + 1)
                 : types && types[i] == 'f' ? sqlite3_bind_double(stmt, i + 1, strtod(params[i], NULL))
                                            : sqlite3_bind_text(stmt, i + 1, params[i], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return fail(db, NULL);
        }
    }
    size_t n_cols = (size_t)sqlite3_column_count(stmt), cap = 0;
    tfb_status st = TFB_STATUS_OK;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!rows)
            continue;
        if (rows->n_rows == cap) {
            cap = cap ? 2 * cap : 16;
            char **v = realloc(rows->val, cap * (n_cols ? n_cols : 1) * sizeof *v);
            if (!v) {
                st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
                break;
            }
            rows->val = v;
        }
        rows->n_cols = n_cols;
        for (size_t c = 0; c < n_cols; c++) {
            char num[32];
            const char *t = num;
            if (sqlite3_column_type(stmt, (int)c) == SQLITE_FLOAT) /* all 17 digits, not SQLite's 15 */
                snprintf(num, sizeof num, "%.17g", sqlite3_column_double(stmt, (int)c));
            else
                t = (const char *)sqlite3_column_text(stmt, (int)c);
            rows->val[rows->n_rows * n_cols + c] = t ? strdup(t) : NULL;
        }
        rows->n_rows++;
    }
    if (st == TFB_STATUS_OK && rc != SQLITE_DONE)
        st = fail(db, NULL);
    sqlite3_finalize(stmt);
    if (rows) {
        rows->n_cols = n_cols;
        if (st != TFB_STATUS_OK)
            tfb_db_rows_free(rows);
    }
    return st;
}

static tfb_status sq_begin_write(void *ctx) {
    /* IMMEDIATE takes the write lock now (waiting up to the busy timeout), so two writers creating
     * the schema at once are serialised rather than one failing at its first write. */
    return sq_query(ctx, "BEGIN IMMEDIATE", 0, NULL, NULL, NULL);
}

static tfb_status sq_tables(void *ctx, tfb_db_rows *rows) {
    return sq_query(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                    0, NULL, NULL, rows);
}

const tfb__db_driver tfb__db_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin_write = sq_begin_write,
    .query = sq_query,
    .tables = sq_tables,
    .serial_pk = "INTEGER PRIMARY KEY AUTOINCREMENT",
};

#else

static tfb_status sq_open(const char *url, bool create, void **ctx) {
    return tfb_error_set(TFB_STATUS_INPUT,
                         "SQLite support is not compiled in (install libsqlite3-dev and rebuild)");
}

const tfb__db_driver tfb__db_sqlite = {.name = "sqlite", .open = sq_open};

#endif
