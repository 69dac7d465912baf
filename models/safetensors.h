/* Internal: a safetensors reader that treats every file as hostile.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON, then the data section. The JSON
 * maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
 * data section) plus an optional "__metadata__" object, which is ignored.
 *
 * Everything is checked before use: the header length against the file size and a cap, the JSON,
 * every dtype, shape (overflow-checked) and offset pair against the data size and the dtype size,
 * duplicate names and overlapping byte ranges. Every error is "<label>: <what>" through
 * tfb_error_set, with TFB_STATUS_INPUT for malformed content and TFB_STATUS_IO for unreadable
 * files. */
#ifndef TFBENCH_MODELS_SAFETENSORS_H
#define TFBENCH_MODELS_SAFETENSORS_H

#include <stdint.h>
#include <stdio.h>

#include "tfbench/tensor.h"

/* Headers larger than this are refused (real ones are a few hundred KB). */
#define TFB_ST_HEADER_MAX (100u * 1024u * 1024u)
/* Dims a safetensors shape may have (tfbench itself uses up to TFB_MAX_DIMS). */
#define TFB_ST_MAX_DIMS 8

/* Every dtype the safetensors format defines; only F32, F16 and BF16 can be read as floats. */
typedef enum tfb__st_dtype {
    TFB_ST_F32,
    TFB_ST_F16,
    TFB_ST_BF16,
    TFB_ST_F64,
    TFB_ST_I64,
    TFB_ST_I32,
    TFB_ST_I16,
    TFB_ST_I8,
    TFB_ST_U64,
    TFB_ST_U32,
    TFB_ST_U16,
    TFB_ST_U8,
    TFB_ST_BOOL,
    TFB_ST_F8_E4M3,
    TFB_ST_F8_E5M2,
    TFB_ST_DTYPE_COUNT
} tfb__st_dtype;

/* One tensor's descriptor. name is owned by the file. */
typedef struct tfb__st_tensor {
    char *name;
    tfb__st_dtype dtype;
    int ndim;
    int64_t shape[TFB_ST_MAX_DIMS];
    int64_t nelements;   /* product of shape (1 for a scalar) */
    uint64_t begin, end; /* byte range within the data section */
} tfb__st_tensor;

/* An opened file (or memory buffer): descriptors sorted by name, and where the data lives. */
typedef struct tfb__st_file {
    char *label;         /* file path or caller's label, for messages; owned */
    FILE *fp;            /* file-backed: open stream; NULL when memory-backed */
    const uint8_t *mem;  /* memory-backed: the data section (not owned); NULL when file-backed */
    uint64_t data_start; /* file offset of the data section (8 + N) */
    uint64_t data_size;  /* bytes in the data section */
    tfb__st_tensor *t;   /* [n], sorted by name */
    int64_t n;
} tfb__st_file;

/* "F32", "BF16", ...; never NULL. */
const char *tfb__st_dtype_name(tfb__st_dtype t);
/* Bytes per element. */
int tfb__st_dtype_size(tfb__st_dtype t);

/* Open and fully validate a file. On failure *out is left empty (nothing to close). */
tfb_status tfb__st_open(const char *path, tfb__st_file *out);
/* The same from memory: buf holds a whole file (header length, header, data). buf must outlive
 * the result; label names it in messages. */
tfb_status tfb__st_parse_mem(const char *label, const void *buf, size_t size, tfb__st_file *out);
/* Release everything; safe on an empty (zeroed) file. */
void tfb__st_close(tfb__st_file *f);

/* The descriptor of `name`, or NULL. */
const tfb__st_tensor *tfb__st_find(const tfb__st_file *f, const char *name);
/* Read tensor t (one of f's) converted to float32 into dst [t->nelements]. Fails with INPUT
 * naming the tensor and dtype when the dtype is not F32/F16/BF16, IO on a short read. */
tfb_status tfb__st_read_f32(tfb__st_file *f, const tfb__st_tensor *t, float *dst);

/* Copy s into buf (size n) for a message: at most n-1 bytes, non-printable bytes as '?', and a
 * trailing "..." when cut. Returns buf. */
const char *tfb__st_clean(const char *s, char *buf, size_t n);

#endif
