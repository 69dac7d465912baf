/* Internal to models/: the GGUF model loader's pieces shared by gguf_load.c (metadata and tensor
 * helpers, the entry points) and gguf_map.c (each architecture's keys and tensor names). */
#ifndef TFB_MODELS_GGUF_LOAD_H
#define TFB_MODELS_GGUF_LOAD_H

#include "models/formats/gguf.h"
#include "tfbench/model.h"

#define GG_NB 96 /* name buffer */

typedef struct gg_loader {
    tfb__gguf_file f;
    const char *path; /* the file, or the label of a memory buffer */
    const void *mem;  /* memory-backed (the fuzz target): the whole file; NULL: read path */
    size_t mem_size;
    char arch[32];
    bool *used;   /* [f.n_t]: read into the model */
    tfb_model *m; /* NULL when only the config is wanted */
    tfb_config *c;
    bool f32_twin;     /* every matrix dequantized to F32 */
    tfb_dtype convert; /* another type's matrices become this (Q8_0, F16); TFB_DTYPE_COUNT: refused */
} gg_loader;

typedef enum gg_kind {
    GG_VEC,    /* [d0] -> F32 */
    GG_TABLE,  /* [d0, d1] -> F32 (embeddings: EMBED gathers F32 rows), dequantized exactly */
    GG_MATRIX, /* [d0 = out, d1 = in] -> the stored dtype (F32 with f32_twin) */
} gg_kind;

/* One architecture: its name, the `<arch>.` keys it models, and its mapping. */
typedef struct gg_arch {
    const char *name;
    const char *const *keys; /* NULL-terminated suffixes after "<arch>." */
    tfb_status (*config)(gg_loader *L);
    tfb_status (*tensors)(gg_loader *L);
} gg_arch;

/* The architectures gguf_map.c maps (llama, gpt2, bert, t5). */
extern const gg_arch tfb__gg_archs[];
extern const int tfb__gg_n_archs;

const char *tfb__gg_key(const gg_loader *L, char *buf, const char *suffix);
tfb_status tfb__gg_int(gg_loader *L, const char *suffix, bool required, int64_t def, int64_t lo, int64_t hi,
                       int64_t *out);
tfb_status tfb__gg_float(gg_loader *L, const char *suffix, bool required, double def, float *out);
tfb_status tfb__gg_same(gg_loader *L, const char *suffix, int64_t want);
tfb_status tfb__gg_token_id(gg_loader *L, const char *which, int64_t def, int64_t *out);
const tfb__gguf_tensor *tfb__gg_find(gg_loader *L, const char *name);
tfb_status tfb__gg_check_shape(gg_loader *L, const tfb__gguf_tensor *t, gg_kind kind, int64_t d0, int64_t d1);
tfb_status tfb__gg_read(gg_loader *L, const tfb__gguf_tensor *t, bool to_f32, tfb_dtype *dt, void **out);
tfb_status tfb__gg_take(gg_loader *L, const char *canon, const char *name, gg_kind kind, int64_t d0,
                        int64_t d1);
const char *tfb__gg_fmt(char *buf, const char *fmt, int i, const char *what);
tfb_status tfb__gg_head(gg_loader *L);
tfb_status tfb__gg_vocab(gg_loader *L);

#endif
