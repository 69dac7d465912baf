/* tfbench's reference backend against golden outputs of an independent implementation (Hugging Face
 * transformers), written by tests/hf/gen_fixtures.py into tests/hf/fixtures/<name>/.
 *
 * For each fixture: load the directory with tfb_model_load_dir (f32), check the parsed config against
 * config.json, run the reference backend and compare
 *   decoder (GPT-2) and encoder-decoder (Marian):
 *     - tfb_generate with a logits dump: greedy tokens identical to tokens.json, every dumped row
 *       against logits.npy;
 *     - tfb_generate without a dump (argmax on the backend): the same tokens;
 *     - teacher-forced: the fixture's whole decoder input in one tfb_session_decode call (all rows),
 *       so a prefill and a step-by-step path are both checked;
 *   encoder (BERT): tfb_session_encode logits against logits.npy, tfb_session_hidden against hidden.npy;
 *     a fixture without logits.npy is headless (BertModel): tfb_session_encode with logits NULL, then
 *     tfb_session_hidden only; minilm/ lists several sequences and the installed checkpoint to load.
 * Metric: per row ||x - ref|| / ||ref|| (and over all rows) must be <= TOL; a NaN or inf fails.
 *
 * The comparator is itself tested: after each real comparison the reference is perturbed in memory
 * (one logit by 1e-3 of its value, one greedy token changed) and the check must reject it; and
 * `--self-test` runs the comparator and the .npy reader on planted cases without any model.
 *
 * Usage: test_hf_fixtures [--self-test] [DIR]
 *   DIR a folder of fixtures (default: TFB_HF_FIXTURES): runs gpt2/, bert/ and marian/ in it;
 *   DIR one fixture directory (it holds an inputs.json): runs that one, whatever its family.
 * Exit 0 pass, 1 fail, 77 skipped (a fixture whose checkpoint, named in inputs.json, is not installed). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf/fixture_io.h"
#include "tfbench/model.h"

#ifndef TFB_HF_FIXTURES
#define TFB_HF_FIXTURES "tests/hf/fixtures"
#endif

#define TOL 1e-5

static bool check_rows(const char *what, const float *x, const double *ref, int64_t rows, int64_t cols,
                       double *worst_seen) {
    cmp_result r = compare(x, ref, rows, cols);
    bool ok = cmp_ok(&r, TOL);
    printf("  %-34s rows %3lld x %3lld  max row rel err %.3e (row %lld)  overall %.3e  max abs %.3e%s%s  %s\n",
           what, (long long)rows, (long long)cols, r.worst_row_err, (long long)r.worst_row, r.overall_err,
           r.max_abs, r.nonfinite ? "  NaN/inf" : "", r.degenerate ? "  zero reference row" : "",
           ok ? "ok" : "FAIL");
    if (!ok) {
        fail("%s: relative error %.3e (row %lld) exceeds %.0e", what, r.worst_row_err, (long long)r.worst_row,
             TOL);
        /* Every row's error, to tell one bad position from a uniform drift. */
        for (int64_t i = 0; i < rows; i++) {
            cmp_result ri = compare(x + i * cols, ref + i * cols, 1, cols);
            fprintf(stderr, "    row %3lld: rel err %.3e  max abs %.3e\n", (long long)i, ri.worst_row_err,
                    ri.max_abs);
        }
    }
    if (worst_seen && r.worst_row_err > *worst_seen)
        *worst_seen = r.worst_row_err;
    return ok;
}

/* The comparator must reject the real reference with one logit moved by 1e-3 of its value (the
 * largest-magnitude logit of the middle row, so the row's error is at least 1e-3/sqrt(cols)). */
static void prove_rejects(const char *what, const float *x, const double *ref, int64_t rows, int64_t cols) {
    size_t n = (size_t)(rows * cols);
    double *bad = malloc(n * sizeof(double));
    if (!bad) {
        fail("out of memory");
        return;
    }
    memcpy(bad, ref, n * sizeof(double));
    int64_t row = rows / 2, col = 0;
    for (int64_t j = 1; j < cols; j++)
        if (fabs(ref[row * cols + j]) > fabs(ref[row * cols + col]))
            col = j;
    bad[row * cols + col] *= 1.0 + 1e-3;
    cmp_result r = compare(x, bad, rows, cols);
    if (cmp_ok(&r, TOL))
        fail("%s: comparator accepted a reference with one logit perturbed by 1e-3 (err %.3e)", what,
             r.worst_row_err);
    free(bad);
}

static bool same_tokens(const int32_t *a, int64_t na, const int32_t *b, int64_t nb) {
    if (na != nb)
        return false;
    for (int64_t i = 0; i < na; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static void print_tokens(const char *label, const int32_t *t, int64_t n) {
    fprintf(stderr, "    %s:", label);
    for (int64_t i = 0; i < n; i++)
        fprintf(stderr, " %d", t[i]);
    fprintf(stderr, "\n");
}

static bool check_tokens(const char *what, const int32_t *got, int64_t n_got, const int32_t *want, int64_t n_want) {
    bool ok = same_tokens(got, n_got, want, n_want);
    printf("  %-34s %lld tokens  %s\n", what, (long long)n_got, ok ? "identical" : "DIFFER");
    if (!ok) {
        fail("%s: greedy tokens differ", what);
        print_tokens("tfbench     ", got, n_got);
        print_tokens("transformers", want, n_want);
        for (int64_t i = 0; i < n_got && i < n_want; i++)
            if (got[i] != want[i]) {
                fprintf(stderr, "    first difference at step %lld\n", (long long)i);
                break;
            }
    }
    /* The token check must be able to fail too. */
    if (ok && n_want > 0) {
        int32_t *bad = malloc((size_t)n_want * sizeof(int32_t));
        if (bad) {
            memcpy(bad, want, (size_t)n_want * sizeof(int32_t));
            bad[n_want - 1] ^= 1;
            if (same_tokens(got, n_got, bad, n_want))
                fail("%s: token check accepted a changed token", what);
            free(bad);
        }
    }
    return ok;
}

/* ---- per-model runs ----------------------------------------------------------------------------- */

static bool status_ok(tfb_status s, const char *what, const char *name) {
    if (s == TFB_STATUS_OK)
        return true;
    fail("%s: %s: %s (%s)", name, what, tfb_status_str(s), tfb_error_last());
    return false;
}

/* The activation a config.json names, as tfbench's enum; -1 for a name tfbench has no value for. */
static int act_of(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    if (strcmp(s, "gelu_new") == 0 || strcmp(s, "gelu_pytorch_tanh") == 0)
        return TFB_ACT_GELU_TANH;
    if (strcmp(s, "gelu") == 0)
        return TFB_ACT_GELU;
    if (strcmp(s, "relu") == 0)
        return TFB_ACT_RELU;
    if (strcmp(s, "swish") == 0 || strcmp(s, "silu") == 0)
        return TFB_ACT_SILU;
    return -1;
}

/* A Llama-family config.json (LlamaForCausalLM, MistralForCausalLM): model_type says which. */
static bool is_llama_config(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    return cJSON_IsString(t) && (strcmp(t->valuestring, "llama") == 0 || strcmp(t->valuestring, "mistral") == 0);
}

/* A T5ForConditionalGeneration config.json (model_type t5). */
static bool is_t5_config(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "model_type");
    return cJSON_IsString(t) && strcmp(t->valuestring, "t5") == 0;
}

/* A string field of config.json, or def. */
static const char *json_str(const cJSON *j, const char *key, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

/* rope_theta as LlamaConfig reads it: top level, or (newer files) under rope_parameters; 10000 absent. */
static double rope_theta_of(const cJSON *j) {
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(j, "rope_parameters");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "rope_theta");
    if (!cJSON_IsNumber(t) && cJSON_IsObject(rp))
        t = cJSON_GetObjectItemCaseSensitive(rp, "rope_theta");
    return cJSON_IsNumber(t) ? t->valuedouble : 10000.0;
}

/* The parsed config must agree with config.json on what the fixtures depend on (headless: the
 * fixture has no logits.npy, so the model must have no LM head). */
static void check_config(const char *name, const tfb_config *c, const cJSON *j, const char *arch, bool headless) {
    struct {
        const char *what;
        double got, want;
    } f[48];
    int n = 0;
#define CK(w, g, v) (f[n].what = (w), f[n].got = (double)(g), f[n].want = (double)(v), n++)
    const bool tied = json_num(j, "tie_word_embeddings", 1) != 0;
    if (strcmp(arch, "decoder") == 0 && is_llama_config(j)) {
        /* LlamaConfig and MistralConfig default tie_word_embeddings to false, num_key_value_heads to
         * num_attention_heads (null too), rope_theta to 10000, attention_bias and mlp_bias to false. */
        const bool own_head = json_num(j, "tie_word_embeddings", 0) == 0;
        const double heads = json_num(j, "num_attention_heads", -1);
        CK("decoder only", tfb_config_has_decoder(c) && !tfb_config_has_encoder(c), 1);
        CK("n_vocab", c->n_vocab, json_num(j, "vocab_size", -1));
        CK("n_ctx (max_position_embeddings)", c->n_ctx, json_num(j, "max_position_embeddings", -1));
        CK("d_model (hidden_size)", c->d_model, json_num(j, "hidden_size", -1));
        CK("n_head (num_attention_heads)", c->dec.n_head, heads);
        CK("kv heads (num_key_value_heads)", tfb_stack_kv_heads(&c->dec), json_num(j, "num_key_value_heads", heads));
        CK("kv cache row width (kv heads * head width)", tfb_config_kv_width(c, &c->dec),
           json_num(j, "num_key_value_heads", heads) * json_num(j, "hidden_size", -1) / heads);
        CK("n_layer (num_hidden_layers)", c->dec.n_layer, json_num(j, "num_hidden_layers", -1));
        CK("d_ff (intermediate_size)", c->dec.d_ff, json_num(j, "intermediate_size", -1));
        CK("norm is RMSNorm", c->norm == TFB_NORM_RMS, 1);
        CK("norm before each block (pre-norm)", c->norm_place == TFB_NORM_PRE, 1);
        CK("final norm (model.norm)", c->final_norm, 1);
        CK("eps (rms_norm_eps)", c->eps, (float)json_num(j, "rms_norm_eps", -1));
        CK("rotary positions", c->pos == TFB_POS_ROTARY, 1);
        CK("rope_theta", c->rope_theta, (float)rope_theta_of(j));
        CK("rotary pairs (i, i + D/2) (rotate-half)", c->rope_layout == TFB_ROPE_HALF, 1);
        CK("gated FFN (gate_proj, up_proj, down_proj)", c->ffn_gated, 1);
        CK("act (hidden_act)", c->act, act_of(j, "hidden_act"));
        CK("attn_bias (attention_bias)", c->attn_bias, json_num(j, "attention_bias", 0));
        CK("ffn_bias (mlp_bias)", c->ffn_bias, json_num(j, "mlp_bias", 0));
        CK("attn_scaled (1/sqrt(head width))", c->attn_scaled, 1);
        CK("attn_scale_inv_layer", c->attn_scale_inv_layer, 0);
        CK("head is lm_head (tie_word_embeddings false)", c->head == TFB_HEAD_OWN, own_head);
        CK("head is embed_tokens (tie_word_embeddings true)", c->head == TFB_HEAD_TOK_EMB, !own_head);
        CK("head_bias", c->head_bias, 0);
        CK("has_lm_head", c->has_lm_head, 1);
        CK("eos_id", c->eos_id, json_num(j, "eos_token_id", 2));
    } else if (strcmp(arch, "decoder") == 0) {
        CK("decoder only", tfb_config_has_decoder(c) && !tfb_config_has_encoder(c), 1);
        CK("n_vocab", c->n_vocab, json_num(j, "vocab_size", -1));
        CK("n_ctx", c->n_ctx, json_num(j, "n_positions", -1));
        CK("d_model", c->d_model, json_num(j, "n_embd", -1));
        CK("n_head", c->dec.n_head, json_num(j, "n_head", -1));
        CK("n_layer", c->dec.n_layer, json_num(j, "n_layer", -1));
        CK("d_ff", c->dec.d_ff, json_num(j, "n_inner", -1));
        CK("eps", c->eps, (float)json_num(j, "layer_norm_epsilon", -1));
        CK("act (activation_function)", c->act, act_of(j, "activation_function"));
        CK("attn_scaled (scale_attn_weights)", c->attn_scaled, json_num(j, "scale_attn_weights", 1));
        CK("attn_scale_inv_layer (scale_attn_by_inverse_layer_idx)", c->attn_scale_inv_layer,
           json_num(j, "scale_attn_by_inverse_layer_idx", 0));
        CK("head is lm_head (tie_word_embeddings false)", c->head == TFB_HEAD_OWN, !tied);
        /* What Llama changes stays GPT-2's here. */
        CK("norm is LayerNorm", c->norm == TFB_NORM_LAYER, 1);
        CK("learned positions (wpe)", c->pos == TFB_POS_LEARNED, 1);
        CK("kv heads == n_head", tfb_stack_kv_heads(&c->dec), json_num(j, "n_head", -1));
        CK("ungated FFN", c->ffn_gated, 0);
    } else if (strcmp(arch, "encoder") == 0) {
        CK("encoder only", tfb_config_encoder_only(c), 1);
        CK("n_vocab", c->n_vocab, json_num(j, "vocab_size", -1));
        CK("n_ctx", c->n_ctx, json_num(j, "max_position_embeddings", -1));
        CK("d_model", c->d_model, json_num(j, "hidden_size", -1));
        CK("n_head", c->enc.n_head, json_num(j, "num_attention_heads", -1));
        CK("n_layer", c->enc.n_layer, json_num(j, "num_hidden_layers", -1));
        CK("d_ff", c->enc.d_ff, json_num(j, "intermediate_size", -1));
        CK("n_type", c->n_type, json_num(j, "type_vocab_size", -1));
        CK("eps", c->eps, (float)json_num(j, "layer_norm_eps", -1));
        CK("act (hidden_act)", c->act, act_of(j, "hidden_act"));
        CK("has_lm_head (logits.npy present)", c->has_lm_head, !headless);
        if (!headless)
            CK("head is its own matrix (tie_word_embeddings false)", c->head == TFB_HEAD_OWN, !tied);
    } else if (is_t5_config(j)) {
        /* T5Config defaults: num_decoder_layers = num_layers, 32 buckets, max distance 128, relu,
         * tie_word_embeddings true (head input rescaled by d_model^-0.5), eps 1e-6, pad 0, eos 1. */
        const char *ffp = json_str(j, "feed_forward_proj", "relu");
        const bool gated = strncmp(ffp, "gated-", 6) == 0;
        const double C = json_num(j, "d_model", -1), L = json_num(j, "num_layers", -1);
        CK("encoder-decoder", tfb_config_has_cross(c), 1);
        CK("n_vocab", c->n_vocab, json_num(j, "vocab_size", -1));
        CK("n_dec_vocab", c->n_dec_vocab, json_num(j, "vocab_size", -1));
        CK("d_model", c->d_model, C);
        CK("n_head (num_heads)", c->dec.n_head, json_num(j, "num_heads", -1));
        CK("n_enc_head (num_heads)", c->enc.n_head, json_num(j, "num_heads", -1));
        CK("head width (d_kv)", C / (double)c->dec.n_head, json_num(j, "d_kv", -1));
        CK("n_enc_layer (num_layers)", c->enc.n_layer, L);
        CK("n_layer (num_decoder_layers)", c->dec.n_layer, json_num(j, "num_decoder_layers", L));
        CK("d_ff", c->dec.d_ff, json_num(j, "d_ff", -1));
        CK("enc d_ff", c->enc.d_ff, json_num(j, "d_ff", -1));
        CK("relative positions", c->pos == TFB_POS_RELATIVE, 1);
        CK("rel_buckets (relative_attention_num_buckets)", c->rel_buckets,
           json_num(j, "relative_attention_num_buckets", 32));
        CK("rel_max_distance (relative_attention_max_distance)", c->rel_max_distance,
           json_num(j, "relative_attention_max_distance", 128));
        CK("norm is RMSNorm (T5LayerNorm)", c->norm == TFB_NORM_RMS, 1);
        CK("norm before each block (pre-norm)", c->norm_place == TFB_NORM_PRE, 1);
        CK("final norm closing each stack", c->final_norm, 1);
        CK("eps (layer_norm_epsilon)", c->eps, (float)json_num(j, "layer_norm_epsilon", 1e-6));
        CK("attn_scaled (T5: no 1/sqrt(d))", c->attn_scaled, 0);
        CK("attn_bias", c->attn_bias, 0);
        CK("ffn_bias", c->ffn_bias, 0);
        CK("gated FFN (feed_forward_proj gated-*)", c->ffn_gated, gated);
        CK("act (feed_forward_proj / dense_act_fn)", c->act,
           strcmp(ffp, "gated-gelu") == 0 ? TFB_ACT_GELU_TANH : act_of(j, "dense_act_fn"));
        CK("head is lm_head (tie_word_embeddings false)", c->head == TFB_HEAD_OWN, !tied);
        CK("head is shared (tie_word_embeddings true)", c->head == TFB_HEAD_TOK_EMB, tied);
        CK("head_scale (d_model^-0.5 when tied)", c->head_scale, tied ? (float)(1.0 / sqrt(C)) : 1.0f);
        CK("head_bias", c->head_bias, 0);
        CK("dec_own_emb", c->dec_own_emb, 0);
        CK("eos_id", c->eos_id, json_num(j, "eos_token_id", 1));
        CK("pad_id", c->pad_id, json_num(j, "pad_token_id", 0));
        CK("decoder_start_id", c->decoder_start_id, json_num(j, "decoder_start_token_id", 0));
    } else {
        const bool shared = json_num(j, "share_encoder_decoder_embeddings", 1) != 0;
        CK("encoder-decoder", tfb_config_has_cross(c), 1);
        CK("n_vocab", c->n_vocab, json_num(j, "vocab_size", -1));
        /* n_dec_vocab is the width of the logits: the decoder's vocabulary (equal to vocab_size unless
         * the encoder and decoder embeddings are separate, as in marian_sep). */
        CK("n_dec_vocab", c->n_dec_vocab,
           shared ? json_num(j, "vocab_size", -1) : json_num(j, "decoder_vocab_size", -1));
        CK("dec_own_emb (share_encoder_decoder_embeddings false)", c->dec_own_emb, !shared);
        CK("head (tie_word_embeddings / share_encoder_decoder_embeddings)", c->head,
           !tied ? TFB_HEAD_OWN : shared ? TFB_HEAD_TOK_EMB : TFB_HEAD_DEC_EMB);
        CK("d_model", c->d_model, json_num(j, "d_model", -1));
        CK("n_head", c->dec.n_head, json_num(j, "decoder_attention_heads", -1));
        CK("n_enc_head", c->enc.n_head, json_num(j, "encoder_attention_heads", -1));
        CK("n_layer", c->dec.n_layer, json_num(j, "decoder_layers", -1));
        CK("n_enc_layer", c->enc.n_layer, json_num(j, "encoder_layers", -1));
        CK("d_ff", c->dec.d_ff, json_num(j, "decoder_ffn_dim", -1));
        CK("enc d_ff", c->enc.d_ff, json_num(j, "encoder_ffn_dim", -1));
        CK("act (activation_function)", c->act, act_of(j, "activation_function"));
        CK("eos_id", c->eos_id, json_num(j, "eos_token_id", -1));
        CK("pad_id", c->pad_id, json_num(j, "pad_token_id", -1));
        CK("decoder_start_id", c->decoder_start_id, json_num(j, "decoder_start_token_id", -1));
        CK("scale_embed", c->emb_scale != 1.0f, json_num(j, "scale_embedding", -1));
    }
#undef CK
    for (int i = 0; i < n; i++)
        if (f[i].got != f[i].want)
            fail("%s: config %s is %g, config.json says %g", name, f[i].what, f[i].got, f[i].want);
}

#define MAX_SEQ 8

/* One fixture directory. Encoders compare n_seq sequences: the classic layout is one (inputs.json
 * "tokens", hidden.npy, logits.npy); minilm/ lists several ("sequences", "hidden": [files]) and names
 * the checkpoint directory to load ("checkpoint"); a fixture without logits.npy is headless (BertModel):
 * only hidden states are compared. */
typedef struct fixture {
    const char *name;
    char dir[4096];
    char model_dir[4096]; /* where config.json + model.safetensors are: dir, or inputs.json "checkpoint" */
    cJSON *inputs, *config;
    int32_t *tokens, *src, *want;
    int64_t n_tokens, n_src, n_want, n_gen;
    npy logits; /* data NULL when headless */
    bool headless;
    bool skip;  /* the checkpoint named by inputs.json is not installed */
    int n_seq;
    int32_t *seq[MAX_SEQ];
    int64_t seq_len[MAX_SEQ];
    npy hidden[MAX_SEQ];
    const char *arch;
} fixture;

static void fixture_free(fixture *fx) {
    cJSON_Delete(fx->inputs);
    cJSON_Delete(fx->config);
    free(fx->tokens);
    free(fx->src);
    free(fx->want);
    free(fx->logits.data);
    for (int k = 0; k < MAX_SEQ; k++) {
        if (fx->seq[k] != fx->tokens)
            free(fx->seq[k]);
        free(fx->hidden[k].data);
    }
}

static bool file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static bool fixture_load(fixture *fx) {
    char p[8400];
    join(p, sizeof p, fx->dir, "inputs.json");
    if (!(fx->inputs = json_load(p)))
        return false;
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(fx->inputs, "checkpoint");
    snprintf(fx->model_dir, sizeof fx->model_dir, "%s", cJSON_IsString(ck) ? ck->valuestring : fx->dir);
    join(p, sizeof p, fx->model_dir, "config.json");
    if (cJSON_IsString(ck) && !file_exists(p)) {
        printf("%s: SKIP: checkpoint %s is not installed (bash ci/install-deps.sh unpacks it)\n", fx->name,
               fx->model_dir);
        fx->skip = true;
        return false;
    }
    if (!(fx->config = json_load(p)))
        return false;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(fx->inputs, "arch");
    if (!cJSON_IsString(a)) {
        fail("%s: inputs.json has no arch", fx->name);
        return false;
    }
    fx->arch = a->valuestring;
    const bool encoder = strcmp(fx->arch, "encoder") == 0;
    const cJSON *seqs = cJSON_GetObjectItemCaseSensitive(fx->inputs, "sequences");
    if (!cJSON_IsArray(seqs) && (!json_ints(fx->inputs, "tokens", &fx->tokens, &fx->n_tokens) ||
                                 !json_ints(fx->inputs, "source_tokens", &fx->src, &fx->n_src))) {
        fail("%s: inputs.json: tokens/source_tokens are not integer arrays", fx->name);
        return false;
    }
    fx->n_gen = (int64_t)json_num(fx->inputs, "n_gen", 0);
    join(p, sizeof p, fx->dir, "logits.npy");
    if (encoder && !file_exists(p)) {
        fx->headless = true; /* BertModel: no head, hidden states only */
    } else if (!npy_load(p, &fx->logits)) {
        return false;
    }
    if (encoder) {
        if (cJSON_IsArray(seqs)) {
            const cJSON *files = cJSON_GetObjectItemCaseSensitive(fx->inputs, "hidden");
            int n = cJSON_GetArraySize(seqs);
            if (!fx->headless || n < 1 || n > MAX_SEQ || !cJSON_IsArray(files) || cJSON_GetArraySize(files) != n) {
                fail("%s: inputs.json: sequences need 1..%d entries, as many hidden files, and no logits.npy",
                     fx->name, MAX_SEQ);
                return false;
            }
            for (int k = 0; k < n; k++) {
                const cJSON *fname = cJSON_GetArrayItem(files, k);
                if (!json_ints(cJSON_GetArrayItem(seqs, k), NULL, &fx->seq[k], &fx->seq_len[k]) ||
                    !cJSON_IsString(fname)) {
                    fail("%s: inputs.json: sequence %d is not an integer array with a hidden file", fx->name, k);
                    return false;
                }
                join(p, sizeof p, fx->dir, fname->valuestring);
                if (!npy_load(p, &fx->hidden[k]))
                    return false;
                fx->n_seq = k + 1;
            }
        } else {
            fx->n_seq = 1;
            fx->seq[0] = fx->tokens;
            fx->seq_len[0] = fx->n_tokens;
            join(p, sizeof p, fx->dir, "hidden.npy");
            if (!npy_load(p, &fx->hidden[0]))
                return false;
        }
    } else {
        join(p, sizeof p, fx->dir, "tokens.json");
        cJSON *t = json_load(p);
        if (!t)
            return false;
        bool ok = json_ints(t, NULL, &fx->want, &fx->n_want);
        cJSON_Delete(t);
        if (!ok || fx->n_want != fx->n_gen) {
            fail("%s: tokens.json is not %lld integers", fx->name, (long long)fx->n_gen);
            return false;
        }
    }
    return true;
}

/* Encoders: each sequence through tfb_session_encode (MLM logits compared unless headless, where
 * logits is NULL) and tfb_session_hidden. */
static void run_encoder(fixture *fx, tfb_session *s, int64_t V, int64_t C, double *worst) {
    char what[160];
    for (int k = 0; k < fx->n_seq; k++) {
        const int64_t n = fx->seq_len[k];
        const npy *h = &fx->hidden[k];
        const char *sfx = "";
        char sbuf[32];
        if (fx->n_seq > 1) {
            snprintf(sbuf, sizeof sbuf, " [%d]", k);
            sfx = sbuf;
        }
        if (h->rows != n || h->cols != C || (!fx->headless && fx->logits.rows != n)) {
            fail("%s: fixture shapes disagree with its inputs (sequence %d: %lld tokens, hidden %lld x %lld, "
                 "d_model %lld)",
                 fx->name, k, (long long)n, (long long)h->rows, (long long)h->cols, (long long)C);
            return;
        }
        float *got = fx->headless ? NULL : calloc((size_t)(n * V), sizeof(float));
        float *hid = calloc((size_t)(n * C), sizeof(float));
        if ((!fx->headless && !got) || !hid) {
            fail("out of memory");
            free(got);
            free(hid);
            return;
        }
        bool ok = status_ok(tfb_session_encode(s, fx->seq[k], n, got), "tfb_session_encode", fx->name);
        if (ok && got) {
            snprintf(what, sizeof what, "%s encode%s: MLM logits", fx->name, sfx);
            if (check_rows(what, got, fx->logits.data, n, V, worst))
                prove_rejects(what, got, fx->logits.data, n, V);
        }
        if (ok && status_ok(tfb_session_hidden(s, hid), "tfb_session_hidden", fx->name)) {
            snprintf(what, sizeof what, "%s encode%s: last hidden state", fx->name, sfx);
            if (check_rows(what, hid, h->data, n, C, worst))
                prove_rejects(what, hid, h->data, n, C);
        }
        free(got);
        free(hid);
    }
}

static double run_fixture(fixture *fx) {
    double worst = 0;
    printf("%s (%s%s)\n", fx->name, fx->arch, fx->headless ? ", headless: hidden states only" : "");
    tfb_model m;
    memset(&m, 0, sizeof m);
    if (!status_ok(tfb_model_load_dir(fx->model_dir, TFB_DTYPE_F32, &m), "tfb_model_load_dir", fx->name))
        return INFINITY;
    check_config(fx->name, &m.cfg, fx->config, fx->arch, fx->headless);
    const int64_t V = m.cfg.n_dec_vocab, C = m.cfg.d_model;
    if (!fx->headless && fx->logits.cols != V) {
        fail("%s: logits.npy has %lld columns, vocab is %lld", fx->name, (long long)fx->logits.cols, (long long)V);
        tfb_model_free(&m);
        return INFINITY;
    }
    const tfb_backend_i *iface = tfb_backend_find("reference");
    tfb_backend *b = NULL;
    tfb_session *s = NULL;
    tfb_backend_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.n_threads = 1;
    if (!iface) {
        fail("the reference backend is not compiled in");
        goto done;
    }
    if (!status_ok(tfb_backend_init(iface, &opts, &b), "tfb_backend_init", fx->name) ||
        !status_ok(tfb_session_init(b, &m, 0, &s), "tfb_session_init", fx->name))
        goto done;
    if (strcmp(fx->arch, "encoder") == 0) {
        run_encoder(fx, s, V, C, &worst);
        goto done;
    }

    const int64_t rows = fx->logits.rows;
    float *got = calloc((size_t)((rows + 1) * V), sizeof(float));
    int32_t *toks = calloc((size_t)(fx->n_gen + 1), sizeof(int32_t));
    int32_t *fed = calloc((size_t)(rows + 1), sizeof(int32_t));
    if (!got || !toks || !fed) {
        fail("out of memory");
        goto done_buf;
    }
    char what[128];
    {
        const bool encdec = strcmp(fx->arch, "encdec") == 0;
        const int32_t *prompt = encdec ? NULL : fx->tokens;
        const int64_t n_prompt = encdec ? 0 : fx->n_tokens;
        const int64_t want_rows = encdec ? fx->n_gen : fx->n_tokens + fx->n_gen - 1;
        if (rows != want_rows) {
            fail("%s: logits.npy has %lld rows, expected %lld", fx->name, (long long)rows, (long long)want_rows);
            goto done_buf;
        }
        /* 1. Free-running greedy generation with the logits dump. */
        int64_t n_out = 0, dump_rows = 0;
        if (!status_ok(tfb_generate(s, prompt, n_prompt, fx->src, fx->n_src, fx->n_gen, toks, &n_out, got,
                                    &dump_rows, NULL),
                       "tfb_generate", fx->name))
            goto done_buf;
        snprintf(what, sizeof what, "%s generate: greedy tokens", fx->name);
        check_tokens(what, toks, n_out, fx->want, fx->n_want);
        snprintf(what, sizeof what, "%s generate: dumped logits", fx->name);
        if (dump_rows != rows)
            fail("%s: %lld dumped rows, fixture has %lld", what, (long long)dump_rows, (long long)rows);
        else if (check_rows(what, got, fx->logits.data, rows, V, &worst))
            prove_rejects(what, got, fx->logits.data, rows, V);

        /* 2. The same without a dump: argmax on the backend. */
        memset(toks, 0, (size_t)fx->n_gen * sizeof(int32_t));
        if (!status_ok(tfb_generate(s, prompt, n_prompt, fx->src, fx->n_src, fx->n_gen, toks, &n_out, NULL, NULL, NULL),
                       "tfb_generate (no dump)", fx->name))
            goto done_buf;
        snprintf(what, sizeof what, "%s generate (backend argmax): tokens", fx->name);
        check_tokens(what, toks, n_out, fx->want, fx->n_want);

        /* 3. Teacher-forced: the fixture's decoder input in one call, every row's logits. */
        int64_t nf = 0;
        if (encdec) {
            fed[nf++] = (int32_t)m.cfg.decoder_start_id;
            if (!status_ok(tfb_session_encode(s, fx->src, fx->n_src, NULL), "tfb_session_encode", fx->name))
                goto done_buf;
        } else {
            for (int64_t i = 0; i < fx->n_tokens; i++)
                fed[nf++] = fx->tokens[i];
        }
        for (int64_t i = 0; i + 1 < fx->n_gen; i++)
            fed[nf++] = fx->want[i];
        memset(got, 0, (size_t)(rows * V) * sizeof(float));
        if (!status_ok(tfb_session_decode(s, fed, nf, 0, true, got), "tfb_session_decode (teacher-forced)",
                       fx->name))
            goto done_buf;
        snprintf(what, sizeof what, "%s teacher-forced: logits", fx->name);
        if (check_rows(what, got, fx->logits.data, rows, V, &worst))
            prove_rejects(what, got, fx->logits.data, rows, V);
    }
done_buf:
    free(got);
    free(toks);
    free(fed);
done:
    if (s)
        tfb_session_free(s);
    if (b)
        tfb_backend_free(b);
    tfb_model_free(&m);
    return worst;
}

/* ---- self-test of the checker: planted cases, no model ---------------------------------------- */

static int self_test(void) {
    enum { R = 3, K = 96 };
    static double ref[R * K];
    static float x[R * K];
    for (int i = 0; i < R * K; i++) {
        ref[i] = sin(0.37 * i) * 3.0 + 0.1;
        x[i] = (float)ref[i];
    }
    cmp_result r = compare(x, ref, R, K);
    if (!cmp_ok(&r, TOL))
        fail("self-test: float32 rounding of the reference rejected (err %.3e)", r.worst_row_err);
    /* One logit off by 1e-3 of its value (the largest of its row). */
    float y[R * K];
    memcpy(y, x, sizeof y);
    int big = K;
    for (int j = K; j < 2 * K; j++)
        if (fabs(ref[j]) > fabs(ref[big]))
            big = j;
    y[big] *= 1.001f;
    r = compare(y, ref, R, K);
    if (cmp_ok(&r, TOL) || r.worst_row != 1)
        fail("self-test: a 1e-3 change of one logit was accepted or misplaced (err %.3e row %lld)", r.worst_row_err,
             (long long)r.worst_row);
    /* A relative error of 2e-5 spread over a row must fail, 5e-6 must pass. */
    memcpy(y, x, sizeof y);
    for (int j = 0; j < K; j++)
        y[2 * K + j] = (float)(ref[2 * K + j] * (1 + 2e-5));
    r = compare(y, ref, R, K);
    if (cmp_ok(&r, TOL))
        fail("self-test: a 2e-5 relative drift was accepted (err %.3e)", r.worst_row_err);
    for (int j = 0; j < K; j++)
        y[2 * K + j] = (float)(ref[2 * K + j] * (1 + 5e-6));
    r = compare(y, ref, R, K);
    if (!cmp_ok(&r, TOL))
        fail("self-test: a 5e-6 relative drift was rejected (err %.3e)", r.worst_row_err);
    /* NaN and inf fail. */
    memcpy(y, x, sizeof y);
    y[5] = NAN;
    r = compare(y, ref, R, K);
    if (cmp_ok(&r, TOL))
        fail("self-test: a NaN was accepted");
    y[5] = INFINITY;
    r = compare(y, ref, R, K);
    if (cmp_ok(&r, TOL))
        fail("self-test: an inf was accepted");
    /* A zero reference row is degenerate, not a pass. */
    static double zref[R * K];
    static float zx[R * K];
    r = compare(zx, zref, R, K);
    if (cmp_ok(&r, TOL))
        fail("self-test: an all-zero reference was accepted");
    /* Tokens. */
    int32_t a[3] = {1, 2, 3}, b2[3] = {1, 2, 4};
    if (!same_tokens(a, 3, a, 3) || same_tokens(a, 3, b2, 3) || same_tokens(a, 3, a, 2))
        fail("self-test: token comparison is wrong");
    /* The .npy reader: f8 and f4 2-D arrays, hand-built; a bad one rejected. */
    {
        const char *hdr8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
        const char *hdr4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }";
        const char *hdrf = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
        const char *hdrs[3] = {hdr8, hdr4, hdrf};
        for (int k = 0; k < 3; k++) {
            unsigned char buf[256];
            size_t hl = strlen(hdrs[k]);
            size_t pad = 64 - (10 + hl + 1) % 64;
            size_t total_h = hl + pad + 1;
            memcpy(buf, "\x93NUMPY\x01\x00", 8);
            buf[8] = (unsigned char)(total_h & 0xff);
            buf[9] = (unsigned char)(total_h >> 8);
            memcpy(buf + 10, hdrs[k], hl);
            memset(buf + 10 + hl, ' ', pad);
            buf[10 + hl + pad] = '\n';
            size_t off = 10 + total_h, esz = k == 1 ? 4 : 8;
            for (int i = 0; i < 6; i++) {
                double v = i * 0.5 - 1;
                float fv = (float)v;
                memcpy(buf + off + i * esz, esz == 8 ? (void *)&v : (void *)&fv, esz);
            }
            npy a2;
            const char *err = npy_parse(buf, off + 6 * esz, &a2);
            if (k == 2) {
                if (!err)
                    fail("self-test: npy reader accepted fortran_order");
                free(a2.data);
                continue;
            }
            if (err) {
                fail("self-test: npy reader: %s", err);
                continue;
            }
            if ((k == 0 && (a2.rows != 2 || a2.cols != 3)) || (k == 1 && (a2.rows != 6 || a2.cols != 1)) ||
                a2.data[5] != 1.5 || a2.data[0] != -1)
                fail("self-test: npy reader read the wrong shape or values");
            free(a2.data);
            /* Truncated data must be rejected. */
            err = npy_parse(buf, off + 5 * esz, &a2);
            if (!err)
                fail("self-test: npy reader accepted a truncated file");
            free(a2.data);
        }
    }
    printf("self-test: comparator, token check and .npy reader %s\n", g_fail ? "FAILED" : "ok");
    return g_fail;
}

/* Exit code of a single-fixture run whose checkpoint is not installed (ctest SKIP_RETURN_CODE). */
#define EXIT_SKIP 77

/* One fixture directory (run as a ctest case of its own): 0 pass, 1 fail, EXIT_SKIP. */
static int run_one(const char *dir) {
    fixture fx;
    memset(&fx, 0, sizeof fx);
    const char *slash = strrchr(dir, '/');
    fx.name = slash && slash[1] ? slash + 1 : dir;
    snprintf(fx.dir, sizeof fx.dir, "%s", dir);
    double worst = fixture_load(&fx) ? run_fixture(&fx) : INFINITY;
    int rc = fx.skip ? EXIT_SKIP : g_fail ? 1 : 0;
    if (!fx.skip)
        printf("%s: %s, worst row rel err %.3e (tolerance %.0e)\n", fx.name, g_fail ? "FAIL" : "pass", worst, TOL);
    fixture_free(&fx);
    return rc;
}

int main(int argc, char **argv) {
    const char *root = TFB_HF_FIXTURES;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--self-test") == 0)
            return self_test();
        root = argv[i];
    }
    if (self_test() != 0)
        return 1;
    /* A fixture directory itself (it has an inputs.json): run that one. */
    char probe[4200];
    join(probe, sizeof probe, root, "inputs.json");
    if (file_exists(probe))
        return run_one(root);
    /* Otherwise a folder of fixtures: the three families. */
    static const char *names[] = {"gpt2", "bert", "marian"};
    double worst[3];
    for (int k = 0; k < 3; k++) {
        fixture fx;
        memset(&fx, 0, sizeof fx);
        fx.name = names[k];
        snprintf(fx.dir, sizeof fx.dir, "%s/%s", root, names[k]);
        int before = g_fail;
        g_fail = 0;
        worst[k] = fixture_load(&fx) ? run_fixture(&fx) : INFINITY;
        if (fx.skip)
            fail("%s: a family fixture cannot be skipped", names[k]);
        printf("%s: %s, worst row rel err %.3e\n\n", names[k], g_fail ? "FAIL" : "pass", worst[k]);
        g_fail |= before;
        fixture_free(&fx);
    }
    printf("hf fixtures: gpt2 %.3e  bert %.3e  marian %.3e  (tolerance %.0e): %s\n", worst[0], worst[1], worst[2],
           TOL, g_fail ? "FAIL" : "pass");
    return g_fail ? 1 : 0;
}
