/* libFuzzer target: tokenizer.json (models/text/) on arbitrary bytes, from memory. Whatever the
 * input, loading must either fail and say why, or give a tokenizer that encodes text (a fixed set,
 * and the input's own bytes, valid UTF-8 or not) into ids inside its vocabulary and decodes them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/text/text_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const tfb_tokenizer *t, const char *text, size_t n) {
    int32_t *ids = NULL;
    int64_t k = 0;
    if (tfb_tokenizer_encode(t, text, n, true, &ids, &k) != TFB_STATUS_OK) {
        TFB_ASSERT(tfb_error_last()[0] != '\0');
        return;
    }
    TFB_ASSERT(ids != NULL && k >= 0);
    bool known = true;
    for (int64_t i = 0; i < k; i++)
        known = known && tfb_tokenizer_token(t, ids[i]) != NULL;
    char *back = NULL;
    tfb_status s = tfb_tokenizer_decode(t, ids, k, true, &back, NULL);
    /* Every id encode gives is decodable unless the file's template names an id with no token. */
    TFB_ASSERT(s == TFB_STATUS_OK ? back != NULL : !known || tfb_error_last()[0] != '\0');
    free(back);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tfb_tokenizer *t = NULL;
    if (tfb__tt_tokenizer_from_json("tokenizer.json", (const char *)data, size, &t) != TFB_STATUS_OK) {
        TFB_ASSERT(t == NULL && tfb_error_last()[0] != '\0');
        return 0;
    }
    static const char *const texts[] = {
        "", " ", "Hello, world!", "  café\tnaïve  ", "東京 😀 2024", "a\x00b", "bad \xff\xfe \xe6\x97 end"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        roundtrip(t, texts[i], i == 5 ? 3 : strlen(texts[i]));
    roundtrip(t, (const char *)data, size < 256 ? size : 256);
    tfb_tokenizer_free(t);
    return 0;
}
