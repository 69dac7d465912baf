/* The kernel program: the embedded sources (kernels/opencl/NAME.cl, concatenated in program order) are
 * built once per backend for its device, and every kernel is created once; a build failure returns
 * the device's build log in the error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/opencl/cl_sources.h"
#include "cl_internal.h"

static const char *const kernel_names[TFB_CLK_COUNT] = {
#define TFB_CL_KNAME_(id, name) name,
    TFB_CL_KERNEL_MAP(TFB_CL_KNAME_)
#undef TFB_CL_KNAME_
};

/* CL_BUILD_PROGRAM_FAILURE: the message carries as much of the build log as fits. */
static tfb_status build_failure(tfb_cl *cl, cl_int err) {
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS &&
        (log = calloc(1, len + 1)) != NULL)
        clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, len, log, NULL);
    tfb_status s = tfb_error_set(TFB_STATUS_BACKEND, "opencl: clBuildProgram: %s; build log:\n%s",
                                 tfb__cl_error_name(err), log && log[0] ? log : "(empty)");
    free(log);
    return s;
}

tfb_status tfb__cl_program_build(tfb_cl *cl) {
    const char *texts[16];
    size_t lens[16];
    TFB_ASSERT(tfb_cl_n_sources <= 16);
    for (int i = 0; i < tfb_cl_n_sources; i++) {
        texts[i] = (const char *)tfb_cl_sources[i].text;
        lens[i] = *tfb_cl_sources[i].len;
    }
    cl_int err;
    cl->program = clCreateProgramWithSource(cl->context, (cl_uint)tfb_cl_n_sources, texts, lens, &err);
    CL_CHECK_ERR(err, "clCreateProgramWithSource");
    /* Strict IEEE float (no -cl-fast-relaxed-math): the results are compared with the reference. */
    err = clBuildProgram(cl->program, 1, &cl->device, "-cl-std=CL1.2", NULL, NULL);
    if (err == CL_BUILD_PROGRAM_FAILURE)
        return build_failure(cl, err);
    CL_CHECK_ERR(err, "clBuildProgram");
    for (int k = 0; k < TFB_CLK_COUNT; k++) {
        cl->kernels[k] = clCreateKernel(cl->program, kernel_names[k], &err);
        if (err != CL_SUCCESS)
            return tfb__cl_fail(err, "clCreateKernel", __FILE__, __LINE__);
    }
    return TFB_STATUS_OK;
}

void tfb__cl_program_free(tfb_cl *cl) {
    for (int k = 0; k < TFB_CLK_COUNT; k++)
        if (cl->kernels[k]) {
            clReleaseKernel(cl->kernels[k]);
            cl->kernels[k] = NULL;
        }
    if (cl->program) {
        clReleaseProgram(cl->program);
        cl->program = NULL;
    }
}
