/* Internal: a GGUF reader that treats every file as hostile (its public face: include/tfbench/gguf.h,
 * gguf_public.c).
 *
 * Layout (GGUF versions 2 and 3, little-endian only): "GGUF", uint32 version, uint64 tensor count,
 * uint64 metadata count; the metadata (key string, uint32 value type, value); the tensor info table
 * (name string, uint32 n_dims, uint64 dims[n_dims], uint32 ggml type, uint64 offset); padding to
 * `general.alignment` (default 32); the data section. Strings are uint64 length + bytes (no NUL).
 *
 * Everything is checked before use: every length and count against the bytes left in the file
 * (so no allocation is larger than the file), nesting of arrays, key and tensor name uniqueness,
 * value and ggml types, the alignment (a power of two, bounded), dims (at most 4, product
 * overflow-checked, the row a whole number of blocks), and every tensor's offset (aligned) and
 * byte range against the data section. Every error is "<label>: <what>" through tfb_error_set,
 * with TFB_STATUS_INPUT for malformed content and TFB_STATUS_IO for unreadable files. */
#ifndef TFBENCH_MODELS_FORMATS_GGUF_H
#define TFBENCH_MODELS_FORMATS_GGUF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tfbench/gguf.h"
#include "tfbench/tensor.h"

#define TFB_GGUF_MAX_DIMS          4
#define TFB_GGUF_DEFAULT_ALIGNMENT 32u
/* general.alignment above this is refused (llama.cpp writes 32; 64 KiB leaves room for page alignment). */
#define TFB_GGUF_MAX_ALIGNMENT 65536u
/* Tensor names are at most this many bytes (ggml's GGML_MAX_NAME is 64 with the NUL). */
#define TFB_GGUF_MAX_NAME 63u
/* Key names are at most this many bytes (the GGUF specification's limit). */
#define TFB_GGUF_MAX_KEY 65535u
/* Arrays nest at most this deep (real files nest none; the format allows any). */
#define TFB_GGUF_MAX_DEPTH 4

/* The value types are public (include/tfbench/gguf.h); the reader names them as its own. */
typedef tfb_gguf_type tfb__gguf_type;
typedef tfb_gguf_str tfb__gguf_str;
typedef tfb_gguf_value tfb__gguf_value;

typedef struct tfb__gguf_kv {
    tfb__gguf_str key;
    tfb__gguf_value val;
} tfb__gguf_kv;

/* One tensor descriptor. ggml_type is the file's number; name_of / size_of below say what it is. */
typedef struct tfb__gguf_tensor {
    tfb__gguf_str name;
    int n_dims;
    int64_t ne[TFB_GGUF_MAX_DIMS]; /* ne[0] innermost (a row), unused dims 1 */
    uint32_t ggml_type;
    uint64_t offset; /* within the data section, a multiple of the alignment */
    uint64_t nbytes; /* ne[0]/block * type size * ne[1]*ne[2]*ne[3] */
} tfb__gguf_tensor;

/* An opened file (or memory buffer). kv and t are in file order; lookups go through sorted indexes. */
typedef struct tfb__gguf_file {
    char *label;         /* file path or caller's label, for messages; owned */
    FILE *fp;            /* file-backed: open stream; NULL when memory-backed */
    const uint8_t *mem;  /* memory-backed: the whole buffer (not owned); NULL when file-backed */
    uint32_t version;    /* 2 or 3 */
    uint32_t alignment;  /* general.alignment or 32 */
    uint64_t data_start; /* file offset of the data section (aligned) */
    uint64_t data_size;  /* bytes from data_start to the end of the file */
    tfb__gguf_kv *kv;    /* [n_kv] */
    int64_t n_kv;
    tfb__gguf_tensor *t; /* [n_t] */
    int64_t n_t;
    int64_t *kv_sorted; /* [n_kv] indexes of kv by key */
    int64_t *t_sorted;  /* [n_t] indexes of t by name */
} tfb__gguf_file;

/* "UINT8", ..., "ARRAY"; "?" for an unknown number. */
const char *tfb__gguf_type_name(tfb__gguf_type t);
/* ggml type names ("F32", "Q4_0", "Q6_K", ...), or NULL for a number ggml does not define. */
const char *tfb__gguf_ggml_name(uint32_t ggml_type);
/* Elements per block and bytes per block of a ggml type (0 for an unknown one). */
int tfb__gguf_ggml_block(uint32_t ggml_type, int *block_bytes);
/* The tfbench dtype a ggml type is stored as with no conversion (F32, F16, BF16, Q8_0, Q4_0, I32);
 * false for any other type (Q4_K, Q6_K, ...), which a loader must refuse or convert. */
bool tfb__gguf_ggml_dtype(uint32_t ggml_type, tfb_dtype *out);

/* Open and fully validate a file. On failure *out is left empty (nothing to close). */
tfb_status tfb__gguf_open(const char *path, tfb__gguf_file *out);
/* The same from memory: buf holds a whole file and must outlive the result; label names it. */
tfb_status tfb__gguf_open_mem(const char *label, const void *buf, size_t size, tfb__gguf_file *out);
/* Release everything; safe on an empty (zeroed) file. */
void tfb__gguf_close(tfb__gguf_file *f);

/* The entry of `key`, or NULL. */
const tfb__gguf_kv *tfb__gguf_find_key(const tfb__gguf_file *f, const char *key);
/* Typed reads of `key`. Missing keys and type mismatches fail with INPUT naming the key and both
 * types. get_u64 takes any unsigned integer type (and signed ones holding a value >= 0), get_i64
 * any integer type that fits, get_f64 FLOAT32 or FLOAT64. The string stays owned by f. */
tfb_status tfb__gguf_get_u64(const tfb__gguf_file *f, const char *key, uint64_t *out);
tfb_status tfb__gguf_get_i64(const tfb__gguf_file *f, const char *key, int64_t *out);
tfb_status tfb__gguf_get_f64(const tfb__gguf_file *f, const char *key, double *out);
tfb_status tfb__gguf_get_bool(const tfb__gguf_file *f, const char *key, bool *out);
tfb_status tfb__gguf_get_str(const tfb__gguf_file *f, const char *key, const tfb__gguf_str **out);
/* An array whose elements are of type elem; *v points at its n values (owned by f). */
tfb_status tfb__gguf_get_arr(const tfb__gguf_file *f, const char *key, tfb__gguf_type elem, uint64_t *n,
                             const tfb__gguf_value **v);

/* The descriptor of tensor `name`, or NULL. */
const tfb__gguf_tensor *tfb__gguf_find_tensor(const tfb__gguf_file *f, const char *name);
/* Copy tensor t's bytes as stored (blocks kept) into dst, which holds n >= t->nbytes bytes. */
tfb_status tfb__gguf_read(tfb__gguf_file *f, const tfb__gguf_tensor *t, void *dst, size_t n);

#endif
