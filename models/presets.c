/* Model presets: real shapes (gpt2-124m, bert-base, marian-base) and tiny ones for tests. */
#include <string.h>

#include "tfbench/model.h"

static const tfb_config presets[] = {
    {.name = "gpt2-124m", .arch = TFB_ARCH_DECODER, .n_vocab = 50257, .n_ctx = 1024, .d_model = 768,
     .n_head = 12, .d_ff = 3072, .n_layer = 12, .eps = 1e-5f, .act = TFB_ACT_GELU_TANH, .bos_id = 50256,
     .eos_id = 50256, .pad_id = 50256, .decoder_start_id = 50256},
    {.name = "bert-base", .arch = TFB_ARCH_ENCODER, .n_vocab = 30522, .n_ctx = 512, .d_model = 768,
     .n_head = 12, .d_ff = 3072, .n_layer = 12, .n_type = 2, .eps = 1e-12f, .act = TFB_ACT_GELU,
     .bos_id = 101, .eos_id = 102, .pad_id = 0, .decoder_start_id = 0},
    {.name = "marian-base", .arch = TFB_ARCH_ENCDEC, .n_vocab = 58101, .n_ctx = 512, .d_model = 512,
     .n_head = 8, .d_ff = 2048, .n_layer = 6, .n_enc_layer = 6, .eps = 1e-5f, .act = TFB_ACT_SILU,
     .bos_id = 0, .eos_id = 0, .pad_id = 58100, .decoder_start_id = 58100, .scale_embed = true},
    {.name = "gpt2-tiny", .arch = TFB_ARCH_DECODER, .n_vocab = 512, .n_ctx = 128, .d_model = 64, .n_head = 4,
     .d_ff = 256, .n_layer = 2, .eps = 1e-5f, .act = TFB_ACT_GELU_TANH, .bos_id = 511, .eos_id = 511,
     .pad_id = 511, .decoder_start_id = 511},
    {.name = "bert-tiny", .arch = TFB_ARCH_ENCODER, .n_vocab = 512, .n_ctx = 128, .d_model = 64, .n_head = 4,
     .d_ff = 256, .n_layer = 2, .n_type = 2, .eps = 1e-12f, .act = TFB_ACT_GELU, .bos_id = 1, .eos_id = 2,
     .pad_id = 0, .decoder_start_id = 0},
    {.name = "marian-tiny", .arch = TFB_ARCH_ENCDEC, .n_vocab = 512, .n_ctx = 128, .d_model = 64,
     .n_head = 4, .d_ff = 256, .n_layer = 2, .n_enc_layer = 2, .eps = 1e-5f, .act = TFB_ACT_SILU,
     .bos_id = 0, .eos_id = 0, .pad_id = 511, .decoder_start_id = 511, .scale_embed = true},
};

int tfb_preset_count(void) {
    return (int)(sizeof presets / sizeof presets[0]);
}

const tfb_config *tfb_preset_get(int i) {
    return (i >= 0 && i < tfb_preset_count()) ? &presets[i] : NULL;
}

const tfb_config *tfb_preset_find(const char *name) {
    for (int i = 0; i < tfb_preset_count(); i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}
