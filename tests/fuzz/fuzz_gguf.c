/* libFuzzer target: the GGUF reader (models/formats/gguf.c) on arbitrary bytes, from memory.
 * Whatever the input, opening must either fail cleanly (nothing to close, a message naming the
 * input) or give a file whose invariants hold: every tensor inside the data section at an aligned
 * offset, every key and tensor found by name, every value walkable; reading every tensor stays
 * inside the buffer. Then the model mapping (models/gguf_load.c) on the same bytes, as stored and as
 * the f32 twin: it must fail cleanly with a message naming the input, or give a model that
 * validates. Last the tokenizer of the metadata (models/text/gguf_tok.c): it must fail cleanly, or
 * encode and decode a fixed text with every id inside the vocabulary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/expect.h"
#include "models/formats/gguf.h"
#include "models/text/text_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every element (ASan checks the pointers); returns a count so nothing is optimized away. */
static uint64_t walk(const tfb__gguf_value *v, int depth) {
    TFB_ASSERT(depth <= TFB_GGUF_MAX_DEPTH);
    if (v->type == TFB_GGUF_STRING) {
        TFB_ASSERT(v->str.s && v->str.s[v->str.len] == '\0');
        return v->str.len;
    }
    if (v->type != TFB_GGUF_ARRAY)
        return 1;
    uint64_t n = 0;
    for (uint64_t i = 0; i < v->arr.n; i++) {
        TFB_ASSERT(v->arr.v[i].type == v->arr.type);
        n += walk(&v->arr.v[i], depth + 1);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tfb__gguf_file f;
    if (tfb__gguf_open_mem("fuzz", data, size, &f) != TFB_STATUS_OK) {
        TFB_ASSERT(f.kv == NULL && f.t == NULL && f.label == NULL && f.n_kv == 0 && f.n_t == 0);
        TFB_ASSERT(strncmp(tfb_error_last(), "fuzz: ", 6) == 0);
        return 0;
    }
    TFB_ASSERT(f.version == 2 || f.version == 3);
    TFB_ASSERT(f.alignment && (f.alignment & (f.alignment - 1)) == 0);
    TFB_ASSERT(f.data_start <= size && f.data_start + f.data_size == size);
    volatile uint64_t sink = 0;
    for (int64_t i = 0; i < f.n_kv; i++) {
        TFB_ASSERT(tfb__gguf_find_key(&f, f.kv[i].key.s) == &f.kv[i] ||
                   memchr(f.kv[i].key.s, 0, f.kv[i].key.len));
        sink += walk(&f.kv[i].val, 0);
    }
    for (int64_t i = 0; i < f.n_t; i++) {
        const tfb__gguf_tensor *t = &f.t[i];
        TFB_ASSERT(t->n_dims >= 1 && t->n_dims <= TFB_GGUF_MAX_DIMS);
        TFB_ASSERT(t->offset % f.alignment == 0 && t->offset <= f.data_size &&
                   t->nbytes <= f.data_size - t->offset);
        TFB_ASSERT(tfb__gguf_ggml_name(t->ggml_type) != NULL);
        TFB_ASSERT(tfb__gguf_find_tensor(&f, t->name.s) == t || memchr(t->name.s, 0, t->name.len));
        uint8_t *x = malloc((size_t)t->nbytes + 1);
        if (!x)
            break;
        TFB_ASSERT(tfb__gguf_read(&f, t, x, (size_t)t->nbytes) == TFB_STATUS_OK);
        sink += t->nbytes ? x[t->nbytes - 1] : 0;
        free(x);
    }
    (void)sink;
    tfb__gguf_close(&f);
    for (int twin = 0; twin < 2; twin++) {
        tfb_model m;
        if (tfb__gguf_load_mem("fuzz", data, size, twin != 0, &m) != TFB_STATUS_OK) {
            TFB_ASSERT(m.w == NULL && m.n_w == 0);
            TFB_ASSERT(strncmp(tfb_error_last(), "fuzz: ", 6) == 0);
            continue;
        }
        TFB_ASSERT(tfb_model_validate(&m) == TFB_STATUS_OK);
        tfb_model_free(&m);
    }
    tfb_tokenizer *tok;
    if (tfb__tt_load_gguf_mem("fuzz", data, size, &tok) != TFB_STATUS_OK) {
        TFB_ASSERT(strncmp(tfb_error_last(), "fuzz: ", 6) == 0);
        return 0;
    }
    static const char text[] = "Hello, w\xc3\xb6rld! ab  \xe2\x96\x81"
                               "c\xff";
    int32_t *ids = NULL;
    int64_t n = 0;
    if (tfb_tokenizer_encode(tok, text, sizeof text - 1, true, &ids, &n) == TFB_STATUS_OK) {
        for (int64_t i = 0; i < n; i++)
            TFB_ASSERT(tfb_tokenizer_token(tok, ids[i]) != NULL);
        char *back = NULL;
        size_t blen = 0;
        if (tfb_tokenizer_decode(tok, ids, n, true, &back, &blen) == TFB_STATUS_OK)
            TFB_ASSERT(back && back[blen] == '\0');
        free(back);
    }
    free(ids);
    tfb_tokenizer_free(tok);
    return 0;
}
