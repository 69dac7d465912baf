/* include/tfbench/gguf.h over the internal reader (gguf.c): an opaque handle and read-only views. */
#include <stdlib.h>
#include <string.h>

#include "models/formats/gguf.h"

struct tfb_gguf {
    tfb__gguf_file f;
};

tfb_status tfb_gguf_open(const char *path, tfb_gguf_t **out) {
    if (!path || !out)
        return tfb_error_set(TFB_STATUS_USAGE, "tfb_gguf_open: NULL argument");
    *out = NULL;
    tfb_gguf_t *g = calloc(1, sizeof *g);
    if (!g)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", path);
    tfb_status s = tfb__gguf_open(path, &g->f);
    if (s != TFB_STATUS_OK) {
        free(g);
        return s;
    }
    *out = g;
    return TFB_STATUS_OK;
}

void tfb_gguf_close(tfb_gguf_t *g) {
    if (!g)
        return;
    tfb__gguf_close(&g->f);
    free(g);
}

void tfb_gguf_get_header(const tfb_gguf_t *g, tfb_gguf_header *out) {
    *out = (tfb_gguf_header){.version = g->f.version,
                             .alignment = g->f.alignment,
                             .data_start = g->f.data_start,
                             .data_size = g->f.data_size,
                             .n_kv = g->f.n_kv,
                             .n_tensors = g->f.n_t};
}

const tfb_gguf_str *tfb_gguf_key(const tfb_gguf_t *g, int64_t i) {
    TFB_ASSERT(i >= 0 && i < g->f.n_kv);
    return &g->f.kv[i].key;
}

const tfb_gguf_value *tfb_gguf_value_of(const tfb_gguf_t *g, int64_t i) {
    TFB_ASSERT(i >= 0 && i < g->f.n_kv);
    return &g->f.kv[i].val;
}

void tfb_gguf_tensor(const tfb_gguf_t *g, int64_t i, tfb_gguf_tensor_info *out) {
    TFB_ASSERT(i >= 0 && i < g->f.n_t);
    const tfb__gguf_tensor *t = &g->f.t[i];
    *out = (tfb_gguf_tensor_info){.name = &t->name,
                                  .n_dims = t->n_dims,
                                  .ggml_type = t->ggml_type,
                                  .offset = t->offset,
                                  .nbytes = t->nbytes};
    memcpy(out->ne, t->ne, sizeof out->ne);
}

const char *tfb_gguf_type_name(tfb_gguf_type t) {
    return tfb__gguf_type_name(t);
}

const char *tfb_gguf_ggml_name(uint32_t ggml_type) {
    return tfb__gguf_ggml_name(ggml_type);
}

bool tfb_gguf_ggml_dtype(uint32_t ggml_type, tfb_dtype *out) {
    return tfb__gguf_ggml_dtype(ggml_type, out);
}
