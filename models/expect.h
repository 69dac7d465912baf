/* The tensors an architecture needs, with their shapes: one list drives validation of loaded
 * models and the generation of synthetic ones. */
#ifndef TFB_MODELS_EXPECT_H
#define TFB_MODELS_EXPECT_H

#include "tfbench/model.h"

typedef enum tfb_wkind {
    TFB_WKIND_MATRIX, /* a MATMUL weight [out, in]: stored in the model's weight dtype */
    TFB_WKIND_EMBED,  /* an embedding table: F32 */
    TFB_WKIND_GAMMA,  /* a norm scale: F32, around 1 */
    TFB_WKIND_VECTOR, /* a bias or norm shift: F32, around 0 */
} tfb_wkind;

typedef struct tfb_wexpect {
    char name[TFB_NAME_MAX];
    tfb_wkind kind;
    int ndim;
    int64_t shape[2];
} tfb_wexpect;

/* Fills `out` (capacity cap) with every tensor cfg's architecture needs; returns the count
 * (which may exceed cap: call with cap 0 to size). */
int tfb__model_expect(const tfb_config *cfg, tfb_wexpect *out, int cap);

/* config.json of a Hugging Face directory, parsed and named as the loader does (hf_load.c). */
tfb_status tfb__hf_load_config(const char *dir, tfb_config *out);
/* The description of a GGUF file, as tfb_model_load_gguf maps it (gguf_load.c). */
tfb_status tfb__gguf_load_config(const char *path, tfb_config *out);
/* tfb_model_load_gguf on a whole file in memory (buf must outlive the call), label naming it in
 * messages: for the fuzz target. */
tfb_status tfb__gguf_load_mem(const char *label, const void *buf, size_t size, bool f32_twin, tfb_model *out);

#endif
