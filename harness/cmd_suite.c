/* `tfbench` with no subcommand: the standard suite on the embedded default (synthetic weights).
 * Every chosen backend generates greedily on the base presets; its tokens are compared with the
 * reference's and its speed is timed. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct suite_case {
    const char *model;
    int64_t n_prompt, n_gen;
} suite_case;

static const suite_case default_cases[] = {
    {"gpt2-124m", 32, 16},
    {"bert-base", 64, 0},
    {"marian-base", 24, 16},
};

/* One generation; tokens into out (n_gen or n_prompt for encoders), seconds into *secs. */
static tfb_status generate_once(tfb_backend *b, const tfb_model *m, const suite_case *sc, int32_t *out,
                                int64_t *n_out, double *secs) {
    const tfb_config *c = &m->cfg;
    int64_t n_in = sc->n_prompt;
    int32_t *in = malloc((size_t)n_in * sizeof *in);
    float *logits = NULL;
    if (!in)
        return tfb_error_set(TFB_STATUS_NOMEM, "out of memory");
    for (int64_t i = 0; i < n_in; i++) /* a fixed, spread-out prompt */
        in[i] = (int32_t)((i * 7919 + 13) % c->n_vocab);
    tfb_session *s;
    tfb_status st = tfb_session_init(b, m, 0, &s);
    if (st != TFB_STATUS_OK) {
        free(in);
        return st;
    }
    double t0 = tfb_now();
    if (c->arch == TFB_ARCH_ENCODER) {
        logits = malloc((size_t)(n_in * c->n_vocab) * sizeof *logits);
        st = logits ? tfb_session_encode(s, in, n_in, logits) : TFB_STATUS_NOMEM;
        for (int64_t t = 0; st == TFB_STATUS_OK && t < n_in; t++) {
            int64_t best = 0;
            for (int64_t v = 1; v < c->n_vocab; v++)
                if (logits[t * c->n_vocab + v] > logits[t * c->n_vocab + best])
                    best = v;
            out[t] = (int32_t)best;
        }
        *n_out = n_in;
    } else {
        st = tfb_generate(s, c->arch == TFB_ARCH_DECODER ? in : NULL, c->arch == TFB_ARCH_DECODER ? n_in : 0, in,
                          n_in, sc->n_gen, out, n_out, NULL, NULL);
    }
    *secs = tfb_now() - t0;
    free(logits);
    free(in);
    tfb_session_free(s);
    return st;
}

int tfb_cmd_suite(int argc, char **argv) {
    const char *backend = "all", *model = NULL;
    tfb_backend_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        int r = tfb_cli_backend_opt(argc, argv, &i, &opts);
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
        if (tfb_cli_opt(argc, argv, &i, "--backend", &v, &bad))
            backend = v;
        else if (tfb_cli_opt(argc, argv, &i, "--model", &v, &bad))
            model = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else
            return tfb_cli_usage("tfbench", "unknown option '%s'", argv[i]);
    }
    if (strcmp(backend, "all") != 0 && !tfb_backend_find(backend))
        return tfb_cli_usage("--backend", "unknown or not compiled in: '%s'", backend);
    if (model && !tfb_preset_find(model))
        return tfb_cli_usage("--model", "'%s' is not a preset", model);
    int failures = 0, n_cases = (int)(sizeof default_cases / sizeof default_cases[0]);
    printf("%-10s %-12s %-8s %10s %12s\n", "backend", "model", "tokens", "seconds", "result");
    for (int ci = 0; ci < n_cases; ci++) {
        suite_case sc = default_cases[ci];
        if (model && strcmp(model, sc.model) != 0)
            continue;
        tfb_model m;
        tfb_status st = tfb_model_open(sc.model, 42, TFB_DTYPE_F32, &m);
        if (st != TFB_STATUS_OK)
            return tfb_cli_fail(st, sc.model);
        int64_t cap = sc.n_gen > sc.n_prompt ? sc.n_gen : sc.n_prompt;
        int32_t *ref = calloc((size_t)cap, sizeof *ref), *got = calloc((size_t)cap, sizeof *got);
        int64_t n_ref = 0;
        bool have_ref = false;
        for (int bi = 0; bi < tfb_backend_count(); bi++) {
            const tfb_backend_i *iface = tfb_backend_get(bi);
            bool chosen = strcmp(backend, "all") == 0 || strcmp(backend, iface->name) == 0;
            if (!chosen && strcmp(iface->name, "reference") != 0)
                continue;
            tfb_backend *b;
            if ((st = tfb_backend_init(iface, &opts, &b)) != TFB_STATUS_OK) {
                printf("%-10s %-12s %-8s %10s %12s  %s\n", iface->name, sc.model, "-", "-", "unavailable",
                       tfb_error_last());
                continue;
            }
            int64_t n_got = 0;
            double secs = 0;
            st = generate_once(b, &m, &sc, have_ref ? got : ref, &n_got, &secs);
            tfb_backend_free(b);
            const char *verdict = "ok";
            if (st == TFB_STATUS_UNSUPPORTED)
                verdict = "unsupported";
            else if (st != TFB_STATUS_OK)
                verdict = "error", failures++;
            else if (!have_ref)
                n_ref = n_got, have_ref = true, verdict = "reference";
            else if (n_got != n_ref || memcmp(got, ref, (size_t)n_got * sizeof *got) != 0)
                verdict = "MISMATCH", failures++;
            if (chosen)
                printf("%-10s %-12s %-8lld %10.3f %12s%s%s\n", iface->name, sc.model, (long long)n_got, secs, verdict,
                       st == TFB_STATUS_OK ? "" : "  ", st == TFB_STATUS_OK ? "" : tfb_error_last());
        }
        free(ref);
        free(got);
        tfb_model_free(&m);
    }
    return failures ? TFB_EXIT_FAIL : TFB_EXIT_OK;
}
