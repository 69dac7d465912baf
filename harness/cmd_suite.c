/* `tfbench` with no subcommand: the standard suite on the embedded default (synthetic weights).
 *
 * It composes the real subcommands, so their checks and outputs are the suite's:
 *   1. conform  every chosen backend x {gpt2,bert,marian}-tiny x every dtype -> conform.json, junit.xml
 *   2. bench    gpt2-124m, bert-base, marian-base at defaults that finish in minutes -> results.json
 *   3. report   figures, report.md, tables.tex from results.json -> report/
 * then prints a conformance matrix (backend x model x dtype) and the headline figures, also written
 * to summary.md. Each step's own table goes to DIR/<step>.txt so the terminal shows the summary. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define SUITE_MAX 16

typedef struct suite_args {
    const char *backend, *model, *out, *reps;
    bool force;
    const char *threads, *device; /* passed through as given */
    const char *db;               /* --db URL, passed to conform and bench (which also read $TFBENCH_DB) */
} suite_args;

/* A subcommand's argv, built up one argument at a time (v[0] is the subcommand's name). */
typedef struct argv_buf {
    char *v[40];
    int n;
} argv_buf;


static void push(argv_buf *a, const char *arg) {
    TFB_ASSERT(a->n < (int)(sizeof a->v / sizeof a->v[0]) - 1);
    a->v[a->n++] = (char *)arg;
    a->v[a->n] = NULL;
}

static void push_all(argv_buf *a, const char *const *args, size_t n) {
    for (size_t i = 0; i < n; i++)
        push(a, args[i]);
}

/* The options every step passes through: --threads, --device and --db when given. */
static void push_common(argv_buf *a, const suite_args *s) {
    if (s->threads)
        push(a, "--threads"), push(a, s->threads);
    if (s->device)
        push(a, "--device"), push(a, s->device);
    if (s->db)
        push(a, "--db"), push(a, s->db);
}

/* Run a subcommand with stdout sent to `log` (the suite prints its own summary). */
static int run_step(int (*cmd)(int, char **), const char *log, int argc, char **argv) {
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) {
        if (saved >= 0)
            close(saved);
        return tfb_cli_usage(log, "cannot write: %s", strerror(errno));
    }
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return rc;
}

static cJSON *read_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    cJSON *j = NULL;
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        j = cJSON_Parse(buf);
    }
    free(buf);
    fclose(f);
    return j;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- the conformance matrix ------------------------------------------------------------------- */

/* Severity order of conform's verdict names; the matrix shows the worst per cell. */
static const char *const verdicts[] = {"pass",        "near-tie", "mistrusted", "unsupported",
                                       "unavailable", "FAIL",     "ERROR"};
enum { N_VERDICTS = sizeof verdicts / sizeof verdicts[0] };

static int verdict_rank(const char *v) {
    for (int i = 0; i < N_VERDICTS; i++)
        if (strcasecmp(v, verdicts[i]) == 0)
            return i;
    return N_VERDICTS - 1;
}

typedef struct cell {
    char backend[32], column[32], dtype[8];
    int rank;
} cell;

static const char *const dtypes[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};

static void print_matrix(FILE *f, cJSON *const *docs, int n_docs) {
    static cell cells[512];
    int n = 0;
    char backends[SUITE_MAX][32], columns[SUITE_MAX][32];
    int nb = 0, nc = 0;
    for (int di = 0; di < n_docs; di++) {
        /* A run with --act q8 gets rows of its own: its q8_0/q4_0 cells are other numerics. */
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(docs[di], "args");
        bool act_q8 = strcmp(str(args, "act"), "q8") == 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[di], "results")) {
            const char *kind = str(r, "kind"), *name = str(r, "case");
            char column[32];
            if (strcmp(kind, "op") == 0)
                snprintf(column, sizeof column, "ops");
            else if (strcmp(kind, "all") == 0)
                snprintf(column, sizeof column, "*");
            else
                snprintf(column, sizeof column, "%.*s", (int)strcspn(name, " "), name);
            const char *dt = str(r, "dtype");
            char b[32];
            snprintf(b, sizeof b, "%s%s", str(r, "backend"), act_q8 ? " (act q8)" : "");
            int i;
            for (i = 0; i < nb && strcmp(backends[i], b) != 0; i++)
                ;
            if (i == nb && nb < SUITE_MAX)
                snprintf(backends[nb++], 32, "%s", b);
            if (strcmp(column, "*") != 0) {
                for (i = 0; i < nc && strcmp(columns[i], column) != 0; i++)
                    ;
                if (i == nc && nc < SUITE_MAX)
                    snprintf(columns[nc++], 32, "%s", column);
            }
            for (i = 0; i < n; i++)
                if (!strcmp(cells[i].backend, b) && !strcmp(cells[i].column, column) &&
                    (!strcmp(cells[i].dtype, dt) || !strcmp(column, "*")))
                    break;
            if (i == n) {
                if (n == (int)(sizeof cells / sizeof cells[0]))
                    continue;
                snprintf(cells[n].backend, 32, "%s", b);
                snprintf(cells[n].column, 32, "%s", column);
                snprintf(cells[n].dtype, 8, "%s", dt);
                cells[n++].rank = -1;
            }
            int rank = verdict_rank(str(r, "verdict"));
            if (rank > cells[i].rank)
                cells[i].rank = rank;
        }
    }
    fprintf(f, "\n## Conformance (worst verdict per cell)\n\n| backend | "
               "model |");
    for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; d++)
        fprintf(f, " %s |", dtypes[d]);
    fprintf(f, "\n|---|---|---|---|---|---|---|\n");
    for (int bi = 0; bi < nb; bi++) {
        const cell *all = NULL;
        for (int i = 0; i < n; i++)
            if (!strcmp(cells[i].backend, backends[bi]) && !strcmp(cells[i].column, "*"))
                all = &cells[i];
        for (int ci = 0; ci < nc; ci++) {
            fprintf(f, "| %s | %s |", backends[bi], columns[ci]);
            for (size_t d = 0; d < sizeof dtypes / sizeof dtypes[0]; d++) {
                const char *v = all ? verdicts[all->rank] : "-";
                for (int i = 0; !all && i < n; i++)
                    if (!strcmp(cells[i].backend, backends[bi]) && !strcmp(cells[i].column, columns[ci]) &&
                        !strcmp(cells[i].dtype, dtypes[d]))
                        v = verdicts[cells[i].rank];
                fprintf(f, " %s |", v);
            }
            fprintf(f, "\n");
        }
    }
}

/* ---- headline figures ------------------------------------------------------------------------- */

static void print_headlines(FILE *f, const cJSON *results) {
    fprintf(
        f,
        "\n## Headline figures (medians; all rows in results.json, figures in report/)\n\n"
        "| backend | model | dtype | test | metric | median | ±95%% CI |\n|---|---|---|---|---|---|---|\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(results, "results")) {
        const char *kind = str(r, "kind"), *metric = str(r, "metric");
        bool headline = (!strcmp(kind, "pp") || !strcmp(kind, "encode") || !strcmp(kind, "tg")) &&
                        !strcmp(metric, "tokens_per_s");
        headline = headline || (!strcmp(kind, "kv") && !strcmp(metric, "speedup"));
        headline = headline || (!strcmp(kind, "e2e") && !strcmp(metric, "ttft_s"));
        if (!headline)
            continue;
        const cJSON *med = cJSON_GetObjectItemCaseSensitive(r, "median");
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(r, "ci95");
        fprintf(f, "| %s | %s | %s | %s | %s | %.4g | ", str(r, "backend"), str(r, "model"), str(r, "dtype"),
                str(r, "test"), metric, cJSON_IsNumber(med) ? med->valuedouble : 0.0);
        if (cJSON_IsNumber(ci))
            fprintf(f, "%.2g |\n", ci->valuedouble);
        else
            fprintf(f, "- |\n");
    }
}

/* ---- the suite -------------------------------------------------------------------------------- */

static int parse(int argc, char **argv, suite_args *a) {
    a->backend = "all";
    a->out = "tfbench-out";
    a->reps = "3";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--backend", &v, &bad))
            a->backend = v;
        else if (tfb_cli_opt(argc, argv, &i, "--model", &v, &bad))
            a->model = v;
        else if (tfb_cli_opt(argc, argv, &i, "-o", &v, &bad))
            a->out = v;
        else if (tfb_cli_opt(argc, argv, &i, "-r", &v, &bad)) {
            int64_t r;
            if (!tfb_cli_parse_int(v, 1, 1000, &r))
                return tfb_cli_usage("-r", "expected a repetition count from 1 to 1000, got '%s'", v);
            a->reps = v;
        } else if (tfb_cli_opt(argc, argv, &i, "--threads", &v, &bad)) {
            int64_t t;
            if (!tfb_cli_parse_int(v, 1, 1024, &t))
                return tfb_cli_usage("--threads", "expected a number of threads from 1 to 1024, got '%s'", v);
            a->threads = v;
        } else if (tfb_cli_opt(argc, argv, &i, "--device", &v, &bad))
            a->device = v;
        else if (tfb_cli_opt(argc, argv, &i, "--db", &v, &bad))
            a->db = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (strcmp(argv[i], "--force") == 0)
            a->force = true;
        else
            return tfb_cli_usage("tfbench", "unknown option '%s' (tfbench --help)", argv[i]);
    }
    if (strcmp(a->backend, "all") != 0 && !tfb_backend_find(a->backend))
        return tfb_cli_usage("--backend", "unknown or not compiled in: '%s'", a->backend);
    if (a->model && !tfb_preset_find(a->model)) {
        struct stat st;
        if (stat(a->model, &st) != 0 || !S_ISDIR(st.st_mode))
            return tfb_cli_usage("--model", "'%s' is neither a preset nor a directory", a->model);
    }
    return 0;
}

/* The backends to benchmark: the named one, or every available one but the reference (the oracle
 * is checked against, not timed) — the reference alone when nothing else is available. */
static int bench_backends(const suite_args *a, char *buf, size_t len) {
    buf[0] = '\0';
    if (strcmp(a->backend, "all") != 0) {
        snprintf(buf, len, "%s", a->backend);
        return 1;
    }
    int n = 0;
    for (int i = 0; i < tfb_backend_count(); i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256];
        if (!strcmp(iface->name, "reference") || !iface->probe(why, sizeof why))
            continue;
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", n++ ? "," : "", iface->name);
    }
    if (n == 0)
        snprintf(buf, len, "reference");
    return n ? n : 1;
}

int tfb_cmd_suite(int argc, char **argv) {
    suite_args a = {0};
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc;
    if (strcmp(a.backend, "all") != 0) { /* a named backend must be usable: exit 3 otherwise */
        char why[256] = "";
        if (!tfb_backend_find(a.backend)->probe(why, sizeof why)) {
            fprintf(stderr, "tfbench: %s: unavailable: %s\n", a.backend, why);
            return TFB_EXIT_UNAVAILABLE;
        }
    }
    if (mkdir(a.out, 0755) != 0 && errno != EEXIST)
        return tfb_cli_usage("-o", "%s: cannot create: %s", a.out, strerror(errno));
    char p_conform[4200], p_junit[4200], p_results[4200], p_report[4200], p_summary[4200], p_log[4200];
    snprintf(p_conform, sizeof p_conform, "%s/conform.json", a.out);
    snprintf(p_junit, sizeof p_junit, "%s/junit.xml", a.out);
    snprintf(p_results, sizeof p_results, "%s/results.json", a.out);
    snprintf(p_report, sizeof p_report, "%s/report", a.out);
    snprintf(p_summary, sizeof p_summary, "%s/summary.md", a.out);
    if (!a.force && access(p_summary, F_OK) == 0)
        return tfb_cli_usage("-o", "%s holds an earlier run (use --force to overwrite, or -o DIR)", a.out);

    char benchb[256];
    bench_backends(&a, benchb, sizeof benchb);
    const char *models = a.model ? a.model : "gpt2-124m,bert-base,marian-base";
    bool failed = false;

    fprintf(stderr, "tfbench: [1/3] conformance of %s (details: %s/conform.txt)\n", a.backend, a.out);
    argv_buf cf = {0};
    const char *cf_args[] = {"conform", "--backend", a.backend, "--model", "all",   "--dtype",
                             "all",     "--json",    p_conform, "--junit", p_junit, "--force"};
    push_all(&cf, cf_args, sizeof cf_args / sizeof cf_args[0]);
    push_common(&cf, &a);
    snprintf(p_log, sizeof p_log, "%s/conform.txt", a.out);
    rc = run_step(tfb_cmd_conform, p_log, cf.n, cf.v);
    if (rc == TFB_EXIT_FAIL)
        failed = true;
    else if (rc != 0)
        return rc;

    fprintf(stderr, "tfbench: [2/3] benchmarks of %s on %s (details: %s/bench.txt)\n", benchb, models, a.out);
    /* Prompt 128, depths 0 and 128, 8 generated tokens: the KV-reuse comparison recomputes the
     * whole sequence for every generated token, which dominates on slow devices (lavapipe), so the
     * defaults stay small. Scaled down to fit the smallest context among the chosen presets (a
     * model directory's context is checked by bench itself). */
    int64_t ctx = 1 << 30;
    for (int i = 0; i < tfb_preset_count(); i++)
        if (strstr(models, tfb_preset_get(i)->name) && tfb_preset_get(i)->n_ctx < ctx)
            ctx = tfb_preset_get(i)->n_ctx;
    int64_t pp = ctx / 2 < 128 ? ctx / 2 : 128, depth = ctx / 2 < 128 ? ctx / 2 : 128;
    char pp_s[32], depth_s[48];
    snprintf(pp_s, sizeof pp_s, "%lld", (long long)pp);
    snprintf(depth_s, sizeof depth_s, "0,%lld", (long long)depth);
    argv_buf bn = {0};
    const char *bn_args[] = {"bench", "--backend", benchb, "--model", models, "--pp", pp_s, "--tg", "8",
                             "--depth", depth_s, "--kv-reuse", "-r", a.reps, "--warmup", "1", "-o", p_results,
                             "--force"};
    push_all(&bn, bn_args, sizeof bn_args / sizeof bn_args[0]);
    push_common(&bn, &a);
    snprintf(p_log, sizeof p_log, "%s/bench.txt", a.out);
    rc = run_step(tfb_cmd_bench, p_log, bn.n, bn.v);
    if (rc == TFB_EXIT_FAIL)
        failed = true;
    else if (rc != 0)
        return rc;

    fprintf(stderr, "tfbench: [3/3] report (%s/report/report.md)\n", a.out);
    argv_buf rp = {0};
    const char *rp_args[] = {"report", p_results, "-o", p_report, "--force"};
    push_all(&rp, rp_args, sizeof rp_args / sizeof rp_args[0]);
    snprintf(p_log, sizeof p_log, "%s/report.txt", a.out);
    if (run_step(tfb_cmd_report, p_log, rp.n, rp.v) != 0)
        failed = true;

    cJSON *conform = read_json(p_conform), *results = read_json(p_results);
    tfb_atomic_file af;
    tfb_status st = tfb_atomic_open(&af, p_summary, true);
    if (st != TFB_STATUS_OK) {
        cJSON_Delete(conform);
        cJSON_Delete(results);
        return tfb_cli_fail(st, "-o");
    }
    FILE *outs[2] = {stdout, af.f};
    for (int k = 0; k < 2; k++) {
        fprintf(outs[k], "# tfbench standard suite: %s\n", failed ? "FAILED" : "passed");
        if (conform)
            print_matrix(outs[k], &conform, 1);
        if (results)
            print_headlines(outs[k], results);
        fprintf(outs[k],
                "\nOutputs in %s/: conform.json, junit.xml, results.json, report/report.md, summary.md\n",
                a.out);
    }
    cJSON_Delete(conform);
    cJSON_Delete(results);
    if ((st = tfb_atomic_commit(&af)) != TFB_STATUS_OK)
        return tfb_cli_fail(st, "-o");
    return failed ? TFB_EXIT_FAIL : TFB_EXIT_OK;
}

/* `tfbench matrix CONFORM.json...`: the markdown conformance matrix of one or more `conform --json`
 * files (ci/conform-matrix.sh writes one per backend). Exit 1 when any cell failed. */
int tfb_cmd_matrix(int argc, char **argv) {
    if (argc < 2)
        return tfb_cli_usage("matrix", "usage: tfbench matrix CONFORM.json...");
    cJSON *docs[64];
    int n = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        if (n == (int)(sizeof docs / sizeof docs[0])) {
            rc = tfb_cli_usage("matrix", "at most %d files", n);
            break;
        }
        cJSON *j = read_json(argv[i]);
        if (!j || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "results"))) {
            cJSON_Delete(j);
            rc = tfb_cli_usage(argv[i], "not a tfbench conform --json file");
            break;
        }
        docs[n++] = j;
    }
    bool failed = false;
    for (int d = 0; rc == 0 && d < n; d++) {
        const cJSON *r;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(docs[d], "results")) failed =
            failed || verdict_rank(str(r, "verdict")) >= verdict_rank("FAIL");
    }
    if (rc == 0) {
        printf("# tfbench conformance matrix: %s\n", failed ? "FAILED" : "passed");
        print_matrix(stdout, docs, n);
    }
    for (int d = 0; d < n; d++)
        cJSON_Delete(docs[d]);
    return rc ? rc : failed ? TFB_EXIT_FAIL : TFB_EXIT_OK;
}
