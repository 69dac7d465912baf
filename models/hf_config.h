/* Parsing of a Hugging Face model directory's JSON files: config.json and the shard index
 * (internal to models/; hf_load.c opens the files and maps the tensors). */
#ifndef TFB_MODELS_HF_CONFIG_H
#define TFB_MODELS_HF_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "tfbench/model.h"

typedef enum tfb__hf_family { HF_GPT2, HF_BERT, HF_MARIAN, HF_LLAMA, HF_MISTRAL, HF_T5 } tfb__hf_family;

/* The config.json audit (hf_audit.c; docs/hf-configs.md is the same table). */
typedef enum tfb__hf_verdict { TFB_HF_HONOURED, TFB_HF_NO_EFFECT, TFB_HF_REFUSED } tfb__hf_verdict;
typedef struct tfb__hf_field {
    const char *key;
    tfb__hf_verdict verdict;
    const char *accept; /* REFUSED: the one value accepted, as compact JSON ("false", "{}") */
    const char *why;
} tfb__hf_field;
/* Table t (0: PretrainedConfig, then GPT2Config, BertConfig, MarianConfig, LlamaConfig,
 * MistralConfig, T5Config): its class name and
 * fields (ended by a NULL key); NULL past the last table. */
const char *tfb__hf_audit_class(int t);
const tfb__hf_field *tfb__hf_audit_fields(int t);
/* The verdict on key for a family: its class's table first, then PretrainedConfig's; NULL if
 * neither lists it. */
const tfb__hf_field *tfb__hf_audit_find(tfb__hf_family fam, const char *key);

/* Parse text[0..len) as one JSON object (trailing whitespace allowed) into *out, which the caller
 * frees with cJSON_Delete; path names the file in messages. */
tfb_status tfb__hf_parse_json(const char *path, const char *text, size_t len, cJSON **out);
/* Parse config.json text into cfg (cfg->name is left empty for the caller) and its family. */
tfb_status tfb__hf_parse_config(const char *path, const char *text, size_t len, tfb_config *cfg,
                                tfb__hf_family *fam);

/* The distinct shard file names of an index's "weight_map" (each a plain name inside the directory),
 * in first-seen order, as pointers into root; the caller frees the array (not the names). */
tfb_status tfb__hf_index_shards(const char *path, const cJSON *root, const char ***names, int *n);

#endif
