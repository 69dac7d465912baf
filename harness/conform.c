/* `tfbench conform`: every chosen backend x model x dtype against the reference, op level and model
 * level (DESIGN.md, Conformance). Exit 0 when nothing failed, 1 on any failure, 2 on bad usage,
 * 3 when an explicitly named backend is unavailable. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"
#include "db.h"
#include "progress.h"

static const char *const default_models[] = {"gpt2-tiny", "bert-tiny", "marian-tiny", "llama-tiny", "t5-tiny"};
#define N_DEFAULT_MODELS ((int)(sizeof default_models / sizeof default_models[0]))
static const tfb_dtype all_dtypes[] = {TFB_DTYPE_F32, TFB_DTYPE_F16, TFB_DTYPE_BF16, TFB_DTYPE_Q8_0,
                                       TFB_DTYPE_Q4_0};

static void usage(FILE *f) {
    fprintf(
        f, "usage: tfbench conform [--backend B|all] [--model M|all] [--dtype D|all] [--json F] [--junit F]\n"
           "                       [--db URL]\n"
           "                       [--op-level-only | --model-level-only] [--op NAME] [--case NAME]\n"
           "                       [--determinism] [--force] [--threads N] [--isa X] [--device D]\n"
           "                       [--act f32|q8] [--tolerances] [--quiet] [--repro] [--progress]\n"
           "  --model all = gpt2-tiny, bert-tiny, marian-tiny, llama-tiny, t5-tiny; any preset, a Hugging Face\n"
           "              directory, or a GGUF file (run once in its stored types; --gguf-convert q8_0|f16\n"
           "              converts the types tfbench does not run)\n"
           "  --dtype all = f32, f16, bf16, q8_0, q4_0; or a list (q8_0,q4_0)\n"
           "  --act q8: q8_0/q4_0 matmuls round their activations to 8 bits on the backend and the\n"
           "            reference alike (shown as q8_0/a8); backends without it report them unsupported\n"
           "  --op NAME / --case NAME narrow the op-level cases (the model level still runs unless --op-level-only)\n"
               "  every case that does not pass prints its repro command (--repro: every case; JSON/JUnit: "
           "always)\n"
           "  --progress: a line per step on stderr (backend x dtype op cases, backend x model x dtype) with\n"
           "              the time elapsed and left; by default only when stderr is a terminal\n");
}

void tfb__cf_repro(char *buf, size_t len, const tfb_cf_args *a, const char *backend, const char *model,
                   const char *dtype, const char *op, const char *case_name, bool op_level) {
    /* The planted-fault wrapper exists only in the test binary tfbench-faults (backends/fault.c), set
     * up by its environment. */
    bool fault = strcmp(backend, "fault") == 0;
    char env[192] = "";
    if (fault) {
        const char *f = getenv("TFB_FAULT"), *base = getenv("TFB_FAULT_BASE"), *only = getenv("TFB_FAULT_OP");
        bool has_only = only && *only;
        snprintf(env, sizeof env, "TFB_FAULT=%s TFB_FAULT_BASE=%s%s%s ", f && *f ? f : "none",
                 base && *base ? base : "reference", has_only ? " TFB_FAULT_OP=" : "", has_only ? only : "");
    }
    int n = snprintf(buf, len, "%s%s conform --backend %s", env, fault ? "tfbench-faults" : "tfbench", backend);
    if (model && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --model %s", model);
    if (n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --dtype %s %s", dtype,
                      op_level ? "--op-level-only" : "--model-level-only");
    if (op_level && op && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --op %s --case '%s'", op, case_name);
    if (a->opts.n_threads && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --threads %d", a->opts.n_threads);
    if (a->opts.isa && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --isa %s", a->opts.isa);
    if (a->opts.act_q8 && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " --act q8");
    if (a->determinism && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " --determinism");
}

void tfb__cf_label(tfb_cf_result *r, const tfb_cf_args *a, const char *backend, const char *kind,
                   const char *name, int wt) {
    snprintf(r->backend, sizeof r->backend, "%s", backend);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->dtype, sizeof r->dtype, "%s", wt < 0 ? "-" : tfb_dtype_name((tfb_dtype)wt));
    bool act = wt >= 0 && tfb_cli_act_applies(&a->opts, (tfb_dtype)wt);
    snprintf(r->act, sizeof r->act, "%s", act ? "q8" : "");
}

const char *tfb__cf_dtype_label(const tfb_cf_result *r, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", r->dtype, r->act[0] ? "/a8" : "");
    return buf;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --dtype: "all" or a comma-separated list of weight dtypes, kept in the order of all_dtypes. */
static int parse_dtypes(tfb_cf_args *a) {
    bool want[TFB_DTYPE_COUNT] = {false};
    bool all = strcmp(a->dtype, "all") == 0;
    for (const char *p = a->dtype; !all;) {
        size_t len = strcspn(p, ",");
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        tfb_dtype dt;
        if (len >= sizeof name || !tfb_dtype_parse(name, &dt) || dt == TFB_DTYPE_I32)
            return tfb_cli_usage("--dtype", "unknown weight dtype '%.*s' (f32, f16, bf16, q8_0, q4_0, all)",
                                 (int)len, p);
        want[dt] = true;
        if (!p[len])
            break;
        p += len + 1;
    }
    a->n_dtypes = 0;
    for (size_t d = 0; d < sizeof all_dtypes / sizeof all_dtypes[0]; d++)
        if (all || want[all_dtypes[d]])
            a->dtypes[a->n_dtypes++] = all_dtypes[d];
    return 0;
}

static int parse(int argc, char **argv, tfb_cf_args *a) {
    a->backend = "all";
    a->model = "all";
    a->dtype = "all";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        int r = tfb_cli_backend_opt(argc, argv, &i, &a->opts);
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
#define MATCH(name) tfb_cli_opt(argc, argv, &i, name, &v, &bad)
        if (MATCH("--backend"))
            a->backend = v;
        else if (MATCH("--model"))
            a->model = v;
        else if (MATCH("--dtype"))
            a->dtype = v;
        else if (MATCH("--json"))
            a->json = v;
        else if (MATCH("--db"))
            a->db = v;
        else if (MATCH("--junit"))
            a->junit = v;
        else if (MATCH("--op"))
            a->op = v;
        else if (MATCH("--case"))
            a->case_filter = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (strcmp(argv[i], "--op-level-only") == 0)
            a->op_only = true;
        else if (strcmp(argv[i], "--model-level-only") == 0)
            a->model_only = true;
        else if (strcmp(argv[i], "--force") == 0)
            a->force = true;
        else if (strcmp(argv[i], "--determinism") == 0)
            a->determinism = true;
        else if (strcmp(argv[i], "--quiet") == 0)
            a->quiet = true;
        else if (strcmp(argv[i], "--repro") == 0)
            a->repro_all = true;
        else if (strcmp(argv[i], "--progress") == 0)
            a->progress = true;
        else if (strcmp(argv[i], "--tolerances") == 0) {
            tfb__cf_print_tolerances(stdout);
            return -1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return -1;
        } else
            return tfb_cli_usage("conform", "unknown option '%s'", argv[i]);
#undef MATCH
    }
    if (a->op_only && a->model_only)
        return tfb_cli_usage("conform", "--op-level-only and --model-level-only exclude each other");
    tfb_op op;
    if (a->op && !tfb_op_parse(a->op, &op))
        return tfb_cli_usage("--op", "unknown op '%s'", a->op);
    if (a->op && a->model_only)
        return tfb_cli_usage("--op", "selects op-level cases; it cannot go with --model-level-only");
    int rc = parse_dtypes(a);
    if (rc != 0)
        return rc;
    if (strcmp(a->model, "all") != 0 && !tfb_preset_find(a->model) && !is_dir(a->model) &&
        !tfb_model_stored_dtypes(a->model))
        return tfb_cli_usage("--model", "'%s' is neither a preset, a directory nor a GGUF file", a->model);
    if (strcmp(a->backend, "all") != 0 && !tfb_backend_find(a->backend)) {
        char known[256] = "";
        for (int i = 0; i < tfb_backend_count(); i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, tfb_backend_get(i)->name, sizeof known - strlen(known) - 1);
        }
        return tfb_cli_usage("--backend", "unknown or not compiled in: '%s' (built: %s)", a->backend, known);
    }
    /* Refuse an existing result file now, not after the run. */
    const char *files[2] = {a->json, a->junit};
    for (int k = 0; k < 2; k++)
        if (files[k] && !a->force && access(files[k], F_OK) == 0)
            return tfb_cli_usage(k ? "--junit" : "--json", "%s: exists (use --force to overwrite)", files[k]);
    return 0;
}

/* One backend: every dtype's op cases, then every model x dtype. Returns 0, or the init status when
 * the backend could not be started (reported as a result row). */
static tfb_status run_backend(const tfb_cf_args *a, const tfb_backend_i *iface, tfb_backend *ref,
                              tfb_cf_report *rep) {
    tfb_backend *b = NULL;
    tfb_status st = tfb_backend_init(iface, &a->opts, &b);
    if (st != TFB_STATUS_OK) {
        tfb_cf_result *r = tfb__cf_add(rep);
        tfb__cf_label(r, a, iface->name, "all", "-", -1);
        r->verdict = st == TFB_STATUS_UNAVAILABLE ? TFB_CF_UNAVAILABLE : TFB_CF_ERROR;
        snprintf(r->detail, sizeof r->detail, "%s", tfb_error_last());
        snprintf(r->repro, sizeof r->repro, "tfbench list");
        if (!a->quiet)
            tfb__cf_print_row(stdout, r, a->repro_all);
        return st;
    }
    int n_dt = a->n_dtypes;
    const tfb_dtype *dts = a->dtypes;
    char what[512];
    if (!a->model_only)
        for (int d = 0; d < n_dt; d++) {
            snprintf(what, sizeof what, "%s op cases %s%s", iface->name, tfb_dtype_name(dts[d]),
                     tfb_cli_act_applies(&a->opts, dts[d]) ? "/a8" : "");
            tfb_progress_step(what, 1);
            tfb__cf_run_ops(a, b, ref, dts[d], rep);
        }
    if (!a->op_only) {
        int n_models = strcmp(a->model, "all") == 0 ? N_DEFAULT_MODELS : 1;
        for (int mi = 0; mi < n_models; mi++) {
            const char *model = n_models == 1 ? a->model : default_models[mi];
            bool gguf = tfb_model_stored_dtypes(model);
            /* A GGUF file runs once, in its stored types (tfb__cf_run_model labels it). */
            for (int d = 0; d < (gguf ? 1 : n_dt); d++) {
                snprintf(what, sizeof what, "%s %s %s%s", iface->name, model,
                         gguf ? "stored types" : tfb_dtype_name(dts[d]),
                         !gguf && tfb_cli_act_applies(&a->opts, dts[d]) ? "/a8" : "");
                tfb_progress_step(what, 1);
                tfb__cf_run_model(a, b, ref, model, dts[d], rep);
            }
        }
    }
    tfb_backend_free(b);
    return TFB_STATUS_OK;
}

/* The steps run_backend takes on a backend: one per dtype's op cases, one per model x dtype. */
static int backend_steps(const tfb_cf_args *a) {
    int n = a->model_only ? 0 : a->n_dtypes;
    if (!a->op_only) {
        int n_models = strcmp(a->model, "all") == 0 ? N_DEFAULT_MODELS : 1;
        for (int mi = 0; mi < n_models; mi++)
            n += tfb_model_stored_dtypes(n_models == 1 ? a->model : default_models[mi]) ? 1 : a->n_dtypes;
    }
    return n;
}

static bool selected(const tfb_cf_args *a, const tfb_backend_i *iface) {
    return strcmp(a->backend, "all") == 0 || strcmp(a->backend, iface->name) == 0;
}

int tfb_cmd_conform(int argc, char **argv) {
    tfb_cf_args a = {0};
    int rc = parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    tfb_backend *ref = NULL;
    if ((rc = tfb_cli_backend_open("reference", &a.opts, &ref)) != 0)
        return rc;
    tfb_cf_report rep = {0};
    double t0 = tfb_now();
    if (!a.quiet)
        tfb__cf_print_header(stdout, &a);
    bool named_unavailable = false;
    /* Progress: each selected backend that probes available counts backend_steps steps; one that
     * then fails to start (run_backend returns its init status) has them passed over. */
    const int per_backend = backend_steps(&a);
    int steps = 0;
    bool counted[64] = {0}; /* by backend */
    for (int i = 0; i < tfb_backend_count() && i < 64; i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256];
        counted[i] = selected(&a, iface) && iface->probe(why, sizeof why);
        steps += counted[i] ? per_backend : 0;
    }
    tfb_progress_open("conform", steps, steps, a.progress);
    for (int i = 0; i < tfb_backend_count(); i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        if (!selected(&a, iface))
            continue;
        tfb_status st = run_backend(&a, iface, ref, &rep);
        if (st != TFB_STATUS_OK && i < 64 && counted[i])
            tfb_progress_advance(per_backend, per_backend);
        if (st == TFB_STATUS_USAGE || st == TFB_STATUS_INPUT) { /* a bad option for this backend */
            tfb_progress_close();
            tfb_backend_free(ref);
            tfb__cf_report_free(&rep);
            return tfb_cli_fail(st, NULL);
        }
        if (st == TFB_STATUS_UNAVAILABLE && strcmp(a.backend, "all") != 0)
            named_unavailable = true;
    }
    tfb_progress_close();
    tfb_backend_free(ref);
    int counts[TFB_CF_ERROR + 1] = {0};
    for (int i = 0; i < rep.n; i++)
        counts[rep.r[i].verdict]++;
    int failed = counts[TFB_CF_FAIL] + counts[TFB_CF_ERROR];
    printf(
        "conform: %d cases in %.1f s: %d pass, %d near-tie, %d mistrusted, %d unsupported, %d unavailable, "
        "%d FAIL, %d ERROR\n",
        rep.n, tfb_now() - t0, counts[TFB_CF_PASS], counts[TFB_CF_NEAR_TIE], counts[TFB_CF_MISTRUSTED],
        counts[TFB_CF_UNSUPPORTED], counts[TFB_CF_UNAVAILABLE], counts[TFB_CF_FAIL], counts[TFB_CF_ERROR]);
    if (failed) {
        printf("failed:\n");
        for (int i = 0; i < rep.n; i++) {
            if (!tfb__cf_verdict_fails(rep.r[i].verdict))
                continue;
            char dt[16];
            printf("  %s %s [%s]: %s\n    repro: %s\n", rep.r[i].backend, rep.r[i].name,
                   tfb__cf_dtype_label(&rep.r[i], dt, sizeof dt), rep.r[i].detail, rep.r[i].repro);
        }
    }
    rc = failed ? TFB_EXIT_FAIL : named_unavailable ? TFB_EXIT_UNAVAILABLE : TFB_EXIT_OK;
    tfb_status st;
    if (a.json && (st = tfb__cf_write_json(a.json, a.force, &a, &rep)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "--json");
    if (a.junit && (st = tfb__cf_write_junit(a.junit, a.force, &a, &rep)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "--junit");
    if (tfb_db_url(a.db)) { /* after the files, so a database error never costs them */
        int db_rc = tfb__cf_store_db(tfb_db_url(a.db), &a, &rep);
        if (db_rc)
            rc = db_rc;
    }
    tfb__cf_report_free(&rep);
    return rc;
}
