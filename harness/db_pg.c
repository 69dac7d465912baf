/* The PostgreSQL driver of the results database (libpq): postgresql://user:pass@host:port/db, a
 * connect timeout of 10 s unless the URL says otherwise, schema creation serialised between
 * concurrent writers by a transaction-scoped advisory lock. */
#include <stdlib.h>
#include <string.h>

#include "db.h"

#ifdef TFB_WITH_POSTGRES
#include <libpq-fe.h>

/* Arbitrary constant naming tfbench's advisory lock ("tfb" in ASCII). */
#define TFB_PG_LOCK_KEY 7628386

/* libpq's messages run over several lines ("FATAL:  ...", hints, one line per address tried):
 * keep the first line, without the severity prefix. */
static tfb_status fail_msg(const char *msg) {
    char line[512];
    const char *s = msg ? msg : "unknown error";
    while (*s == ' ' || *s == '\n')
        s++;
    size_t n = strcspn(s, "\n");
    snprintf(line, sizeof line, "%.*s", (int)n, s);
    const char *prefixes[] = {"ERROR:  ", "FATAL:  "};
    const char *p = line;
    for (int i = 0; i < 2; i++)
        if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
            p += strlen(prefixes[i]);
    /* "connection to server at ... failed: FATAL:  password ..." */
    const char *f = strstr(p, "FATAL:  ");
    if (f) {
        memmove(line + (f - line), f + 8, strlen(f + 8) + 1);
    }
    return tfb_error_set(TFB_STATUS_INPUT, "%s", p);
}

static void quiet_notice(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

static tfb_status pg_open(const char *url, bool create, void **ctx) {
    (void)create; /* the database itself must exist; tfbench creates only its tables */
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *vals[] = {"10", url, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        tfb_status st = fail_msg(PQerrorMessage(c));
        PQfinish(c);
        return st;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    *ctx = c;
    return TFB_STATUS_OK;
}

static void pg_close(void *ctx) {
    PQfinish((PGconn *)ctx);
}

/* `?` placeholders to `$1`, `$2`, ... (tfbench's SQL has no `?` inside literals). */
static char *number_params(const char *sql) {
    size_t q = 0;
    for (const char *p = sql; *p; p++)
        q += *p == '?';
    char *out = malloc(strlen(sql) + 6 * q + 1), *o = out;
    if (!out)
        return NULL;
    int k = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '?')
            o += sprintf(o, "$%d", ++k);
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

static tfb_status pg_query(void *ctx, const char *sql, int n_params, const char *const *params,
                           const char *types, tfb_db_rows *rows) {
    (void)types; /* text parameters: PostgreSQL reads and writes float8 exactly */
    PGconn *c = ctx;
    if (rows)
        memset(rows, 0, sizeof *rows);
    char *q = number_params(sql);
    if (!q)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    PGresult *res = PQexecParams(c, q, n_params, NULL, params, NULL, NULL, 0);
    free(q);
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        tfb_status st = fail_msg(res ? PQresultErrorMessage(res) : PQerrorMessage(c));
        PQclear(res);
        return st;
    }
    tfb_status st = TFB_STATUS_OK;
    if (rows && es == PGRES_TUPLES_OK) {
        size_t nr = (size_t)PQntuples(res), nc = (size_t)PQnfields(res);
        rows->val = calloc(nr * nc > 0 ? nr * nc : 1, sizeof *rows->val);
        if (!rows->val) {
            st = tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
        } else {
            rows->n_rows = nr;
            rows->n_cols = nc;
            for (size_t r = 0; r < nr; r++)
                for (size_t k = 0; k < nc; k++)
                    if (!PQgetisnull(res, (int)r, (int)k))
                        rows->val[r * nc + k] = strdup(PQgetvalue(res, (int)r, (int)k));
        }
    }
    PQclear(res);
    return st;
}

static tfb_status pg_begin_write(void *ctx) {
    tfb_status st = pg_query(ctx, "BEGIN", 0, NULL, NULL, NULL);
    if (st != TFB_STATUS_OK)
        return st;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", TFB_PG_LOCK_KEY);
    tfb_db_rows r;
    st = pg_query(ctx, sql, 0, NULL, NULL, &r);
    if (st == TFB_STATUS_OK)
        tfb_db_rows_free(&r);
    return st;
}

static tfb_status pg_tables(void *ctx, tfb_db_rows *rows) {
    return pg_query(ctx,
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
                    0, NULL, NULL, rows);
}

const tfb__db_driver tfb__db_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin_write = pg_begin_write,
    .query = pg_query,
    .tables = pg_tables,
    .serial_pk = "BIGSERIAL PRIMARY KEY",
};

#else

static tfb_status pg_open(const char *url, bool create, void **ctx) {
    return tfb_error_set(TFB_STATUS_INPUT,
                         "PostgreSQL support is not compiled in (install libpq-dev and rebuild)");
}

const tfb__db_driver tfb__db_pg = {.name = "postgresql", .open = pg_open};

#endif
