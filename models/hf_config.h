/* Parsing of a Hugging Face model directory's JSON files: config.json and the shard index
 * (internal to models/; hf_load.c opens the files and maps the tensors). */
#ifndef TFB_MODELS_HF_CONFIG_H
#define TFB_MODELS_HF_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "tfbench/model.h"

typedef enum tfb__hf_family { HF_GPT2, HF_BERT, HF_MARIAN } tfb__hf_family;

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
