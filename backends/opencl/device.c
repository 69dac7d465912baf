/* OpenCL platforms and devices: probe, selection by index or name, init/free, device info, and the
 * backend's vtable. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_internal.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

static bool probe(char *why, size_t why_len) {
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || np == 0) {
        snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs: %s)",
                 err != CL_SUCCESS ? tfb__cl_error_name(err) : "0 platforms");
        return false;
    }
    cl_platform_id plats[MAX_PLATFORMS];
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    err = clGetPlatformIDs(np, plats, NULL);
    if (err != CL_SUCCESS) {
        snprintf(why, why_len, "no OpenCL platform (clGetPlatformIDs: %s)", tfb__cl_error_name(err));
        return false;
    }
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) == CL_SUCCESS && nd > 0)
            return true;
    }
    snprintf(why, why_len, "no OpenCL device on %u platform%s (clGetDeviceIDs: CL_DEVICE_NOT_FOUND)", np,
             np == 1 ? "" : "s");
    return false;
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* Parse "P" or "P:D" (decimal indices); false if spec is not of that form. */
static bool parse_index(const char *spec, long *p, long *d) {
    char *end;
    *p = strtol(spec, &end, 10);
    if (end == spec || *p < 0)
        return false;
    *d = 0;
    if (*end == ':') {
        const char *s = end + 1;
        *d = strtol(s, &end, 10);
        if (end == s || *d < 0)
            return false;
    }
    return *end == '\0';
}

tfb_status tfb__cl_select(const char *spec, cl_platform_id *platform, cl_device_id *device) {
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    CL_CHECK(clGetPlatformIDs(MAX_PLATFORMS, plats, &np));
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    long want_p = 0, want_d = 0;
    bool by_index = !spec || !spec[0] || parse_index(spec, &want_p, &want_d);
    char seen[512] = "";
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) != CL_SUCCESS)
            nd = 0;
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        char pname[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            char dname[256] = "";
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
            bool match = by_index ? ((long)p == want_p && (long)d == want_d)
                                  : (contains_nocase(dname, spec) || contains_nocase(pname, spec));
            if (match) {
                *platform = plats[p];
                *device = devs[d];
                return TFB_STATUS_OK;
            }
            size_t used = strlen(seen);
            snprintf(seen + used, sizeof seen - used, "%s%u:%u %s", used ? ", " : "", p, d, dname);
        }
    }
    return tfb_error_set(TFB_STATUS_UNAVAILABLE, "opencl: no device matches --device '%s' (devices: %s)",
                         spec ? spec : "", seen[0] ? seen : "none");
}

/* ---- init / free ------------------------------------------------------------------------------- */

static void ocl_free(void *ctx) {
    tfb_cl *cl = ctx;
    if (!cl)
        return;
    if (cl->queue)
        clFinish(cl->queue);
    tfb__cl_events_release(cl);
    free(cl->events);
    free(cl->event_op);
    tfb__cl_rope_free(cl);
    tfb__cl_program_free(cl);
    if (cl->queue)
        clReleaseCommandQueue(cl->queue);
    if (cl->context)
        clReleaseContext(cl->context);
    free(cl);
}

static tfb_status init_state(tfb_cl *cl, const tfb_backend_opts *opts) {
    TFB_TRY(tfb__cl_select(opts ? opts->device : NULL, &cl->platform, &cl->device));
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform, 0};
    cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
    CL_CHECK_ERR(err, "clCreateContext");
    /* Profiling events are cheap next to a kernel launch on every driver tried (PoCL), so the queue
     * always has them and last_device_time always answers. */
    cl->profile = true;
    cl->queue = clCreateCommandQueue(cl->context, cl->device, CL_QUEUE_PROFILING_ENABLE, &err);
    CL_CHECK_ERR(err, "clCreateCommandQueue");
    CL_CHECK(clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof cl->max_wg, &cl->max_wg, NULL));
    CL_CHECK(clGetDeviceInfo(cl->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof cl->local_mem, &cl->local_mem, NULL));
    if (cl->max_wg < (size_t)TFB_CL_MM_WG * TFB_CL_MM_WG || cl->max_wg < TFB_CL_WG)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "opencl: device work-group limit %zu < %d", cl->max_wg,
                             TFB_CL_MM_WG * TFB_CL_MM_WG);
    cl_device_type type = 0;
    CL_CHECK(clGetDeviceInfo(cl->device, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    cl->cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    /* CPU devices take the barrier-free kernels (matmul_vec, attention_vec, unary_vec), others the
     * work-group ones. TFBENCH_OPENCL_MATMUL=tiled|vec overrides the choice for all three (benchmarks,
     * tests of both paths; the name predates the attention and activation variants). */
    const char *mm = getenv("TFBENCH_OPENCL_MATMUL");
    if (mm && strcmp(mm, "tiled") == 0)
        cl->cpu = false;
    else if (mm && strcmp(mm, "vec") == 0)
        cl->cpu = true;
    return tfb__cl_program_build(cl);
}

static tfb_status ocl_init(const tfb_backend_opts *opts, void **ctx) {
    *ctx = NULL;
    tfb_cl *cl = calloc(1, sizeof *cl);
    if (!cl)
        return tfb_error_set(TFB_STATUS_NOMEM, "opencl: out of host memory");
    tfb_status s = init_state(cl, opts);
    if (s != TFB_STATUS_OK) {
        ocl_free(cl);
        return s;
    }
    *ctx = cl;
    return TFB_STATUS_OK;
}

/* ---- device info ------------------------------------------------------------------------------- */

static bool has_ext(const char *exts, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(exts, name); p; p = strstr(p + 1, name))
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static void ocl_device_info(void *ctx, tfb_device_info *info) {
    tfb_cl *cl = ctx;
    char pname[128] = "", pver[128] = "", dname[128] = "", dver[128] = "", drv[128] = "", cver[64] = "";
    clGetPlatformInfo(cl->platform, CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    clGetPlatformInfo(cl->platform, CL_PLATFORM_VERSION, sizeof pver, pver, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_NAME, sizeof dname, dname, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_VERSION, sizeof dver, dver, NULL);
    clGetDeviceInfo(cl->device, CL_DRIVER_VERSION, sizeof drv, drv, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_OPENCL_C_VERSION, sizeof cver, cver, NULL);
    size_t ext_len = 0;
    char *exts = NULL;
    if (clGetDeviceInfo(cl->device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS &&
        (exts = calloc(1, ext_len + 1)) != NULL)
        clGetDeviceInfo(cl->device, CL_DEVICE_EXTENSIONS, ext_len, exts, NULL);
    cl_uint cu = 0;
    cl_ulong gmem = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
    snprintf(info->device, sizeof info->device, "%s (%s)", dname, pname);
    snprintf(info->driver, sizeof info->driver, "%s, device %s", drv, dver);
    snprintf(info->api, sizeof info->api, "%s", pver);
    snprintf(info->library, sizeof info->library, "%s, ICD loader", cver);
    bool fp16 = exts && has_ext(exts, "cl_khr_fp16");
    bool sg = exts && (has_ext(exts, "cl_khr_subgroups") || has_ext(exts, "cl_intel_subgroups"));
    snprintf(info->extra, sizeof info->extra, "compute units %u, local memory %llu KiB, fp16 %s, subgroups %s", cu,
             (unsigned long long)(cl->local_mem / 1024), fp16 ? "yes" : "no", sg ? "yes" : "no");
    /* Every platform and device, so `tfbench list` shows what --device can pick. */
    size_t used = strlen(info->extra);
    snprintf(info->extra + used, sizeof info->extra - used, "; devices:");
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, plats, &np) != CL_SUCCESS)
        np = 0;
    for (cl_uint p = 0; p < np && p < MAX_PLATFORMS; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd) != CL_SUCCESS)
            nd = 0;
        for (cl_uint d = 0; d < nd && d < MAX_DEVICES; d++) {
            char name[96] = "";
            clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof name, name, NULL);
            used = strlen(info->extra);
            snprintf(info->extra + used, sizeof info->extra - used, " %u:%u %s%s", p, d, name,
                     devs[d] == cl->device ? " (selected)" : "");
        }
    }
    info->mem_total = (int64_t)gmem;
    info->mem_used = (int64_t)cl->mem_used;
    free(exts);
}

const tfb_backend_i tfb_backend_opencl = {
    .name = "opencl",
    .probe = probe,
    .init = ocl_init,
    .free = ocl_free,
    .device_info = ocl_device_info,
    .supports = tfb__cl_supports,
    .buffer_alloc = tfb__cl_buffer_alloc,
    .buffer_free = tfb__cl_buffer_free,
    .upload = tfb__cl_upload,
    .download = tfb__cl_download,
    .compute = tfb__cl_compute,
    .synchronize = tfb__cl_synchronize,
    .last_device_time = tfb__cl_last_device_time,
    .op_profile = tfb__cl_op_profile,
};
