/* Rotary tables. The angle of position p and pair i is p * theta^(-2i/D); formed in f32 on the device
 * it is off by ~p ulps of its frequency (p in the thousands: thousands of ulps), device sin/cos of
 * such arguments lose more, and double precision is optional in OpenCL (cl_khr_fp64, slow or absent
 * on GPUs). So the host computes cos and sin in double exactly as the reference does, once per
 * (theta, D), for positions 0..cap-1 (a power of two, grown as generation goes deeper), and the rope
 * kernel only multiplies. D = 128 at 4096 positions is 2 MiB. The same scheme as the Vulkan
 * backend's (backends/vulkan/rope.c).
 *
 * A table replaced or grown while kernels that read it are still queued stays alive until they
 * finish: clReleaseMemObject defers the deletion until the commands using the object complete. */
#include <math.h>
#include <stdlib.h>

#include "cl_internal.h"

static int64_t head_size(const tfb_node *n) {
    return n->in[0]->shape[1] / n->n_head;
}

static tfb_cl_rope *find(const tfb_cl *cl, const tfb_node *n) {
    for (int i = 0; i < TFB_CL_ROPE_TABLES; i++) {
        const tfb_cl_rope *r = &cl->ropes[i];
        if (r->cap > 0 && r->theta == n->rope_theta && r->d == head_size(n))
            return (tfb_cl_rope *)r;
    }
    return NULL;
}

static void release(tfb_cl_rope *r) {
    if (r->mem)
        clReleaseMemObject(r->mem);
    *r = (tfb_cl_rope){0};
}

/* (Re)fills slot r with the table of (theta, d) for cap positions. */
static tfb_status fill(tfb_cl *cl, tfb_cl_rope *r, float theta, int64_t d, int64_t cap) {
    release(r);
    int64_t half = d / 2;
    size_t n = (size_t)(cap * half * 2);
    float *cs = malloc(n * sizeof *cs); // [cap][D/2][cos, sin]
    if (!cs)
        return tfb_error_set(TFB_STATUS_NOMEM, "opencl: rope: out of host memory for a %zu-byte table", n * sizeof *cs);
    for (int64_t i = 0; i < half; i++) {
        double freq = pow((double)theta, -2.0 * (double)i / (double)d);
        for (int64_t p = 0; p < cap; p++) {
            double angle = (double)p * freq;
            cs[(p * half + i) * 2] = (float)cos(angle);
            cs[(p * half + i) * 2 + 1] = (float)sin(angle);
        }
    }
    cl_int err;
    /* COPY_HOST_PTR copies at creation, so the host table can go right away. */
    cl_mem m = clCreateBuffer(cl->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * sizeof *cs, cs, &err);
    free(cs);
    CL_CHECK_ERR(err, "clCreateBuffer");
    *r = (tfb_cl_rope){.theta = theta, .d = d, .cap = cap, .mem = m};
    return TFB_STATUS_OK;
}

tfb_status tfb__cl_rope_prepare(tfb_cl *cl, const tfb_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op != TFB_OP_ROPE)
            continue;
        int64_t need = g->params.pos + tfb_graph_rows(g, n->in[0]);
        int64_t cap = 256;
        while (cap < need)
            cap *= 2;
        tfb_cl_rope *r = find(cl, n);
        if (r && r->cap >= need)
            continue;
        if (!r) {
            for (int k = 0; k < TFB_CL_ROPE_TABLES && !r; k++)
                if (cl->ropes[k].cap == 0)
                    r = &cl->ropes[k];
            if (!r) { /* all taken: replace one */
                r = &cl->ropes[cl->rope_next];
                cl->rope_next = (cl->rope_next + 1) % TFB_CL_ROPE_TABLES;
            }
        }
        TFB_TRY(fill(cl, r, n->rope_theta, head_size(n), cap));
    }
    /* A graph with more distinct (theta, D) than slots would have replaced its own tables. */
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op == TFB_OP_ROPE && !find(cl, n))
            return tfb_error_set(TFB_STATUS_UNSUPPORTED,
                                 "opencl: rope: more than %d (theta, head size) pairs in one graph",
                                 TFB_CL_ROPE_TABLES);
    }
    return TFB_STATUS_OK;
}

const tfb_cl_rope *tfb__cl_rope_table(const tfb_cl *cl, const tfb_node *n) {
    return find(cl, n);
}

void tfb__cl_rope_free(tfb_cl *cl) {
    for (int i = 0; i < TFB_CL_ROPE_TABLES; i++)
        release(&cl->ropes[i]);
}
