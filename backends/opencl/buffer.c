/* Device buffers: one cl_mem per tfb_buffer; tensors are byte offsets into it. Copies are blocking,
 * so the host memory passed to upload may be freed as soon as it returns. */
#include "cl_internal.h"

cl_mem tfb__cl_mem(const tfb_tensor *t) {
    return (cl_mem)t->buf->handle;
}

tfb_status tfb__cl_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    tfb_cl *cl = ctx;
    cl_int err;
    cl_mem m = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, size, NULL, &err);
    if (err == CL_INVALID_BUFFER_SIZE)
        return tfb_error_set(TFB_STATUS_DEVICE_NOMEM,
                             "opencl: clCreateBuffer: CL_INVALID_BUFFER_SIZE: out of device memory (%zu bytes "
                             "is past the device's largest allocation)",
                             size);
    CL_CHECK_ERR(err, "clCreateBuffer");
    /* Drivers allocate lazily; zero-fill now so an allocation failure surfaces here, not mid-run, and
     * so unwritten memory reads as zeros, as on the host backends. */
    static const cl_uint zero = 0;
    size_t fill = size & ~(size_t)3;
    if (fill) {
        err = clEnqueueFillBuffer(cl->queue, m, &zero, sizeof zero, 0, fill, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clFinish(cl->queue);
        if (err != CL_SUCCESS) {
            clReleaseMemObject(m);
            return tfb__cl_fail(err, "clEnqueueFillBuffer", __FILE__, __LINE__);
        }
    }
    buf->handle = m;
    buf->host = NULL;
    cl->mem_used += size;
    return TFB_STATUS_OK;
}

void tfb__cl_buffer_free(void *ctx, tfb_buffer *buf) {
    tfb_cl *cl = ctx;
    if (!buf->handle)
        return;
    /* Kernels of the last compute may still read it. */
    clFinish(cl->queue);
    tfb__cl_events_release(cl);
    clReleaseMemObject((cl_mem)buf->handle);
    buf->handle = NULL;
    cl->mem_used -= buf->size <= cl->mem_used ? buf->size : cl->mem_used;
}

tfb_status tfb__cl_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    tfb_cl *cl = ctx;
    if (n == 0)
        return TFB_STATUS_OK;
    CL_CHECK(clEnqueueWriteBuffer(cl->queue, tfb__cl_mem(t), CL_TRUE, t->offset + off, n, src, 0, NULL, NULL));
    return TFB_STATUS_OK;
}

tfb_status tfb__cl_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    tfb_cl *cl = ctx;
    if (n == 0)
        return TFB_STATUS_OK;
    CL_CHECK(clEnqueueReadBuffer(cl->queue, tfb__cl_mem(t), CL_TRUE, t->offset + off, n, dst, 0, NULL, NULL));
    return TFB_STATUS_OK;
}
