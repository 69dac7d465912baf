/* tfbench models: an architecture description + host weights (immutable), and per-backend run
 * state (tfb_session).
 *
 * Canonical weight names (what the graph builders look up; loaders map checkpoint names to these).
 * Which of them a model has follows from its description (tfb_config below):
 *   tok_emb [V,C]   dec_tok_emb [V,C] (dec_own_emb)   pos_emb [P,C] (pos LEARNED)
 *   type_emb [n_type,C] (n_type > 0)   emb_ln.g/.b [C] (emb_norm)
 *   Layer i of the encoder, prefix "enc.{i}.", or of the decoder, prefix "dec.{i}.":
 *     attn.wq attn.wk attn.wv attn.wo [C,C], each with .bias [C] when attn_bias
 *     ln1 (around self-attention), ln_x (around cross-attention: decoder of an encoder-decoder),
 *     ln2 (around the FFN): <ln>.g [C], and <ln>.b [C] for LayerNorm
 *     xattn.wq xattn.wk xattn.wv xattn.wo (+ biases): decoder of an encoder-decoder
 *     ffn.w1 [F,C], ffn.w2 [C,F], each with .bias when ffn_bias; ffn.wg [F,C] (the gate) when
 *     ffn_gated. With grouped-query attention (n_kv_head < n_head) attn.wk, attn.wv are [Hkv*D,C]
 *   final_ln.g/.b (decoder), enc_final_ln.g/.b (encoder): when final_norm
 *   mlm.dense [C,C] + .bias, mlm.ln.g/.b (mlm_transform)
 *   lm_head [Vd,C] (head OWN), lm_head.bias [Vd] (head_bias)
 *   enc.rel_bias, dec.rel_bias [rel_buckets, n_head] (pos RELATIVE: T5's layer-0 bias tables)
 * Matrices are stored [out, in] (Conv1D weights of GPT-2 are transposed at load).
 * Weight matrices (MATMUL in[1], lm_head, and an embedding when the head is tied to it) take the
 * model's weight dtype (or, for a GGUF file, per_tensor: each its stored dtype); embeddings used by
 * EMBED, norms and biases stay F32. */
#ifndef TFBENCH_MODEL_H
#define TFBENCH_MODEL_H

#include "tfbench/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tfb_act {
    TFB_ACT_GELU,
    TFB_ACT_GELU_TANH,
    TFB_ACT_RELU,
    TFB_ACT_SILU,
} tfb_act;

typedef enum tfb_norm_kind {
    TFB_NORM_LAYER, /* (x - mean) / sqrt(var + eps) * g + b: weights <name>.g, <name>.b */
    TFB_NORM_RMS,   /* x / sqrt(mean(x^2) + eps) * g: weight <name>.g only */
} tfb_norm_kind;

typedef enum tfb_norm_place {
    TFB_NORM_PRE,  /* x + f(norm(x)) (GPT-2); a final norm closes the stack */
    TFB_NORM_POST, /* norm(x + f(x)) (BERT, Marian) */
} tfb_norm_place;

/* Where the LM head's weight [n_dec_vocab, d_model] comes from. */
typedef enum tfb_head_src {
    TFB_HEAD_TOK_EMB, /* tied to tok_emb (GPT-2, BERT, Marian with shared embeddings) */
    TFB_HEAD_DEC_EMB, /* tied to the decoder's own embedding dec_tok_emb (Marian, unshared) */
    TFB_HEAD_OWN,     /* its own matrix lm_head (untied checkpoints) */
} tfb_head_src;

/* One stack of transformer layers (the encoder, or the decoder). */
typedef struct tfb_stack {
    int64_t n_layer;   /* 0: the model has no such stack */
    int64_t n_head;    /* query heads; every head is d_model / n_head wide */
    int64_t n_kv_head; /* key/value heads of self-attention (grouped-query when < n_head; 0: n_head):
                          wk, wv are [n_kv_head * head width, C], and so is a KV cache row */
    int64_t d_ff;      /* FFN inner width */
} tfb_stack;

/* The architecture description: every computational choice of a model, so the graph builders
 * read data instead of switching on a family (one encoder block, one decoder block with optional
 * cross-attention). What a model has is asked with has_encoder / has_decoder / has_lm_head. */
typedef struct tfb_config {
    char name[64];   /* preset name or directory */
    /* What exists. An encoder-only model (BERT) has enc only; a decoder-only one (GPT-2) dec
     * only; an encoder-decoder (Marian) both, the decoder cross-attending to the encoder. */
    tfb_stack enc, dec;
    bool has_lm_head; /* logits over the (decoder) vocabulary; false: hidden states only (BertModel) */
    int64_t n_vocab;     /* rows of tok_emb (and of dec_tok_emb): ids a model takes on either side */
    int64_t n_dec_vocab; /* the logits' width (== n_vocab unless an untied head is narrower, as
                            Marian's decoder_vocab_size makes it) */
    bool dec_own_emb;    /* the decoder embeds through its own dec_tok_emb [n_vocab, C], not tok_emb */
    int64_t n_ctx;   /* max positions */
    int64_t d_model;
    /* Embeddings: tok_emb[id] * emb_scale + positions (+ type_emb[0] when n_type > 0), then an
     * optional LayerNorm emb_ln (BERT). */
    tfb_pos_kind pos;  /* LEARNED (pos_emb [n_ctx, C]), SINUSOIDAL (Marian layout), or ROTARY (ROPE on
                          every self-attention's q and k, nothing added to the embedding) */
    float rope_theta;  /* ROTARY: base of the frequencies */
    tfb_rope_layout rope_layout; /* ROTARY: which pairs rotate together */
    int64_t rel_buckets;      /* RELATIVE: buckets of the bias tables enc.rel_bias, dec.rel_bias
                                 [rel_buckets, n_head] (layer 0's, shared by every layer; the
                                 encoder's bidirectional, the decoder's causal; none in cross-attention) */
    int64_t rel_max_distance; /* RELATIVE: distance where the logarithmic buckets end */
    int64_t n_type;    /* BERT token types (type_emb rows), else 0 */
    float emb_scale;   /* 1, or sqrt(d_model) (Marian scale_embedding) */
    bool emb_norm;     /* LayerNorm emb_ln after the embedding sum (BERT) */
    /* Norms. */
    tfb_norm_kind norm;
    tfb_norm_place norm_place;
    float eps;
    bool final_norm;   /* a norm closes each stack: final_ln (decoder), enc_final_ln (encoder) */
    /* Linear layers and attention. */
    bool attn_bias;    /* q, k, v, o projections carry biases */
    bool ffn_bias;     /* both FFN matrices carry biases */
    bool attn_scaled;  /* q.k is multiplied by 1/sqrt(head width) before the softmax (else by 1) */
    bool attn_scale_inv_layer; /* layer l's scale is further divided by l + 1 (GPT-2
                                  scale_attn_by_inverse_layer_idx) */
    tfb_act act;       /* FFN: w2(act(w1 x)), or gated: w2(act(wg x) * (w1 x)) */
    bool ffn_gated;    /* the gated FFN (Llama: silu gate, SwiGLU) with its third matrix ffn.wg */
    /* The head (when has_lm_head). */
    bool mlm_transform; /* BERT: dense, act, LayerNorm before the head (mlm.dense, mlm.ln) */
    tfb_head_src head;
    bool head_bias;    /* lm_head.bias [n_dec_vocab] (BERT decoder bias, Marian final_logits_bias) */
    float head_scale;  /* the head's input is multiplied by this (T5 with a tied head: d_model^-0.5) */
    int64_t bos_id, eos_id, pad_id, decoder_start_id;
} tfb_config;

/* What a model has; the harness asks these instead of which family a model is. */
static inline bool tfb_config_has_encoder(const tfb_config *c) {
    return c->enc.n_layer > 0;
}
static inline bool tfb_config_has_decoder(const tfb_config *c) {
    return c->dec.n_layer > 0;
}
/* An encoder-decoder: the decoder cross-attends to the encoder's output (Marian). */
static inline bool tfb_config_has_cross(const tfb_config *c) {
    return c->enc.n_layer > 0 && c->dec.n_layer > 0;
}
/* Encoder only: one encode call gives every position's output (BERT). */
static inline bool tfb_config_encoder_only(const tfb_config *c) {
    return c->enc.n_layer > 0 && c->dec.n_layer == 0;
}
/* Heads of a stack's K/V cache, and the width of one cache row. */
static inline int64_t tfb_stack_kv_heads(const tfb_stack *st) {
    return st->n_kv_head > 0 ? st->n_kv_head : st->n_head;
}
int64_t tfb_config_kv_width(const tfb_config *c, const tfb_stack *st);
/* Width of one output row: logits (n_dec_vocab, or n_vocab for an encoder's MLM head), or the
 * hidden state (d_model) of a model without a head. */
int64_t tfb_config_out_width(const tfb_config *c);
/* The scale of q.k in layer `layer` of stack st (self- and cross-attention alike). */
float tfb_config_attn_scale(const tfb_config *c, const tfb_stack *st, int64_t layer);

/* One host weight: name, dtype, shape, and owned data. */
typedef struct tfb_weight {
    char name[TFB_NAME_MAX];
    tfb_dtype dtype;
    int ndim;
    int64_t shape[TFB_MAX_DIMS];
    void *data; /* owned, tfb_dtype_row_bytes(dtype, nelements) */
} tfb_weight;

/* Immutable after load: config and host weights. */
typedef struct tfb_model {
    tfb_config cfg;
    tfb_dtype wtype; /* dtype of the weight matrices; with per_tensor, the most common of them */
    bool per_tensor; /* each matrix keeps the dtype its file stores (GGUF): any weight dtype, one
                        per tensor; a tied head then reads the F32 embedding itself */
    int n_converted; /* GGUF tensors of other types converted at load (tfb_model_set_gguf_convert) */
    tfb_weight *w;
    int n_w, cap_w;
} tfb_model;

/* Presets ("gpt2-124m", "gpt2-tiny", "bert-base", "bert-tiny", "marian-base", "marian-tiny"). */
int tfb_preset_count(void);
const tfb_config *tfb_preset_get(int i);
const tfb_config *tfb_preset_find(const char *name);

/* Synthetic weights for cfg, deterministic from seed, matrices quantized to wtype.
 * The caller frees with tfb_model_free. */
tfb_status tfb_model_synthetic(const tfb_config *cfg, uint64_t seed, tfb_dtype wtype, tfb_model *out);
/* A Hugging Face style directory: config.json + model.safetensors (or an index of shards).
 * Matrices are quantized to wtype at load. */
tfb_status tfb_model_load_dir(const char *dir, tfb_dtype wtype, tfb_model *out);
/* A GGUF file (llama.cpp's format; architectures llama, gpt2). Matrices keep the types stored
 * (F32, F16, BF16, Q8_0, Q4_0; per_tensor set), no requantization; any other type is refused naming
 * the tensor. A quantized or half token embedding is dequantized exactly into the F32 table EMBED
 * gathers from, and a head tied to it gets the stored tensor as lm_head. f32_twin: every matrix
 * dequantized exactly to F32 instead (the f32 twin of the same values). The caller frees with
 * tfb_model_free. */
tfb_status tfb_model_load_gguf(const char *path, bool f32_twin, tfb_model *out);
/* What GGUF loads do with tensors of a type tfbench does not run: TFB_DTYPE_COUNT (the default)
 * refuses them naming tensor and type; TFB_DTYPE_Q8_0 or TFB_DTYPE_F16 converts Q4_1, Q5_0, Q5_1,
 * Q4_K, Q5_K and Q6_K at load (ggml's reference dequantization, then tfbench's quantizer; tables
 * stay F32). Process-wide: the harness sets it once from --gguf-convert. */
void tfb_model_set_gguf_convert(tfb_dtype to);
/* The weight types of m for labels: "q8_0", or "mixed (f32 2, q4_0 14)" with the count of each
 * matrix dtype when they differ, then "; 3 converted" when tensors were converted at load ("mixed"
 * or the dtype alone when n is too small for the rest). Returns buf. */
const char *tfb_model_dtype_label(const tfb_model *m, char *buf, size_t n);
/* True when name is a model file whose matrices keep their stored dtypes (GGUF): a weight dtype
 * asked of tfb_model_open does not apply to it. */
bool tfb_model_stored_dtypes(const char *name_or_dir);
/* The f32 version of what tfb_model_open gives (quantization effects are measured against it):
 * presets and directories at F32, a GGUF file's f32 twin (every matrix dequantized exactly). */
tfb_status tfb_model_open_f32(const char *name_or_dir, uint64_t seed, tfb_model *out);
/* The most common matrix dtype of a GGUF file, from its tensor table (nothing loaded): for planning
 * memory before tfb_model_open, where --dtype does not apply. */
tfb_status tfb_model_stored_dtype(const char *path, tfb_dtype *out);
/* PRESET, DIR or FILE.gguf: a preset name gives synthetic weights from seed; a GGUF file keeps its
 * stored types whatever wtype says. */
tfb_status tfb_model_open(const char *name_or_dir, uint64_t seed, tfb_dtype wtype, tfb_model *out);
void tfb_model_free(tfb_model *m);
/* Only the description of PRESET, DIR (a directory's config.json) or FILE.gguf, nothing allocated: for
 * planning before a model is loaded. */
tfb_status tfb_model_config(const char *name_or_dir, tfb_config *out);
/* Bytes of cfg's weights held once at weight dtype wtype (with the head's quantized copy of a tied
 * embedding), and of its KV caches for n_ctx positions. */
size_t tfb_config_weight_bytes(const tfb_config *cfg, tfb_dtype wtype);
size_t tfb_config_kv_bytes(const tfb_config *cfg, int64_t n_ctx);

/* Weights. add takes ownership of data (malloc'ed). find returns NULL if absent. */
tfb_status tfb_model_add(tfb_model *m, const char *name, tfb_dtype dt, int ndim, const int64_t *shape,
                         void *data);
const tfb_weight *tfb_model_find(const tfb_model *m, const char *name);
/* Check every tensor the architecture needs is present with the shape the config implies. */
tfb_status tfb_model_validate(const tfb_model *m);
/* Bytes of all weights, and of the matrices one token's forward pass streams. */
size_t tfb_model_bytes(const tfb_model *m);

/* ---- Run state on one backend ----------------------------------------------------------------- */

typedef struct tfb_session tfb_session;

/* Upload m's weights to b, allocate the KV cache for n_ctx positions (<= cfg.n_ctx; 0 = cfg.n_ctx)
 * and build the graphs. m must outlive the session. Returns UNSUPPORTED (with the op named in
 * tfb_error_last) if b cannot run an op the model needs. */
tfb_status tfb_session_init(tfb_backend *b, const tfb_model *m, int64_t n_ctx, tfb_session **out);
void tfb_session_free(tfb_session *s);

/* Decoder side (GPT-2; Marian's decoder after tfb_session_encode): feed n tokens at cache position
 * pos (the cache holds positions < pos already), writing their K/V. If logits is non-NULL it gets
 * logits [n, V] when all_rows, else [1, V] of the last token. */
tfb_status tfb_session_decode(tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos, bool all_rows,
                              float *logits);
/* Greedy argmax of the last token's logits, computed on the backend; logits not read back. */
tfb_status tfb_session_decode_argmax(tfb_session *s, const int32_t *tokens, int64_t n, int64_t pos,
                                     int32_t *next);
/* Encoder side. BERT: run the encoder over src, logits (MLM head) [n, V] if non-NULL.
 * Marian: run the encoder and fill the cross-attention K/V cache of every decoder layer; logits
 * must be NULL. */
tfb_status tfb_session_encode(tfb_session *s, const int32_t *src, int64_t n, float *logits);
/* Hidden states of the last encode (BERT: final layer output [n, C]), for conformance. */
tfb_status tfb_session_hidden(tfb_session *s, float *out);

const tfb_model *tfb_session_model(const tfb_session *s);
tfb_backend *tfb_session_backend(const tfb_session *s);
int64_t tfb_session_n_ctx(const tfb_session *s);
/* KV cache snapshot (prefix reuse): copy positions [0, n) of every layer's self-attention cache
 * out to host memory, or back in. */
size_t tfb_session_kv_bytes(const tfb_session *s, int64_t n);
tfb_status tfb_session_kv_save(tfb_session *s, int64_t n, void *dst);
tfb_status tfb_session_kv_load(tfb_session *s, int64_t n, const void *src);

/* ---- Generation ------------------------------------------------------------------------------ */

/* Greedy generation. Decoders: prompt then n_gen tokens. Encoder-decoders: src encoded, decoder
 * starts from decoder_start_id (prompt may be NULL) and stops at eos or n_gen. out_tokens gets the
 * generated tokens (n_gen capacity), *n_out their count. If dump is non-NULL it receives logits of
 * every position fed to the decoder, [rows, V], rows = prompt + n_out - 1 (decoder) or n_out
 * (encoder-decoder: start token and every generated token but the last); *dump_rows their count.
 * If times is non-NULL it receives the wall time of the first token and of the rest. */
/* Wall time of a generation, split as bench splits it (times may be NULL). */
typedef struct tfb_gen_times {
    double first_s; /* encoder (if any) and the first decoder step, up to the first token: the TTFT */
    double rest_s;  /* the n_out - 1 later decoder steps, one token each */
} tfb_gen_times;

tfb_status tfb_generate(tfb_session *s, const int32_t *prompt, int64_t n_prompt, const int32_t *src,
                        int64_t n_src, int64_t n_gen, int32_t *out_tokens, int64_t *n_out, float *dump,
                        int64_t *dump_rows, tfb_gen_times *times);

#ifdef __cplusplus
}
#endif
#endif
