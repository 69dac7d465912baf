/* The results database (issue 21): every bench and conform run appended with its manifest and every
 * raw sample, one transaction per run, into SQLite (a file) or PostgreSQL (postgresql://...), with
 * one schema that tfbench creates and migrates itself (docs/results-schema.md, "Database").
 *
 * db.c holds the schema, storing and loading; db_sqlite.c and db_pg.c are the two drivers behind
 * tfb__db_driver. Every error reads "<url>: <what>" in one line (passwords masked), INPUT status. */
#ifndef TFB_HARNESS_DB_H
#define TFB_HARNESS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"

/* Schema version this tfbench writes; a database at a higher version is refused, a lower one migrated. */
#define TFB_DB_SCHEMA_VERSION 1

/* ---- drivers ---------------------------------------------------------------------------------- */

/* A query's rows, every value as text (NULL for SQL NULL), row-major: val[r * n_cols + c]. */
typedef struct tfb_db_rows {
    char **val;
    size_t n_rows, n_cols;
} tfb_db_rows;
void tfb_db_rows_free(tfb_db_rows *r);
static inline const char *tfb_db_at(const tfb_db_rows *r, size_t row, size_t col) {
    return r->val[row * r->n_cols + col];
}

typedef struct tfb_db tfb_db;

/* One driver. SQL uses `?` placeholders (the PostgreSQL driver numbers them); parameters are text
 * (NULL = SQL NULL) and converted by the column they go into. */
typedef struct tfb__db_driver {
    const char *name;
    /* Connect; create the file/database only when create. Sets *ctx. */
    tfb_status (*open)(const char *url, bool create, void **ctx);
    void (*close)(void *ctx);
    /* Start a write transaction that serialises schema creation between concurrent writers. */
    tfb_status (*begin_write)(void *ctx);
    /* Run sql with params; rows (optional) gets the result set. types (may be NULL: all text) has
     * one letter per parameter, 'f' for a double: SQLite binds those as doubles, exactly (its text
     * to REAL conversion is not correctly rounded), and returns REAL columns with 17 digits. */
    tfb_status (*query)(void *ctx, const char *sql, int n_params, const char *const *params,
                        const char *types, tfb_db_rows *rows);
    /* Names of the tables in the database (the current schema on PostgreSQL), for the foreign check. */
    tfb_status (*tables)(void *ctx, tfb_db_rows *rows);
    /* The column type of an auto-incrementing primary key. */
    const char *serial_pk;
} tfb__db_driver;

extern const tfb__db_driver tfb__db_sqlite, tfb__db_pg;

/* ---- the database ----------------------------------------------------------------------------- */

/* The URL to use: flag when given, else $TFBENCH_DB, else NULL (no database). */
const char *tfb_db_url(const char *flag);

/* Open url. for_write: create the database and schema as needed (in the first write); else the
 * database must exist and hold tfbench's schema. Errors: unreachable server, authentication,
 * a schema newer than TFB_DB_SCHEMA_VERSION, tables of another tool. The caller frees with tfb_db_close. */
tfb_status tfb_db_open(const char *url, bool for_write, tfb_db **out);
void tfb_db_close(tfb_db *db);
/* url with any password ("user:PASS@", "password=PASS") replaced by *** into out (messages, and the
 * command line the manifest records). */
void tfb_db_mask_url(const char *url, char *out, size_t len);
/* The URL with any password masked, for messages. */
const char *tfb_db_label(const tfb_db *db);

/* Internal to db*.c: run sql on db (errors already "<url>: <what>"). */
tfb_status tfb__db_query(tfb_db *db, const char *sql, int n, const char *const *params, tfb_db_rows *rows);
/* The same with parameter types (tfb__db_driver.query). */
tfb_status tfb__db_query_typed(tfb_db *db, const char *sql, int n, const char *const *params,
                               const char *types, tfb_db_rows *rows);

/* Append one run in one transaction: the manifest (r->env), every row with its samples; kind is
 * "bench" or "conform". conform (may be NULL) is a JSON array of conform cases stored beside it.
 * *run_id gets the new run's id. Nothing is written when anything fails. */
tfb_status tfb_db_store(tfb_db *db, const char *kind, const tfb_results *r, const cJSON *conform,
                        int64_t *run_id);

/* tfb_db_store of a results file's run (kind bench), unless a run of the same machine, start time
 * and command line is stored already: then *dup is set, *run_id is that run and nothing is written
 * (importing a file twice would count its samples twice). */
tfb_status tfb_db_import(tfb_db *db, const tfb_results *r, int64_t *run_id, bool *dup);

/* Open url for writing, store, close; prints the one error line itself and returns an exit code
 * (0 ok, 2 on any database error). what: "bench" / "conform" for the stderr note. */
int tfb_db_store_cli(const char *url, const char *kind, const tfb_results *r, const cJSON *conform);

/* ---- selecting runs --------------------------------------------------------------------------- */

/* REF: "run:N" or a plain number (a run id), "YYYY-MM-DD..." (runs whose start time begins so), or a
 * commit prefix ("commit:abc" to force it). machine: NULL for any. Fills ids (malloc'ed) oldest first. */
tfb_status tfb_db_find_runs(tfb_db *db, const char *ref, const char *machine, int64_t **ids, size_t *n);
/* Distinct machines among the given runs (malloc'ed rows, column 0). */
tfb_status tfb_db_machines(tfb_db *db, const int64_t *ids, size_t n, tfb_db_rows *out);
/* The rows of the given runs, samples of equal keys (backend, model, dtype, act, threads, test, kind,
 * metric) pooled into one row; out->env is the manifest of the last run. */
tfb_status tfb_db_load(tfb_db *db, const int64_t *ids, size_t n, tfb_results *out);
/* Pooled rows of every run at ref (on machine, when given); INPUT when no run matches. */
tfb_status tfb_db_load_ref(tfb_db *db, const char *ref, const char *machine, tfb_results *out);

/* For compare: arg is a results file when one exists at that path, else (or with "db:" in front) a
 * REF pooled from the database at url (on machine when given). */
tfb_status tfb_db_read_selector(const char *arg, const char *url, const char *machine, tfb_results *out);

/* For report --db: the runs at refs (none: the newest bench run of each machine) written as results
 * files OUT/db-runs/db-run-N.json (an existing one only with force); *paths (n of them, freed by
 * tfb_db_export_free, also after an error) name them. */
tfb_status tfb_db_export(const char *url, const char *const *refs, int n_refs, const char *out, bool force,
                         char ***paths, int *n);
void tfb_db_export_free(char **paths, int n);

#endif
