/* Model presets: real shapes (gpt2-124m, bert-base, marian-base, tinyllama-1.1b, llama2-7b) and tiny
 * ones for tests. Each is an
 * architecture description built from its family's (the same functions the Hugging Face loader
 * starts from), so a preset and a loaded checkpoint of one family differ only in sizes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/families.h"

#define N_PRESETS 12

static tfb_config presets[N_PRESETS];
static bool presets_ready;

static tfb_config sized(tfb_config c, const char *name, int64_t V, int64_t P, int64_t C, int64_t H, int64_t F,
                        int64_t n_enc, int64_t n_dec) {
    snprintf(c.name, sizeof c.name, "%s", name);
    c.n_vocab = c.n_dec_vocab = V;
    c.n_ctx = P;
    c.d_model = C;
    if (n_enc)
        c.enc = (tfb_stack){.n_layer = n_enc, .n_head = H, .d_ff = F};
    if (n_dec)
        c.dec = (tfb_stack){.n_layer = n_dec, .n_head = H, .d_ff = F};
    tfb__family_finish(&c);
    return c;
}

static tfb_config with_ids(tfb_config c, int64_t bos, int64_t eos, int64_t pad, int64_t start) {
    c.bos_id = bos, c.eos_id = eos, c.pad_id = pad, c.decoder_start_id = start;
    return c;
}

static void presets_init(void) {
    if (presets_ready)
        return;
    tfb_config g = tfb__family_gpt2(), b = tfb__family_bert(true), m = tfb__family_marian();
    presets[0] = with_ids(sized(g, "gpt2-124m", 50257, 1024, 768, 12, 3072, 0, 12), 50256, 50256, 50256, 50256);
    presets[1] = with_ids(sized(b, "bert-base", 30522, 512, 768, 12, 3072, 12, 0), 101, 102, 0, 0);
    presets[2] = with_ids(sized(m, "marian-base", 58101, 512, 512, 8, 2048, 6, 6), 0, 0, 58100, 58100);
    presets[2].emb_scale = sqrtf(512.0f); /* opus-mt checkpoints set scale_embedding */
    presets[3] = with_ids(sized(g, "gpt2-tiny", 512, 128, 64, 4, 256, 0, 2), 511, 511, 511, 511);
    presets[4] = with_ids(sized(b, "bert-tiny", 512, 128, 64, 4, 256, 2, 0), 1, 2, 0, 0);
    presets[5] = with_ids(sized(m, "marian-tiny", 512, 128, 64, 4, 256, 2, 2), 0, 0, 511, 511);
    presets[5].emb_scale = sqrtf(64.0f);
    /* Llama: bos 1, eos 2, no pad token (padded with eos); kv heads set below. */
    tfb_config l = tfb__family_llama();
    presets[6] = with_ids(sized(l, "llama-tiny", 512, 128, 64, 8, 192, 0, 2), 1, 2, 2, 1);
    presets[6].dec.n_kv_head = 2; /* grouped-query: 4 query heads per kv head */
    presets[7] = with_ids(sized(l, "tinyllama-1.1b", 32000, 2048, 2048, 32, 5632, 0, 22), 1, 2, 2, 1);
    presets[7].dec.n_kv_head = 4;
    presets[8] = with_ids(sized(l, "llama2-7b", 32000, 4096, 4096, 32, 11008, 0, 32), 1, 2, 2, 1);
    presets[8].dec.n_kv_head = 32;
    /* T5: pad 0 starts the decoder, eos 1; 32 buckets up to distance 128. t5-base ties its head
     * (input times d_model^-0.5), flan-t5-base has its own. */
    tfb_config t = tfb__family_t5(false), tg = tfb__family_t5(true);
    presets[9] = with_ids(sized(t, "t5-tiny", 512, 128, 64, 4, 128, 2, 2), 1, 1, 0, 0);
    presets[9].rel_buckets = 16, presets[9].rel_max_distance = 32; /* exercised by 128-token tests */
    presets[9].head_scale = 1.0f / sqrtf(64.0f);
    presets[10] = with_ids(sized(t, "t5-base", 32128, 512, 768, 12, 3072, 12, 12), 1, 1, 0, 0);
    presets[10].head_scale = 1.0f / sqrtf(768.0f);
    presets[11] = with_ids(sized(tg, "flan-t5-base", 32128, 512, 768, 12, 2048, 12, 12), 1, 1, 0, 0);
    presets[11].head = TFB_HEAD_OWN;
    presets_ready = true;
}

int tfb_preset_count(void) {
    return N_PRESETS;
}

const tfb_config *tfb_preset_get(int i) {
    presets_init();
    return (i >= 0 && i < tfb_preset_count()) ? &presets[i] : NULL;
}

const tfb_config *tfb_preset_find(const char *name) {
    presets_init();
    for (int i = 0; i < tfb_preset_count(); i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}
