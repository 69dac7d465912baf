/* Text in, text out: `tfbench tokenize`, `tfbench detokenize`, `tfbench embed` (sentence-transformers'
 * mean pooling and Normalize), and the helpers `tfbench run` uses for --prompt / --source. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "tfbench/text.h"

static int load(const char *model, tfb_tokenizer **t) {
    struct stat st;
    bool file = stat(model, &st) == 0 && S_ISREG(st.st_mode);
    if (!file && (stat(model, &st) != 0 || !S_ISDIR(st.st_mode)))
        return tfb_cli_usage(model,
                             "text needs a model directory with its tokenizer or a GGUF file (a preset "
                             "has none)");
    /* a file is a GGUF model: its tokenizer is in the metadata (models/text/gguf_tok.c) */
    tfb_status s = file ? tfb_tokenizer_load_gguf(model, t) : tfb_tokenizer_load(model, t);
    return s == TFB_STATUS_OK ? 0 : tfb_cli_fail(s, NULL);
}

int tfb_cli_text_args(const char *model, const char *prompt, int32_t **tokens, int64_t *n_tokens,
                      const char *source, int32_t **src, int64_t *n_src) {
    if (!prompt && !source)
        return 0;
    tfb_tokenizer *t;
    int rc = load(model, &t);
    if (rc)
        return rc;
    tfb_status s = TFB_STATUS_OK;
    if (prompt) {
        free(*tokens);
        *tokens = NULL;
        s = tfb_tokenizer_encode(t, prompt, strlen(prompt), true, tokens, n_tokens);
    }
    if (s == TFB_STATUS_OK && source) {
        free(*src);
        *src = NULL;
        s = tfb_tokenizer_encode(t, source, strlen(source), true, src, n_src);
    }
    tfb_tokenizer_free(t);
    return s == TFB_STATUS_OK ? 0 : tfb_cli_fail(s, prompt ? "--prompt" : "--source");
}

int tfb_cli_text_print(const char *model, const int32_t *ids, int64_t n) {
    tfb_tokenizer *t;
    int rc = load(model, &t);
    if (rc)
        return rc;
    char *text = NULL;
    size_t len = 0;
    tfb_status s = tfb_tokenizer_decode(t, ids, n, true, &text, &len);
    if (s == TFB_STATUS_OK) {
        fwrite(text, 1, len, stdout);
        printf("\n");
    }
    free(text);
    tfb_tokenizer_free(t);
    return s == TFB_STATUS_OK ? 0 : tfb_cli_fail(s, "decode");
}

int tfb_cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *text = NULL;
    bool ids_only = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--model", &v, &bad))
            model = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (strcmp(argv[i], "--ids") == 0)
            ids_only = true;
        else if (argv[i][0] == '-' && argv[i][1] == '-' && !text)
            return tfb_cli_usage("tokenize", "unknown option '%s'", argv[i]);
        else if (!text)
            text = argv[i];
        else
            return tfb_cli_usage("tokenize", "one TEXT only (quote it)");
    }
    if (!model || !text)
        return tfb_cli_usage("tokenize", "usage: tfbench tokenize --model DIR|FILE.gguf [--ids] TEXT");
    tfb_tokenizer *t;
    int rc = load(model, &t);
    if (rc)
        return rc;
    int32_t *ids = NULL;
    int64_t n = 0;
    tfb_status s = tfb_tokenizer_encode(t, text, strlen(text), true, &ids, &n);
    if (s != TFB_STATUS_OK) {
        tfb_tokenizer_free(t);
        return tfb_cli_fail(s, "tokenize");
    }
    for (int64_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", ids[i]);
    printf("\n");
    if (!ids_only) { /* the tokens as a JSON array: unambiguous whatever they hold */
        cJSON *a = cJSON_CreateArray();
        for (int64_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(tfb_tokenizer_token(t, ids[i])));
        char *js = cJSON_PrintUnformatted(a);
        printf("%s\n", js ? js : "[]");
        free(js);
        cJSON_Delete(a);
    }
    free(ids);
    tfb_tokenizer_free(t);
    return 0;
}

int tfb_cmd_detokenize(int argc, char **argv) {
    const char *model = NULL, *list = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool bad = false;
        if (tfb_cli_opt(argc, argv, &i, "--model", &v, &bad))
            model = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (!list)
            list = argv[i];
        else
            return tfb_cli_usage("detokenize", "one comma-separated id list only");
    }
    if (!model || !list)
        return tfb_cli_usage("detokenize", "usage: tfbench detokenize --model DIR|FILE.gguf 1,2,3");
    int32_t *ids;
    int64_t n;
    if (!tfb_cli_parse_ints(list, &ids, &n))
        return tfb_cli_usage("detokenize", "expected comma-separated token ids, got '%s'", list);
    int rc = tfb_cli_text_print(model, ids, n);
    free(ids);
    return rc;
}

/* ---- embed: modules.json names Transformer, Pooling (mean only) and Normalize */
static cJSON *read_json(const char *dir, const char *name, char *path, size_t pn) {
    snprintf(path, pn, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return cJSON_Parse(buf);
}

typedef struct embed_plan {
    bool normalize;
    int64_t max_len;
} embed_plan;

static int embed_plan_read(const char *dir, embed_plan *p) {
    char path[4200];
    cJSON *mods = read_json(dir, "modules.json", path, sizeof path);
    if (!cJSON_IsArray(mods)) {
        cJSON_Delete(mods);
        return tfb_cli_usage(path, "missing or not a JSON array (a sentence-transformers model has one)");
    }
    bool pooling = false;
    int rc = 0;
    for (const cJSON *m = mods->child; m && !rc; m = m->next) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(m, "type"));
        const char *sub = cJSON_GetStringValue(cJSON_GetObjectItem(m, "path"));
        if (!type || !sub) {
            rc = tfb_cli_usage(path, "a module without type or path");
        } else if (strcmp(type, "sentence_transformers.models.Transformer") == 0) {
            if (sub[0])
                rc =
                    tfb_cli_usage(path, "a Transformer module in '%s' (only the top directory is read)", sub);
        } else if (strcmp(type, "sentence_transformers.models.Pooling") == 0) {
            char pdir[4200], ppath[8400];
            snprintf(pdir, sizeof pdir, "%s/%s", dir, sub);
            cJSON *pc = read_json(pdir, "config.json", ppath, sizeof ppath);
            static const char *const refused[] = {
                "pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"};
            if (!cJSON_IsObject(pc))
                rc = tfb_cli_usage(ppath, "missing or not a JSON object");
            for (size_t k = 0; !rc && k < sizeof refused / sizeof refused[0]; k++)
                if (cJSON_IsTrue(cJSON_GetObjectItem(pc, refused[k])))
                    rc = tfb_cli_usage(ppath, "%s is not supported (mean pooling only)", refused[k]);
            if (!rc && !cJSON_IsTrue(cJSON_GetObjectItem(pc, "pooling_mode_mean_tokens")))
                rc = tfb_cli_usage(ppath, "pooling_mode_mean_tokens is not true (mean pooling only)");
            for (const cJSON *e = pc ? pc->child : NULL; !rc && e; e = e->next)
                if (strcmp(e->string, "word_embedding_dimension") != 0 &&
                    strcmp(e->string, "pooling_mode_mean_tokens") != 0 && cJSON_IsTrue(e))
                    rc = tfb_cli_usage(ppath, "%s is not supported", e->string);
            pooling = true;
            cJSON_Delete(pc);
        } else if (strcmp(type, "sentence_transformers.models.Normalize") == 0) {
            p->normalize = true;
        } else {
            rc = tfb_cli_usage(path, "module \"%s\" is not supported", type);
        }
    }
    cJSON_Delete(mods);
    if (!rc && !pooling)
        rc = tfb_cli_usage(path, "no Pooling module");
    cJSON *sb = rc ? NULL : read_json(dir, "sentence_bert_config.json", path, sizeof path);
    if (sb) {
        const cJSON *ml = cJSON_GetObjectItem(sb, "max_seq_length");
        if (cJSON_IsNumber(ml) && ml->valuedouble >= 1)
            p->max_len = (int64_t)ml->valuedouble;
        if (cJSON_IsTrue(cJSON_GetObjectItem(sb, "do_lower_case")))
            rc = tfb_cli_usage(path, "do_lower_case true is not supported");
        cJSON_Delete(sb);
    }
    return rc;
}

int tfb_cmd_embed(int argc, char **argv) {
    const char *model = NULL, *backend = "reference";
    tfb_backend_opts opts = {0};
    int first = argc;
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool bad = false;
        int r = tfb_cli_backend_opt(argc, argv, &i, &opts);
        if (r >= 100)
            return r - 100;
        if (r == 1)
            continue;
        if (tfb_cli_opt(argc, argv, &i, "--model", &v, &bad))
            model = v;
        else if (tfb_cli_opt(argc, argv, &i, "--backend", &v, &bad))
            backend = v;
        else if (bad)
            return TFB_EXIT_USAGE;
        else if (argv[i][0] == '-' && argv[i][1] == '-')
            return tfb_cli_usage("embed", "unknown option '%s'", argv[i]);
        else {
            first = i;
            break;
        }
    }
    if (!model || first >= argc)
        return tfb_cli_usage("embed", "usage: tfbench embed --model DIR TEXT...");
    embed_plan plan = {0};
    int rc = embed_plan_read(model, &plan);
    tfb_tokenizer *t = NULL;
    if (rc || (rc = load(model, &t)))
        return rc;
    tfb_model m = {0};
    tfb_backend *b = NULL;
    tfb_session *sess = NULL;
    float *hidden = NULL;
    tfb_status s = tfb_model_open(model, 0, TFB_DTYPE_F32, &m);
    if (s != TFB_STATUS_OK) {
        rc = tfb_cli_fail(s, NULL);
        goto done;
    }
    if (!tfb_config_encoder_only(&m.cfg)) {
        rc = tfb_cli_usage(model, "embed needs an encoder-only model (%s is not)", m.cfg.name);
        goto done;
    }
    int64_t max = plan.max_len > 0 && plan.max_len < m.cfg.n_ctx ? plan.max_len : m.cfg.n_ctx;
    tfb_tokenizer_set_max_length(t, max);
    if ((rc = tfb_cli_backend_open(backend, &opts, &b)) != 0)
        goto done;
    if ((s = tfb_session_init(b, &m, 0, &sess)) != TFB_STATUS_OK) {
        rc = tfb_cli_fail(s, backend);
        goto done;
    }
    int64_t C = m.cfg.d_model;
    if (!(hidden = malloc((size_t)(max * C) * sizeof *hidden))) {
        rc = tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "out of memory"), "embed");
        goto done;
    }
    for (int k = first; k < argc; k++) {
        int32_t *ids = NULL;
        int64_t n = 0;
        s = tfb_tokenizer_encode(t, argv[k], strlen(argv[k]), true, &ids, &n);
        if (s == TFB_STATUS_OK)
            s = tfb_session_encode(sess, ids, n, NULL);
        if (s == TFB_STATUS_OK)
            s = tfb_session_hidden(sess, hidden);
        free(ids);
        if (s != TFB_STATUS_OK) {
            rc = tfb_cli_fail(s, "embed");
            goto done;
        }
        /* Mean over the positions (a single sentence: its attention mask is all ones), in double. */
        double norm = 0;
        double *v = calloc((size_t)C, sizeof *v);
        if (!v) {
            rc = tfb_cli_fail(tfb_error_set(TFB_STATUS_NOMEM, "out of memory"), "embed");
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            for (int64_t c = 0; c < C; c++)
                v[c] += hidden[i * C + c];
        for (int64_t c = 0; c < C; c++) {
            v[c] /= (double)n;
            norm += v[c] * v[c];
        }
        /* torch.nn.functional.normalize: x / max(||x||, 1e-12) */
        norm = sqrt(norm);
        for (int64_t c = 0; c < C; c++)
            printf("%s%.9g", c ? " " : "", plan.normalize ? v[c] / (norm > 1e-12 ? norm : 1e-12) : v[c]);
        printf("\n");
        free(v);
    }
done:
    free(hidden);
    tfb_session_free(sess);
    tfb_backend_free(b);
    tfb_model_free(&m);
    tfb_tokenizer_free(t);
    return rc;
}
