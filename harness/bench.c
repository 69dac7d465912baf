/* `tfbench bench`: prefill / decode throughput at depths, TTFT and TPOT, KV-cache reuse, context
 * scaling and quantization effects, over backends x models x dtypes x threads (DESIGN.md,
 * Benchmarks). Parsing, validation and the outputs live here; the measurements in bench_run.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "progress.h"
#include <unistd.h>

#include "db.h"
#include "env.h"

static void usage_text(void) {
    fprintf(stderr,
            "usage: tfbench bench [--backend B[,B2|all]] --model M[,M2] [--pp 128,512] [--tg 64] [--depth 0,512]\n"
            "                     [--dtype f32,q8_0] [--threads 1,2] [-r N] [--warmup N] [-o F.json] [--csv F]\n"
            "                     [--db URL] [--force] [--kv-reuse] [--prefix P --requests K] [--scaling] [--quick]\n"
            "                     [--device D] [--isa X] [--act f32|q8] [--kinds pp,tg,...] [--kv-tg N]\n"
            "                     [--scale-max N] [--scale-tg N] [--max-reps N] [--interleave] [--progress]\n"
            "                     [--dry-run]\n"
            "  defaults: --pp 512 --tg 64 --depth 0 (--quick: 32, 8), scaled down to fit the model's context\n"
            "  --kinds: pp,e2e,tg,kv,xattn,prefix,quant,scale_pp,scale_tg (default pp,e2e,tg, plus kv and xattn\n"
            "           with --kv-reuse, prefix with --prefix, scale_* with --scaling, quant for quantized dtypes)\n"
            "  --kv-tg N: tokens per kv/xattn comparison; --scale-tg N: tokens per scaling depth (default: --tg);\n"
            "  --scale-max N: longest prefill / deepest decode of the scaling runs (default: the context)\n"
            "  decode (tg, scale_tg, kv cached): warm-up past --warmup (2 more at most) until two runs agree\n"
            "           within 5%%, repetitions past -r (to --max-reps, default 2x -r) until the 95%% CI is\n"
            "           within 5%% of the median\n"
            "  --interleave: a model's configurations (backends, dtypes, threads) take turns at every step and\n"
            "           repetition (A B A B), all loaded at once, so drifting load hits them alike\n"
            "  --progress: a line per step on stderr even when it is not a terminal; --dry-run: list the steps\n"
            "  --act q8: q8_0/q4_0 matmuls round their activations to 8 bits (rows carry \"act\": \"q8\",\n"
            "            tables show q4_0/a8); backends without it skip those dtypes\n");
}

static int split_list(char *buf, const char **out, int cap, const char *flag) {
    int n = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        if (n == cap)
            return -tfb_cli_usage(flag, "at most %d entries", cap);
        out[n++] = p;
    }
    if (n == 0)
        return -tfb_cli_usage(flag, "empty list");
    return n;
}

static int parse_int_list(const char *flag, const char *v, int32_t lo, int32_t **out, int64_t *n) {
    free(*out);
    if (!tfb_cli_parse_ints(v, out, n))
        return tfb_cli_usage(flag, "expected comma-separated integers, got '%s'", v);
    for (int64_t i = 0; i < *n; i++)
        if ((*out)[i] < lo)
            return tfb_cli_usage(flag, "%d is out of range (must be at least %d)", (*out)[i], lo);
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} kind_names[] = {{"pp", TFB_BENCH_PP},         {"encode", TFB_BENCH_PP},          {"e2e", TFB_BENCH_E2E},
                  {"tg", TFB_BENCH_TG},         {"kv", TFB_BENCH_KV},              {"xattn", TFB_BENCH_XATTN},
                  {"prefix", TFB_BENCH_PREFIX}, {"quant", TFB_BENCH_QUANT},        {"scale_pp", TFB_BENCH_SCALE_PP},
                  {"scale_tg", TFB_BENCH_SCALE_TG}};

static int parse_kinds(const char *v, unsigned *out) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    *out = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
        size_t k;
        for (k = 0; k < sizeof kind_names / sizeof kind_names[0] && strcmp(kind_names[k].name, p) != 0; k++)
            ;
        if (k == sizeof kind_names / sizeof kind_names[0])
            return tfb_cli_usage("--kinds", "unknown kind '%s' (pp, e2e, tg, kv, xattn, prefix, quant, scale_pp, "
                                            "scale_tg)", p);
        *out |= kind_names[k].bit;
    }
    if (*out == 0)
        return tfb_cli_usage("--kinds", "empty list");
    return 0;
}

static int parse(int argc, char **argv, tfb_bench_args *a) {
    a->reps = 5;
    a->warmup = 1;
    a->requests = 4;
    a->seed = 42;
    bool reps_set = false, warmup_set = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        int rc;
        if (strcmp(argv[i], "--threads") == 0 || strncmp(argv[i], "--threads=", 10) == 0) {
            if (!tfb_cli_opt(argc, argv, &i, "--threads", &v, &bad))
                return TFB_EXIT_USAGE;
            if ((rc = parse_int_list("--threads", v, 1, &a->threads, &a->n_threads)) != 0)
                return rc;
            continue;
        }
        int r = tfb_cli_backend_opt(argc, argv, &i, &a->opts);
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
#define MATCH(name) tfb_cli_opt(argc, argv, &i, name, &v, &bad)
        if (MATCH("--backend")) {
            free(a->backends_buf);
            a->backends_buf = strdup(v);
            if ((a->n_backends = split_list(a->backends_buf, a->backends, 16, "--backend")) < 0)
                return -a->n_backends;
        } else if (MATCH("--model")) {
            free(a->models_buf);
            a->models_buf = strdup(v);
            if ((a->n_models = split_list(a->models_buf, a->models, 16, "--model")) < 0)
                return -a->n_models;
        } else if (MATCH("--pp")) {
            if ((rc = parse_int_list("--pp", v, 1, &a->pp, &a->n_pp)) != 0)
                return rc;
            a->pp_set = true;
        } else if (MATCH("--tg")) {
            if ((rc = parse_int_list("--tg", v, 1, &a->tg, &a->n_tg)) != 0)
                return rc;
            a->tg_set = true;
        } else if (MATCH("--depth")) {
            if ((rc = parse_int_list("--depth", v, 0, &a->depth, &a->n_depth)) != 0)
                return rc;
        } else if (MATCH("--dtype")) {
            char *buf = strdup(v);
            const char *names[TFB_DTYPE_COUNT + 1];
            int n = buf ? split_list(buf, names, TFB_DTYPE_COUNT, "--dtype") : -TFB_EXIT_USAGE;
            a->n_dtypes = 0;
            for (int k = 0; k < n; k++) {
                tfb_dtype dt;
                if (!tfb_dtype_parse(names[k], &dt) || dt == TFB_DTYPE_I32) {
                    rc = tfb_cli_usage("--dtype", "unknown weight dtype '%s' (f32, f16, bf16, q8_0, q4_0)", names[k]);
                    free(buf);
                    return rc;
                }
                a->dtypes[a->n_dtypes++] = dt;
            }
            free(buf);
            if (n < 0)
                return -n;
        } else if (MATCH("-r") || MATCH("--repetitions")) {
            if (!tfb_cli_parse_int(v, 1, 100000, &a->reps))
                return tfb_cli_usage("-r", "expected a positive number of repetitions, got '%s'", v);
            reps_set = true;
        } else if (MATCH("--max-reps")) {
            if (!tfb_cli_parse_int(v, 1, 100000, &a->max_reps))
                return tfb_cli_usage("--max-reps", "expected a positive number of repetitions, got '%s'", v);
        } else if (MATCH("--warmup")) {
            if (!tfb_cli_parse_int(v, 0, 100000, &a->warmup))
                return tfb_cli_usage("--warmup", "expected a non-negative count, got '%s'", v);
            warmup_set = true;
        } else if (MATCH("--prefix")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 24, &a->prefix))
                return tfb_cli_usage("--prefix", "expected a positive prefix length, got '%s'", v);
        } else if (MATCH("--requests")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 20, &a->requests))
                return tfb_cli_usage("--requests", "expected a positive number of requests, got '%s'", v);
        } else if (MATCH("--db")) {
            a->db = v;
        } else if (MATCH("--kinds")) {
            if ((rc = parse_kinds(v, &a->kinds)) != 0)
                return rc;
        } else if (MATCH("--kv-tg")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 20, &a->kv_tg))
                return tfb_cli_usage("--kv-tg", "expected a positive number of tokens, got '%s'", v);
        } else if (MATCH("--scale-tg")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 20, &a->scale_tg))
                return tfb_cli_usage("--scale-tg", "expected a positive number of tokens, got '%s'", v);
        } else if (MATCH("--scale-max")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 24, &a->scale_max))
                return tfb_cli_usage("--scale-max", "expected a positive length, got '%s'", v);
        } else if (MATCH("--seed")) {
            if (!tfb_cli_parse_int(v, 0, INT64_MAX, &a->seed))
                return tfb_cli_usage("--seed", "expected a non-negative integer, got '%s'", v);
        } else if (MATCH("-o") || MATCH("--output")) {
            a->out = v;
        } else if (MATCH("--csv")) {
            a->csv = v;
        } else if (bad) {
            return TFB_EXIT_USAGE;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = true;
        } else if (strcmp(argv[i], "--kv-reuse") == 0) {
            a->kv_reuse = true;
        } else if (strcmp(argv[i], "--scaling") == 0) {
            a->scaling = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            a->quick = true;
        } else if (strcmp(argv[i], "--progress") == 0) {
            a->progress = true;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            a->dry_run = true;
        } else if (strcmp(argv[i], "--interleave") == 0) {
            a->interleave = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage_text();
            return TFB_EXIT_USAGE;
        } else {
            return tfb_cli_usage("bench", "unknown option '%s'", argv[i]);
        }
#undef MATCH
    }
    if (a->quick) { /* a smoke run: fewer repetitions, short prompts */
        if (!reps_set)
            a->reps = 2;
        if (!warmup_set)
            a->warmup = 0;
    }
    if (a->max_reps == 0) /* decode: up to twice the repetitions while its interval is wide */
        a->max_reps = a->quick ? a->reps : 2 * a->reps;
    if (a->max_reps < a->reps)
        return tfb_cli_usage("--max-reps", "%lld is fewer than -r %lld", (long long)a->max_reps, (long long)a->reps);
    if (a->n_backends == 0) { /* the fastest CPU backend available, else the reference */
        const tfb_backend_i *simd = tfb_backend_find("simd");
        char why[256];
        a->backends_buf = strdup(simd && simd->probe(why, sizeof why) ? "simd" : "reference");
        a->backends[a->n_backends++] = a->backends_buf;
    }
    if (a->n_models == 0)
        return tfb_cli_usage("bench", "--model M[,M2] is required");
    if (a->n_dtypes == 0)
        a->dtypes[a->n_dtypes++] = TFB_DTYPE_F32;
    /* The families: --kinds, or the defaults; --kv-reuse, --prefix and --scaling add theirs either way.
     * Quantization effects are measured wherever a dtype is quantized unless --kinds leaves them out. */
    if (!a->kinds)
        a->kinds = TFB_BENCH_PP | TFB_BENCH_E2E | TFB_BENCH_TG | TFB_BENCH_QUANT;
    if (a->kv_reuse)
        a->kinds |= TFB_BENCH_KV | TFB_BENCH_XATTN;
    if (a->prefix)
        a->kinds |= TFB_BENCH_PREFIX;
    if (a->scaling)
        a->kinds |= TFB_BENCH_SCALE_PP | TFB_BENCH_SCALE_TG;
    if (a->n_pp > 32 || a->n_tg > 32 || a->n_depth > 64)
        return tfb_cli_usage("bench", "too many --pp/--tg/--depth values (32/32/64 at most)");
    return 0;
}

static int32_t pow2_floor(int64_t v) {
    int32_t p = 1;
    while ((int64_t)p * 2 <= v && p < (1 << 29))
        p *= 2;
    return p;
}

static void note_scaled(tfb_bench_plan *pl, const char *what, int64_t got, int64_t nominal) {
    size_t n = strlen(pl->note);
    snprintf(pl->note + n, sizeof pl->note - n, "%s%s %lld (default %lld)", n ? ", " : "", what, (long long)got,
             (long long)nominal);
}

/* Resolve the defaults against the model's context and check every explicit figure fits. A default
 * that does not fit is scaled down (a power of two for the prompt) and said so in pl->note; an
 * explicit value that does not fit is a usage error. Decoder-only models hold the prompt and the
 * generated tokens in one context; encoder-decoders take the prompt as the source. */
static int plan_for(const tfb_bench_args *a, const tfb_config *c, tfb_bench_plan *pl) {
    memset(pl, 0, sizeof *pl);
    int64_t n_ctx = c->n_ctx;
    int32_t def_pp = a->quick ? 32 : 512, def_tg = a->quick ? 8 : 64;
    bool enc_only = tfb_config_encoder_only(c), one_ctx = !tfb_config_has_encoder(c);
    int64_t max_depth = 0, max_pp = 0;
    for (int64_t i = 0; i < a->n_depth; i++) {
        pl->depth[pl->n_depth++] = a->depth[i];
        max_depth = a->depth[i] > max_depth ? a->depth[i] : max_depth;
    }
    if (pl->n_depth == 0)
        pl->depth[pl->n_depth++] = 0;
    for (int64_t i = 0; i < a->n_pp; i++) {
        if (a->pp[i] > n_ctx)
            return tfb_cli_usage("--pp", "%d exceeds the context of %s (%lld)", a->pp[i], c->name, (long long)n_ctx);
        pl->pp[pl->n_pp++] = a->pp[i];
        max_pp = a->pp[i] > max_pp ? a->pp[i] : max_pp;
    }
    if (a->tg_set) {
        for (int64_t i = 0; i < a->n_tg; i++)
            pl->tg[pl->n_tg++] = a->tg[i];
    } else if (!enc_only) {
        /* Room for the explicit depths and prompts, and at most a quarter of the context. */
        int64_t tg = def_tg < n_ctx / 4 ? def_tg : n_ctx / 4 > 0 ? n_ctx / 4 : 1;
        if (n_ctx - max_depth < tg)
            tg = n_ctx - max_depth;
        if (one_ctx && max_pp && n_ctx - max_pp + 1 < tg)
            tg = n_ctx - max_pp + 1;
        if (tg < 1) { /* only an explicit depth or prompt can leave no room */
            if (max_depth >= n_ctx)
                return tfb_cli_usage("--depth", "depth %lld leaves no room to generate in the context of %s (%lld)",
                                     (long long)max_depth, c->name, (long long)n_ctx);
            return tfb_cli_usage("--pp", "prompt %lld leaves no room to generate in the context of %s (%lld)",
                                 (long long)max_pp, c->name, (long long)n_ctx);
        }
        pl->tg[pl->n_tg++] = (int32_t)tg;
        if (tg != def_tg)
            note_scaled(pl, "tg", tg, def_tg);
    } else {
        pl->tg[pl->n_tg++] = def_tg; /* unused: encoders only encode */
    }
    if (!a->pp_set) {
        int64_t room = one_ctx && !enc_only ? n_ctx - pl->tg[0] + 1 : n_ctx;
        int32_t pp = def_pp <= room ? def_pp : pow2_floor(room);
        pl->pp[pl->n_pp++] = pp;
        if (pp != def_pp)
            note_scaled(pl, "pp", pp, def_pp);
    }
    pl->kv_tg = a->kv_tg ? a->kv_tg : pl->tg[0];
    pl->scale_tg = a->scale_tg ? a->scale_tg : pl->tg[0];
    if (a->scale_max > n_ctx)
        return tfb_cli_usage("--scale-max", "%lld exceeds the context of %s (%lld)", (long long)a->scale_max, c->name,
                             (long long)n_ctx);
    pl->scale_max = a->scale_max ? a->scale_max : n_ctx;
    if (enc_only)
        return 0; /* encoders: prefill (encode) only; --tg/--depth do not apply */
    for (int i = 0; i < pl->n_tg; i++) {
        if (pl->tg[i] > n_ctx)
            return tfb_cli_usage("--tg", "%d exceeds the context of %s (%lld)", pl->tg[i], c->name, (long long)n_ctx);
        for (int d = 0; d < pl->n_depth; d++)
            if ((int64_t)pl->depth[d] + pl->tg[i] > n_ctx)
                return tfb_cli_usage("--depth", "depth %d + %d generated tokens exceed the context of %s (%lld)",
                                     pl->depth[d], pl->tg[i], c->name, (long long)n_ctx);
    }
    for (int d = 0; d < pl->n_depth && (a->kinds & TFB_BENCH_KV); d++)
        if (pl->depth[d] + pl->kv_tg > n_ctx)
            return tfb_cli_usage("--kv-tg", "depth %d + %lld tokens exceed the context of %s (%lld)", pl->depth[d],
                                 (long long)pl->kv_tg, c->name, (long long)n_ctx);
    if ((a->kinds & TFB_BENCH_SCALE_TG) && pl->scale_tg >= pl->scale_max)
        return tfb_cli_usage("--scale-tg", "%lld tokens leave no depth to scale within %lld", (long long)pl->scale_tg,
                             (long long)pl->scale_max);
    for (int i = 0; i < pl->n_pp; i++)
        if (one_ctx && (int64_t)pl->pp[i] + pl->tg[0] - 1 > n_ctx)
            return tfb_cli_usage("--pp", "prompt %d + %d generated tokens exceed the context of %s (%lld)", pl->pp[i],
                                 pl->tg[0], c->name, (long long)n_ctx);
    if (one_ctx && a->prefix > 0 && a->prefix + pl->tg[0] > n_ctx)
        return tfb_cli_usage("--prefix", "prefix %lld + %d suffix tokens exceed the context of %s (%lld)",
                             (long long)a->prefix, pl->tg[0], c->name, (long long)n_ctx);
    /* --kinds prefix without --prefix: the prompt length, within the context. */
    pl->prefix = a->prefix ? a->prefix : pl->pp[0] + pl->tg[0] <= n_ctx ? pl->pp[0] : n_ctx - pl->tg[0];
    return 0;
}

/* Does the backend keep its buffers in host memory (a CPU backend, where --threads applies)? */
static bool is_cpu_backend(tfb_backend *b) {
    tfb_buffer *buf = NULL;
    if (tfb_backend_buffer_alloc(b, 64, &buf) != TFB_STATUS_OK)
        return false;
    bool host = buf->host != NULL;
    tfb_backend_buffer_free(b, buf);
    return host;
}

/* ---- output --------------------------------------------------------------------------------- */

static void fmt_value(char *dst, size_t len, double v) {
    double m = fabs(v);
    if (!isfinite(v))
        snprintf(dst, len, "-");
    else if (m != 0 && (m < 1e-3 || m >= 1e7))
        snprintf(dst, len, "%.3e", v);
    else if (m < 1)
        snprintf(dst, len, "%.4f", v);
    else
        snprintf(dst, len, "%.2f", v);
}

static void print_table(const tfb_results *r) {
    printf("| backend | model | dtype | threads | test | metric | median ± ci95 | unit | cv |\n");
    printf("| --- | --- | --- | ---: | --- | --- | ---: | --- | ---: |\n");
    for (size_t i = 0; i < r->n; i++) {
        const tfb_result_row *w = &r->rows[i];
        char med[32], ci[72], cv[32] = "-";
        fmt_value(med, sizeof med, w->st.median);
        fmt_value(ci, sizeof ci, w->st.ci95);
        if (isfinite(w->st.cv))
            snprintf(cv, sizeof cv, "%.1f%%%s", 100 * w->st.cv, w->st.cv > 0.05 ? " (high)" : "");
        char th[16], test[80];
        snprintf(th, sizeof th, "%d", w->threads);
        /* Families that reuse a test name (kv, xattn, scale_*) are told apart by a prefix. */
        bool plain = !strcmp(w->kind, "pp") || !strcmp(w->kind, "tg") || !strcmp(w->kind, "encode") ||
                     !strcmp(w->kind, "e2e") || !strcmp(w->kind, "load") || !strcmp(w->kind, "memory") ||
                     !strcmp(w->kind, "prefix");
        snprintf(test, sizeof test, "%s%s%s", plain ? "" : w->kind, plain ? "" : " ", w->test);
        if (isfinite(w->ratio_lo) && isfinite(w->ratio_hi)) { // a ratio: its bootstrap interval
            char lo[32], hi[32];
            fmt_value(lo, sizeof lo, w->ratio_lo);
            fmt_value(hi, sizeof hi, w->ratio_hi);
            snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        }
        const char *sep = isfinite(w->ratio_lo) ? " " : isfinite(w->st.ci95) ? " ± " : "";
        char dt[16];
        printf("| %s | %s | %s | %s | %s | %s | %s%s%s | %s | %s |\n", w->backend, w->model,
               tfb_result_dtype_label(w, dt, sizeof dt),
               w->threads ? th : "default", test, w->metric, med, sep, *sep ? ci : "", w->unit, cv);
    }
}

/* One measured configuration: backend, model, dtype, act, threads. */
static bool same_config(const tfb_result_row *w, const tfb_result_row *like) {
    return strcmp(w->backend, like->backend) == 0 && strcmp(w->model, like->model) == 0 &&
           strcmp(w->dtype, like->dtype) == 0 && strcmp(w->act, like->act) == 0 &&
           w->threads == like->threads;
}

static const tfb_result_row *find_row(const tfb_results *r, const tfb_result_row *like, const char *kind,
                                      const char *metric) {
    for (size_t i = 0; i < r->n; i++) {
        const tfb_result_row *w = &r->rows[i];
        if (same_config(w, like) && strcmp(w->kind, kind) == 0 && strcmp(w->metric, metric) == 0)
            return w;
    }
    return NULL;
}

/* Speed beside accuracy when any dtype was quantized: one line per configuration, in the order
 * measured. The f32 ones are the baseline the KL and top-1 figures are taken against, so they are
 * listed too (with `-` there), as is any configuration without accuracy figures (a second
 * --threads value: quantization effects are measured once per dtype). */
static void print_quant_table(const tfb_results *r) {
    bool any_quant = false;
    for (size_t i = 0; i < r->n && !any_quant; i++)
        any_quant = strcmp(r->rows[i].kind, "quant") == 0;
    if (!any_quant)
        return;
    printf("\n| backend | model | dtype | threads | prefill t/s | decode t/s | KL mean | KL p99 | top-1 |\n");
    printf("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < r->n; i++) {
        const tfb_result_row *w = &r->rows[i];
        bool first = true; /* of its configuration */
        for (size_t k = 0; k < i && first; k++)
            first = !same_config(&r->rows[k], w);
        if (!first)
            continue;
        const tfb_result_row *pp = find_row(r, w, "pp", "tokens_per_s");
        if (!pp)
            pp = find_row(r, w, "encode", "tokens_per_s");
        const tfb_result_row *tg = find_row(r, w, "tg", "tokens_per_s");
        const tfb_result_row *kl = find_row(r, w, "quant", "kl_mean");
        const tfb_result_row *p99 = find_row(r, w, "quant", "kl_p99");
        const tfb_result_row *top1 = find_row(r, w, "quant", "top1_agreement");
        char a[32], b[32], c[32], d[32], e[32];
        fmt_value(a, sizeof a, pp ? pp->st.median : NAN);
        fmt_value(b, sizeof b, tg ? tg->st.median : NAN);
        fmt_value(c, sizeof c, kl ? kl->st.median : NAN);
        fmt_value(d, sizeof d, p99 ? p99->st.median : NAN);
        fmt_value(e, sizeof e, top1 ? top1->st.median : NAN);
        char th[16], dt[16];
        snprintf(th, sizeof th, "%d", w->threads);
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w->backend, w->model,
               tfb_result_dtype_label(w, dt, sizeof dt), w->threads ? th : "default", a, b, c, d, e);
    }
}

/* ---- the command ----------------------------------------------------------------------------- */

/* A combination not measured; with --act q8 a q8_0/q4_0 entry carries "act" like a row would. */
static void skip(tfb_results *res, const tfb_bench_args *a, const char *backend, const char *model,
                 tfb_dtype dt, const char *why) {
    if (!res->skipped)
        res->skipped = cJSON_CreateArray();
    bool act = tfb_cli_act_applies(&a->opts, dt);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", backend);
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "dtype", tfb_dtype_name(dt));
    if (act)
        cJSON_AddStringToObject(o, "act", "q8");
    cJSON_AddStringToObject(o, "reason", why);
    cJSON_AddItemToArray(res->skipped, o);
    fprintf(stderr, "tfbench: bench: skipped %s %s %s%s: %s\n", backend, model, tfb_dtype_name(dt),
            act ? "/a8" : "", why);
}

/* run() answers a count instead of measuring when given one (tfb_bench_count). */
typedef struct bench_count {
    int steps;
    double units;
} bench_count;

enum { RC_NEXT_BACKEND = -1 }; /* run_config: go on with the next backend (not an exit code) */

/* Every configuration run() would measure, counted (and with print, listed on stdout). Backends
 * that are unavailable are left out; a non-CPU backend is counted once per --threads value and its
 * extra counts are passed over when it runs. */
static void count_run(const tfb_bench_args *a, const tfb_backend_i *const *chosen, int n_chosen,
                      const tfb_config *cfgs, const tfb_bench_plan *plans, bool any_quant, bool print, int *steps,
                      double *units) {
    *steps = 0, *units = 0;
    for (int mi = 0; mi < a->n_models; mi++)
        for (int d = 0; d < a->n_dtypes; d++)
            for (int bi = 0; bi < n_chosen; bi++) {
                char why[256];
                if (!chosen[bi]->probe(why, sizeof why))
                    continue;
                int64_t n_th = a->n_threads ? a->n_threads : 1;
                for (int64_t ti = 0; ti < n_th; ti++) {
                    int n;
                    double u;
                    bool quant = any_quant && ti == 0 && a->dtypes[d] != TFB_DTYPE_F32;
                    tfb_bench_count_one(a, &plans[mi], &cfgs[mi], quant, &n, &u);
                    if (print)
                        printf("%s %s %s threads %d: %d steps, %.0f work units\n", chosen[bi]->name,
                               cfgs[mi].name, tfb_dtype_name(a->dtypes[d]), a->n_threads ? a->threads[ti] : 0, n,
                               u);
                    *steps += n, *units += u;
                }
            }
}

/* One (backend, model, dtype, threads): measured, or skipped with its reason. Returns 0, an exit
 * code, or RC_NEXT_BACKEND when the remaining thread counts do not apply. */
static int run_config(const tfb_bench_args *a, tfb_results *res, const tfb_backend_i *iface,
                      const tfb_bench_plan *plan, const tfb_config *mc, int mi, tfb_dtype dt, int64_t ti, bool quant) {
    tfb_backend_opts opts = a->opts;
    opts.n_threads = a->n_threads ? a->threads[ti] : 0;
    tfb_backend *b;
    tfb_status st;
    if ((st = tfb_backend_init(iface, &opts, &b)) != TFB_STATUS_OK) {
        skip(res, a, iface->name, a->models[mi], dt, tfb_error_last());
        return RC_NEXT_BACKEND;
    }
    bool cpu = is_cpu_backend(b);
    if (!cpu && ti > 0) { /* threads apply to CPU backends only: one run */
        tfb_backend_free(b);
        return RC_NEXT_BACKEND;
    }
    tfb_device_info info;
    tfb_backend_device_info(b, &info);
    tfb_env_add_backend(res->env, iface->name, &info);
    /* Memory before anything is allocated: the model and the backend's copy with the KV cache; the
     * quantization effects add an f32 twin (host and backend). */
    size_t kv = tfb_config_kv_bytes(mc, mc->n_ctx);
    if ((st = tfb_cli_check_fit(mc, dt, 2, "2 copies: host and backend, plus the KV cache", kv)) != TFB_STATUS_OK) {
        skip(res, a, iface->name, a->models[mi], dt, tfb_error_last());
        tfb_backend_free(b);
        return RC_NEXT_BACKEND;
    }
    if (quant && tfb_cli_check_fit(mc, dt, 2, "2 copies, the KV cache and an f32 twin for the quantization effects",
                                   kv + 2 * tfb_config_weight_bytes(mc, TFB_DTYPE_F32)) != TFB_STATUS_OK) {
        char qwhy[600];
        snprintf(qwhy, sizeof qwhy, "quantization effects not measured: %s", tfb_error_last());
        skip(res, a, iface->name, a->models[mi], dt, qwhy);
        quant = false;
    }
    st = tfb_bench_one(a, plan, b, a->models[mi], dt, cpu ? opts.n_threads : 0, quant, res);
    tfb_backend_free(b);
    if (st == TFB_STATUS_UNSUPPORTED) {
        tfb_cli_act_explain(st, &opts, iface, dt); /* says so when --act q8 is the cause */
        skip(res, a, iface->name, a->models[mi], dt, tfb_error_last());
        return RC_NEXT_BACKEND;
    }
    return st == TFB_STATUS_OK ? 0 : tfb_cli_fail(st, "bench");
}

/* Write the JSON and CSV outputs (when rc is still 0) and release everything. */
static int finish(const tfb_bench_args *a, tfb_results *res, int rc, tfb_atomic_file *out, tfb_atomic_file *csv) {
    tfb_status st;
    if (rc == 0 && a->out) {
        char *json = tfb_results_to_json(res);
        if (!json || fputs(json, out->f) < 0 || fputc('\n', out->f) < 0)
            rc = tfb_cli_fail(tfb_error_set(TFB_STATUS_IO, "%s: write failed", a->out), "-o");
        free(json);
    }
    if (rc == 0 && a->csv)
        tfb_results_write_csv(res, csv->f);
    if (rc == 0 && a->out && (st = tfb_atomic_commit(out)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "-o");
    if (rc == 0 && a->csv && (st = tfb_atomic_commit(csv)) != TFB_STATUS_OK)
        rc = tfb_cli_fail(st, "--csv");
    /* After the files: a database that cannot take the run never costs the results.json. */
    if (rc == 0 && tfb_db_url(a->db))
        rc = tfb_db_store_cli(tfb_db_url(a->db), "bench", res, NULL);
    tfb_atomic_abort(out);
    tfb_atomic_abort(csv);
    tfb_results_free(res);
    return rc;
}

/* One configuration of a run, as a thread of --interleave takes it. */
typedef struct bench_job {
    const tfb_bench_args *a;
    tfb_results *res;
    const tfb_backend_i *iface;
    const tfb_bench_plan *plan;
    const tfb_config *mc;
    int mi, bi;
    tfb_dtype dt;
    int64_t ti;
    bool quant;
} bench_job;

static int job_main(void *p) {
    bench_job *j = p;
    int rc = run_config(j->a, j->res, j->iface, j->plan, j->mc, j->mi, j->dt, j->ti, j->quant);
    return rc == RC_NEXT_BACKEND ? 0 : rc;
}

/* The job a row came from (by backend and dtype; thread counts keep their measured order). */
static int job_of(const bench_job *jobs, int n, const tfb_result_row *w) {
    for (int i = 0; i < n; i++)
        if (strcmp(jobs[i].iface->name, w->backend) == 0 && strcmp(tfb_dtype_name(jobs[i].dt), w->dtype) == 0)
            return i;
    return n;
}

/* Interleaved rows back into one group per configuration (a stable insertion sort from `first`). */
static void group_rows(const bench_job *jobs, int n, size_t first) {
    tfb_results *r = jobs[0].res;
    for (size_t i = first + 1; i < r->n; i++) {
        tfb_result_row w = r->rows[i];
        int key = job_of(jobs, n, &w);
        size_t k = i;
        while (k > first && job_of(jobs, n, &r->rows[k - 1]) > key) {
            r->rows[k] = r->rows[k - 1];
            k--;
        }
        r->rows[k] = w;
    }
}

/* A model's configurations: one after another, or with --interleave taking turns at every step and
 * repetition. Whatever happens to a configuration, progress ends past its counted steps. */
static int run_jobs(const tfb_bench_args *a, bench_job *jobs, int n) {
    int at_steps, total_steps = 0, rc = 0;
    double at_units, total_units = 0;
    tfb_progress_where(&at_steps, &at_units);
    for (int i = 0; i < n; i++) {
        int s;
        double u;
        tfb_bench_count_one(a, jobs[i].plan, jobs[i].mc, jobs[i].quant, &s, &u);
        total_steps += s, total_units += u;
    }
    if (a->interleave && n > 1) {
        void *args[256];
        int rcs[256];
        for (int i = 0; i < n; i++)
            args[i] = &jobs[i];
        size_t first = jobs[0].res->n;
        tfb__bench_interleave(n, job_main, args, rcs);
        for (int i = 0; i < n && rc == 0; i++)
            rc = rcs[i];
        group_rows(jobs, n, first);
    } else {
        for (int i = 0; i < n && rc == 0; i++) {
            if (jobs[i].ti < 0) /* a backend whose other thread counts do not apply (not a CPU one) */
                continue;
            rc = run_config(a, jobs[i].res, jobs[i].iface, jobs[i].plan, jobs[i].mc, jobs[i].mi, jobs[i].dt,
                            jobs[i].ti, jobs[i].quant);
            if (rc == RC_NEXT_BACKEND) {
                rc = 0;
                for (int k = i + 1; k < n; k++) /* the same backend and dtype at other thread counts */
                    if (jobs[k].bi == jobs[i].bi && jobs[k].dt == jobs[i].dt)
                        jobs[k].ti = -1;
            }
        }
    }
    int now_steps;
    double now_units;
    tfb_progress_where(&now_steps, &now_units);
    tfb_progress_advance(at_steps + total_steps - now_steps, at_units + total_units - now_units);
    return rc;
}

static int run(tfb_bench_args *a, bench_count *counting) {
    /* Every usage check comes before the first measurement, and before any file exists. */
    const tfb_backend_i *chosen[32];
    int n_chosen = 0;
    for (int i = 0; i < a->n_backends; i++) {
        if (strcmp(a->backends[i], "all") == 0) {
            for (int k = 0; k < tfb_backend_count() && n_chosen < 32; k++)
                chosen[n_chosen++] = tfb_backend_get(k);
            continue;
        }
        const tfb_backend_i *iface = tfb_backend_find(a->backends[i]);
        if (!iface) {
            tfb_backend *unused;
            return tfb_cli_backend_open(a->backends[i], &a->opts, &unused); /* prints the usage error */
        }
        if (n_chosen < 32)
            chosen[n_chosen++] = iface;
    }
    tfb_bench_plan plans[16];
    tfb_config cfgs[16];
    tfb_status st;
    for (int i = 0; i < a->n_models; i++) {
        if ((st = tfb_model_config(a->models[i], &cfgs[i])) != TFB_STATUS_OK)
            return tfb_cli_fail(st, "--model");
        int rc = plan_for(a, &cfgs[i], &plans[i]);
        if (rc)
            return rc;
    }
    bool any_quant = false, own_progress = false;
    for (int d = 0; d < a->n_dtypes; d++)
        any_quant |= a->dtypes[d] != TFB_DTYPE_F32 && (a->kinds & TFB_BENCH_QUANT);
    if (a->dry_run || counting || !tfb_progress_is_open()) {
        int steps = 0;
        double units = 0;
        count_run(a, chosen, n_chosen, cfgs, plans, any_quant, a->dry_run && !counting, &steps, &units);
        if (counting) {
            counting->steps = steps, counting->units = units;
            return 0;
        }
        if (a->dry_run) {
            printf("%d steps, %.0f work units\n", steps, units);
            return 0;
        }
        tfb_progress_open("bench", steps, units, a->progress);
        own_progress = true;
    }
    tfb_atomic_file out = {0}, csv = {0};
    if (a->out && (st = tfb_atomic_open(&out, a->out, a->force)) != TFB_STATUS_OK)
        return tfb_cli_fail(st, "-o");
    if (a->csv && (st = tfb_atomic_open(&csv, a->csv, a->force)) != TFB_STATUS_OK) {
        tfb_atomic_abort(&out);
        return tfb_cli_fail(st, "--csv");
    }
    tfb_results res = {0};
    /* main passes argv + 1 (argv[0] = "bench"): the manifest wants the whole command line. */
    res.env = tfb_env_manifest();
    /* The activation numerics of the whole run (rows carry "act" only where it changed them). */
    cJSON_AddStringToObject(res.env, "act", a->opts.act_q8 ? "q8" : "f32");
    int rc = 0;
    for (int mi = 0; mi < a->n_models && rc == 0; mi++) {
        /* The model's configurations, dtype-major as listed; unavailable backends skipped here. */
        static bench_job jobs[256];
        int n_jobs = 0;
        for (int d = 0; d < a->n_dtypes && rc == 0; d++) {
            for (int bi = 0; bi < n_chosen && rc == 0; bi++) {
                const tfb_backend_i *iface = chosen[bi];
                char why[256] = "";
                if (!iface->probe(why, sizeof why)) {
                    if (a->n_backends == 1 && strcmp(a->backends[0], "all") != 0) {
                        rc = tfb_cli_fail(tfb_error_set(TFB_STATUS_UNAVAILABLE, "%s unavailable: %s", iface->name, why),
                                          "--backend");
                        break;
                    }
                    skip(&res, a, iface->name, a->models[mi], a->dtypes[d], why);
                    continue;
                }
                for (int64_t ti = 0; ti < (a->n_threads ? a->n_threads : 1) && n_jobs < 256; ti++)
                    jobs[n_jobs++] = (bench_job){a,  &res, iface, &plans[mi], &cfgs[mi], mi, bi, a->dtypes[d], ti,
                                                 any_quant && ti == 0 && a->dtypes[d] != TFB_DTYPE_F32};
            }
        }
        if (rc == 0)
            rc = run_jobs(a, jobs, n_jobs);
    }
    if (own_progress)
        tfb_progress_close();
    if (rc == 0) {
        print_table(&res);
        for (int mi = 0; mi < a->n_models; mi++)
            if (plans[mi].note[0])
                printf("\n%s: defaults scaled to fit its context of %lld tokens: %s\n", cfgs[mi].name,
                       (long long)cfgs[mi].n_ctx, plans[mi].note);
        print_quant_table(&res);
    }
    return finish(a, &res, rc, &out, &csv);
}

static int bench_main(int argc, char **argv, bench_count *counting) {
    tfb_bench_args a;
    memset(&a, 0, sizeof a);
    int rc = parse(argc, argv, &a);
    if (rc == 0)
        rc = run(&a, counting);
    free(a.backends_buf);
    free(a.models_buf);
    free(a.pp);
    free(a.tg);
    free(a.depth);
    free(a.threads);
    return rc;
}

int tfb_cmd_bench(int argc, char **argv) {
    return bench_main(argc, argv, NULL);
}

int tfb_bench_count(int argc, char **argv, int *steps, double *units) {
    bench_count c = {0, 0};
    int rc = bench_main(argc, argv, &c);
    *steps = c.steps;
    *units = c.units;
    return rc;
}
