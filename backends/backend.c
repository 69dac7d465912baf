/* The public tfb_backend_* wrappers: argument checks and defaults for optional slots. */
#include <stdlib.h>
#include <string.h>

#include "tfbench/backend.h"

tfb_status tfb_backend_init(const tfb_backend_i *iface, const tfb_backend_opts *opts, tfb_backend **out) {
    *out = NULL;
    char why[256] = "";
    if (!iface->probe(why, sizeof why))
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "%s: unavailable: %s", iface->name, why);
    tfb_backend *b = calloc(1, sizeof *b);
    if (!b)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory", iface->name);
    b->iface = iface;
    if (opts)
        b->opts = *opts;
    tfb_status s = iface->init(&b->opts, &b->ctx);
    if (s != TFB_STATUS_OK) {
        free(b);
        return s;
    }
    *out = b;
    return TFB_STATUS_OK;
}

void tfb_backend_free(tfb_backend *b) {
    if (!b)
        return;
    b->iface->free(b->ctx);
    free(b);
}

/* A MATMUL whose activations act_q8 would round, on a backend that cannot. */
static bool act_q8_refused(const tfb_backend *b, const tfb_node *n) {
    return b->opts.act_q8 && !b->iface->act_q8 && n->op == TFB_OP_MATMUL &&
           (n->in[1]->dtype == TFB_DTYPE_Q8_0 || n->in[1]->dtype == TFB_DTYPE_Q4_0);
}

bool tfb_backend_supports(tfb_backend *b, const tfb_node *n) {
    return tfb_node_well_formed(n) && !act_q8_refused(b, n) && b->iface->supports(b->ctx, n);
}

tfb_status tfb_backend_buffer_alloc(tfb_backend *b, size_t size, tfb_buffer **out) {
    *out = NULL;
    tfb_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return tfb_error_set(TFB_STATUS_NOMEM, "%s: out of host memory", b->iface->name);
    buf->backend = b;
    buf->size = size;
    tfb_status s = b->iface->buffer_alloc(b->ctx, size ? size : 64, buf);
    if (s != TFB_STATUS_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    return TFB_STATUS_OK;
}

void tfb_backend_buffer_free(tfb_backend *b, tfb_buffer *buf) {
    if (!buf)
        return;
    b->iface->buffer_free(b->ctx, buf);
    free(buf);
}

static tfb_status check_range(tfb_backend *b, const tfb_tensor *t, size_t off, size_t n) {
    if (!t->buf)
        return tfb_error_set(TFB_STATUS_INTERNAL, "%s: tensor %s has no storage", b->iface->name, t->name);
    if (off + n > tfb_tensor_nbytes(t) || t->offset + off + n > t->buf->size)
        return tfb_error_set(TFB_STATUS_INTERNAL, "%s: copy of %zu bytes at %zu outside tensor %s",
                             b->iface->name, n, off, t->name);
    return TFB_STATUS_OK;
}

tfb_status tfb_backend_upload(tfb_backend *b, tfb_tensor *t, const void *src, size_t off, size_t n) {
    TFB_TRY(check_range(b, t, off, n));
    return b->iface->upload(b->ctx, t, src, off, n);
}

tfb_status tfb_backend_download(tfb_backend *b, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    TFB_TRY(check_range(b, t, off, n));
    return b->iface->download(b->ctx, t, dst, off, n);
}

tfb_status tfb_backend_compute(tfb_backend *b, tfb_graph *g) {
    if (g->params.n_rows < 1 || g->params.n_rows > g->max_rows)
        return tfb_error_set(TFB_STATUS_INTERNAL, "%s: %lld rows outside [1, %lld]", b->iface->name,
                             (long long)g->params.n_rows, (long long)g->max_rows);
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op == TFB_OP_MATMUL && act_q8_refused(b, n))
            return tfb_error_set(TFB_STATUS_UNSUPPORTED, "%s: matmul %s: act_q8 (8-bit activations) not offered",
                                 b->iface->name, n->out->name);
    }
    return b->iface->compute(b->ctx, g);
}

tfb_status tfb_backend_synchronize(tfb_backend *b) {
    return b->iface->synchronize(b->ctx);
}

double tfb_backend_last_device_time(tfb_backend *b) {
    return b->iface->last_device_time ? b->iface->last_device_time(b->ctx) : -1.0;
}

bool tfb_backend_op_profile(tfb_backend *b, bool on, double *secs) {
    return b->iface->op_profile ? b->iface->op_profile(b->ctx, on, secs) : false;
}

void tfb_backend_device_info(tfb_backend *b, tfb_device_info *info) {
    memset(info, 0, sizeof *info);
    info->mem_total = -1;
    info->mem_used = -1;
    b->iface->device_info(b->ctx, info);
}
