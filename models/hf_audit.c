/* The config.json audit: every field of the transformers config classes tfbench loads (as of
 * transformers 4.40), with its verdict. docs/hf-configs.md is the same table for people, and
 * tests/loader checks that the two agree and that the loader behaves as the table says.
 *
 *   honoured   read by the loader and computed as transformers computes it
 *   no effect  changes nothing at inference in f32 (dropouts, initialisation, generation settings
 *              of generate(), bookkeeping); accepted whatever its value
 *   refused    changes the forward pass in a way tfbench does not model: accepted only with the
 *              value(s) listed (the neutral ones), else the load fails naming the field
 * A key that is in no table is refused too: tfbench cannot know what it does. */
#include "models/hf_config.h"

#include <string.h>

#define H(k, why)          {k, TFB_HF_HONOURED, NULL, why}
#define N(k, why)          {k, TFB_HF_NO_EFFECT, NULL, why}
#define R(k, accept, why)  {k, TFB_HF_REFUSED, accept, why}
#define END                {NULL, TFB_HF_NO_EFFECT, NULL, NULL}

/* PretrainedConfig: the fields every class inherits (a class table's entry for the same key wins). */
static const tfb__hf_field common[] = {
    H("architectures", "selects the model class (the head)"),
    H("model_type", "must agree with architectures"),
    N("_name_or_path", "bookkeeping"), N("transformers_version", "bookkeeping"), N("_commit_hash", "bookkeeping"),
    N("_attn_implementation", "eager / sdpa compute the same attention"),
    N("torch_dtype", "tensors are read in the dtype stored in the file and computed in f32 (or --dtype)"),
    N("use_bfloat16", "legacy dtype hint"), N("tf_legacy_loss", "training only"),
    N("return_dict", "output container"), N("output_hidden_states", "output container"),
    N("output_attentions", "output container"), N("torchscript", "export setting"),
    N("use_return_dict", "output container"), N("gradient_checkpointing", "training only (legacy key)"),
    N("chunk_size_feed_forward", "chunking the FFN computes the same values"),
    R("pruned_heads", "{}", "pruned attention heads change layer shapes"),
    N("cross_attention_hidden_size", "used only with add_cross_attention (refused)"),
    R("tie_encoder_decoder", "false", "ties encoder and decoder layer weights"),
    N("finetuning_task", "bookkeeping"), N("id2label", "classification heads only"),
    N("label2id", "classification heads only"), N("num_labels", "classification heads only"),
    N("_num_labels", "classification heads only (legacy key)"), N("problem_type", "classification heads only"),
    N("tokenizer_class", "tokenizer selection"), N("prefix", "text prompt prefix of pipelines"),
    N("task_specific_params", "pipeline settings"), N("sep_token_id", "tokenizer setting"),
    N("max_length", "generate() setting"), N("min_length", "generate() setting"),
    N("do_sample", "generate() setting"), N("early_stopping", "generate() setting"),
    N("num_beams", "generate() setting"), N("num_beam_groups", "generate() setting"),
    N("diversity_penalty", "generate() setting"), N("temperature", "generate() setting"),
    N("top_k", "generate() setting"), N("top_p", "generate() setting"), N("typical_p", "generate() setting"),
    N("repetition_penalty", "generate() setting"), N("length_penalty", "generate() setting"),
    N("no_repeat_ngram_size", "generate() setting"), N("encoder_no_repeat_ngram_size", "generate() setting"),
    N("bad_words_ids", "generate() setting"), N("num_return_sequences", "generate() setting"),
    N("output_scores", "generate() setting"), N("return_dict_in_generate", "generate() setting"),
    N("forced_bos_token_id", "generate() setting"), N("forced_eos_token_id", "generate() setting"),
    N("remove_invalid_values", "generate() setting"),
    N("exponential_decay_length_penalty", "generate() setting"), N("suppress_tokens", "generate() setting"),
    N("begin_suppress_tokens", "generate() setting"), N("use_cache", "the KV cache computes the same values"),
    END,
};

static const tfb__hf_field gpt2[] = {
    H("vocab_size", "rows of wte and the logits"), H("n_positions", "rows of wpe, the context"),
    H("n_ctx", "legacy name of n_positions"), H("n_embd", "model width"), H("n_layer", "layers"),
    H("n_head", "attention heads"), H("n_inner", "FFN width (null: 4 * n_embd)"),
    H("activation_function", "FFN activation: gelu, gelu_new, gelu_pytorch_tanh, relu, silu/swish"),
    H("layer_norm_epsilon", "LayerNorm eps"),
    H("scale_attn_weights", "false: q.k is not divided by sqrt(head width)"),
    H("scale_attn_by_inverse_layer_idx", "true: layer l's scores are further divided by l + 1"),
    N("reorder_and_upcast_attn", "computes the same scores in float32; tfbench is f32 throughout"),
    H("tie_word_embeddings", "false: the head is lm_head.weight, not wte"),
    H("bos_token_id", "start of a prompt"), H("eos_token_id", "end of text"), H("pad_token_id", "padding id"),
    N("resid_pdrop", "dropout"), N("embd_pdrop", "dropout"), N("attn_pdrop", "dropout"),
    N("initializer_range", "initialisation"), N("summary_type", "GPT2DoubleHeadsModel only"),
    N("summary_use_proj", "GPT2DoubleHeadsModel only"), N("summary_activation", "GPT2DoubleHeadsModel only"),
    N("summary_first_dropout", "GPT2DoubleHeadsModel only"),
    N("summary_proj_to_labels", "GPT2DoubleHeadsModel only"),
    R("add_cross_attention", "false", "cross-attention layers in a decoder-only model"),
    N("is_decoder", "GPT-2 is causal either way"), R("is_encoder_decoder", "false", "not an encoder-decoder"),
    END,
};

static const tfb__hf_field bert[] = {
    H("vocab_size", "rows of the word embeddings (and MLM logits)"), H("hidden_size", "model width"),
    H("num_hidden_layers", "layers"), H("num_attention_heads", "attention heads"),
    H("intermediate_size", "FFN width"),
    H("hidden_act", "FFN and MLM-transform activation: gelu, gelu_new, gelu_pytorch_tanh, relu, silu/swish"),
    H("max_position_embeddings", "rows of the position embeddings, the context"),
    H("type_vocab_size", "rows of the token-type embeddings (type 0 is added)"), H("layer_norm_eps", "LayerNorm eps"),
    H("tie_word_embeddings", "false: the MLM decoder is cls.predictions.decoder.weight (BertModel: no head)"),
    H("pad_token_id", "padding id"), H("bos_token_id", "[CLS] id (not in BertConfig; default 101 / 1)"),
    H("eos_token_id", "[SEP] id (not in BertConfig; default 102 / 2)"),
    R("position_embedding_type", "\"absolute\"", "relative_key(_query) position scores"),
    R("is_decoder", "false", "a causal BERT"), R("add_cross_attention", "false", "cross-attention layers"),
    R("is_encoder_decoder", "false", "not an encoder-decoder"),
    N("hidden_dropout_prob", "dropout"), N("attention_probs_dropout_prob", "dropout"),
    N("classifier_dropout", "dropout of classification heads"), N("initializer_range", "initialisation"),
    END,
};

static const tfb__hf_field marian[] = {
    H("vocab_size", "source (and shared) vocabulary"),
    H("decoder_vocab_size", "target vocabulary when share_encoder_decoder_embeddings is false"),
    H("share_encoder_decoder_embeddings", "false: separate encoder and decoder embeddings"),
    H("tie_word_embeddings", "false: the head is lm_head.weight, not the decoder embedding"),
    H("max_position_embeddings", "sinusoidal table size, the context"), H("d_model", "model width"),
    H("encoder_layers", "encoder layers"), H("decoder_layers", "decoder layers"),
    H("encoder_attention_heads", "encoder heads"), H("decoder_attention_heads", "decoder heads"),
    H("encoder_ffn_dim", "encoder FFN width"), H("decoder_ffn_dim", "decoder FFN width"),
    H("activation_function", "FFN activation: gelu, gelu_new, gelu_pytorch_tanh, relu, silu/swish"),
    H("scale_embedding", "embeddings times sqrt(d_model)"), H("pad_token_id", "padding id"),
    H("eos_token_id", "end of sequence: greedy decoding stops there"),
    H("decoder_start_token_id", "first decoder input"),
    R("is_encoder_decoder", "true", "MarianMTModel is an encoder-decoder"),
    R("normalize_before", "false", "legacy key: pre-LN blocks"),
    R("normalize_embedding", "false", "legacy key: a LayerNorm on the embeddings"),
    R("add_final_layer_norm", "false", "legacy key: a final LayerNorm per stack"),
    R("static_position_embeddings", "true", "legacy key: false would mean learned positions"),
    R("add_bias_logits", "false", "legacy key: an extra logits bias"),
    N("extra_pos_embeddings", "legacy key, unused by MarianMTModel"),
    N("num_hidden_layers", "legacy key; encoder_layers and decoder_layers count"),
    N("bos_token_id", "Marian has no BOS in its inputs"), N("is_decoder", "set per stack by the model"),
    N("add_cross_attention", "the decoder always cross-attends"),
    N("dropout", "dropout"), N("attention_dropout", "dropout"), N("activation_dropout", "dropout"),
    N("classif_dropout", "dropout (legacy key)"), N("classifier_dropout", "dropout"),
    N("encoder_layerdrop", "training only"), N("decoder_layerdrop", "training only"), N("init_std", "initialisation"),
    END,
};

/* Llama and Mistral share every field but the sliding window. */
#define LLAMA_FIELDS                                                                                          \
    H("vocab_size", "rows of embed_tokens and lm_head"), H("hidden_size", "model width"),                   \
        H("intermediate_size", "FFN width (gate, up, down)"), H("num_hidden_layers", "layers"),             \
        H("num_attention_heads", "query heads"),                                                            \
        H("num_key_value_heads", "key/value heads (grouped-query attention; null: num_attention_heads)"),   \
        H("head_dim", "head width: must be hidden_size / num_attention_heads"),                             \
        H("hidden_act", "gate activation: silu (and gelu, gelu_new, gelu_pytorch_tanh, relu)"),              \
        H("max_position_embeddings", "the context"), H("rms_norm_eps", "RMSNorm eps"),                      \
        H("rope_theta", "base of the rotary frequencies"),                                                  \
        H("rope_parameters", "newer files: {rope_theta, rope_type: default}; other rope types refused"),    \
        R("rope_scaling", "null", "scaled rotary positions (linear, dynamic, yarn, llama3)"),               \
        H("attention_bias", "biases on q, k, v, o"), H("mlp_bias", "biases on gate, up, down"),             \
        H("tie_word_embeddings", "true: the head is embed_tokens, not lm_head.weight"),                     \
        H("bos_token_id", "start of a prompt"), H("eos_token_id", "end of text"),                           \
        H("pad_token_id", "padding id (null: eos)"),                                                        \
        N("pretraining_tp", "splits each matmul into slices and sums them: the same values"),               \
        N("attention_dropout", "dropout"), N("initializer_range", "initialisation"),                        \
        N("is_decoder", "Llama is causal either way"), R("is_encoder_decoder", "false", "not an encoder-decoder")

static const tfb__hf_field llama[] = {LLAMA_FIELDS, END};

static const tfb__hf_field mistral[] = {
    LLAMA_FIELDS,
    H("sliding_window", "null or >= max_position_embeddings: the window never binds (else refused)"),
    END,
};

static const tfb__hf_field t5[] = {
    H("vocab_size", "rows of the shared embedding and the logits"), H("d_model", "model width"),
    H("d_kv", "head width: must be d_model / num_heads"), H("d_ff", "FFN width"),
    H("num_layers", "encoder layers"), H("num_decoder_layers", "decoder layers (null: num_layers)"),
    H("num_heads", "attention heads"), H("relative_attention_num_buckets", "buckets of the position bias"),
    H("relative_attention_max_distance", "where the logarithmic buckets end"),
    H("layer_norm_epsilon", "T5LayerNorm (RMS) eps"),
    H("feed_forward_proj", "relu, gelu, gated-gelu (gelu_new gate), gated-silu, ...: [gated-]ACT"),
    H("dense_act_fn", "the FFN activation when saved (it overrides feed_forward_proj's, as in transformers)"),
    H("is_gated_act", "whether the FFN is gated when saved (overrides feed_forward_proj's)"),
    H("tie_word_embeddings", "true: head tied to the shared embedding, its input times d_model^-0.5"),
    H("pad_token_id", "padding id"), H("eos_token_id", "end of sequence: greedy decoding stops there"),
    H("decoder_start_token_id", "first decoder input (T5: the pad token)"),
    H("n_positions", "legacy key: the context tfbench allocates (T5 itself has no position limit; default 512)"),
    R("is_encoder_decoder", "true", "T5ForConditionalGeneration is an encoder-decoder"),
    N("output_past", "legacy key (use_cache)"), N("dropout_rate", "dropout"),
    N("classifier_dropout", "classification heads only"), N("initializer_factor", "initialisation"),
    N("bos_token_id", "T5 has no BOS in its inputs"), N("is_decoder", "set per stack by the model"),
    N("add_cross_attention", "the decoder always cross-attends"),
    END,
};

static const struct {
    const char *cls;
    const tfb__hf_field *fields;
} tables[] = {{"PretrainedConfig", common}, {"GPT2Config", gpt2},     {"BertConfig", bert},
              {"MarianConfig", marian},     {"LlamaConfig", llama},   {"MistralConfig", mistral},
              {"T5Config", t5}};

const char *tfb__hf_audit_class(int t) {
    return t >= 0 && t < (int)(sizeof tables / sizeof tables[0]) ? tables[t].cls : NULL;
}

const tfb__hf_field *tfb__hf_audit_fields(int t) {
    return t >= 0 && t < (int)(sizeof tables / sizeof tables[0]) ? tables[t].fields : NULL;
}

const tfb__hf_field *tfb__hf_audit_find(tfb__hf_family fam, const char *key) {
    static const int cls_of[] = {[HF_GPT2] = 1, [HF_BERT] = 2, [HF_MARIAN] = 3, [HF_LLAMA] = 4, [HF_MISTRAL] = 5, [HF_T5] = 6};
    for (int pass = 0; pass < 2; pass++) {
        const tfb__hf_field *f = tables[pass ? 0 : cls_of[fam]].fields;
        for (; f->key; f++)
            if (strcmp(f->key, key) == 0)
                return f;
    }
    return NULL;
}
