/* tfbench models: config + host weights (immutable), and per-backend run state (tfb_session).
 *
 * Canonical weight names (what the graph builders look up; loaders map Hugging Face names to these):
 *   tok_emb [V,C]   pos_emb [P,C] (learned only)   type_emb [2,C] (BERT)
 *   emb_ln.g/.b [C] (BERT embedding LayerNorm)
 *   Encoder / decoder-only layer i, prefix "enc.{i}." (BERT, Marian encoder) or "dec.{i}." (GPT-2,
 *   Marian decoder):
 *     attn.wq attn.wk attn.wv attn.wo [C,C] with .bias [C]   (weight name + ".bias")
 *     ln1.g ln1.b  (GPT-2: before attention; BERT/Marian: after the attention residual)
 *     xattn.wq xattn.wk xattn.wv xattn.wo + biases, ln_x.g ln_x.b   (Marian decoder only)
 *     ffn.w1 [F,C] + .bias, ffn.w2 [C,F] + .bias, ln2.g ln2.b
 *   final_ln.g/.b [C] (GPT-2 ln_f)
 *   BERT MLM head: mlm.dense [C,C] + .bias, mlm.ln.g/.b, lm_head.bias [V] (weight tied to tok_emb)
 *   Marian: lm_head.bias [V] (final_logits_bias); the head weight is tied to tok_emb.
 *   GPT-2: head tied to tok_emb, no bias.
 * Matrices are stored [out, in] (Conv1D weights of GPT-2 are transposed at load).
 * Weight matrices (MATMUL in[1], and tok_emb when used as a head) take the model's weight dtype;
 * embeddings used by EMBED, norms and biases stay F32. */
#ifndef TFBENCH_MODEL_H
#define TFBENCH_MODEL_H

#include "tfbench/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tfb_arch {
    TFB_ARCH_DECODER, /* GPT-2 */
    TFB_ARCH_ENCODER, /* BERT, MLM head */
    TFB_ARCH_ENCDEC,  /* Marian */
} tfb_arch;

typedef enum tfb_act {
    TFB_ACT_GELU,
    TFB_ACT_GELU_TANH,
    TFB_ACT_RELU,
    TFB_ACT_SILU,
} tfb_act;

typedef struct tfb_config {
    char name[64];   /* preset name or directory */
    tfb_arch arch;
    int64_t n_vocab;
    int64_t n_ctx;   /* max positions */
    int64_t d_model;
    int64_t n_head;
    int64_t d_ff;
    int64_t n_layer;     /* decoder layers (GPT-2, Marian) or encoder layers (BERT) */
    int64_t n_enc_layer; /* Marian encoder layers; 0 otherwise */
    int64_t n_type;      /* BERT token types (2), else 0 */
    float eps;
    tfb_act act;
    int64_t bos_id, eos_id, pad_id, decoder_start_id;
    bool scale_embed; /* Marian: embeddings times sqrt(d_model) */
} tfb_config;

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
    tfb_dtype wtype; /* dtype of the weight matrices */
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
/* PRESET or DIR: a preset name gives synthetic weights from seed. */
tfb_status tfb_model_open(const char *name_or_dir, uint64_t seed, tfb_dtype wtype, tfb_model *out);
void tfb_model_free(tfb_model *m);

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
