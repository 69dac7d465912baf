/* config.json of a Hugging Face model directory: which family it is and a range-checked
 * tfb_config. The file is hostile: every value is checked against bounds generous for real models
 * but small enough that products stay far from overflow and a hostile config cannot ask for absurd
 * allocations by itself; every failure is "<file>: <what>". */
#include "models/hf_config.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/families.h"
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

/* One config.json being read: every field the parsers read must be one the audit calls honoured. */
typedef struct hf_cfg {
    const char *path;
    const cJSON *root;
    tfb__hf_family fam;
} hf_cfg;

static const cJSON *cfg_get(const hf_cfg *x, const char *key) {
    const tfb__hf_field *f = tfb__hf_audit_find(x->fam, key);
    TFB_ASSERT(f && f->verdict == TFB_HF_HONOURED); /* the audit table must list what the loader reads */
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(x->root, key);
    return j && !cJSON_IsNull(j) ? j : NULL;
}

/* A JSON value as compact text for messages, cleaned and cut short. */
static const char *cfg_value_text(const cJSON *j, char *buf, size_t n) {
    char *t = cJSON_PrintUnformatted(j);
    tfb__st_clean(t ? t : "?", buf, n);
    cJSON_free(t);
    return buf;
}

static tfb_status cfg_refuse(const hf_cfg *x, const char *key, const cJSON *j) {
    char v[80], k[64];
    return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\": %s is not supported", x->path,
                         tfb__st_clean(key, k, sizeof k), cfg_value_text(j, v, sizeof v));
}

/* Integer field in [lo, hi]; absent or null gives dflt, or an error when required. */
static tfb_status cfg_int(const hf_cfg *x, const char *key, bool required, int64_t dflt, int64_t lo, int64_t hi,
                          int64_t *out) {
    const cJSON *j = cfg_get(x, key);
    if (!j) {
        if (required)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: missing \"%s\"", x->path, key);
        *out = dflt;
        return TFB_STATUS_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi) || d != floor(d))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be an integer in [%lld, %lld]", x->path, key,
                             (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return TFB_STATUS_OK;
}

static tfb_status cfg_eps(const hf_cfg *x, const char *key, double dflt, float *out) {
    const cJSON *j = cfg_get(x, key);
    if (!j) {
        *out = (float)dflt;
        return TFB_STATUS_OK;
    }
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    /* Checked as the float it becomes: 1e-56 is positive as a double but 0 as a float (fuzzing). */
    if (!(d > 0.0 && d < 1.0) || !((float)d > 0.0f))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be a number in (0, 1) representable as a float",
                             x->path, key);
    *out = (float)d;
    return TFB_STATUS_OK;
}

static tfb_status cfg_bool(const hf_cfg *x, const char *key, bool dflt, bool *out) {
    const cJSON *j = cfg_get(x, key);
    if (!j) {
        *out = dflt;
        return TFB_STATUS_OK;
    }
    if (!cJSON_IsBool(j))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be true or false", x->path, key);
    *out = cJSON_IsTrue(j);
    return TFB_STATUS_OK;
}

static bool act_by_name(const char *v, tfb_act *out);

static tfb_status cfg_act(const hf_cfg *x, const char *key, const char *dflt, tfb_act *out) {
    const cJSON *j = cfg_get(x, key);
    const char *v = dflt;
    if (j) {
        if (!cJSON_IsString(j) || !j->valuestring)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\" must be a string", x->path, key);
        v = j->valuestring;
    }
    return act_by_name(v, out) ? TFB_STATUS_OK : cfg_refuse(x, key, j);
}

/* d_model / n_head must divide. */
static tfb_status cfg_heads(const hf_cfg *x, const tfb_config *c, int64_t n_head) {
    if (n_head > c->d_model || c->d_model % n_head != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %lld heads do not divide the model width %lld", x->path,
                             (long long)n_head, (long long)c->d_model);
    return TFB_STATUS_OK;
}

/* The model classes tfbench loads, by the name in "architectures", and their family. */
static const struct {
    const char *model_type, *architecture;
    tfb__hf_family fam;
    bool head;
} hf_classes[] = {
    {"gpt2", "GPT2LMHeadModel", HF_GPT2, true},
    {"bert", "BertForMaskedLM", HF_BERT, true},
    {"bert", "BertModel", HF_BERT, false},
    {"marian", "MarianMTModel", HF_MARIAN, true},
    {"llama", "LlamaForCausalLM", HF_LLAMA, true},
    {"mistral", "MistralForCausalLM", HF_MISTRAL, true},
    {"t5", "T5ForConditionalGeneration", HF_T5, true},
};
#define N_CLASSES ((int)(sizeof hf_classes / sizeof hf_classes[0]))

/* Which class: "architectures" (a list naming the head) wins; "model_type" must agree with it,
 * and alone picks the first class of its type (the one with a head). */
static tfb_status cfg_class(const char *path, const cJSON *root, int *out) {
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    char b[80];
    if (mt && !cJSON_IsNull(mt) && (!cJSON_IsString(mt) || !mt->valuestring))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"model_type\" must be a string", path);
    const char *model_type = (mt && cJSON_IsString(mt)) ? mt->valuestring : NULL;
    int from_arch = -1, from_type = -1;
    if (ar && !cJSON_IsNull(ar)) {
        if (!cJSON_IsArray(ar) || cJSON_GetArraySize(ar) != 1)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: \"architectures\" must name exactly one model class",
                                 path);
        const cJSON *e = cJSON_GetArrayItem(ar, 0);
        if (!cJSON_IsString(e) || !e->valuestring)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: \"architectures\" must be an array of strings", path);
        for (int f = 0; f < N_CLASSES && from_arch < 0; f++)
            if (strcmp(e->valuestring, hf_classes[f].architecture) == 0)
                from_arch = f;
        if (from_arch < 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: unknown architecture '%s'", path,
                                 tfb__st_clean(e->valuestring, b, sizeof b));
    }
    if (model_type) {
        for (int f = N_CLASSES - 1; f >= 0; f--)
            if (strcmp(model_type, hf_classes[f].model_type) == 0 && (from_type < 0 || hf_classes[f].head))
                from_type = f;
        if (from_type < 0 && from_arch < 0)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: unknown architecture '%s'", path,
                                 tfb__st_clean(model_type, b, sizeof b));
        if (from_arch >= 0 && (from_type < 0 || hf_classes[from_type].fam != hf_classes[from_arch].fam))
            return tfb_error_set(TFB_STATUS_INPUT, "%s: model_type '%s' contradicts architecture %s", path,
                                 tfb__st_clean(model_type, b, sizeof b), hf_classes[from_arch].architecture);
    }
    if (from_arch < 0 && from_type < 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: unknown architecture (no \"architectures\" or \"model_type\")", path);
    *out = from_arch >= 0 ? from_arch : from_type;
    return TFB_STATUS_OK;
}

/* Every key gets the audit's verdict: unknown keys and refused values fail, naming the field. */
static tfb_status cfg_audit(const hf_cfg *x) {
    const cJSON *e;
    cJSON_ArrayForEach(e, x->root) {
        const tfb__hf_field *f = tfb__hf_audit_find(x->fam, e->string);
        if (!f) {
            char v[80], k[64];
            return tfb_error_set(TFB_STATUS_INPUT, "%s: \"%s\": %s is not supported (a field tfbench does not know)",
                                 x->path, tfb__st_clean(e->string, k, sizeof k), cfg_value_text(e, v, sizeof v));
        }
        if (f->verdict != TFB_HF_REFUSED)
            continue;
        char *t = cJSON_PrintUnformatted(e);
        bool ok = t && strcmp(t, f->accept) == 0;
        cJSON_free(t);
        if (!ok)
            return cfg_refuse(x, e->string, e);
    }
    return TFB_STATUS_OK;
}

static tfb_status cfg_gpt2(const hf_cfg *x, tfb_config *c) {
    int64_t H, L;
    TFB_TRY(cfg_int(x, "n_embd", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(x, "n_layer", true, 0, 1, HF_MAX_LAYERS, &L));
    TFB_TRY(cfg_int(x, "n_head", true, 0, 1, HF_MAX_DIM, &H));
    /* Old configs name the context n_ctx only. */
    TFB_TRY(cfg_int(x, "n_ctx", false, 0, 0, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "n_positions", c->n_ctx == 0, c->n_ctx, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    c->dec = (tfb_stack){.n_layer = L, .n_head = H};
    TFB_TRY(cfg_int(x, "n_inner", false, 4 * c->d_model, 1, HF_MAX_FF, &c->dec.d_ff));
    TFB_TRY(cfg_eps(x, "layer_norm_epsilon", 1e-5, &c->eps));
    TFB_TRY(cfg_act(x, "activation_function", "gelu_new", &c->act));
    TFB_TRY(cfg_bool(x, "scale_attn_weights", true, &c->attn_scaled));
    TFB_TRY(cfg_bool(x, "scale_attn_by_inverse_layer_idx", false, &c->attn_scale_inv_layer));
    bool tied;
    TFB_TRY(cfg_bool(x, "tie_word_embeddings", true, &tied));
    c->head = tied ? TFB_HEAD_TOK_EMB : TFB_HEAD_OWN;
    TFB_TRY(cfg_int(x, "bos_token_id", false, c->n_vocab - 1, 0, c->n_vocab - 1, &c->bos_id));
    TFB_TRY(cfg_int(x, "eos_token_id", false, c->n_vocab - 1, 0, c->n_vocab - 1, &c->eos_id));
    /* GPT-2 has no pad token; like Hugging Face, pad with eos. */
    TFB_TRY(cfg_int(x, "pad_token_id", false, c->eos_id, 0, c->n_vocab - 1, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return cfg_heads(x, c, H);
}

static tfb_status cfg_bert(const hf_cfg *x, tfb_config *c) {
    int64_t H, L, F;
    TFB_TRY(cfg_int(x, "hidden_size", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(x, "num_hidden_layers", true, 0, 1, HF_MAX_LAYERS, &L));
    TFB_TRY(cfg_int(x, "num_attention_heads", true, 0, 1, HF_MAX_DIM, &H));
    TFB_TRY(cfg_int(x, "intermediate_size", true, 0, 1, HF_MAX_FF, &F));
    c->enc = (tfb_stack){.n_layer = L, .n_head = H, .d_ff = F};
    TFB_TRY(cfg_int(x, "max_position_embeddings", true, 0, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_int(x, "type_vocab_size", false, 2, 1, 1024, &c->n_type));
    TFB_TRY(cfg_eps(x, "layer_norm_eps", 1e-12, &c->eps));
    TFB_TRY(cfg_act(x, "hidden_act", "gelu", &c->act));
    TFB_TRY(cfg_int(x, "pad_token_id", false, 0, 0, c->n_vocab - 1, &c->pad_id));
    bool tied;
    TFB_TRY(cfg_bool(x, "tie_word_embeddings", true, &tied));
    if (c->has_lm_head && !tied)
        c->head = TFB_HEAD_OWN;
    /* BERT's config names no [CLS]/[SEP]; take the standard vocabulary's 101/102 when the vocab
     * is that large, else 1/2 (the tiny preset's), unless the config says otherwise. */
    int64_t V = c->n_vocab, cls = V > 102 ? 101 : (V > 1 ? 1 : 0), sep = V > 102 ? 102 : (V > 2 ? 2 : 0);
    TFB_TRY(cfg_int(x, "bos_token_id", false, cls, 0, V - 1, &c->bos_id));
    TFB_TRY(cfg_int(x, "eos_token_id", false, sep, 0, V - 1, &c->eos_id));
    c->decoder_start_id = c->pad_id;
    return cfg_heads(x, c, H);
}

static tfb_status cfg_marian(const hf_cfg *x, tfb_config *c) {
    int64_t el, dl, eh, dh, ef, df;
    TFB_TRY(cfg_int(x, "d_model", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(x, "encoder_layers", true, 0, 1, HF_MAX_LAYERS, &el));
    TFB_TRY(cfg_int(x, "decoder_layers", true, 0, 1, HF_MAX_LAYERS, &dl));
    TFB_TRY(cfg_int(x, "encoder_attention_heads", true, 0, 1, HF_MAX_DIM, &eh));
    TFB_TRY(cfg_int(x, "decoder_attention_heads", false, eh, 1, HF_MAX_DIM, &dh));
    TFB_TRY(cfg_int(x, "encoder_ffn_dim", true, 0, 1, HF_MAX_FF, &ef));
    TFB_TRY(cfg_int(x, "decoder_ffn_dim", false, ef, 1, HF_MAX_FF, &df));
    c->enc = (tfb_stack){.n_layer = el, .n_head = eh, .d_ff = ef};
    c->dec = (tfb_stack){.n_layer = dl, .n_head = dh, .d_ff = df};
    TFB_TRY(cfg_int(x, "max_position_embeddings", true, 0, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    /* Shared embeddings (the default) ignore decoder_vocab_size, as MarianMTModel does. */
    bool shared, tied, scale;
    TFB_TRY(cfg_bool(x, "share_encoder_decoder_embeddings", true, &shared));
    TFB_TRY(cfg_int(x, "decoder_vocab_size", false, c->n_vocab, 1, HF_MAX_VOCAB, &c->n_dec_vocab));
    if (shared)
        c->n_dec_vocab = c->n_vocab;
    c->dec_own_emb = !shared;
    TFB_TRY(cfg_bool(x, "tie_word_embeddings", true, &tied));
    c->head = !tied ? TFB_HEAD_OWN : shared ? TFB_HEAD_TOK_EMB : TFB_HEAD_DEC_EMB;
    /* A head tied to the vocab_size-row decoder embedding cannot give decoder_vocab_size logits
     * (transformers cannot run such a model either: final_logits_bias has the other width). */
    if (tied && c->n_dec_vocab != c->n_vocab)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: \"tie_word_embeddings\": true is not supported with decoder_vocab_size %lld != "
                             "vocab_size %lld",
                             x->path, (long long)c->n_dec_vocab, (long long)c->n_vocab);
    TFB_TRY(cfg_act(x, "activation_function", "gelu", &c->act));
    TFB_TRY(cfg_bool(x, "scale_embedding", false, &scale));
    c->emb_scale = scale ? (float)sqrt((double)c->d_model) : 1.0f;
    int64_t Vd = c->n_dec_vocab < c->n_vocab ? c->n_dec_vocab : c->n_vocab;
    TFB_TRY(cfg_int(x, "pad_token_id", false, Vd - 1, 0, Vd - 1, &c->pad_id));
    TFB_TRY(cfg_int(x, "eos_token_id", false, 0, 0, Vd - 1, &c->eos_id));
    TFB_TRY(cfg_int(x, "decoder_start_token_id", false, c->pad_id, 0, Vd - 1, &c->decoder_start_id));
    c->bos_id = c->eos_id; /* Marian has no BOS; the presets use eos */
    TFB_TRY(cfg_heads(x, c, eh));
    return cfg_heads(x, c, dh);
}

/* rope_theta, or newer files' rope_parameters {rope_theta, rope_type}: only the default rotary
 * kind is modelled. */
static tfb_status cfg_rope(const hf_cfg *x, tfb_config *c) {
    const cJSON *rp = cfg_get(x, "rope_parameters");
    const cJSON *th = cfg_get(x, "rope_theta");
    if (rp) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rp, "rope_type");
        const cJSON *t2 = cJSON_GetObjectItemCaseSensitive(rp, "rope_theta");
        if (!cJSON_IsObject(rp) || (type && !(cJSON_IsString(type) && strcmp(type->valuestring, "default") == 0)))
            return cfg_refuse(x, "rope_parameters", rp);
        for (const cJSON *e = rp->child; e; e = e->next)
            if (strcmp(e->string, "rope_type") != 0 && strcmp(e->string, "rope_theta") != 0)
                return cfg_refuse(x, "rope_parameters", rp);
        if (t2)
            th = t2;
    }
    double t = th ? (cJSON_IsNumber(th) ? th->valuedouble : NAN) : 10000.0;
    if (!(t > 1.0 && t < 1e12))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: \"rope_theta\" must be a number in (1, 1e12)", x->path);
    c->rope_theta = (float)t;
    return TFB_STATUS_OK;
}

static tfb_status cfg_llama(const hf_cfg *x, tfb_config *c) {
    int64_t H, Hkv, L, F, hd;
    TFB_TRY(cfg_int(x, "hidden_size", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(x, "num_hidden_layers", true, 0, 1, HF_MAX_LAYERS, &L));
    TFB_TRY(cfg_int(x, "num_attention_heads", true, 0, 1, HF_MAX_DIM, &H));
    TFB_TRY(cfg_int(x, "num_key_value_heads", false, H, 1, HF_MAX_DIM, &Hkv));
    TFB_TRY(cfg_int(x, "intermediate_size", true, 0, 1, HF_MAX_FF, &F));
    TFB_TRY(cfg_heads(x, c, H));
    if (H % Hkv != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %lld heads are not a multiple of %lld kv heads", x->path,
                             (long long)H, (long long)Hkv);
    TFB_TRY(cfg_int(x, "head_dim", false, c->d_model / H, 1, HF_MAX_DIM, &hd));
    if (hd != c->d_model / H)
        return cfg_refuse(x, "head_dim", cfg_get(x, "head_dim"));
    c->dec = (tfb_stack){.n_layer = L, .n_head = H, .n_kv_head = Hkv, .d_ff = F};
    TFB_TRY(cfg_int(x, "max_position_embeddings", false, 2048, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_eps(x, "rms_norm_eps", 1e-6, &c->eps));
    TFB_TRY(cfg_act(x, "hidden_act", "silu", &c->act));
    TFB_TRY(cfg_rope(x, c));
    TFB_TRY(cfg_bool(x, "attention_bias", false, &c->attn_bias));
    TFB_TRY(cfg_bool(x, "mlp_bias", false, &c->ffn_bias));
    bool tied;
    TFB_TRY(cfg_bool(x, "tie_word_embeddings", false, &tied));
    c->head = tied ? TFB_HEAD_TOK_EMB : TFB_HEAD_OWN;
    if (x->fam == HF_MISTRAL) {
        /* A sliding window that can bind changes attention; one at least the context never does. */
        int64_t w;
        TFB_TRY(cfg_int(x, "sliding_window", false, c->n_ctx, 1, INT64_C(1) << 40, &w));
        if (w < c->n_ctx)
            return cfg_refuse(x, "sliding_window", cfg_get(x, "sliding_window"));
    }
    int64_t V = c->n_vocab;
    TFB_TRY(cfg_int(x, "bos_token_id", false, V > 1 ? 1 : 0, 0, V - 1, &c->bos_id));
    TFB_TRY(cfg_int(x, "eos_token_id", false, V > 2 ? 2 : 0, 0, V - 1, &c->eos_id));
    TFB_TRY(cfg_int(x, "pad_token_id", false, c->eos_id, 0, V - 1, &c->pad_id));
    c->decoder_start_id = c->bos_id;
    return TFB_STATUS_OK;
}

/* An activation by transformers' ACT2FN name: "gelu" is the erf form, gelu_new /
 * gelu_pytorch_tanh the tanh one. */
static bool act_by_name(const char *v, tfb_act *out) {
    static const struct {
        const char *name;
        tfb_act act;
    } acts[] = {
        {"gelu", TFB_ACT_GELU}, {"gelu_new", TFB_ACT_GELU_TANH}, {"gelu_pytorch_tanh", TFB_ACT_GELU_TANH},
        {"relu", TFB_ACT_RELU}, {"swish", TFB_ACT_SILU},         {"silu", TFB_ACT_SILU},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (strcmp(v, acts[i].name) == 0) {
            *out = acts[i].act;
            return true;
        }
    return false;
}

static tfb_status cfg_t5(const hf_cfg *x, tfb_config *c) {
    int64_t L, Ld, H, F, dkv;
    TFB_TRY(cfg_int(x, "d_model", true, 0, 1, HF_MAX_DIM, &c->d_model));
    TFB_TRY(cfg_int(x, "num_layers", true, 0, 1, HF_MAX_LAYERS, &L));
    TFB_TRY(cfg_int(x, "num_decoder_layers", false, L, 1, HF_MAX_LAYERS, &Ld));
    TFB_TRY(cfg_int(x, "num_heads", true, 0, 1, HF_MAX_DIM, &H));
    TFB_TRY(cfg_int(x, "d_ff", true, 0, 1, HF_MAX_FF, &F));
    TFB_TRY(cfg_heads(x, c, H));
    TFB_TRY(cfg_int(x, "d_kv", false, c->d_model / H, 1, HF_MAX_DIM, &dkv));
    if (dkv * H != c->d_model) /* t5-3b, t5-11b: attention wider than the model */
        return cfg_refuse(x, "d_kv", cfg_get(x, "d_kv"));
    c->enc = (tfb_stack){.n_layer = L, .n_head = H, .d_ff = F};
    c->dec = (tfb_stack){.n_layer = Ld, .n_head = H, .d_ff = F};
    TFB_TRY(cfg_int(x, "vocab_size", true, 0, 1, HF_MAX_VOCAB, &c->n_vocab));
    TFB_TRY(cfg_int(x, "n_positions", false, 512, 1, HF_MAX_POS, &c->n_ctx));
    TFB_TRY(cfg_int(x, "relative_attention_num_buckets", false, 32, 2, 4096, &c->rel_buckets));
    TFB_TRY(cfg_int(x, "relative_attention_max_distance", false, 128, c->rel_buckets / 2 + 1, HF_MAX_POS,
                    &c->rel_max_distance));
    TFB_TRY(cfg_eps(x, "layer_norm_epsilon", 1e-6, &c->eps));
    /* feed_forward_proj "[gated-]ACT" ("gated-gelu" means gelu_new); a saved dense_act_fn /
     * is_gated_act overrides it, as T5Config's kwargs do. */
    const cJSON *ffp = cfg_get(x, "feed_forward_proj");
    const char *proj = ffp && cJSON_IsString(ffp) ? ffp->valuestring : "relu";
    if (ffp && !cJSON_IsString(ffp))
        return cfg_refuse(x, "feed_forward_proj", ffp);
    c->ffn_gated = strncmp(proj, "gated-", 6) == 0;
    const char *an = c->ffn_gated ? proj + 6 : proj;
    if (strcmp(proj, "gated-gelu") == 0)
        an = "gelu_new";
    if (!act_by_name(an, &c->act))
        return cfg_refuse(x, "feed_forward_proj", ffp);
    const cJSON *daf = cfg_get(x, "dense_act_fn");
    if (daf && !(cJSON_IsString(daf) && act_by_name(daf->valuestring, &c->act)))
        return cfg_refuse(x, "dense_act_fn", daf);
    TFB_TRY(cfg_bool(x, "is_gated_act", c->ffn_gated, &c->ffn_gated));
    bool tied;
    TFB_TRY(cfg_bool(x, "tie_word_embeddings", true, &tied));
    c->head = tied ? TFB_HEAD_TOK_EMB : TFB_HEAD_OWN;
    c->head_scale = tied ? (float)(1.0 / sqrt((double)c->d_model)) : 1.0f;
    int64_t V = c->n_vocab;
    TFB_TRY(cfg_int(x, "pad_token_id", false, 0, 0, V - 1, &c->pad_id));
    TFB_TRY(cfg_int(x, "eos_token_id", false, V > 1 ? 1 : 0, 0, V - 1, &c->eos_id));
    TFB_TRY(cfg_int(x, "decoder_start_token_id", false, c->pad_id, 0, V - 1, &c->decoder_start_id));
    c->bos_id = c->eos_id; /* T5 has no BOS */
    return TFB_STATUS_OK;
}

/* Parse config.json text (path names it in messages) into cfg; name is set by the caller. */
tfb_status tfb__hf_parse_config(const char *path, const char *text, size_t len, tfb_config *cfg,
                                tfb__hf_family *fam) {
    cJSON *root = NULL;
    TFB_TRY(tfb__hf_parse_json(path, text, len, &root));
    memset(cfg, 0, sizeof *cfg);
    int k = 0;
    tfb_status s = cfg_class(path, root, &k);
    if (s == TFB_STATUS_OK) {
        *fam = hf_classes[k].fam;
        hf_cfg x = {.path = path, .root = root, .fam = *fam};
        switch (*fam) {
        case HF_GPT2: *cfg = tfb__family_gpt2(); break;
        case HF_BERT: *cfg = tfb__family_bert(hf_classes[k].head); break;
        case HF_MARIAN: *cfg = tfb__family_marian(); break;
        case HF_LLAMA:
        case HF_MISTRAL: *cfg = tfb__family_llama(); break;
        case HF_T5: *cfg = tfb__family_t5(false); break;
        }
        s = cfg_audit(&x);
        if (s == TFB_STATUS_OK) {
            switch (*fam) {
            case HF_GPT2: s = cfg_gpt2(&x, cfg); break;
            case HF_BERT: s = cfg_bert(&x, cfg); break;
            case HF_MARIAN: s = cfg_marian(&x, cfg); break;
            case HF_LLAMA:
            case HF_MISTRAL: s = cfg_llama(&x, cfg); break;
            case HF_T5: s = cfg_t5(&x, cfg); break;
            }
        }
        tfb__family_finish(cfg);
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
