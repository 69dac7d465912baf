/* The reference backend: host memory, one plain kernel per op (ops.c). The oracle. */
/* MAP_ANONYMOUS is not in POSIX.1-2008. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "reference/ops.h"
#include "tfbench/backend.h"

static bool ref_probe(char *why, size_t why_len) {
    (void)why;
    (void)why_len;
    return true;
}

typedef struct ref_ctx {
    bool act_q8; /* round q8_0/q4_0 matmul activations (tfb_backend_opts.act_q8) */
} ref_ctx;

static tfb_status ref_init(const tfb_backend_opts *opts, void **ctx) {
    ref_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return tfb_error_set(TFB_STATUS_NOMEM, "reference: out of memory");
    c->act_q8 = opts && opts->act_q8;
    *ctx = c;
    return TFB_STATUS_OK;
}

static void ref_free(void *ctx) {
    free(ctx);
}

static void ref_device_info(void *ctx, tfb_device_info *info) {
    (void)ctx;
    snprintf(info->device, sizeof info->device, "host CPU");
    snprintf(info->api, sizeof info->api, "C11");
    snprintf(info->library, sizeof info->library, "tfbench reference (double accumulation, libm)");
}

/* Every op of graph.h, every weight dtype, no size limit: the oracle must be able to check anything
 * another backend claims. Still a list: an op added to graph.h is unsupported until written here. */
static bool ref_supports(void *ctx, const tfb_node *n) {
    (void)ctx;
    switch (n->op) {
    case TFB_OP_MATMUL: /* f32, f16, bf16, q8_0, q4_0: all dequantized by the one quantizer */
    case TFB_OP_ATTENTION: /* grouped-query attention and a relative bias too */
    case TFB_OP_ROPE: return true;
    default: return tfb_op_is_rowwise(n->op);
    }
}

/* Anonymous mappings: zeroed, page aligned, and only the pages a graph touches cost anything
 * (the activation arena is sized for the whole context but a decode step uses a few rows). */
static tfb_status ref_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    (void)ctx;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return tfb_error_set(TFB_STATUS_NOMEM, "reference: cannot allocate %zu bytes", size);
    buf->host = p;
    buf->handle = p;
    return TFB_STATUS_OK;
}

static void ref_buffer_free(void *ctx, tfb_buffer *buf) {
    (void)ctx;
    munmap(buf->host, buf->size);
}

static tfb_status ref_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    (void)ctx;
    memcpy((char *)tfb_tensor_host(t) + off, src, n);
    return TFB_STATUS_OK;
}

static tfb_status ref_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    (void)ctx;
    memcpy(dst, (const char *)tfb_tensor_host(t) + off, n);
    return TFB_STATUS_OK;
}

static tfb_status ref_compute(void *ctx, tfb_graph *g) {
    const ref_ctx *c = ctx;
    for (int i = 0; i < g->n_nodes; i++)
        TFB_TRY(tfb__ref_node(g, &g->nodes[i], c->act_q8));
    return TFB_STATUS_OK;
}

static tfb_status ref_synchronize(void *ctx) {
    (void)ctx;
    return TFB_STATUS_OK;
}

const tfb_backend_i tfb_backend_reference = {
    .name = "reference",
    .act_q8 = true,
    .probe = ref_probe,
    .init = ref_init,
    .free = ref_free,
    .device_info = ref_device_info,
    .supports = ref_supports,
    .buffer_alloc = ref_buffer_alloc,
    .buffer_free = ref_buffer_free,
    .upload = ref_upload,
    .download = ref_download,
    .compute = ref_compute,
    .synchronize = ref_synchronize,
};
