/* config.json of a Hugging Face model directory: which family it is and a range-checked
 * tfb_config. The file is hostile: every value is checked against bounds generous for real models
 * but small enough that products stay far from overflow and a hostile config cannot ask for absurd
 * allocations by itself; every failure is "<file>: <what>". */
#include "models/hf_config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/safetensors.h"

#define HF_MAX_DIM    (1 << 16)
#define HF_MAX_FF     (1 << 20)
#define HF_MAX_LAYERS 1024
#define HF_MAX_VOCAB  (1 << 24)
#define HF_MAX_POS    (1 << 20)

/* Parse text as one JSON object (trailing whitespace allowed). */
tfb_status tfb__hf_parse_json(const char *path, const char *text, size_t len, cJSON **out) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t at = (end && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        return tfb_error_set(TFB_STATUS_INPUT, "%s: invalid JSON (near byte %zu of %zu)", path, at, len);
    }
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(j);
            return tfb_error_set(TFB_STATUS_INPUT, "%s: invalid JSON (trailing bytes at byte %zu)", path,
                                 (size_t)(p - text));
        }
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: top-level JSON value is not an object", path);
    }
    *out = j;
    return TFB_STATUS_OK;
}

/* ---- config.json ------------------------------------------------------------------------------- */

/* Integer field in [lo, hi]; absent or null gives dflt, or an error when required. */
static tfb_status cfg_int(const char *path, const cJSON *root, const char *key, bool required, int64_t dflt,
                          int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        if (required)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing \"%s\"", path, key);
        *out = dflt;
        return TFB_STATUS_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi) || d != floor(d))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be an integer in [%lld, %lld]", path, key,
                             (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return TFB_STATUS_OK;
}

static tfb_status cfg_eps(const char *path, const cJSON *root, const char *key, double dflt, float *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        *out = (float)dflt;
        return TFB_STATUS_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    /* Checked as the float it becomes: 1e-56 is positive as a double but 0 as a float (fuzzing). */
    if (!(d > 0.0 && d < 1.0) || !((float)d > 0.0f))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be a number in (0, 1) representable as a float",
                             path, key);
    *out = (float)d;
    return TFB_STATUS_OK;
}

static tfb_status cfg_bool(const char *path, const cJSON *root, const char *key, bool dflt, bool *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!j || cJSON_IsNull(j)) {
        *out = dflt;
        return TFB_STATUS_OK;
    }
    if (!cJSON_IsBool(j))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(j);
    return TFB_STATUS_OK;
}

static tfb_status cfg_act(const char *path, const cJSON *root, const char *key, const char *dflt,
                          tfb_act *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
    const char *v = dflt;
    if (j && !cJSON_IsNull(j)) {
        if (!cJSON_IsString(j) || !j->valuestring)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be a string", path, key);
        v = j->valuestring;
    }
    static const struct {
        const char *name;
        tfb_act act;
    } acts[] = {
        {"gelu", TFB_ACT_GELU}, {"gelu_new", TFB_ACT_GELU_TANH}, {"gelu_pytorch_tanh", TFB_ACT_GELU_TANH},
        {"relu", TFB_ACT_RELU}, {"swish", TFB_ACT_SILU},         {"silu", TFB_ACT_SILU},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        if (strcmp(v, acts[i].name) == 0) {
            *out = acts[i].act;
            return TFB_STATUS_OK;
        }
    }
    char b[64];
    return tfb_error_set(TFB_STATUS_INPUT, "%s: unsupported \"%s\" '%s' (gelu, gelu_new, relu, swish/silu)",
                         path, key, tfb__st_clean(v, b, sizeof b));
}

/* d_model / n_head must divide. */
static tfb_status cfg_heads(const char *path, const tfb_config *c) {
    if (c->n_head > c->d_model || c->d_model % c->n_head != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %lld heads do not divide the model width %lld", path,
                             (long long)c->n_head, (long long)c->d_model);
    return TFB_STATUS_OK;
}


static const struct {
    const char *model_type, *architecture;
} hf_families[] = {
    [HF_GPT2] = {"gpt2", "GPT2LMHeadModel"},
    [HF_BERT] = {"bert", "BertForMaskedLM"},
    [HF_MARIAN] = {"marian", "MarianMTModel"},
};

/* Which family: "architectures" (a list naming the head) wins; "model_type" must agree with it. */
static tfb_status cfg_family(const char *path, const cJSON *root, tfb__hf_family *out) {
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    char b[80];
    if (mt && !cJSON_IsNull(mt) && (!cJSON_IsString(mt) || !mt->valuestring))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"model_type\" must be a string", path);
    const char *model_type = (mt && cJSON_IsString(mt)) ? mt->valuestring : NULL;
    int from_arch = -1, from_type = -1;
    if (ar && !cJSON_IsNull(ar)) {
        if (!cJSON_IsArray(ar) || cJSON_GetArraySize(ar) < 1)
            return tfb_error_set(TFB_STATUS_INPUT,
                                 "%s: \"architectures\" must be a non-empty array of strings", path);
        const char *first = NULL;
        const cJSON *e;
        cJSON_ArrayForEach(e, ar) {
            if (!cJSON_IsString(e) || !e->valuestring)
                return tfb_error_set(TFB_STATUS_INPUT, "%s: \"architectures\" must be an array of strings",
                                     path);
            if (!first)
                first = e->valuestring;
            for (int f = 0; f < 3 && from_arch < 0; f++)
                if (strcmp(e->valuestring, hf_families[f].architecture) == 0)
                    from_arch = f;
        }
        if (from_arch < 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: unknown architecture '%s'", path,
                                 tfb__st_clean(first, b, sizeof b));
    }
    if (model_type) {
        for (int f = 0; f < 3; f++)
            if (strcmp(model_type, hf_families[f].model_type) == 0)
                from_type = f;
        if (from_type < 0 && from_arch < 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: unknown architecture '%s'", path,
                                 tfb__st_clean(model_type, b, sizeof b));
        if (from_arch >= 0 && from_type != from_arch)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: model_type '%s' contradicts architecture %s", path,
                                 tfb__st_clean(model_type, b, sizeof b), hf_families[from_arch].architecture);
    }
    if (from_arch < 0 && from_type < 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: unknown architecture (no \"architectures\" or \"model_type\")", path);
    *out = (tfb__hf_family)(from_arch >= 0 ? from_arch : from_type);
    return TFB_STATUS_OK;
}

static tfb_status cfg_gpt2(const char *p, const cJSON *r, tfb_config *c) {
    c->arch = TFB_ARCH_DECODER;
    TFB_TRY(cfg_int(p, r, "n_embd", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(p, r, "n_layer", true, 0, 1, HF_MAX_LAYERS, &c->n_layer));
    TFB_TRY(cfg_int(p, r, "n_head", true, 0, 1, HF_MAX_DIM, &c->n_head));
    /* Old configs name the context n_ctx only. */
    TFB_TRY(cfg_int(p, r, "n_ctx", false, 0, 0, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(p, r, "n_positions", c->n_ctx == 0, c->n_ctx, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(p, r, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_int(p, r, "n_inner", false, 4 * c->d_model, 1, HF_MAX_FF, &c->d_ff));
    TFB_TRY(cfg_eps(p, r, "layer_norm_epsilon", 1e-5, &c->eps));
    TFB_TRY(cfg_act(p, r, "activation_function", "gelu_new", &c->act));
    TFB_TRY(cfg_int(p, r, "bos_token_id", false, c->n_vocab - 1, 0, c->n_vocab - 1, &c->bos_id));
    TFB_TRY(cfg_int(p, r, "eos_token_id", false, c->n_vocab - 1, 0, c->n_vocab - 1, &c->eos_id));
    /* GPT-2 has no pad token; like Hugging Face, pad with eos. */
    TFB_TRY(cfg_int(p, r, "pad_token_id", false, c->eos_id, 0, c->n_vocab - 1, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return cfg_heads(p, c);
}

static tfb_status cfg_bert(const char *p, const cJSON *r, tfb_config *c) {
    c->arch = TFB_ARCH_ENCODER;
    TFB_TRY(cfg_int(p, r, "hidden_size", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(p, r, "num_hidden_layers", true, 0, 1, HF_MAX_LAYERS, &c->n_layer));
    TFB_TRY(cfg_int(p, r, "num_attention_heads", true, 0, 1, HF_MAX_DIM, &c->n_head));
    TFB_TRY(cfg_int(p, r, "intermediate_size", true, 0, 1, HF_MAX_FF, &c->d_ff));
    TFB_TRY(cfg_int(p, r, "max_position_embeddings", true, 0, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(p, r, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_int(p, r, "type_vocab_size", false, 2, 1, 1024, &c->n_type));
    TFB_TRY(cfg_eps(p, r, "layer_norm_eps", 1e-12, &c->eps));
    TFB_TRY(cfg_act(p, r, "hidden_act", "gelu", &c->act));
    TFB_TRY(cfg_int(p, r, "pad_token_id", false, 0, 0, c->n_vocab - 1, &c->pad_id));
    const cJSON *pe = cJSON_GetObjectItemCaseSensitive(r, "position_embedding_type");
    if (pe && !cJSON_IsNull(pe) && !(cJSON_IsString(pe) && strcmp(pe->valuestring, "absolute") == 0))
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: only \"position_embedding_type\": \"absolute\" is supported", p);
    /* BERT's config names no [CLS]/[SEP]; take the standard vocabulary's 101/102 when the vocab
     * is that large, else 1/2 (the tiny preset's), unless the config says otherwise. */
    int64_t V = c->n_vocab, cls = V > 102 ? 101 : (V > 1 ? 1 : 0), sep = V > 102 ? 102 : (V > 2 ? 2 : 0);
    TFB_TRY(cfg_int(p, r, "bos_token_id", false, cls, 0, V - 1, &c->bos_id));
    TFB_TRY(cfg_int(p, r, "eos_token_id", false, sep, 0, V - 1, &c->eos_id));
    c->decoder_start_id = c->pad_id;
    return cfg_heads(p, c);
}

static tfb_status cfg_marian(const char *p, const cJSON *r, tfb_config *c) {
    c->arch = TFB_ARCH_ENCDEC;
    int64_t dh, dff, dv;
    TFB_TRY(cfg_int(p, r, "d_model", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(p, r, "encoder_layers", true, 0, 1, HF_MAX_LAYERS, &c->n_enc_layer));
    TFB_TRY(cfg_int(p, r, "decoder_layers", true, 0, 1, HF_MAX_LAYERS, &c->n_layer));
    TFB_TRY(cfg_int(p, r, "encoder_attention_heads", true, 0, 1, HF_MAX_DIM, &c->n_head));
    TFB_TRY(cfg_int(p, r, "decoder_attention_heads", false, c->n_head, 1, HF_MAX_DIM, &dh));
    if (dh != c->n_head)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: decoder_attention_heads %lld != encoder_attention_heads %lld "
                             "(unsupported)",
                             p, (long long)dh, (long long)c->n_head);
    TFB_TRY(cfg_int(p, r, "encoder_ffn_dim", true, 0, 1, HF_MAX_FF, &c->d_ff));
    TFB_TRY(cfg_int(p, r, "decoder_ffn_dim", false, c->d_ff, 1, HF_MAX_FF, &dff));
    if (dff != c->d_ff)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: decoder_ffn_dim %lld != encoder_ffn_dim %lld (unsupported)", p,
                             (long long)dff, (long long)c->d_ff);
    TFB_TRY(cfg_int(p, r, "max_position_embeddings", true, 0, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(p, r, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_int(p, r, "decoder_vocab_size", false, c->n_vocab, 1, HF_MAX_VOCAB, &dv));
    if (dv != c->n_vocab)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: decoder_vocab_size %lld != vocab_size %lld (unsupported)",
                             p, (long long)dv, (long long)c->n_vocab);
    bool pre_ln;
    TFB_TRY(cfg_bool(p, r, "normalize_before", false, &pre_ln));
    if (pre_ln)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: \"normalize_before\": true is not supported (post-LN only)", p);
    TFB_TRY(cfg_act(p, r, "activation_function", "gelu", &c->act));
    TFB_TRY(cfg_bool(p, r, "scale_embedding", false, &c->scale_embed));
    TFB_TRY(cfg_int(p, r, "pad_token_id", false, c->n_vocab - 1, 0, c->n_vocab - 1, &c->pad_id));
    TFB_TRY(cfg_int(p, r, "eos_token_id", false, 0, 0, c->n_vocab - 1, &c->eos_id));
    TFB_TRY(
        cfg_int(p, r, "decoder_start_token_id", false, c->pad_id, 0, c->n_vocab - 1, &c->decoder_start_id));
    c->bos_id = c->eos_id; /* Marian has no BOS; the presets use eos */
    c->eps = 1e-5f;
    return cfg_heads(p, c);
}

/* Parse config.json text (path names it in messages) into cfg; name is set by the caller. */
tfb_status tfb__hf_parse_config(const char *path, const char *text, size_t len, tfb_config *cfg,
                                  tfb__hf_family *fam) {
    cJSON *root = NULL;
    TFB_TRY(tfb__hf_parse_json(path, text, len, &root));
    memset(cfg, 0, sizeof *cfg);
    tfb_status s = cfg_family(path, root, fam);
    if (s == TFB_STATUS_OK) {
        switch (*fam) {
        case HF_GPT2:
            s = cfg_gpt2(path, root, cfg);
            break;
        case HF_BERT:
            s = cfg_bert(path, root, cfg);
            break;
        case HF_MARIAN:
            s = cfg_marian(path, root, cfg);
            break;
        }
    }
    cJSON_Delete(root);
    return s;
}

/* ---- model.safetensors.index.json ----------------------------------------------------------- */

#define HF_MAX_SHARDS 4096

/* A shard file name from the index must be a plain name inside the directory. */
static bool hf_shard_name_ok(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n < 256 && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

tfb_status tfb__hf_index_shards(const char *path, const cJSON *root, const char ***names_out, int *n_out) {
    *names_out = NULL;
    *n_out = 0;
    char b[96];
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: missing or non-object \"weight_map\"", path);
    const char **names = calloc(HF_MAX_SHARDS, sizeof *names);
    if (!names)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    int n = 0;
    tfb_status s = TFB_STATUS_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: weight_map entry '%s' is not a file name", path,
                              tfb__st_clean(e->string, b, sizeof b));
            break;
        }
        if (!hf_shard_name_ok(e->valuestring)) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: shard name '%s' is not a plain file name in the directory",
                              path, tfb__st_clean(e->valuestring, b, sizeof b));
            break;
        }
        int k = 0;
        while (k < n && strcmp(names[k], e->valuestring) != 0)
            k++;
        if (k < n)
            continue;
        if (n == HF_MAX_SHARDS) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: more than %d shards", path, HF_MAX_SHARDS);
            break;
        }
        names[n++] = e->valuestring;
    }
    if (s == TFB_STATUS_OK && n == 0)
        s = tfb_error_set(TFB_STATUS_INPUT, "%s: empty \"weight_map\"", path);
    if (s != TFB_STATUS_OK) {
        free(names);
        return s;
    }
    *names_out = names;
    *n_out = n;
    return TFB_STATUS_OK;
}
