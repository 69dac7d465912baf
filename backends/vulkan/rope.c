/* Rotary tables. The angle of position p and pair i is p * theta^(-2i/D); formed in f32 on the
 * device it is off by ~p ulps of its frequency (p in the thousands: thousands of ulps), and GPU
 * sin/cos of such arguments lose more, while real GPUs lack fast fp64. So the host computes cos and
 * sin in double exactly as the reference does, once per (theta, D), for positions 0..cap-1 (a power
 * of two, grown as generation goes deeper), and rope.comp only multiplies. D = 128 at 4096
 * positions is 2 MiB. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/vulkan/vk_impl.h"

static int64_t head_size(const tfb_node *n) {
    return n->in[0]->shape[1] / n->n_head;
}

static tfb_vk_rope *find(const tfb_vk *vk, const tfb_node *n) {
    for (int i = 0; i < TFB_VK_ROPE_TABLES; i++) {
        const tfb_vk_rope *r = &vk->ropes[i];
        if (r->cap > 0 && r->theta == n->rope_theta && r->d == head_size(n))
            return (tfb_vk_rope *)r;
    }
    return NULL;
}

static void release(tfb_vk *vk, tfb_vk_rope *r) {
    if (r->cap > 0)
        tfb__vk_buffer_free(vk, &r->buf);
    *r = (tfb_vk_rope){0};
}

/* (Re)fills slot r with the table of (theta, d) for cap positions. */
static tfb_status fill(tfb_vk *vk, tfb_vk_rope *r, float theta, int64_t d, int64_t cap) {
    release(vk, r);
    vk->rope_gen++;
    int64_t half = d / 2;
    size_t n = (size_t)(cap * half * 2);
    float *cs = malloc(n * sizeof *cs); // [cap][D/2][cos, sin]
    if (!cs)
        return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: rope: out of memory");
    for (int64_t i = 0; i < half; i++) {
        double freq = pow((double)theta, -2.0 * (double)i / (double)d);
        for (int64_t p = 0; p < cap; p++) {
            double angle = (double)p * freq;
            cs[(p * half + i) * 2] = (float)cos(angle);
            cs[(p * half + i) * 2 + 1] = (float)sin(angle);
        }
    }
    tfb_status s = tfb__vk_buffer_alloc(vk, n * sizeof *cs, &r->buf);
    if (s != TFB_STATUS_OK) {
        free(cs);
        return s;
    }
    r->theta = theta;
    r->d = d;
    r->cap = cap;
    r->t = (tfb_tensor){.dtype = TFB_DTYPE_F32, .ndim = 1, .shape = {(int64_t)n}, .buf = &r->buf};
    snprintf(r->t.name, sizeof r->t.name, "rope_table");
    s = tfb__vk_upload(vk, &r->t, cs, 0, n * sizeof *cs);
    free(cs);
    return s;
}

tfb_status tfb__vk_rope_prepare(tfb_vk *vk, const tfb_graph *g) {
    int64_t need = g->params.pos + g->params.n_rows;
    int64_t cap = 256;
    while (cap < need)
        cap *= 2;
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op != TFB_OP_ROPE)
            continue;
        tfb_vk_rope *r = find(vk, n);
        if (r && r->cap >= need)
            continue;
        if (!r) {
            for (int k = 0; k < TFB_VK_ROPE_TABLES && !r; k++)
                if (vk->ropes[k].cap == 0)
                    r = &vk->ropes[k];
            if (!r) { /* all taken: replace one (a graph's sets are rewritten when the tables change) */
                r = &vk->ropes[vk->rope_next];
                vk->rope_next = (vk->rope_next + 1) % TFB_VK_ROPE_TABLES;
            }
        }
        TFB_TRY(fill(vk, r, n->rope_theta, head_size(n), cap));
    }
    /* A graph with more distinct (theta, D) than slots would have replaced its own tables. */
    for (int i = 0; i < g->n_nodes; i++) {
        const tfb_node *n = &g->nodes[i];
        if (n->op == TFB_OP_ROPE && !find(vk, n))
            return tfb_error_set(TFB_STATUS_UNSUPPORTED,
                                 "vulkan: rope: more than %d (theta, head size) pairs in one graph",
                                 TFB_VK_ROPE_TABLES);
    }
    return TFB_STATUS_OK;
}

const tfb_tensor *tfb__vk_rope_table(const tfb_vk *vk, const tfb_node *n) {
    const tfb_vk_rope *r = find(vk, n);
    return r ? &r->t : NULL;
}

void tfb__vk_rope_free(tfb_vk *vk) {
    for (int i = 0; i < TFB_VK_ROPE_TABLES; i++)
        release(vk, &vk->ropes[i]);
}
