/* The config.json audit (models/hf_audit.c) against its documentation (docs/hf-configs.md) and
 * against the loader's behaviour:
 *   - every field of every class table is in the document with the same verdict (and, for refused
 *     fields, the same accepted value), and the document lists nothing the tables do not;
 *   - a refused field with any other value fails the parse naming it, and loads with its accepted one;
 *   - a no-effect field loads whatever its value; an unknown key is refused;
 *   - every honoured field is read (the parsers assert that what they read is listed as honoured,
 *     so a field read but unlisted aborts this test).
 * `test_hf_audit --markdown` prints the tables in the document's format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/hf_config.h"

static int failures, quiet;

#define FAIL(...)                                                                                            \
    (quiet ? 0 : (fprintf(stderr, "  FAIL "), fprintf(stderr, __VA_ARGS__), fprintf(stderr, "\n")), failures++)

static const char *verdict_name(tfb__hf_verdict v) {
    return v == TFB_HF_HONOURED ? "honoured" : v == TFB_HF_NO_EFFECT ? "no effect" : "refused";
}

static void print_markdown(void) {
    for (int t = 0; tfb__hf_audit_class(t); t++) {
        printf("## %s\n\n| field | verdict | accepted value | why |\n|---|---|---|---|\n", tfb__hf_audit_class(t));
        for (const tfb__hf_field *f = tfb__hf_audit_fields(t); f->key; f++)
            printf("| `%s` | %s | %s%s%s | %s |\n", f->key, verdict_name(f->verdict), f->accept ? "`" : "",
                   f->accept ? f->accept : "", f->accept ? "`" : "", f->why);
        printf("\n");
    }
}

/* ---- the document ------------------------------------------------------------------------------ */

typedef struct doc_row {
    char cls[32], key[64], verdict[16], accept[32];
    int seen;
} doc_row;

static doc_row rows[512];
static int n_rows;

/* Table cell i (0-based) of a "| a | b | c |" line into out, without surrounding spaces and backticks. */
static void cell(const char *line, int i, char *out, size_t n) {
    const char *p = line;
    for (int k = 0; k <= i; k++) {
        p = strchr(p, '|');
        if (!p) {
            out[0] = '\0';
            return;
        }
        p++;
    }
    const char *e = strchr(p, '|');
    if (!e)
        e = p + strlen(p);
    while (p < e && (*p == ' ' || *p == '`'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '`'))
        e--;
    size_t len = (size_t)(e - p) < n - 1 ? (size_t)(e - p) : n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static void read_doc(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        FAIL("cannot open %s", path);
        return;
    }
    char line[1024], cls[32] = "";
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "## ", 3) == 0) {
            snprintf(cls, sizeof cls, "%.*s", (int)strcspn(line + 3, "\r\n"), line + 3);
            continue;
        }
        if (!cls[0] || strncmp(line, "| `", 3) != 0 || n_rows == (int)(sizeof rows / sizeof rows[0]))
            continue;
        doc_row *r = &rows[n_rows++];
        snprintf(r->cls, sizeof r->cls, "%s", cls);
        cell(line, 0, r->key, sizeof r->key);
        cell(line, 1, r->verdict, sizeof r->verdict);
        cell(line, 2, r->accept, sizeof r->accept);
    }
    fclose(fp);
}

static void check_doc(void) {
    for (int t = 0; tfb__hf_audit_class(t); t++) {
        for (const tfb__hf_field *f = tfb__hf_audit_fields(t); f->key; f++) {
            doc_row *r = NULL;
            for (int i = 0; i < n_rows && !r; i++)
                if (strcmp(rows[i].cls, tfb__hf_audit_class(t)) == 0 && strcmp(rows[i].key, f->key) == 0)
                    r = &rows[i];
            if (!r) {
                FAIL("%s.%s: in the loader's table, not in docs/hf-configs.md", tfb__hf_audit_class(t), f->key);
                continue;
            }
            r->seen = 1;
            if (strcmp(r->verdict, verdict_name(f->verdict)) != 0)
                FAIL("%s.%s: docs say '%s', the loader '%s'", r->cls, f->key, r->verdict, verdict_name(f->verdict));
            if (f->accept && strcmp(r->accept, f->accept) != 0)
                FAIL("%s.%s: docs accept '%s', the loader '%s'", r->cls, f->key, r->accept, f->accept);
        }
    }
    for (int i = 0; i < n_rows; i++)
        if (!rows[i].seen)
            FAIL("%s.%s: in docs/hf-configs.md, not in the loader's table", rows[i].cls, rows[i].key);
}

/* ---- behaviour ----------------------------------------------------------------------------------- */

/* A minimal valid config.json body of each class (without the closing brace). */
static const struct {
    const char *cls;
    const char *body;
} bases[] = {
    {"GPT2Config", "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"n_embd\": 64, "
                   "\"n_layer\": 2, \"n_head\": 4, \"n_positions\": 32, \"vocab_size\": 96"},
    {"BertConfig", "{\"architectures\": [\"BertForMaskedLM\"], \"model_type\": \"bert\", \"hidden_size\": 64, "
                   "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 128, "
                   "\"max_position_embeddings\": 32, \"vocab_size\": 96"},
    {"MarianConfig", "{\"architectures\": [\"MarianMTModel\"], \"model_type\": \"marian\", \"d_model\": 64, "
                     "\"encoder_layers\": 2, \"decoder_layers\": 2, \"encoder_attention_heads\": 4, "
                     "\"encoder_ffn_dim\": 128, \"max_position_embeddings\": 32, \"vocab_size\": 96"},
    {"LlamaConfig", "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64, "
                    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                    "\"intermediate_size\": 128, \"max_position_embeddings\": 32, \"vocab_size\": 96"},
    {"MistralConfig", "{\"architectures\": [\"MistralForCausalLM\"], \"model_type\": \"mistral\", "
                      "\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                      "\"intermediate_size\": 128, \"max_position_embeddings\": 32, \"vocab_size\": 96"},
    {"T5Config", "{\"architectures\": [\"T5ForConditionalGeneration\"], \"model_type\": \"t5\", \"d_model\": 64, "
                 "\"num_layers\": 2, \"num_heads\": 4, \"d_ff\": 128, \"vocab_size\": 96"},
};

static tfb_status parse_with(int b, const char *key, const char *value) {
    char text[2048];
    if (key)
        snprintf(text, sizeof text, "%s, \"%s\": %s}", bases[b].body, key, value);
    else
        snprintf(text, sizeof text, "%s}", bases[b].body);
    tfb_config c;
    tfb__hf_family fam;
    return tfb__hf_parse_config("config.json", text, strlen(text), &c, &fam);
}

/* A value other than the accepted one. */
static const char *other_value(const char *accept) {
    if (strcmp(accept, "false") == 0)
        return "true";
    if (strcmp(accept, "true") == 0)
        return "false";
    if (strcmp(accept, "{}") == 0)
        return "{\"0\":[1]}";
    return "\"something-else\"";
}

static void check_behaviour(void) {
    for (int b = 0; b < (int)(sizeof bases / sizeof bases[0]); b++) {
        if (parse_with(b, NULL, NULL) != TFB_STATUS_OK)
            FAIL("%s: the base config does not parse: %s", bases[b].cls, tfb_error_last());
        if (parse_with(b, "frobnicate", "1") == TFB_STATUS_OK || !strstr(tfb_error_last(), "\"frobnicate\": 1 is not supported"))
            FAIL("%s: an unknown key loads (%s)", bases[b].cls, tfb_error_last());
        for (int t = 0; t < 2; t++) {
            /* table 0 is PretrainedConfig's, then this class's */
            int tab = t == 0 ? 0 : b + 1;
            for (const tfb__hf_field *f = tfb__hf_audit_fields(tab); f->key; f++) {
                if (strcmp(f->key, "architectures") == 0 || strcmp(f->key, "model_type") == 0)
                    continue;
                char fam_key[64];
                snprintf(fam_key, sizeof fam_key, "%s", f->key);
                tfb__hf_family fam = (tfb__hf_family)b;
                const tfb__hf_field *eff = tfb__hf_audit_find(fam, f->key); /* the class's entry wins */
                if (eff != f)
                    continue;
                if (f->verdict == TFB_HF_REFUSED) {
                    char want[128];
                    snprintf(want, sizeof want, "\"%s\": %s is not supported", f->key, other_value(f->accept));
                    tfb_status s = parse_with(b, f->key, other_value(f->accept));
                    if (s == TFB_STATUS_OK || !strstr(tfb_error_last(), want))
                        FAIL("%s: refused %s = %s loads or says something else: %s", bases[b].cls, f->key,
                             other_value(f->accept), s == TFB_STATUS_OK ? "(loaded)" : tfb_error_last());
                    if (parse_with(b, f->key, f->accept) != TFB_STATUS_OK)
                        FAIL("%s: %s = %s (accepted) fails: %s", bases[b].cls, f->key, f->accept, tfb_error_last());
                } else if (f->verdict == TFB_HF_NO_EFFECT) {
                    if (parse_with(b, f->key, "null") != TFB_STATUS_OK || parse_with(b, f->key, "0.5") != TFB_STATUS_OK)
                        FAIL("%s: no-effect %s is refused: %s", bases[b].cls, f->key, tfb_error_last());
                }
            }
        }
    }
    /* Honoured values the loader cannot compute are refused the same way. */
    if (parse_with(5, "d_kv", "32") == TFB_STATUS_OK || !strstr(tfb_error_last(), "\"d_kv\": 32 is not supported"))
        FAIL("T5Config: d_kv * num_heads != d_model loads: %s", tfb_error_last());
    if (parse_with(5, "feed_forward_proj", "\"gated-quick_gelu\"") == TFB_STATUS_OK ||
        !strstr(tfb_error_last(), "\"feed_forward_proj\": \"gated-quick_gelu\" is not supported"))
        FAIL("T5Config: an unknown feed_forward_proj loads: %s", tfb_error_last());
    if (parse_with(3, "rope_scaling", "{\"type\": \"linear\", \"factor\": 2.0}") == TFB_STATUS_OK ||
        !strstr(tfb_error_last(), "\"rope_scaling\": {\"type\":\"linear\",\"factor\":2} is not supported"))
        FAIL("LlamaConfig: rope_scaling loads or says something else: %s", tfb_error_last());
    if (parse_with(3, "rope_parameters", "{\"rope_type\": \"yarn\", \"rope_theta\": 10000}") == TFB_STATUS_OK ||
        !strstr(tfb_error_last(), "\"rope_parameters\""))
        FAIL("LlamaConfig: a yarn rope_parameters loads: %s", tfb_error_last());
    if (parse_with(3, "head_dim", "32") == TFB_STATUS_OK || !strstr(tfb_error_last(), "\"head_dim\": 32 is not supported"))
        FAIL("LlamaConfig: a head_dim other than hidden/heads loads: %s", tfb_error_last());
    if (parse_with(4, "sliding_window", "16") == TFB_STATUS_OK ||
        !strstr(tfb_error_last(), "\"sliding_window\": 16 is not supported"))
        FAIL("MistralConfig: a sliding window that binds loads: %s", tfb_error_last());
    if (parse_with(4, "sliding_window", "null") != TFB_STATUS_OK || parse_with(4, "sliding_window", "32") != TFB_STATUS_OK)
        FAIL("MistralConfig: a window that never binds is refused: %s", tfb_error_last());
    if (parse_with(0, "activation_function", "\"quick_gelu\"") == TFB_STATUS_OK ||
        !strstr(tfb_error_last(), "\"activation_function\": \"quick_gelu\" is not supported"))
        FAIL("GPT2Config: activation_function quick_gelu loads or says something else: %s", tfb_error_last());
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
        print_markdown();
        return 0;
    }
    read_doc(argc > 1 ? argv[1] : TFB_HF_CONFIGS_MD);
    if (n_rows == 0)
        FAIL("no table rows read from the document");
    check_doc();
    check_behaviour();
    /* The checker itself: a document with one verdict changed must be caught. */
    for (int i = 0; i < n_rows; i++)
        rows[i].seen = 0;
    int before = failures;
    quiet = 1;
    snprintf(rows[0].verdict, sizeof rows[0].verdict, "%s", strcmp(rows[0].verdict, "refused") ? "refused" : "honoured");
    check_doc();
    quiet = 0;
    if (failures == before + 1)
        failures = before; /* caught, as it must be */
    else
        FAIL("a changed verdict in the document went unnoticed");
    printf("test_hf_audit: %d rows, %d failure(s)\n", n_rows, failures);
    return failures ? 1 : 0;
}
