/* GGUF files read without loading a model: the metadata and the tensor table (`tfbench gguf-info`).
 * The file is treated as hostile (every length, count, offset and type is checked when it is opened;
 * see models/formats/gguf.c); a model is loaded from one with tfb_model_load_gguf (model.h). */
#ifndef TFBENCH_GGUF_H
#define TFBENCH_GGUF_H

#include <stdbool.h>
#include <stdint.h>

#include "tfbench/status.h"
#include "tfbench/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types, numbered as the format numbers them. */
typedef enum tfb_gguf_type {
    TFB_GGUF_UINT8 = 0,
    TFB_GGUF_INT8 = 1,
    TFB_GGUF_UINT16 = 2,
    TFB_GGUF_INT16 = 3,
    TFB_GGUF_UINT32 = 4,
    TFB_GGUF_INT32 = 5,
    TFB_GGUF_FLOAT32 = 6,
    TFB_GGUF_BOOL = 7,
    TFB_GGUF_STRING = 8,
    TFB_GGUF_ARRAY = 9,
    TFB_GGUF_UINT64 = 10,
    TFB_GGUF_INT64 = 11,
    TFB_GGUF_FLOAT64 = 12,
    TFB_GGUF_TYPE_COUNT
} tfb_gguf_type;

/* A string from the file: len bytes at s, NUL-terminated after them (s may hold NULs itself). */
typedef struct tfb_gguf_str {
    uint64_t len;
    char *s;
} tfb_gguf_str;

/* One metadata value. Integers are widened (u for unsigned types and bool, i for signed), floats to
 * double (a float32 is exact in it). An array holds n values of one element type. */
typedef struct tfb_gguf_value {
    tfb_gguf_type type;
    union {
        uint64_t u;
        int64_t i;
        double f;
        tfb_gguf_str str;
        struct {
            tfb_gguf_type type;
            uint64_t n;
            struct tfb_gguf_value *v; /* [n] */
        } arr;
    };
} tfb_gguf_value;

/* An opened file; everything it hands out stays owned by it until tfb_gguf_close. */
typedef struct tfb_gguf tfb_gguf_t;

typedef struct tfb_gguf_header {
    uint32_t version;    /* 2 or 3 */
    uint32_t alignment;  /* general.alignment or 32 */
    uint64_t data_start; /* file offset of the data section */
    uint64_t data_size;  /* bytes from data_start to the end of the file */
    int64_t n_kv, n_tensors;
} tfb_gguf_header;

typedef struct tfb_gguf_tensor_info {
    const tfb_gguf_str *name;
    int n_dims;
    int64_t ne[4];      /* ne[0] innermost (a row), unused dims 1 */
    uint32_t ggml_type; /* the file's number: tfb_gguf_ggml_name says what it is */
    uint64_t offset;    /* within the data section */
    uint64_t nbytes;
} tfb_gguf_tensor_info;

/* Open and fully validate path; errors are "<path>: <what>" (INPUT for malformed content, IO for an
 * unreadable file). The caller closes *out with tfb_gguf_close. */
tfb_status tfb_gguf_open(const char *path, tfb_gguf_t **out);
void tfb_gguf_close(tfb_gguf_t *g);
void tfb_gguf_get_header(const tfb_gguf_t *g, tfb_gguf_header *out);
/* Metadata entry i (file order, 0 <= i < n_kv): its key and value. */
const tfb_gguf_str *tfb_gguf_key(const tfb_gguf_t *g, int64_t i);
const tfb_gguf_value *tfb_gguf_value_of(const tfb_gguf_t *g, int64_t i);
/* Tensor i (file order, 0 <= i < n_tensors). */
void tfb_gguf_tensor(const tfb_gguf_t *g, int64_t i, tfb_gguf_tensor_info *out);
/* "UINT8", ..., "ARRAY"; "?" for an unknown number. */
const char *tfb_gguf_type_name(tfb_gguf_type t);
/* ggml type names ("F32", "Q4_0", "Q6_K", ...), or NULL for a number ggml does not define. */
const char *tfb_gguf_ggml_name(uint32_t ggml_type);
/* The tfbench dtype a ggml type runs as with no conversion (F32, F16, BF16, Q8_0, Q4_0, I32); false
 * for any other (Q4_K, Q6_K, ...): refused by a model load, or converted with --gguf-convert. */
bool tfb_gguf_ggml_dtype(uint32_t ggml_type, tfb_dtype *out);

#ifdef __cplusplus
}
#endif
#endif
