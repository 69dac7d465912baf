/* Rotary tables on OpenCL: the slots are backends/rope_tables.c's (host cos/sin in double, the
 * kernel only multiplies: double precision is optional in OpenCL, cl_khr_fp64, slow or absent on
 * GPUs); this file keeps each slot's cl_mem.
 *
 * A table replaced or grown while kernels that read it are still queued stays alive until they
 * finish: clReleaseMemObject defers the deletion until the commands using the object complete. */
#include "cl_internal.h"

static void drop(void *ctx, int k) {
    tfb_cl *cl = ctx;
    if (cl->rope_mem[k])
        clReleaseMemObject(cl->rope_mem[k]);
    cl->rope_mem[k] = NULL;
}

static tfb_status store(void *ctx, int k, const float *table, size_t bytes) {
    tfb_cl *cl = ctx;
    drop(cl, k);
    cl_int err;
    /* COPY_HOST_PTR copies at creation, so the host table can go right away. */
    cl->rope_mem[k] = clCreateBuffer(cl->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)table, &err);
    if (err != CL_SUCCESS)
        cl->rope_mem[k] = NULL;
    CL_CHECK_ERR(err, "clCreateBuffer");
    return TFB_STATUS_OK;
}

static const tfb_rope_dev cl_rope_dev = {.name = "opencl", .store = store, .drop = drop};

tfb_status tfb__cl_rope_prepare(tfb_cl *cl, const tfb_graph *g) {
    return tfb_rope_tables_prepare(&cl->ropes, g, &cl_rope_dev, cl);
}

void tfb__cl_rope_free(tfb_cl *cl) {
    tfb_rope_tables_free(&cl->ropes, &cl_rope_dev, cl);
}
