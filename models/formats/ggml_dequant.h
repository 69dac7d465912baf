/* Internal: ggml's reference dequantization of the GGUF tensor types tfbench does not run as stored
 * (ggml_dequant.c), for converting them at load (`--gguf-convert`). */
#ifndef TFBENCH_MODELS_FORMATS_GGML_DEQUANT_H
#define TFBENCH_MODELS_FORMATS_GGML_DEQUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "models/formats/gguf.h"

/* ggml type numbers of the types dequantized here. */
enum {
    TFB_GGML_Q4_1 = 3,
    TFB_GGML_Q5_0 = 6,
    TFB_GGML_Q5_1 = 7,
    TFB_GGML_Q4_K = 12,
    TFB_GGML_Q5_K = 13,
    TFB_GGML_Q6_K = 14,
};

/* True for the types tfb__ggml_dequantize_row knows (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). */
bool tfb__ggml_can_dequantize(uint32_t ggml_type);
/* One row of n elements (a whole number of blocks) of type ggml_type at src into dst [n], exactly as
 * ggml's dequantize_row_* computes it; false for another type or a partial block. */
bool tfb__ggml_dequantize_row(uint32_t ggml_type, const void *src, float *dst, int64_t n);

#endif
