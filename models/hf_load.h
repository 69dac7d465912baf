/* Internal to models/: the Hugging Face directory loader's pieces shared by hf_load.c (files, the
 * entry point) and hf_map.c (each model class's tensor names mapped to tfbench's canonical ones). */
#ifndef TFB_MODELS_HF_LOAD_H
#define TFB_MODELS_HF_LOAD_H

#include "models/hf_config.h"
#include "models/safetensors.h"

typedef struct hf_loader {
    const char *dir;
    char *where;         /* the weights file (or index) named when a tensor is missing */
    tfb__st_file *files; /* [n_files] */
    bool **used;         /* [n_files][tensors of the file]: read into the model, or checked as a twin */
    int n_files;
    tfb_model *m;
    tfb_dtype wtype;
    const tfb_config *c;
} hf_loader;

/* A located tensor. */
typedef struct hf_src {
    tfb__st_file *f;
    const tfb__st_tensor *t;
} hf_src;

enum hf_kind {
    HF_VEC,    /* HF [d0] (or [1,d0] when allowed) -> F32 [d0] */
    HF_TABLE,  /* HF [d0,d1] -> F32 [d0,d1] (embeddings) */
    HF_LINEAR, /* nn.Linear [out=d0, in=d1] -> wtype [out,in] */
    HF_CONV1D, /* GPT-2 Conv1D [in=d0, out=d1] -> wtype [out,in] (transposed) */
};

/* A list of candidate names and its length, for tfb__hf_take / tfb__hf_find_any. */
#define HF_NAMES(...)                                                                                        \
    ((const char *const[]){__VA_ARGS__}),                                                                    \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#define NB 160 /* name buffer size */

/* name in every shard (NULL src.t when absent); a tensor in two shards is an error. */
tfb_status tfb__hf_find(hf_loader *L, const char *name, hf_src *out);
/* The first of several candidate names present. */
tfb_status tfb__hf_find_any(hf_loader *L, const char *const *names, int n, hf_src *out);
/* src's shape must be exactly [d0] (ndim 1) or [d0,d1] (ndim 2). */
tfb_status tfb__hf_check_shape(const hf_src *src, int ndim, int64_t d0, int64_t d1);
/* Read a located tensor as floats (malloc'ed, [nelements]); it counts as used. */
tfb_status tfb__hf_read(hf_loader *L, const hf_src *src, float **out);
/* Store floats data [rows, cols] (or [cols] when rows == 0) under canon, converted to dt;
 * consumes data in every case. label names the source file in messages. */
tfb_status tfb__hf_store(hf_loader *L, const char *label, const char *canon, tfb_dtype dt, int64_t rows, int64_t cols,
                         float *data);
/* Load the first present of names into canon. A missing tensor is an error naming the first
 * candidate; a present one must have exactly the shape the config implies. */
tfb_status tfb__hf_take(hf_loader *L, const char *canon, enum hf_kind kind, int64_t d0, int64_t d1,
                        const char *const *names, int n);
/* A stored copy (name) of a tensor the config ties to the already loaded F32 canon: when
 * present, it must hold exactly the same values (then it counts as used); else the checkpoint
 * computes something the config does not say, and the load fails. */
tfb_status tfb__hf_tied_copy(hf_loader *L, const char *name, const char *canon);
/* snprintf into a fixed name buffer; names are short and built from bounded layer indices. */
const char *tfb__hf_fmt(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Each class's mapping (hf_map.c), and its list of tensors a file may carry that the model does
 * not use (buffers, poolers, fixed tables): true when name is one of them. */
tfb_status tfb__hf_map_gpt2(hf_loader *L);
tfb_status tfb__hf_map_bert(hf_loader *L);
tfb_status tfb__hf_map_marian(hf_loader *L);
tfb_status tfb__hf_map_llama(hf_loader *L);
tfb_status tfb__hf_map_t5(hf_loader *L);
bool tfb__hf_llama_inv_freq_ok(hf_loader *L, const tfb__st_file *f, const tfb__st_tensor *t);
bool tfb__hf_ignorable(hf_loader *L, tfb__hf_family fam, const tfb__st_file *f, const tfb__st_tensor *t);

#endif
