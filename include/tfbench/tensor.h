/* tfbench tensors: dtype, up to 4 dims (row-major, last dim contiguous), storage in a backend buffer. */
#ifndef TFBENCH_TENSOR_H
#define TFBENCH_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tfbench/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tfb_dtype {
    TFB_DTYPE_F32,
    TFB_DTYPE_F16,
    TFB_DTYPE_BF16,
    TFB_DTYPE_Q8_0, /* GGUF block: fp16 scale d, 32 x int8 q; x = d*q */
    TFB_DTYPE_Q4_0, /* GGUF block: fp16 scale d, 16 bytes; x = d*(nibble-8); low nibbles are
                       elements 0..15, high nibbles 16..31 */
    TFB_DTYPE_I32,
    TFB_DTYPE_COUNT
} tfb_dtype;

#define TFB_QK 32 /* elements per quantized block */

typedef struct tfb_block_q8_0 {
    uint16_t d; /* fp16 bits */
    int8_t qs[TFB_QK];
} tfb_block_q8_0;

typedef struct tfb_block_q4_0 {
    uint16_t d; /* fp16 bits */
    uint8_t qs[TFB_QK / 2];
} tfb_block_q4_0;

_Static_assert(sizeof(tfb_block_q8_0) == 34, "q8_0 block is 34 bytes");
_Static_assert(sizeof(tfb_block_q4_0) == 18, "q4_0 block is 18 bytes");

/* "f32", "f16", "bf16", "q8_0", "q4_0", "i32" */
const char *tfb_dtype_name(tfb_dtype t);
/* Parse a name; returns false if unknown. */
bool tfb_dtype_parse(const char *name, tfb_dtype *out);
/* A dtype weights can be stored in (every one but i32): MATMUL's in[1]. */
bool tfb_dtype_is_weight(tfb_dtype t);
/* Elements per block (1 for plain types, 32 for q8_0/q4_0) and bytes per block. */
int tfb_dtype_block_elems(tfb_dtype t);
size_t tfb_dtype_block_bytes(tfb_dtype t);
/* Bytes of a row of n elements; n must be a multiple of the block size. */
size_t tfb_dtype_row_bytes(tfb_dtype t, int64_t n);

/* A backend buffer: opaque to everyone but its backend. `host` is a host pointer to the start of
 * the buffer when the backend's memory is host memory (reference, simd, onednn), else NULL. */
typedef struct tfb_buffer {
    struct tfb_backend *backend; /* the backend that owns it */
    void *handle;                /* backend-private (a VkBuffer, a cl_mem, ...) */
    void *host;                  /* host address or NULL */
    size_t size;
} tfb_buffer;

#define TFB_MAX_DIMS 4
#define TFB_NAME_MAX 64

typedef struct tfb_tensor {
    char name[TFB_NAME_MAX];
    tfb_dtype dtype;
    int ndim;
    int64_t shape[TFB_MAX_DIMS]; /* shape[ndim-1] is contiguous */
    /* Activations have a row count set per compute call (tokens in this step): dyn_rows marks
     * that shape[0] is the maximum, and the actual count is the graph's n_rows. */
    bool dyn_rows;
    bool keep;       /* graph activations: read by the caller after compute (tfb_graph_keep) */
    tfb_buffer *buf; /* storage; NULL until allocated */
    size_t offset;   /* byte offset into buf */
} tfb_tensor;

/* Elements and bytes at the full (maximum) shape. */
int64_t tfb_tensor_nelements(const tfb_tensor *t);
size_t tfb_tensor_nbytes(const tfb_tensor *t);
/* Elements in one row (product of all dims but the first) and rows (shape[0]). */
int64_t tfb_tensor_row_elems(const tfb_tensor *t);
/* Host address of the tensor's data, or NULL when its buffer is not host memory. */
void *tfb_tensor_host(const tfb_tensor *t);

/* fp16 / bf16 conversions (round to nearest even; NaN and inf preserved). */
float tfb_f16_to_f32(uint16_t h);
uint16_t tfb_f32_to_f16(float f);
float tfb_bf16_to_f32(uint16_t h);
uint16_t tfb_f32_to_bf16(float f);

/* The one quantizer, shared by every backend: n floats (n % 32 == 0 for q8_0/q4_0) to `dst` in
 * dtype t (f32, f16, bf16, q8_0, q4_0). dst must hold tfb_dtype_row_bytes(t, n). */
void tfb_quantize_row(tfb_dtype t, const float *src, void *dst, int64_t n);
/* The inverse: n elements of dtype t to floats. */
void tfb_dequantize_row(tfb_dtype t, const void *src, float *dst, int64_t n);

/* Activation rounding, the numerics of tfb_backend_opts.act_q8 (llama.cpp's way of running quantized
 * weights: the activations go to 8 bits as well, so the dot products are integer). n floats
 * (n % 32 == 0) in blocks of 32, each to an f32 scale d = amax/127 (amax the largest |x| in the block)
 * and int8 q = round-half-to-even(x/d), all in f32, so that x ~ d*q; a block whose d is 0 gets q = 0.
 * Written once here: every backend that offers act_q8 must produce exactly these q and d (a division,
 * not a multiply by 1/d, and no other rounding), so its dot products differ from the reference's only in
 * the order of the f32 sums. Non-finite x give unspecified q. d has n/32 entries. */
void tfb_quantize_act_q8(const float *x, int64_t n, int8_t *q, float *d);

#ifdef __cplusplus
}
#endif
#endif
