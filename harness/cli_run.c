/* `tfbench run`: greedy generation (decoders, encoder-decoders) or encoding (encoders, printing the
 * per-position argmax of the MLM head, or nothing but the shape for an encoder without a head),
 * optionally dumping every position's logits, or the encoder's last hidden state, as .npy. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct run_args {
    const char *model, *backend, *dump, *dump_hidden, *prompt, *source; /* text: cli_text.c */
    tfb_dtype dtype;
    int32_t *tokens, *src;
    int64_t n_tokens, n_src, n_gen, seed, ctx;
    bool json, force, op_profile;
    tfb_backend_opts opts;
} run_args;

static int parse(int argc, char **argv, run_args *a) {
    a->backend = "reference";
    a->dtype = TFB_DTYPE_F32;
    a->n_gen = 16;
    a->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool bad = false;
        int r = tfb_cli_backend_opt(argc, argv, &i, &a->opts);
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
#define MATCH(name) tfb_cli_opt(argc, argv, &i, name, &v, &bad)
        if (MATCH("--model")) {
            a->model = v;
        } else if (MATCH("--backend")) {
            a->backend = v;
        } else if (MATCH("--dtype")) {
            if (!tfb_dtype_parse(v, &a->dtype) || a->dtype == TFB_DTYPE_I32)
                return tfb_cli_usage("--dtype", "unknown weight dtype '%s' (f32, f16, bf16, q8_0, q4_0)", v);
        } else if (MATCH("--tokens")) {
            free(a->tokens);
            if (!tfb_cli_parse_ints(v, &a->tokens, &a->n_tokens))
                return tfb_cli_usage("--tokens", "expected comma-separated token ids, got '%s'", v);
        } else if (MATCH("--source-tokens")) {
            free(a->src);
            if (!tfb_cli_parse_ints(v, &a->src, &a->n_src))
                return tfb_cli_usage("--source-tokens", "expected comma-separated token ids, got '%s'", v);
        } else if (MATCH("--prompt")) {
            a->prompt = v;
        } else if (MATCH("--source")) {
            a->source = v;
        } else if (MATCH("--n-gen")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 20, &a->n_gen))
                return tfb_cli_usage("--n-gen", "expected a positive count, got '%s'", v);
        } else if (MATCH("--seed")) {
            if (!tfb_cli_parse_int(v, 0, INT64_MAX, &a->seed))
                return tfb_cli_usage("--seed", "expected a non-negative integer, got '%s'", v);
        } else if (MATCH("--ctx")) {
            if (!tfb_cli_parse_int(v, 1, 1 << 24, &a->ctx))
                return tfb_cli_usage("--ctx", "expected a positive context length, got '%s'", v);
        } else if (MATCH("--dump-logits")) {
            a->dump = v;
        } else if (MATCH("--dump-hidden")) {
            a->dump_hidden = v;
        } else if (bad) {
            return TFB_EXIT_USAGE;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = true;
        } else if (strcmp(argv[i], "--op-profile") == 0) {
            a->op_profile = true;
        } else {
            return tfb_cli_usage("run", "unknown option '%s'", argv[i]);
        }
#undef MATCH
    }
    if (!a->model)
        return tfb_cli_usage("run", "--model PRESET|DIR is required");
    return 0;
}

/* --json adds the run's own timing, split as `tfbench bench` splits it: the first token (prefill of
 * the prompt, or the encoder and first decoder step) and the later single-token decode steps. A
 * single cold run: it includes first-use costs that bench's warm-up excludes. */
static void add_times(cJSON *o, const tfb_gen_times *t, int64_t n_prompt, int64_t n_out) {
    cJSON *j = cJSON_AddObjectToObject(o, "timing");
    cJSON_AddNumberToObject(j, "first_token_s", t->first_s);
    if (n_prompt > 0 && t->first_s > 0)
        cJSON_AddNumberToObject(j, "prefill_tokens_per_s", (double)n_prompt / t->first_s);
    cJSON_AddNumberToObject(j, "decode_steps", (double)(n_out - 1));
    cJSON_AddNumberToObject(j, "decode_s", t->rest_s);
    if (n_out > 1 && t->rest_s > 0)
        cJSON_AddNumberToObject(j, "decode_tokens_per_s", (double)(n_out - 1) / t->rest_s);
}

static void print_result(const run_args *a, const tfb_model *m, const int32_t *out, int64_t n_out,
                         const tfb_gen_times *times) {
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", m->cfg.name);
        cJSON_AddStringToObject(o, "backend", a->backend);
        char label[128];
        /* A GGUF file runs in its stored types: "q4_0", or "mixed (q8_0 1, q4_0 14)". */
        cJSON_AddStringToObject(o, "dtype", m->per_tensor ? tfb_model_dtype_label(m, label, sizeof label)
                                                          : tfb_dtype_name(a->dtype));
        /* as in results files: absent = f32 activations (a GGUF file: its main dtype decides) */
        if (tfb_cli_act_applies(&a->opts, m->per_tensor ? m->wtype : a->dtype))
            cJSON_AddStringToObject(o, "act", "q8");
        cJSON *t = cJSON_AddArrayToObject(o, "tokens");
        for (int64_t i = 0; i < n_out; i++)
            cJSON_AddItemToArray(t, cJSON_CreateNumber(out[i]));
        if (times)
            add_times(o, times, !tfb_config_has_encoder(&m->cfg) ? a->n_tokens : 0, n_out);
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(o);
        return;
    }
    for (int64_t i = 0; i < n_out; i++)
        printf("%s%d", i ? "," : "", out[i]);
    printf("\n");
}

/* --op-profile: the backend's time per op kind over the whole run, largest first, on stderr. */
static void print_op_profile(const char *backend, const double *secs) {
    double total = 0;
    int order[TFB_OP_COUNT], n = 0;
    for (int op = 0; op < TFB_OP_COUNT; op++) {
        total += secs[op];
        if (secs[op] <= 0)
            continue;
        int k = n++;
        for (; k > 0 && secs[order[k - 1]] < secs[op]; k--)
            order[k] = order[k - 1];
        order[k] = op;
    }
    fprintf(stderr, "op profile (%s, whole run): %.3f ms in ops\n", backend, 1e3 * total);
    for (int k = 0; k < n; k++)
        fprintf(stderr, "  %-12s %10.3f ms %6.1f%%\n", tfb_op_name((tfb_op)order[k]), 1e3 * secs[order[k]],
                100.0 * secs[order[k]] / total);
}

static int run(run_args *a) {
    int text_rc = tfb_cli_text_args(a->model, a->prompt, &a->tokens, &a->n_tokens, a->source, &a->src, &a->n_src);
    if (text_rc)
        return text_rc;
    tfb_model m;
    tfb_config plan;
    tfb_status s = tfb_model_config(a->model, &plan);
    tfb_dtype plan_dt = a->dtype; /* a GGUF file is planned in its own types */
    if (s == TFB_STATUS_OK && tfb_model_stored_dtypes(a->model))
        s = tfb_model_stored_dtype(a->model, &plan_dt);
    if (s == TFB_STATUS_OK) /* the host model and the backend's copy, and the KV cache */
        s = tfb_cli_check_fit(&plan, plan_dt, 2, "2 copies: host and backend, plus the KV cache",
                              tfb_config_kv_bytes(&plan, a->ctx > 0 && a->ctx < plan.n_ctx ? a->ctx : plan.n_ctx));
    if (s == TFB_STATUS_OK)
        s = tfb_model_open(a->model, (uint64_t)a->seed, a->dtype, &m);
    if (s != TFB_STATUS_OK)
        return tfb_cli_fail(s, NULL);
    const tfb_config *c = &m.cfg;
    int rc = 0;
    tfb_backend *b = NULL;
    tfb_session *sess = NULL;
    int32_t *out = NULL;
    float *dump = NULL, *hidden = NULL;
    int64_t n_out = 0, rows = 0;
    tfb_gen_times times = {0};
    bool timed = false;
    if (tfb_config_has_cross(c) ? a->n_src < 1 : a->n_tokens < 1) {
        rc = tfb_cli_usage("run", "%s needs %s", c->name, tfb_config_has_cross(c) ? "--source-tokens" : "--tokens");
        goto done;
    }
    if ((rc = tfb_cli_backend_open(a->backend, &a->opts, &b)) != 0)
        goto done;
    if ((s = tfb_session_init(b, &m, a->ctx, &sess)) != TFB_STATUS_OK) {
        rc = tfb_cli_fail(tfb_cli_act_explain(s, &a->opts, b->iface, m.per_tensor ? m.wtype : a->dtype), a->backend);
        goto done;
    }
    if (a->dump && !c->has_lm_head) {
        rc = tfb_cli_usage("--dump-logits", "%s has no LM head (use --dump-hidden)", c->name);
        goto done;
    }
    if (a->dump_hidden && !tfb_config_has_encoder(c)) {
        rc = tfb_cli_usage("--dump-hidden", "%s has no encoder", c->name);
        goto done;
    }
    if (a->op_profile && !tfb_backend_op_profile(b, true, NULL)) {
        rc = tfb_cli_usage("--op-profile", "backend %s cannot time its ops", a->backend);
        goto done;
    }
    bool enc_only = tfb_config_encoder_only(c);
    int64_t V = c->n_dec_vocab;
    int64_t max_rows = enc_only ? a->n_tokens : !tfb_config_has_encoder(c) ? a->n_tokens + a->n_gen : a->n_gen;
    bool logits = a->dump || (enc_only && c->has_lm_head); /* encoders print the MLM argmax */
    int64_t n_enc = enc_only ? a->n_tokens : a->n_src;
    out = malloc((size_t)(enc_only ? a->n_tokens : a->n_gen) * sizeof *out);
    if (logits)
        dump = malloc((size_t)(max_rows * V) * sizeof *dump);
    if (a->dump_hidden)
        hidden = malloc((size_t)(n_enc * c->d_model) * sizeof *hidden);
    if (!out || (logits && !dump) || (a->dump_hidden && !hidden)) {
        rc = tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "out of memory for %lld output rows", (long long)max_rows),
                          "run");
        goto done;
    }
    if (enc_only) {
        s = tfb_session_encode(sess, a->tokens, a->n_tokens, c->has_lm_head ? dump : NULL);
        for (int64_t t = 0; s == TFB_STATUS_OK && c->has_lm_head && t < a->n_tokens; t++) {
            int64_t best = 0;
            for (int64_t v = 1; v < V; v++)
                if (dump[t * V + v] > dump[t * V + best])
                    best = v;
            out[t] = (int32_t)best;
        }
        n_out = c->has_lm_head ? a->n_tokens : 0;
        rows = a->n_tokens;
    } else {
        s = tfb_generate(sess, a->tokens, a->n_tokens, a->src, a->n_src, a->n_gen, out, &n_out,
                         a->dump ? dump : NULL, &rows, &times);
        timed = true;
    }
    /* The encoder's last hidden state: what encode (or generate's encode) left on the backend. */
    if (s == TFB_STATUS_OK && a->dump_hidden)
        s = tfb_session_hidden(sess, hidden);
    if (s != TFB_STATUS_OK) {
        rc = tfb_cli_fail(s, "run");
        goto done;
    }
    double op_secs[TFB_OP_COUNT] = {0};
    if (a->op_profile && tfb_backend_op_profile(b, false, op_secs))
        print_op_profile(a->backend, op_secs);
    if (a->dump && (s = tfb_npy_write(a->dump, dump, rows, V, a->force)) != TFB_STATUS_OK) {
        rc = tfb_cli_fail(s, "--dump-logits");
        goto done;
    }
    if (a->dump_hidden && (s = tfb_npy_write(a->dump_hidden, hidden, n_enc, c->d_model, a->force)) != TFB_STATUS_OK) {
        rc = tfb_cli_fail(s, "--dump-hidden");
        goto done;
    }
    if (!enc_only || c->has_lm_head)
        print_result(a, &m, out, n_out, timed ? &times : NULL);
    else if (a->json)
        printf("{\"model\":\"%s\",\"hidden\":[%lld,%lld]}\n", c->name, (long long)rows, (long long)c->d_model);
    else
        printf("hidden state [%lld, %lld] (no LM head%s)\n", (long long)rows, (long long)c->d_model,
               a->dump_hidden ? "" : "; --dump-hidden F.npy writes it");
    if ((a->prompt || a->source) && !a->json && n_out > 0) /* and the generated text after the ids */
        rc = tfb_cli_text_print(a->model, out, n_out);
done:
    free(out);
    free(dump);
    free(hidden);
    tfb_session_free(sess);
    tfb_backend_free(b);
    tfb_model_free(&m);
    return rc;
}

int tfb_cmd_run(int argc, char **argv) {
    run_args a = {0};
    int rc = parse(argc, argv, &a);
    if (rc == 0)
        rc = run(&a);
    free(a.tokens);
    free(a.src);
    return rc;
}
