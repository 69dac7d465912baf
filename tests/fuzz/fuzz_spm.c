/* libFuzzer target: SentencePiece .model bytes (models/text/spm_shim.cpp, normalize.c's
 * tfb__tt_spm_proto_check) from memory. Whatever the input, loading must either fail and say why,
 * or give a model that encodes text (a fixed set, and the input's own bytes, valid UTF-8 or not) and
 * decodes the ids back, all through libsentencepiece without reading outside what it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/text/text_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(void *spm, const char *text, size_t n) {
    int32_t *ids = NULL;
    int k = tfb__tt_spm_encode(spm, text, n, &ids);
    if (k < 0)
        return;
    size_t len = 0;
    free(tfb__tt_spm_decode(spm, ids, k, &len));
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[600] = "";
    void *spm = tfb__tt_spm_load_proto((const char *)data, size, "fuzz.model", err, sizeof err);
    if (!spm) {
        TFB_ASSERT(err[0] != '\0');
        return 0;
    }
    static const char *const texts[] = {"", " ", "Hello, world!", "  café\tnaïve  ", "東京 😀 2024", "ｶﾀｶﾅ ①", "bad \xff\xfe \xe6\x97 end"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        roundtrip(spm, texts[i], strlen(texts[i]));
    roundtrip(spm, (const char *)data, size < 256 ? size : 256);
    tfb__tt_spm_free(spm);
    return 0;
}
