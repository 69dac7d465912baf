/* libFuzzer target: the safetensors reader on arbitrary bytes, from memory (no files).
 * Whatever the input, parsing must either fail cleanly or give descriptors whose invariants
 * hold, and reading every readable tensor must stay inside the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tfb__st_file f;
    if (tfb__st_parse_mem("fuzz", data, size, &f) != TFB_STATUS_OK) {
        /* A failed parse leaves nothing to close and always says why. */
        TFB_ASSERT(f.t == NULL && f.n == 0 && f.label == NULL);
        TFB_ASSERT(tfb_error_last()[0] != '\0');
        return 0;
    }
    TFB_ASSERT(f.data_start + f.data_size == size);
    for (int64_t i = 0; i < f.n; i++) {
        const tfb__st_tensor *t = &f.t[i];
        TFB_ASSERT(t->begin <= t->end && t->end <= f.data_size);
        TFB_ASSERT(t->end - t->begin == (uint64_t)t->nelements * (uint64_t)tfb__st_dtype_size(t->dtype));
        TFB_ASSERT(tfb__st_find(&f, t->name) == t);
        float *x = malloc(((size_t)t->nelements + 1) * sizeof *x);
        if (!x)
            break;
        tfb_status s = tfb__st_read_f32(&f, t, x);
        int readable = t->dtype == TFB_ST_F32 || t->dtype == TFB_ST_F16 || t->dtype == TFB_ST_BF16;
        TFB_ASSERT((s == TFB_STATUS_OK) == readable);
        free(x);
    }
    tfb__st_close(&f);
    return 0;
}
