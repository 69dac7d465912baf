/* Benchmark, not a test: the OpenCL backend's f32 matmul (through the backend API, one MATMUL node)
 * against CLBlast's SGEMM on the same device, alternating in one run, medians of the repetitions.
 *   bench_opencl_matmul [--reps N] [--device D]     (D: OpenCL "P:D" index for both sides)
 * Shapes are T x N x K = 512x768x768 and 512x3072x768 (GPT-2 small prefill of 512 tokens).
 * Before them, the device's own ceiling: a kernel of nothing but independent multiply-adds, once as
 * scalar work-items (what the driver must vectorize across work-items, as PoCL does) and once as
 * explicit float16 vectors, in work-groups of 64 (PoCL runs a NULL group size at about half that rate),
 * in GFLOP/s: the most any kernel can reach through this driver. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tfbench/backend.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define DIE(...)                                                                                    \
    do {                                                                                            \
        fprintf(stderr, "bench_opencl_matmul: " __VA_ARGS__);                                       \
        fprintf(stderr, "\n");                                                                      \
        exit(1);                                                                                    \
    } while (0)

static void tensor(tfb_tensor *t, const char *name, int64_t rows, int64_t cols, tfb_buffer *buf) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = TFB_DTYPE_F32;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->buf = buf;
}

/* Multiply-add throughput: each work-item runs 8 independent chains of 1024 fmas on TYPE. */
static const char peak_src[] =
    "#define CHAINS(T) T x0 = (T)(g), x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3, x4 = x0 + 4, x5 = x0 + 5, "
    "x6 = x0 + 6, x7 = x0 + 7;\n"
    "#define STEP(x) x = mad(x, a, b)\n"
    "#define BODY for (int i = 0; i < 1024; i++) { STEP(x0); STEP(x1); STEP(x2); STEP(x3); STEP(x4); "
    "STEP(x5); STEP(x6); STEP(x7); }\n"
    "__kernel void peak1(__global float *out, float a, float b) {\n"
    "  float g = (float)get_global_id(0); CHAINS(float) BODY\n"
    "  out[get_global_id(0)] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7; }\n"
    "__kernel void peak16(__global float *out, float a, float b) {\n"
    "  float g = (float)get_global_id(0); CHAINS(float16) BODY\n"
    "  float16 s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;\n"
    "  out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7 + s.s8 + s.s9 + s.sa + "
    "s.sb + s.sc + s.sd + s.se + s.sf; }\n";

/* GFLOP/s of kernel `name` (lanes floats a chain) over n work-items, median of reps. */
static double peak_gflops(cl_context ctx, cl_command_queue q, cl_program prog, const char *name, int lanes,
                          size_t n, int reps) {
    cl_int err;
    cl_kernel k = clCreateKernel(prog, name, &err);
    cl_mem out = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, n * sizeof(float), NULL, &err);
    if (err != CL_SUCCESS)
        DIE("peak %s: %d", name, err);
    float a = 0.999f, b = 0.001f;
    clSetKernelArg(k, 0, sizeof out, &out);
    clSetKernelArg(k, 1, sizeof a, &a);
    clSetKernelArg(k, 2, sizeof b, &b);
    double t[64];
    reps = reps > 64 ? 64 : reps;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        size_t local = 64; /* a work-group PoCL can vectorize across */
        if (clEnqueueNDRangeKernel(q, k, 1, NULL, &n, &local, 0, NULL, NULL) != CL_SUCCESS || clFinish(q) != CL_SUCCESS)
            DIE("peak %s: enqueue", name);
        if (r >= 0)
            t[r] = now() - t0;
    }
    clReleaseMemObject(out);
    clReleaseKernel(k);
    return 2.0 * 8 * 1024 * lanes * (double)n / median(t, reps) * 1e-9;
}

int main(int argc, char **argv) {
    int reps = 10;
    const char *device = "0:0";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else
            DIE("usage: bench_opencl_matmul [--reps N] [--device P:D]");
    }
    if (reps < 1 || reps > 1000)
        DIE("--reps must be in [1, 1000]");
    unsigned pi = 0, di = 0;
    if (sscanf(device, "%u:%u", &pi, &di) < 1)
        DIE("--device must be an index P or P:D");

    /* tfbench's OpenCL backend. */
    tfb_backend_opts opts = {.device = device};
    tfb_backend *b;
    if (tfb_backend_init(tfb_backend_find("opencl"), &opts, &b) != TFB_STATUS_OK)
        DIE("%s", tfb_error_last());
    tfb_device_info info;
    tfb_backend_device_info(b, &info);

    /* CLBlast on its own context and queue, same device. */
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || pi >= np)
        DIE("no platform %u", pi);
    cl_device_id devs[64];
    cl_uint nd = 0;
    if (clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS || di >= nd)
        DIE("no device %u:%u", pi, di);
    cl_int err;
    cl_context ctx = clCreateContext(NULL, 1, &devs[di], NULL, NULL, &err);
    if (err != CL_SUCCESS)
        DIE("clCreateContext: %d", err);
    cl_command_queue q = clCreateCommandQueue(ctx, devs[di], 0, &err);
    if (err != CL_SUCCESS)
        DIE("clCreateCommandQueue: %d", err);

    printf("device: %s\napi: %s\n", info.device, info.api);
    const char *src = peak_src;
    cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS || clBuildProgram(prog, 1, &devs[di], "", NULL, NULL) != CL_SUCCESS)
        DIE("peak kernels do not build");
    printf("fma ceiling through this driver: scalar work-items %.1f GFLOP/s, float16 work-items %.1f GFLOP/s\n",
           peak_gflops(ctx, q, prog, "peak1", 1, 1 << 16, reps), peak_gflops(ctx, q, prog, "peak16", 16, 1 << 12, reps));
    clReleaseProgram(prog);
    printf("%-16s %12s %12s %12s %10s\n", "T x N x K", "tfbench GF/s", "dev GF/s", "CLBlast GF/s", "ratio");
    static const int64_t shapes[][3] = {{512, 768, 768}, {512, 3072, 768}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t T = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        size_t xb = (size_t)(T * K) * 4, wb = (size_t)(N * K) * 4, ob = (size_t)(T * N) * 4;
        float *x = malloc(xb), *w = malloc(wb), *o1 = malloc(ob), *o2 = malloc(ob);
        if (!x || !w || !o1 || !o2)
            DIE("out of memory");
        for (size_t i = 0; i < xb / 4; i++)
            x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
        for (size_t i = 0; i < wb / 4; i++)
            w[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;

        tfb_buffer *bx, *bw, *bo;
        if (tfb_backend_buffer_alloc(b, xb, &bx) || tfb_backend_buffer_alloc(b, wb, &bw) ||
            tfb_backend_buffer_alloc(b, ob, &bo))
            DIE("%s", tfb_error_last());
        tfb_tensor tx, tw, to;
        tensor(&tx, "x", T, K, bx);
        tensor(&tw, "w", N, K, bw);
        tensor(&to, "out", T, N, bo);
        if (tfb_backend_upload(b, &tx, x, 0, xb) || tfb_backend_upload(b, &tw, w, 0, wb))
            DIE("%s", tfb_error_last());
        tfb_graph g;
        tfb_graph_init(&g, T);
        tfb_graph_add(&g, TFB_OP_MATMUL, &to, &tx, &tw, NULL, NULL);
        g.params.n_rows = T;

        cl_mem cx = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, xb, x, &err);
        cl_mem cw = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, wb, w, &err);
        cl_mem co = clCreateBuffer(ctx, CL_MEM_READ_WRITE, ob, NULL, &err);
        if (err != CL_SUCCESS)
            DIE("clCreateBuffer: %d", err);

        double *t1 = malloc((size_t)reps * sizeof *t1), *t2 = malloc((size_t)reps * sizeof *t2);
        double *td = malloc((size_t)reps * sizeof *td);
        for (int r = -2; r < reps; r++) { /* two warm-ups (kernel compilation), then timed, alternating */
            double a = now();
            if (tfb_backend_compute(b, &g) || tfb_backend_synchronize(b))
                DIE("%s", tfb_error_last());
            double m1 = now() - a;
            double dev = tfb_backend_last_device_time(b);
            a = now();
            CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                                                (size_t)T, (size_t)N, (size_t)K, 1.0f, cx, 0, (size_t)K, cw, 0,
                                                (size_t)K, 0.0f, co, 0, (size_t)N, &q, NULL);
            if (st != CLBlastSuccess)
                DIE("CLBlastSgemm: %d", (int)st);
            clFinish(q);
            double m2 = now() - a;
            if (r >= 0) {
                t1[r] = m1;
                t2[r] = m2;
                td[r] = dev;
            }
        }
        /* Same answer on both sides (the figures mean nothing otherwise). */
        if (tfb_backend_download(b, &to, o1, 0, ob) ||
            clEnqueueReadBuffer(q, co, CL_TRUE, 0, ob, o2, 0, NULL, NULL) != CL_SUCCESS)
            DIE("read back");
        double num = 0, den = 0;
        for (size_t i = 0; i < ob / 4; i++) {
            num += ((double)o1[i] - o2[i]) * ((double)o1[i] - o2[i]);
            den += (double)o2[i] * o2[i];
        }
        if (den == 0.0)
            DIE("CLBlast's output is all zeros: the comparison is void");
        double flop = 2.0 * (double)T * (double)N * (double)K;
        double m1 = median(t1, reps), m2 = median(t2, reps), md = median(td, reps);
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)T, (long long)N, (long long)K);
        printf("%-16s %12.1f %12.1f %12.1f %10.2f   (medians of %d; nmse vs CLBlast %.2g)\n", shape, flop / m1 * 1e-9,
               md > 0 ? flop / md * 1e-9 : 0.0, flop / m2 * 1e-9, m2 / m1, reps, den > 0 ? num / den : 0.0);
        free(t1), free(t2), free(td);
        clReleaseMemObject(cx), clReleaseMemObject(cw), clReleaseMemObject(co);
        tfb_graph_free(&g);
        tfb_backend_buffer_free(b, bx), tfb_backend_buffer_free(b, bw), tfb_backend_buffer_free(b, bo);
        free(x), free(w), free(o1), free(o2);
    }
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    tfb_backend_free(b);
    return 0;
}
