/* The embedded OpenCL C sources (generated into the build tree from kernels/opencl/NAME.cl). */
#ifndef TFB_BACKENDS_OPENCL_SOURCES_H
#define TFB_BACKENDS_OPENCL_SOURCES_H

#include <stddef.h>

typedef struct tfb_cl_source {
    const char *name;           /* "matmul.cl" */
    const unsigned char *text;  /* NUL-terminated */
    const size_t *len;          /* bytes without the NUL */
} tfb_cl_source;

/* In program order: common.cl first. */
extern const tfb_cl_source tfb_cl_sources[];
extern const int tfb_cl_n_sources;

#endif
