/* OpenCL error codes to names, and the one place API failures become a tfb_status. */
#include <string.h>

#include "cl_internal.h"

#define TFB_CL_ERROR_MAP(X)                                                                         \
    X(CL_DEVICE_NOT_FOUND) X(CL_DEVICE_NOT_AVAILABLE) X(CL_COMPILER_NOT_AVAILABLE)                  \
    X(CL_MEM_OBJECT_ALLOCATION_FAILURE) X(CL_OUT_OF_RESOURCES) X(CL_OUT_OF_HOST_MEMORY)             \
    X(CL_PROFILING_INFO_NOT_AVAILABLE) X(CL_MEM_COPY_OVERLAP) X(CL_IMAGE_FORMAT_MISMATCH)           \
    X(CL_IMAGE_FORMAT_NOT_SUPPORTED) X(CL_BUILD_PROGRAM_FAILURE) X(CL_MAP_FAILURE)                  \
    X(CL_MISALIGNED_SUB_BUFFER_OFFSET) X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)              \
    X(CL_COMPILE_PROGRAM_FAILURE) X(CL_LINKER_NOT_AVAILABLE) X(CL_LINK_PROGRAM_FAILURE)             \
    X(CL_DEVICE_PARTITION_FAILED) X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) X(CL_INVALID_VALUE)           \
    X(CL_INVALID_DEVICE_TYPE) X(CL_INVALID_PLATFORM) X(CL_INVALID_DEVICE) X(CL_INVALID_CONTEXT)     \
    X(CL_INVALID_QUEUE_PROPERTIES) X(CL_INVALID_COMMAND_QUEUE) X(CL_INVALID_HOST_PTR)               \
    X(CL_INVALID_MEM_OBJECT) X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) X(CL_INVALID_IMAGE_SIZE)         \
    X(CL_INVALID_SAMPLER) X(CL_INVALID_BINARY) X(CL_INVALID_BUILD_OPTIONS) X(CL_INVALID_PROGRAM)    \
    X(CL_INVALID_PROGRAM_EXECUTABLE) X(CL_INVALID_KERNEL_NAME) X(CL_INVALID_KERNEL_DEFINITION)      \
    X(CL_INVALID_KERNEL) X(CL_INVALID_ARG_INDEX) X(CL_INVALID_ARG_VALUE) X(CL_INVALID_ARG_SIZE)     \
    X(CL_INVALID_KERNEL_ARGS) X(CL_INVALID_WORK_DIMENSION) X(CL_INVALID_WORK_GROUP_SIZE)            \
    X(CL_INVALID_WORK_ITEM_SIZE) X(CL_INVALID_GLOBAL_OFFSET) X(CL_INVALID_EVENT_WAIT_LIST)          \
    X(CL_INVALID_EVENT) X(CL_INVALID_OPERATION) X(CL_INVALID_GL_OBJECT) X(CL_INVALID_BUFFER_SIZE)   \
    X(CL_INVALID_MIP_LEVEL) X(CL_INVALID_GLOBAL_WORK_SIZE) X(CL_INVALID_PROPERTY)                   \
    X(CL_INVALID_IMAGE_DESCRIPTOR) X(CL_INVALID_COMPILER_OPTIONS) X(CL_INVALID_LINKER_OPTIONS)      \
    X(CL_INVALID_DEVICE_PARTITION_COUNT)

/* From the cl_khr_icd extension: the loader's answer when no platform is installed. */
#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

const char *tfb__cl_error_name(cl_int err) {
    switch (err) {
#define TFB_CL_ERR_CASE_(e) case e: return #e;
        TFB_CL_ERROR_MAP(TFB_CL_ERR_CASE_)
#undef TFB_CL_ERR_CASE_
    case CL_PLATFORM_NOT_FOUND_KHR: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

tfb_status tfb__cl_fail(cl_int err, const char *call, const char *file, int line) {
    /* Keep only the function name of a stringized call "clFoo(a, b)". */
    size_t len = strcspn(call, "(");
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    tfb_status s = TFB_STATUS_BACKEND;
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES)
        s = TFB_STATUS_DEVICE_NOMEM;
    if (s == TFB_STATUS_DEVICE_NOMEM)
        return tfb_error_set(s, "opencl: %.*s: %s: out of device memory (%s:%d)", (int)len, call,
                             tfb__cl_error_name(err), base, line);
    if (strcmp(tfb__cl_error_name(err), "unknown OpenCL error") == 0)
        return tfb_error_set(s, "opencl: %.*s: OpenCL error %d (%s:%d)", (int)len, call, (int)err, base, line);
    return tfb_error_set(s, "opencl: %.*s: %s (%s:%d)", (int)len, call, tfb__cl_error_name(err), base, line);
}
