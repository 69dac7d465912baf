/* The architecture descriptions of the families tfbench runs, before sizes: what GPT-2, BERT and
 * Marian compute. Presets (presets.c) and the Hugging Face loader (hf_config.c) both start from
 * these and then fill in sizes and the choices a checkpoint's config.json makes. */
#ifndef TFB_MODELS_FAMILIES_H
#define TFB_MODELS_FAMILIES_H

#include "tfbench/model.h"

/* GPT-2 (GPT2LMHeadModel): learned positions, pre-LN blocks with biases, gelu_tanh FFN, final
 * LayerNorm, head tied to tok_emb. */
tfb_config tfb__family_gpt2(void);
/* BERT: learned positions + token type 0, embedding LayerNorm, post-LN blocks, gelu; with the MLM
 * head (BertForMaskedLM: dense, gelu, LayerNorm, tied decoder with bias) or without (BertModel). */
tfb_config tfb__family_bert(bool mlm_head);
/* Marian (MarianMTModel): sinusoidal positions, embeddings times sqrt(d_model), post-LN blocks,
 * swish FFN, cross-attention, head tied to the shared embedding plus final_logits_bias. */
tfb_config tfb__family_marian(void);

/* Llama (LlamaForCausalLM; Mistral-style configs whose window never binds): RMS norms before each
 * block and at the end, rotary positions (rotate-half, theta 10000), no biases, a SiLU-gated FFN,
 * grouped-query attention (the stack's n_kv_head), its own head (lm_head) unless tied. */
tfb_config tfb__family_llama(void);

/* T5 (T5ForConditionalGeneration): RMS norms before each block and closing each stack, a relative
 * position bias on the self-attention scores (32 buckets, max distance 128), no biases, unscaled
 * attention, a ReLU FFN (v1.0) or a gated-GELU one (v1.1, flan-t5), the head tied to the shared
 * embedding with its input times d_model^-0.5 (set by the caller with the sizes) or its own. */
tfb_config tfb__family_t5(bool gated);

/* Derived fields once sizes are set: n_dec_vocab defaults to n_vocab. */
void tfb__family_finish(tfb_config *c);

#endif
