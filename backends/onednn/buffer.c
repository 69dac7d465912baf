/* oneDNN buffers are host memory (64-byte aligned), so tfb_buffer.host is set and tensors are
 * wrapped in dnnl_memory objects over that storage. Writing a buffer drops the reordered weight
 * copies made from it. */
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"

tfb_status tfb__dnn_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf);
void tfb__dnn_buffer_free(void *ctx, tfb_buffer *buf);
tfb_status tfb__dnn_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n);
tfb_status tfb__dnn_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n);

tfb_status tfb__dnn_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    (void)ctx;
    size_t rounded = (size + 63) & ~(size_t)63;
    buf->host = aligned_alloc(64, rounded);
    if (!buf->host)
        return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate %zu bytes", size);
    memset(buf->host, 0, rounded);
    buf->handle = buf->host;
    return TFB_STATUS_OK;
}

void tfb__dnn_buffer_free(void *ctx, tfb_buffer *buf) {
    tfb__dnn_weights_drop(ctx, buf);
    free(buf->host);
}

tfb_status tfb__dnn_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    tfb__dnn_weights_drop(ctx, t->buf);
    memcpy((char *)tfb_tensor_host(t) + off, src, n);
    return TFB_STATUS_OK;
}

tfb_status tfb__dnn_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    dnn_ctx *c = ctx;
    DNNL_CHECK(dnnl_stream_wait(c->stream));
    memcpy(dst, (const char *)tfb_tensor_host(t) + off, n);
    return TFB_STATUS_OK;
}
