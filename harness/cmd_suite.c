/* `tfbench` with no subcommand: the standard suite on the embedded default (synthetic weights).
 *
 * It composes the real subcommands, so their checks and outputs are the suite's:
 *   1. conform  every chosen backend x every tiny model x every dtype -> conform.json, junit.xml
 *   2. bench    the runs of bench_suite.c's plan (every family on the fastest CPU backend, throughput,
 *               KV reuse and scaling on the others) -> bench/NN-*.json, merged into results.json
 *   3. report   figures, report.md, tables.tex from results.json -> report/
 * then prints a conformance matrix (backend x model x dtype) and the headline figures, also written
 * to summary.md. Each step's own table goes to DIR/<step>.txt (bench/NN-*.txt) so the terminal shows
 * the summary; with --progress (or when stderr is a terminal) one line per step on stderr.
 * --quick: tiny models at toy sizes (CI); --full: every family on every backend (papers). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "progress.h"
#include "cli.h"
#include "db.h"
#include "report.h"

#define SUITE_MAX 16

typedef struct suite_args {
    const char *backend, *model, *out, *reps;
    bool force, progress, dry_run;
    tfb_suite_profile profile;
    const char *threads, *device; /* passed through as given */
    const char *db;               /* --db URL, passed to conform and bench (which also read $TFBENCH_DB) */
} suite_args;

/* A subcommand's argv, built up one argument at a time (v[0] is the subcommand's name). */
typedef struct argv_buf {
    char *v[64];
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

/* The headline rows: throughput, decode, first-token time, the reuse speedups and the quantization
 * figures. A row whose coefficient of variation is over 5% says so (its spread is more than noise
 * the median can hide); its samples are in results.json. */
static bool headline(const char *kind, const char *metric) {
    if (!strcmp(kind, "pp") || !strcmp(kind, "encode") || !strcmp(kind, "tg"))
        return !strcmp(metric, "tokens_per_s");
    if (!strcmp(kind, "kv") || !strcmp(kind, "xattn") || !strcmp(kind, "prefix"))
        return !strcmp(metric, "speedup");
    if (!strcmp(kind, "e2e"))
        return !strcmp(metric, "ttft_s") || !strcmp(metric, "tpot_s");
    if (!strcmp(kind, "quant"))
        return !strcmp(metric, "kl_mean") || !strcmp(metric, "top1_agreement") || !strcmp(metric, "hidden_nmse");
    return false;
}

static void print_headlines(FILE *f, const cJSON *results) {
    fprintf(f, "\n## Headline figures (medians; all rows in results.json, figures in report/)\n\n"
               "| backend | model | dtype | test | metric | median | ±95%% CI | cv |\n"
               "|---|---|---|---|---|---:|---:|---:|\n");
    const cJSON *r;
    int high = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(results, "results")) {
        const char *kind = str(r, "kind"), *metric = str(r, "metric");
        if (!headline(kind, metric))
            continue;
        const cJSON *med = cJSON_GetObjectItemCaseSensitive(r, "median");
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(r, "ci95");
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(r, "cv");
        bool plain = !strcmp(kind, "pp") || !strcmp(kind, "tg") || !strcmp(kind, "e2e") || !strcmp(kind, "encode");
        fprintf(f, "| %s | %s | %s%s | %s%s%s | %s | %.4g | ", str(r, "backend"), str(r, "model"), str(r, "dtype"),
                !strcmp(str(r, "act"), "q8") ? "/a8" : "", plain ? "" : kind, plain ? "" : " ", str(r, "test"), metric,
                cJSON_IsNumber(med) ? med->valuedouble : 0.0);
        if (cJSON_IsNumber(ci))
            fprintf(f, "%.2g | ", ci->valuedouble);
        else
            fprintf(f, "- | ");
        if (cJSON_IsNumber(cv) && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "samples")) > 1) {
            bool h = cv->valuedouble > 0.05;
            high += h;
            fprintf(f, "%.1f%%%s |\n", 100 * cv->valuedouble, h ? " (high)" : "");
        } else {
            fprintf(f, "- |\n");
        }
    }
    if (high)
        fprintf(f, "\n%d figure%s with a coefficient of variation over 5%% (high): a busy machine or too short a "
                   "run; rerun on a quiet machine or with more repetitions (-r) before quoting %s.\n",
                high, high == 1 ? "" : "s", high == 1 ? "it" : "them");
}

/* ---- the suite -------------------------------------------------------------------------------- */

static int parse(int argc, char **argv, suite_args *a) {
    a->backend = "all";
    a->out = "tfbench-out";
    a->profile = TFB_SUITE_DEFAULT;
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
        else if (strcmp(argv[i], "--progress") == 0)
            a->progress = true;
        else if (strcmp(argv[i], "--dry-run") == 0)
            a->dry_run = true;
        else if (strcmp(argv[i], "--quick") == 0)
            a->profile = TFB_SUITE_QUICK;
        else if (strcmp(argv[i], "--full") == 0)
            a->profile = TFB_SUITE_FULL;
        else
            return tfb_cli_usage("tfbench", "unknown option '%s' (tfbench --help)", argv[i]);
    }
    if (strcmp(a->backend, "all") != 0 && !tfb_backend_find(a->backend))
        return tfb_cli_usage("--backend", "unknown or not compiled in: '%s'", a->backend);
    for (const char *p = a->model; p && *p;) { /* --model M[,M2...] */
        char name[1024];
        size_t n = strcspn(p, ",");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        struct stat st;
        if (!tfb_preset_find(name) && (stat(name, &st) != 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))))
            return tfb_cli_usage("--model", "'%s' is neither a preset, a directory nor a GGUF file", name);
        p += n + (p[n] == ',');
    }
    return 0;
}

/* The backends to benchmark: the named one alone, or the fastest available CPU backend (simd, else
 * onednn, else the reference) for every family and every other available one but the reference
 * (the oracle is checked against, not timed) for throughput, KV reuse and scaling. */
static void bench_backends(const suite_args *a, tfb_suite_opts *o) {
    if (strcmp(a->backend, "all") != 0) {
        o->cpu = a->backend;
        return;
    }
    static const char *const fastest[] = {"simd", "onednn", "reference"};
    char why[256];
    for (size_t i = 0; i < sizeof fastest / sizeof fastest[0] && !o->cpu; i++) {
        const tfb_backend_i *iface = tfb_backend_find(fastest[i]);
        if (iface && iface->probe(why, sizeof why))
            o->cpu = fastest[i];
    }
    if (!o->cpu)
        o->cpu = "reference";
    for (int i = 0; i < tfb_backend_count() && o->n_others < 8; i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        if (strcmp(iface->name, "reference") != 0 && strcmp(iface->name, o->cpu) != 0 &&
            iface->probe(why, sizeof why))
            o->others[o->n_others++] = iface->name;
    }
}

/* One results file from the suite's bench runs: the first run's document with every other run's
 * rows, skipped entries and backend manifests added, and each run's command line under
 * environment.suite_runs. NULL when no run left a file. */
static cJSON *merge_results(const tfb_suite_job *jobs, const bool *ok, int n, const char *dir) {
    cJSON *doc = NULL;
    for (int i = 0; i < n; i++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/bench/%s.json", dir, jobs[i].name);
        cJSON *j = ok[i] ? read_json(path) : NULL;
        if (!j)
            continue;
        if (!doc) {
            doc = j;
            cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
            if (env) {
                cJSON_DeleteItemFromObjectCaseSensitive(env, "act"); /* rows carry their act */
                cJSON_AddArrayToObject(env, "suite_runs");
            }
        } else {
            static const char *const arrays[] = {"results", "skipped"};
            for (int k = 0; k < 2; k++) {
                cJSON *to = cJSON_GetObjectItemCaseSensitive(doc, arrays[k]);
                cJSON *from = cJSON_GetObjectItemCaseSensitive(j, arrays[k]);
                while (to && from && cJSON_GetArraySize(from) > 0)
                    cJSON_AddItemToArray(to, cJSON_DetachItemFromArray(from, 0));
            }
            cJSON *to = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "environment"), "backends");
            cJSON *from = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "environment"), "backends");
            cJSON *b = from ? from->child : NULL;
            while (to && b) {
                cJSON *next = b->next;
                if (!cJSON_GetObjectItemCaseSensitive(to, b->string))
                    cJSON_AddItemToObject(to, b->string, cJSON_DetachItemViaPointer(from, b));
                b = next;
            }
            cJSON_Delete(j);
        }
        cJSON *runs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "environment"), "suite_runs");
        if (runs) {
            cJSON *cmd = cJSON_CreateArray();
            cJSON_AddItemToArray(cmd, cJSON_CreateString("tfbench"));
            for (int k = 0; k < jobs[i].argc; k++)
                cJSON_AddItemToArray(cmd, cJSON_CreateString(jobs[i].argv[k]));
            cJSON_AddItemToArray(runs, cmd);
        }
    }
    return doc;
}

static tfb_status write_json(const char *path, const cJSON *doc) {
    tfb_atomic_file af;
    TFB_TRY(tfb_atomic_open(&af, path, true));
    char *text = cJSON_Print(doc);
    bool ok = text && fputs(text, af.f) >= 0 && fputc('\n', af.f) >= 0;
    free(text);
    if (!ok) {
        tfb_atomic_abort(&af);
        return tfb_error_set(TFB_STATUS_IO, "%s: write failed", path);
    }
    return tfb_atomic_commit(&af);
}

/* The bench runs, progress counted across all of them; a run that fails is reported and the
 * others go on. Returns an exit code for a usage error in the plan, else 0 (*failed set). */
static int run_benches(const suite_args *a, tfb_suite_job *jobs, int n, bool *ok, bool *failed) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/bench", a->out);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return tfb_cli_usage("-o", "%s: cannot create: %s", dir, strerror(errno));
    int steps = 0;
    double units = 0;
    for (int i = 0; i < n; i++) { /* every run's usage checked, and its steps counted, before any runs */
        int s;
        double u;
        int rc = tfb_bench_count(jobs[i].argc, jobs[i].argv, &s, &u);
        if (rc != 0)
            return rc;
        steps += s, units += u;
    }
    bool print = a->progress || isatty(2);
    tfb_progress_open("bench", steps, units, a->progress);
    double t0 = tfb_now();
    for (int i = 0; i < n; i++) {
        char out[4400], log[4400], el[16];
        snprintf(out, sizeof out, "%s/%s.json", dir, jobs[i].name);
        snprintf(log, sizeof log, "%s/%s.txt", dir, jobs[i].name);
        tfb_progress_clock(el, sizeof el, tfb_now() - t0);
        if (print)
            fprintf(stderr, "[suite %d/%d] %s (%s) elapsed %s\n", i + 1, n, jobs[i].what, log, el);
        argv_buf av = {0};
        push_all(&av, (const char *const *)jobs[i].argv, (size_t)jobs[i].argc);
        push(&av, "-o"), push(&av, out), push(&av, "--force");
        int rc = run_step(tfb_cmd_bench, log, av.n, av.v);
        ok[i] = rc == 0;
        if (rc != 0) {
            fprintf(stderr, "tfbench: suite: %s exited %d (see %s)\n", jobs[i].what, rc, log);
            *failed = true;
        }
    }
    tfb_progress_close();
    return 0;
}

/* --dry-run: the bench runs, their steps and estimated work units; nothing is measured. */
static int print_plan(tfb_suite_job *jobs, int n) {
    int total = 0;
    double units = 0;
    for (int i = 0; i < n; i++) {
        int s;
        double u;
        int rc = tfb_bench_count(jobs[i].argc, jobs[i].argv, &s, &u);
        if (rc != 0)
            return rc;
        printf("%2d. %s: %d steps, %.3g work units\n    tfbench", i + 1, jobs[i].what, s, u);
        for (int k = 0; k < jobs[i].argc; k++)
            printf(" %s", jobs[i].argv[k]);
        printf("\n");
        total += s, units += u;
    }
    printf("conformance, then %d bench runs: %d steps, %.3g work units\n", n, total, units);
    return TFB_EXIT_OK;
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
    char p_conform[4200], p_junit[4200], p_results[4200], p_report[4200], p_summary[4200], p_log[4200];
    snprintf(p_conform, sizeof p_conform, "%s/conform.json", a.out);
    snprintf(p_junit, sizeof p_junit, "%s/junit.xml", a.out);
    snprintf(p_results, sizeof p_results, "%s/results.json", a.out);
    snprintf(p_report, sizeof p_report, "%s/report", a.out);
    snprintf(p_summary, sizeof p_summary, "%s/summary.md", a.out);
    if (!a.force && access(p_summary, F_OK) == 0)
        return tfb_cli_usage("-o", "%s holds an earlier run (use --force to overwrite, or -o DIR)", a.out);

    tfb_suite_opts so = {.profile = a.profile, .reps = a.reps, .threads = a.threads, .device = a.device,
                         .progress = a.progress};
    bench_backends(&a, &so);
    char models_buf[1024];
    if (a.model) { /* --model M[,M2]: those models instead of the profile's */
        snprintf(models_buf, sizeof models_buf, "%s", a.model);
        for (char *p = strtok(models_buf, ","); p && so.n_models < 16; p = strtok(NULL, ","))
            so.models[so.n_models++] = p;
    }
    static tfb_suite_job jobs[96];
    int n_jobs = tfb_suite_plan(&so, jobs, 96);
    if (a.dry_run)
        return print_plan(jobs, n_jobs);
    if (mkdir(a.out, 0755) != 0 && errno != EEXIST)
        return tfb_cli_usage("-o", "%s: cannot create: %s", a.out, strerror(errno));
    bool failed = false, print = a.progress || isatty(2);

    double t0 = tfb_now();
    if (print)
        fprintf(stderr, "[conform] %s x every tiny model x every dtype (%s/conform.txt)\n", a.backend, a.out);
    argv_buf cf = {0};
    const char *cf_args[] = {"conform", "--backend", a.backend, "--model", "all",   "--dtype",
                             "all",     "--json",    p_conform, "--junit", p_junit, "--force"};
    push_all(&cf, cf_args, sizeof cf_args / sizeof cf_args[0]);
    push_common(&cf, &a);
    if (print) /* conform's own step lines, as the bench runs' */
        push(&cf, "--progress");
    snprintf(p_log, sizeof p_log, "%s/conform.txt", a.out);
    rc = run_step(tfb_cmd_conform, p_log, cf.n, cf.v);
    if (rc == TFB_EXIT_FAIL)
        failed = true;
    else if (rc != 0)
        return rc;
    if (print) {
        char el[16];
        tfb_progress_clock(el, sizeof el, tfb_now() - t0);
        fprintf(stderr, "[conform] done%s, elapsed %s\n", failed ? " (failures)" : "", el);
    }

    static bool ok[96];
    if ((rc = run_benches(&a, jobs, n_jobs, ok, &failed)) != 0)
        return rc;
    cJSON *merged = merge_results(jobs, ok, n_jobs, a.out);
    tfb_status st = merged ? write_json(p_results, merged) : TFB_STATUS_OK;
    cJSON_Delete(merged);
    if (st != TFB_STATUS_OK)
        return tfb_cli_fail(st, "-o");
    if (merged && tfb_db_url(a.db)) { /* the bench runs, merged, as one bench run of the database */
        tfb_results res = {0};
        if ((st = tfb_results_read(p_results, &res)) != TFB_STATUS_OK)
            return tfb_cli_fail(st, "-o");
        rc = tfb_db_store_cli(tfb_db_url(a.db), "bench", &res, NULL);
        tfb_results_free(&res);
        if (rc != 0)
            return rc;
    }

    if (print)
        fprintf(stderr, "[report] %s/report/report.md\n", a.out);
    argv_buf rp = {0};
    const char *rp_args[] = {"report", p_results, "-o", p_report, "--format", "png,svg,pdf", "--force"};
    push_all(&rp, rp_args, sizeof rp_args / sizeof rp_args[0]);
    snprintf(p_log, sizeof p_log, "%s/report.txt", a.out);
    if (!merged || run_step(tfb_cmd_report, p_log, rp.n, rp.v) != 0)
        failed = true;

    /* The summary: on stdout, in summary.md, and with the figures in report.html. */
    cJSON *conform = read_json(p_conform), *results = read_json(p_results);
    char *md = NULL;
    size_t md_len = 0;
    FILE *mf = open_memstream(&md, &md_len);
    if (!mf) {
        cJSON_Delete(conform);
        cJSON_Delete(results);
        return tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "suite: out of memory"), "-o");
    }
    fprintf(mf, "# tfbench standard suite: %s\n", failed ? "FAILED" : "passed");
    if (conform)
        print_matrix(mf, &conform, 1);
    if (results)
        print_headlines(mf, results);
    fprintf(mf, "\nOutputs in %s/: report.html, conform.json, junit.xml, results.json (bench/: each run's JSON and "
                "table), report/report.md, summary.md\n",
            a.out);
    fclose(mf);
    fputs(md, stdout);
    tfb_atomic_file af;
    st = tfb_atomic_open(&af, p_summary, true);
    if (st == TFB_STATUS_OK && fputs(md, af.f) < 0) {
        tfb_atomic_abort(&af);
        st = tfb_error_set(TFB_STATUS_IO, "%s: write failed", p_summary);
    } else if (st == TFB_STATUS_OK) {
        st = tfb_atomic_commit(&af);
    }
    char p_html[4200];
    snprintf(p_html, sizeof p_html, "%s/report.html", a.out);
    if (st == TFB_STATUS_OK)
        st = tfb_report_html(p_html, md, p_report, conform, results);
    free(md);
    cJSON_Delete(conform);
    cJSON_Delete(results);
    if (st != TFB_STATUS_OK)
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
