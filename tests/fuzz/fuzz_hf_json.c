/* libFuzzer target: the parsers of a Hugging Face directory's JSON files on arbitrary bytes, from
 * memory: config.json (family and range-checked config) and the shard index (weight_map shard
 * names). Whatever the input, each must either fail and say why, or give a result whose
 * invariants hold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const char *text, size_t size) {
    tfb_config c;
    tfb__hf_family fam = HF_GPT2;
    if (tfb__hf_parse_config("config.json", text, size, &c, &fam) != TFB_STATUS_OK) {
        TFB_ASSERT(tfb_error_last()[0] != '\0');
        return;
    }
    TFB_ASSERT(fam == HF_GPT2 || fam == HF_BERT || fam == HF_MARIAN || fam == HF_LLAMA || fam == HF_MISTRAL || fam == HF_T5);
    /* What the session and the graph builders rely on. */
    TFB_ASSERT(c.d_model > 0 && c.n_vocab > 0 && c.n_dec_vocab > 0 && c.n_ctx > 0);
    TFB_ASSERT(c.enc.n_layer > 0 || c.dec.n_layer > 0);
    const tfb_stack *st[2] = {&c.enc, &c.dec};
    for (int i = 0; i < 2; i++)
        TFB_ASSERT(st[i]->n_layer == 0 || (st[i]->n_head > 0 && c.d_model % st[i]->n_head == 0 && st[i]->d_ff > 0));
    TFB_ASSERT(c.eps > 0.0f);
    TFB_ASSERT(c.eos_id >= 0 && c.eos_id < c.n_vocab && c.pad_id >= 0 && c.pad_id < c.n_vocab);
}

static void check_index(const char *text, size_t size) {
    cJSON *root = NULL;
    if (tfb__hf_parse_json("index.json", text, size, &root) != TFB_STATUS_OK) {
        TFB_ASSERT(root == NULL && tfb_error_last()[0] != '\0');
        return;
    }
    const char **names = NULL;
    int n = 0;
    if (tfb__hf_index_shards("index.json", root, &names, &n) == TFB_STATUS_OK) {
        TFB_ASSERT(n > 0 && names);
        for (int i = 0; i < n; i++) {
            TFB_ASSERT(names[i][0] != '\0' && !strchr(names[i], '/') && !strstr(names[i], ".."));
            for (int j = 0; j < i; j++)
                TFB_ASSERT(strcmp(names[i], names[j]) != 0);
        }
    } else {
        TFB_ASSERT(names == NULL && n == 0 && tfb_error_last()[0] != '\0');
    }
    free(names);
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_config((const char *)data, size);
    check_index((const char *)data, size);
    return 0;
}
