/* Recording a graph: one command buffer per compute call holding the pending uploads, every node's
 * dispatch (or copy) with a barrier only where a node touches memory that an earlier node since the
 * last barrier wrote (or writes memory one read), and timestamps; submitted once.
 *
 * The command buffer is re-recorded on every call: n_rows and pos change every call and set the
 * dispatch sizes. Measured on lavapipe (gpt2-124m f32, tfbench bench --tg 32 -o, wall minus the
 * timestamp device time): the whole host side of a decode step (recording ~150 nodes, submit, fence
 * wait, argmax readback) is ~1 ms against ~135 ms of device time on a loaded 2-core machine (<1%),
 * so a cached command buffer plus indirect dispatch would buy nothing measurable there; on a fast
 * GPU that share is worth re-measuring.
 * Descriptor sets (one per node, or per part of a weight split to fit maxStorageBufferRange) are
 * created at the first compute of a graph and cached in g->backend_data, with the texel-buffer
 * views of the CPU-device kernels (MATMUL, ATTENTION) beside them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/planted.h"
#include "backends/vulkan/vk_impl.h"
#include "cpu_blocks.h" /* generated (build tree): TFB_VK_CPU_*, the CPU shaders' block sizes */

/* ---- per-graph state ------------------------------------------------------------------------------ */

/* The input bound in parts when it exceeds maxStorageBufferRange: MATMUL's weight, EMBED's table. */
static const tfb_tensor *splittable(const tfb_node *n) {
    return (n->op == TFB_OP_MATMUL || n->op == TFB_OP_EMBED) ? n->in[1] : NULL;
}

/* Rows of the splittable input per part, or 0 when it fits one binding. */
static int64_t rows_per_part(const tfb_vk *vk, const tfb_node *n) {
    const tfb_tensor *w = splittable(n);
    VkDeviceSize max = vk->props.limits.maxStorageBufferRange;
    VkDeviceSize slack = vk->props.limits.minStorageBufferOffsetAlignment +
                         vk->props.limits.minTexelBufferOffsetAlignment + 4;
    if (!w || tfb_tensor_nbytes(w) + slack <= max)
        return 0;
    return (int64_t)((max - slack) / tfb_dtype_row_bytes(w->dtype, w->shape[1]));
}

/* Binding i of node n (part `part` of rpp rows when split): input i, or the output for the output
 * slot and for unused inputs. */
static tfb_vk_binding binding_of(const tfb_vk *vk, const tfb_node *n, int i, int part, int64_t rpp) {
    const tfb_tensor *t = i < TFB_MAX_INPUTS && n->in[i] ? n->in[i] : n->out;
    if (n->op == TFB_OP_ROPE && i == 1) /* the node's cos/sin table (rope.c), prepared before */
        t = tfb__vk_rope_table(vk, n);
    VkDeviceSize lo = t->offset, hi = t->offset + tfb_tensor_nbytes(t);
    if (rpp > 0 && t == splittable(n) && i == 1) {
        size_t rb = tfb_dtype_row_bytes(t->dtype, t->shape[1]);
        int64_t r0 = part * rpp, r1 = r0 + rpp < t->shape[0] ? r0 + rpp : t->shape[0];
        lo = t->offset + (VkDeviceSize)r0 * rb;
        hi = t->offset + (VkDeviceSize)r1 * rb;
    }
    /* Texel views (CPU matmul) use the same ranges: align to both limits (powers of two). */
    VkDeviceSize align = vk->props.limits.minStorageBufferOffsetAlignment;
    if (vk->props.limits.minTexelBufferOffsetAlignment > align)
        align = vk->props.limits.minTexelBufferOffsetAlignment;
    VkDeviceSize base = align > 1 ? (lo / align) * align : lo;
    /* Whole words: shaders read 2-byte and 1-byte elements from the uint words that hold them, and
     * drivers bounds-check whole words against the range (buffers are sized in 64-byte units). */
    VkDeviceSize end = (hi + 3) & ~(VkDeviceSize)3;
    VkDeviceSize size = ((const tfb_vk_buf *)t->buf->handle)->size;
    return (tfb_vk_binding){tfb__vk_handle(t), base, (end < size ? end : size) - base};
}

static bool same_binding(tfb_vk_binding a, tfb_vk_binding b) {
    return a.buf == b.buf && a.base == b.base && a.range == b.range;
}

void tfb__vk_graph_release(tfb_vk *vk, tfb_graph *g) {
    tfb_vk_graph *gs = g->backend_data;
    if (!gs)
        return;
    (void)tfb__vk_wait(vk);
    for (tfb_vk_graph **p = &vk->graphs; *p; p = &(*p)->next)
        if (*p == gs) {
            *p = gs->next;
            break;
        }
    if (gs->pool)
        vkDestroyDescriptorPool(vk->dev, gs->pool, NULL); /* frees its sets */
    for (int i = 0; gs->views && i < gs->n_sets; i++)
        for (int b = 0; b < TFB_VK_TEXELS; b++)
            if (gs->views[i][b])
                vkDestroyBufferView(vk->dev, gs->views[i][b], NULL);
    free(gs->views);
    free(gs->sets);
    free(gs->bound);
    free(gs->first);
    free(gs->parts);
    free(gs->part_rows);
    free(gs);
    g->backend_data = NULL;
}

/* The texel widths (TFB_VK_TX_*) of the CPU matmul of node n, bound as `bound`, weight rows from r0:
 * x through 128-bit texels when its rows are 16-byte aligned in its view (K % 4 == 0, aligned start),
 * the weight too when it is quantized (the shader finds a block in the texels that hold it) or
 * f32/f16/bf16 with 16-byte aligned rows. */
static int cpu_texels(const tfb_vk *vk, const tfb_node *n, const tfb_vk_binding *bound, int64_t r0) {
    if (n->op != TFB_OP_MATMUL || vk->matmul != TFB_VK_MM_CPU || vk->words_only)
        return TFB_VK_TX_WORDS;
    const tfb_tensor *w = n->in[1];
    int64_t K = n->in[0]->shape[1];
    if (K % 4 != 0 || (n->in[0]->offset - bound[0].base) % 16 != 0)
        return TFB_VK_TX_WORDS;
    size_t rb = tfb_dtype_row_bytes(w->dtype, K);
    bool quant = tfb_dtype_block_elems(w->dtype) > 1;
    bool w_al = rb % 16 == 0 && (w->offset + (size_t)r0 * rb - bound[1].base) % 16 == 0;
    return quant || w_al ? TFB_VK_TX_X4W4 : TFB_VK_TX_X4;
}

static tfb_status write_set(tfb_vk *vk, tfb_vk_graph *gs, const tfb_node *n, int node, int part) {
    int si = gs->first[node] + part;
    VkDescriptorBufferInfo bi[TFB_VK_BINDINGS];
    VkWriteDescriptorSet w[TFB_VK_BINDINGS];
    for (int b = 0; b < TFB_VK_BINDINGS; b++) {
        tfb_vk_binding bd = binding_of(vk, n, b, part, gs->part_rows[node]);
        if (bd.range > vk->props.limits.maxStorageBufferRange)
            return tfb_error_set(TFB_STATUS_UNSUPPORTED,
                                 "vulkan: %s: a tensor of %llu bytes exceeds maxStorageBufferRange (%u bytes)",
                                 tfb_op_name(n->op), (unsigned long long)bd.range,
                                 vk->props.limits.maxStorageBufferRange);
        gs->bound[si][b] = bd;
        bi[b] = (VkDescriptorBufferInfo){.buffer = bd.buf, .offset = bd.base, .range = bd.range};
        w[b] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                      .dstSet = gs->sets[si],
                                      .dstBinding = (uint32_t)b,
                                      .descriptorCount = 1,
                                      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &bi[b]};
    }
    vkUpdateDescriptorSets(vk->dev, TFB_VK_BINDINGS, w, 0, NULL);
    if ((n->op != TFB_OP_MATMUL && n->op != TFB_OP_ATTENTION) || vk->matmul != TFB_VK_MM_CPU)
        return TFB_STATUS_OK;
    /* The CPU-device kernels read inputs 0..2 through 32-bit texel views of the same ranges (x, and
     * the weight, of a matmul through 128-bit ones where cpu_texels says so). */
    VkWriteDescriptorSet tw[TFB_VK_TEXELS];
    int nw = 0;
    int tx = cpu_texels(vk, n, gs->bound[si], part * gs->part_rows[node]);
    for (int b = 0; b < TFB_VK_TEXELS; b++) {
        if (gs->views[si][b]) {
            (void)tfb__vk_wait(vk); /* a set being rewritten may be in use */
            vkDestroyBufferView(vk->dev, gs->views[si][b], NULL);
            gs->views[si][b] = VK_NULL_HANDLE;
        }
        if (!n->in[b])
            continue;
        tfb_vk_binding bd = gs->bound[si][b];
        bool w128 = (b == 0 && tx >= TFB_VK_TX_X4) || (b == 1 && tx == TFB_VK_TX_X4W4);
        VkDeviceSize range = bd.range;
        if (w128) { /* whole texels: buffers are sized in 64-byte units and bd.base is 16-aligned */
            VkDeviceSize size = ((const tfb_vk_buf *)n->in[b]->buf->handle)->size;
            range = (range + 15) & ~(VkDeviceSize)15;
            if (bd.base + range > size)
                range = (size - bd.base) & ~(VkDeviceSize)15;
        }
        VkBufferViewCreateInfo vci = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                      .buffer = bd.buf,
                                      .format = w128 ? VK_FORMAT_R32G32B32A32_UINT : VK_FORMAT_R32_UINT,
                                      .offset = bd.base,
                                      .range = range};
        VK_CHECK(vkCreateBufferView(vk->dev, &vci, NULL, &gs->views[si][b]));
        tw[nw++] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                       .dstSet = gs->sets[si],
                                       .dstBinding = (uint32_t)(TFB_VK_BINDINGS + b),
                                       .descriptorCount = 1,
                                       .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
                                       .pTexelBufferView = &gs->views[si][b]};
    }
    vkUpdateDescriptorSets(vk->dev, (uint32_t)nw, tw, 0, NULL);
    return TFB_STATUS_OK;
}

static tfb_status graph_state(tfb_vk *vk, tfb_graph *g, tfb_vk_graph **out) {
    tfb_vk_graph *gs = g->backend_data;
    if (gs && gs->n_nodes != g->n_nodes) {
        tfb__vk_graph_release(vk, g);
        gs = NULL;
    }
    if (!gs) {
        gs = calloc(1, sizeof *gs);
        if (!gs)
            return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
        gs->g = g;
        gs->n_nodes = g->n_nodes;
        gs->next = vk->graphs;
        vk->graphs = gs;
        g->backend_data = gs;
        size_t nn = g->n_nodes > 0 ? (size_t)g->n_nodes : 1;
        gs->first = calloc(nn, sizeof *gs->first);
        gs->parts = calloc(nn, sizeof *gs->parts);
        gs->part_rows = calloc(nn, sizeof *gs->part_rows);
        if (!gs->first || !gs->parts || !gs->part_rows)
            return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
        for (int i = 0; i < g->n_nodes; i++) {
            int64_t rpp = rows_per_part(vk, &g->nodes[i]);
            gs->part_rows[i] = rpp;
            gs->parts[i] = rpp > 0 ? (int)((splittable(&g->nodes[i])->shape[0] + rpp - 1) / rpp) : 1;
            gs->first[i] = gs->n_sets;
            gs->n_sets += gs->parts[i];
        }
        uint32_t n = gs->n_sets > 0 ? (uint32_t)gs->n_sets : 1;
        gs->sets = calloc(n, sizeof *gs->sets);
        gs->bound = calloc(n, sizeof *gs->bound);
        gs->views = calloc(n, sizeof *gs->views);
        VkDescriptorSetLayout *layouts = calloc(n, sizeof *layouts);
        if (!gs->sets || !gs->bound || !gs->views || !layouts) {
            free(layouts);
            return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
        }
        for (uint32_t i = 0; i < n; i++)
            layouts[i] = vk->dsl;
        VkDescriptorPoolSize ps[2] = {
            {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = n * TFB_VK_BINDINGS},
            {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .descriptorCount = n * TFB_VK_TEXELS}};
        VkDescriptorPoolCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = n, .poolSizeCount = 2, .pPoolSizes = ps};
        VkResult r = vkCreateDescriptorPool(vk->dev, &pci, NULL, &gs->pool);
        if (r == VK_SUCCESS) {
            VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                              .descriptorPool = gs->pool,
                                              .descriptorSetCount = n,
                                              .pSetLayouts = layouts};
            r = vkAllocateDescriptorSets(vk->dev, &ai, gs->sets);
        }
        free(layouts);
        VK_CHECK(r);
        for (int i = 0; i < g->n_nodes; i++)
            for (int p = 0; p < gs->parts[i]; p++)
                TFB_TRY(write_set(vk, gs, &g->nodes[i], i, p));
    } else {
        /* Tensors may have been given other storage since (tests do); rewrite those sets only. A
         * rotary table reallocated since may reuse a freed buffer's handle: rewrite ROPE's then. */
        bool ropes = gs->rope_gen != vk->ropes.gen;
        for (int i = 0; i < g->n_nodes; i++)
            for (int p = 0; p < gs->parts[i]; p++)
                for (int b = 0; b < TFB_VK_BINDINGS; b++)
                    if ((ropes && g->nodes[i].op == TFB_OP_ROPE) ||
                        !same_binding(gs->bound[gs->first[i] + p][b],
                                      binding_of(vk, &g->nodes[i], b, p, gs->part_rows[i]))) {
                        TFB_TRY(write_set(vk, gs, &g->nodes[i], i, p));
                        break;
                    }
    }
    gs->rope_gen = vk->ropes.gen;
    *out = gs;
    return TFB_STATUS_OK;
}

/* ---- hazards and barriers --------------------------------------------------------------------------- */

#define MAX_RANGES 64

typedef struct range {
    VkBuffer buf;
    size_t lo, hi;
} range;

typedef struct hazards {
    range wr[MAX_RANGES], rd[MAX_RANGES];
    int n_wr, n_rd;
} hazards;

static range tensor_range(const tfb_tensor *t) {
    return (range){tfb__vk_handle(t), t->offset, t->offset + tfb_tensor_nbytes(t)};
}

static bool overlaps(const range *set, int n, range r) {
    for (int i = 0; i < n; i++)
        if (set[i].buf == r.buf && set[i].lo < r.hi && r.lo < set[i].hi)
            return true;
    return false;
}

static void full_barrier(VkCommandBuffer cmd) {
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Emit a barrier before node n if it reads what was written since the last barrier (RAW), or
 * writes what was read or written since (WAR, WAW); then note its own accesses. Returns 1 if a
 * barrier was recorded. */
static int node_barrier(hazards *hz, VkCommandBuffer cmd, const tfb_node *n) {
    range w = tensor_range(n->out);
    bool need = overlaps(hz->wr, hz->n_wr, w) || overlaps(hz->rd, hz->n_rd, w);
    for (int i = 0; i < TFB_MAX_INPUTS && !need; i++)
        if (n->in[i])
            need = overlaps(hz->wr, hz->n_wr, tensor_range(n->in[i]));
    if (!need && (hz->n_wr == MAX_RANGES || hz->n_rd + TFB_MAX_INPUTS > MAX_RANGES))
        need = true;
    if (need) {
        full_barrier(cmd);
        hz->n_wr = hz->n_rd = 0;
    }
    hz->wr[hz->n_wr++] = w;
    for (int i = 0; i < TFB_MAX_INPUTS; i++)
        if (n->in[i])
            hz->rd[hz->n_rd++] = tensor_range(n->in[i]);
    return need ? 1 : 0;
}

/* ---- recording one node ---------------------------------------------------------------------------- */

typedef struct rec {
    tfb_vk *vk;
    VkCommandBuffer cmd;
    const tfb_graph *g;
    const tfb_vk_graph *gs;
    int node;
    VkDescriptorSet set;
    const tfb_vk_binding *bound; /* [TFB_VK_BINDINGS] of this node's current part */
    int n_dispatch;
} rec;

/* Select part p of node n: its descriptor set, the offsets within its bindings, and for a split
 * weight (table) the rows it covers. */
static void full_barrier(VkCommandBuffer cmd);

static void use_part(rec *r, const tfb_node *n, int p, tfb_vk_push *pc) {
    /* Parts write disjoint columns, but the unused bindings of the shaders alias the output, so a
     * barrier between parts keeps every access ordered (and synchronization validation quiet). */
    if (p > 0)
        full_barrier(r->cmd);
    int si = r->gs->first[r->node] + p;
    r->set = r->gs->sets[si];
    r->bound = r->gs->bound[si];
    pc->offo = (uint32_t)(n->out->offset - r->bound[TFB_VK_BINDINGS - 1].base);
    uint32_t *offs[TFB_MAX_INPUTS] = {&pc->off0, &pc->off1, &pc->off2, &pc->off3};
    for (int i = 0; i < TFB_MAX_INPUTS; i++)
        if (n->in[i])
            *offs[i] = (uint32_t)(n->in[i]->offset - r->bound[i].base);
    const tfb_tensor *w = splittable(n);
    if (w) {
        int64_t rpp = r->gs->part_rows[r->node], rows = w->shape[0];
        int64_t r0 = rpp > 0 ? p * rpp : 0, r1 = rpp > 0 && r0 + rpp < rows ? r0 + rpp : rows;
        pc->off1 += (uint32_t)((size_t)r0 * tfb_dtype_row_bytes(w->dtype, w->shape[1]));
        pc->nbase = (uint32_t)r0;
        pc->ncount = (uint32_t)(r1 - r0);
    }
}

static uint32_t ceil_div(int64_t a, int64_t b) {
    return (uint32_t)((a + b - 1) / b);
}

static void dispatch(rec *r, int pipe, const tfb_vk_push *pc, uint32_t gx, uint32_t gy, uint32_t gz) {
    vkCmdBindPipeline(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, r->vk->pipes[pipe]);
#ifdef TFB_TEST_FAULTS
    /* Test builds only: an invalid barrier before the first dispatch (an access mask its stage
     * cannot perform), which the validation layer must report; harmless to run. */
    if (r->n_dispatch == 0 && tfb__planted("vk-bad-barrier")) {
        VkMemoryBarrier bad = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_HOST_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_SHADER_READ_BIT};
        vkCmdPipelineBarrier(r->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &bad, 0, NULL, 0, NULL);
    }
#endif
    vkCmdBindDescriptorSets(r->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, r->vk->layout, 0, 1, &r->set, 0, NULL);
    vkCmdPushConstants(r->cmd, r->vk->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof *pc, pc);
    vkCmdDispatch(r->cmd, gx, gy, gz);
    r->n_dispatch++;
}

/* An elementwise grid over len elements, 256 per workgroup, 2-D past 65535 workgroups. */
static void dispatch_1d(rec *r, int pipe, const tfb_vk_push *pc, int64_t len) {
    uint32_t groups = ceil_div(len, 256);
    uint32_t gx = groups < 65535 ? groups : 65535;
    dispatch(r, pipe, pc, gx, ceil_div(groups, gx), 1);
}

static void copy(rec *r, const tfb_tensor *src, size_t src_off, const tfb_tensor *dst, size_t dst_off, size_t n) {
    VkBufferCopy region = {.srcOffset = src->offset + src_off, .dstOffset = dst->offset + dst_off, .size = n};
    vkCmdCopyBuffer(r->cmd, tfb__vk_handle(src), tfb__vk_handle(dst), 1, &region);
}

static tfb_status too_big(const tfb_node *n, const char *what, int64_t v) {
    return tfb_error_set(TFB_STATUS_UNSUPPORTED, "vulkan: %s: %s %lld is beyond this backend's limit",
                         tfb_op_name(n->op), what, (long long)v);
}

static tfb_status record_node(rec *r, const tfb_node *n) {
    const tfb_graph *g = r->g;
    tfb_vk_push pc = {0};
    use_part(r, n, 0, &pc);
    int parts = r->gs->parts[r->node];
    pc.pos = (uint32_t)g->params.pos;
    pc.eps = n->eps;
    pc.scale = n->scale;
    const tfb_tensor *x = n->in[0];
    int64_t T = tfb_graph_rows(g, n->op == TFB_OP_EMBED ? n->out : x);
    if (T > 65535)
        return too_big(n, "rows", T);
    pc.rows = (uint32_t)T;
    switch (n->op) {
    case TFB_OP_EMBED: {
        int64_t C = n->out->shape[1];
        pc.cols = (uint32_t)C;
        if (n->in[2] && n->pos_kind == TFB_POS_LEARNED)
            pc.mode |= TFB_VK_EMBED_POS_LEARNED;
        if (n->pos_kind == TFB_POS_SINUSOIDAL)
            pc.mode |= TFB_VK_EMBED_POS_SIN;
        if (n->in[3])
            pc.mode |= TFB_VK_EMBED_TYPE;
        for (int p = 0; p < parts; p++) {
            use_part(r, n, p, &pc);
            dispatch(r, TFB_VK_P_EMBED, &pc, ceil_div(C, 64), (uint32_t)T, 1);
        }
        break;
    }
    case TFB_OP_MATMUL: {
        const tfb_tensor *w = n->in[1];
        int64_t K = x->shape[1], N = w->shape[0];
        if (tfb_dtype_block_elems(w->dtype) > 1 && K % TFB_QK != 0)
            return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: matmul: K=%lld is not a multiple of 32", (long long)K);
        pc.cols = (uint32_t)K;
        pc.n = (uint32_t)N;
        if (n->in[2])
            pc.mode |= TFB_VK_MATMUL_BIAS;
        int wt = (int)w->dtype;
        if (ceil_div(N, 32) > 65535)
            return too_big(n, "N", N);
        for (int p = 0; p < parts; p++) {
            use_part(r, n, p, &pc);
            int64_t NP = pc.ncount;
            int pipe;
            uint32_t gx, gy, gz = 1;
            if (r->vk->matmul == TFB_VK_MM_CPU) {
                /* 64 invocations per workgroup, each a TFB_VK_CPU_R x TFB_VK_CPU_C block (T = 1:
                 * 1 x TFB_VK_CPU_GEMV_C), or for T = 1 with subgroups TFB_VK_CPU_SG_C outputs per
                 * subgroup. */
                int tx = cpu_texels(r->vk, n, r->bound, p * r->gs->part_rows[r->node]);
                int64_t groups;
                if (T == 1 && r->vk->gemv_sg) {
                    pipe = TFB_VK_P_GEMV_CPU_SG + 3 * wt + tx;
                    groups = ceil_div(NP, TFB_VK_CPU_SG_C * (int64_t)(64 / r->vk->subgroup.subgroupSize));
                } else {
                    int64_t rows = T == 1 ? 1 : TFB_VK_CPU_R, cols = T == 1 ? TFB_VK_CPU_GEMV_C : TFB_VK_CPU_C;
                    pipe = (T == 1 ? TFB_VK_P_GEMV_CPU : TFB_VK_P_MATMUL_CPU) + 3 * wt + tx;
                    groups = ceil_div(ceil_div(T, rows) * (int64_t)ceil_div(NP, cols), 64);
                }
                gx = groups < 65535 ? (uint32_t)groups : 65535;
                gy = ceil_div(groups, gx);
            } else if (r->vk->matmul == TFB_VK_MM_REG) {
                uint32_t groups = ceil_div(ceil_div(T, 4) * (int64_t)ceil_div(NP, 4), 64);
                pipe = TFB_VK_P_MATMUL_REG + wt;
                gx = groups < 65535 ? groups : 65535;
                gy = ceil_div(groups, gx);
            } else if (T <= 4) {
                pipe = TFB_VK_P_GEMV + wt;
                gx = NP < 65535 ? (uint32_t)NP : 65535;
                gy = (uint32_t)T;
                gz = ceil_div(NP, gx);
            } else {
                pipe = TFB_VK_P_MATMUL + wt;
                gx = ceil_div(NP, 32);
                gy = ceil_div(T, 32);
            }
            TFB_TRY(tfb__vk_pipe(r->vk, pipe));
            dispatch(r, pipe, &pc, gx, gy, gz);
        }
        break;
    }
    case TFB_OP_ADD:
    case TFB_OP_MUL:
        pc.cols = (uint32_t)n->out->shape[1];
        pc.mode = n->op == TFB_OP_MUL ? TFB_VK_BIN_MUL : TFB_VK_BIN_ADD;
        dispatch_1d(r, TFB_VK_P_ADD, &pc, (int64_t)pc.rows * n->out->shape[1]);
        break;
    case TFB_OP_SCALE:
        pc.cols = (uint32_t)x->shape[1];
        pc.mode = TFB_VK_ACT_SCALE;
        dispatch_1d(r, TFB_VK_P_ACT, &pc, T * x->shape[1]);
        break;
    case TFB_OP_ROPE: {
        int64_t HD = x->shape[1], H = n->n_head;
        const tfb_tensor *tab = tfb__vk_rope_table(r->vk, n);
        if (!tab || tab->shape[0] < (g->params.pos + T) * (HD / H))
            return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: rope: no table for positions up to %lld",
                                 (long long)(g->params.pos + T));
        pc.n = (uint32_t)HD;
        pc.heads = (uint32_t)H;
        pc.mode = n->rope_layout == TFB_ROPE_HALF ? TFB_VK_ROPE_HALF : TFB_VK_ROPE_INTERLEAVED;
        dispatch_1d(r, TFB_VK_P_ROPE, &pc, T * HD / 2);
        break;
    }
    case TFB_OP_LAYERNORM:
    case TFB_OP_RMSNORM:
        pc.cols = (uint32_t)x->shape[1];
        pc.mode = n->op == TFB_OP_RMSNORM ? TFB_VK_NORM_RMS : TFB_VK_NORM_LAYER;
        dispatch(r, TFB_VK_P_NORM, &pc, (uint32_t)T, 1, 1);
        break;
    case TFB_OP_SOFTMAX:
        pc.cols = (uint32_t)x->shape[1];
        dispatch(r, TFB_VK_P_SOFTMAX, &pc, (uint32_t)T, 1, 1);
        break;
    case TFB_OP_GELU:
    case TFB_OP_GELU_TANH:
    case TFB_OP_RELU:
    case TFB_OP_SILU:
        pc.cols = (uint32_t)x->shape[1];
        pc.mode = n->op == TFB_OP_GELU        ? TFB_VK_ACT_GELU
                  : n->op == TFB_OP_GELU_TANH ? TFB_VK_ACT_GELU_TANH
                  : n->op == TFB_OP_RELU      ? TFB_VK_ACT_RELU
                                              : TFB_VK_ACT_SILU;
        dispatch_1d(r, TFB_VK_P_ACT, &pc, T * x->shape[1]);
        break;
    case TFB_OP_KV_WRITE: {
        int64_t C = x->shape[1], p0 = n->kv_at_zero ? 0 : g->params.pos;
        if (p0 + T > n->out->shape[0])
            return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: kv_write: rows %lld..%lld past the cache of %lld",
                                 (long long)p0, (long long)(p0 + T - 1), (long long)n->out->shape[0]);
        copy(r, x, 0, n->out, (size_t)(p0 * C) * sizeof(float), (size_t)(T * C) * sizeof(float));
        break;
    }
    case TFB_OP_ATTENTION: {
        int64_t HD = x->shape[1], H = n->n_head;
        int64_t L = n->mask == TFB_MASK_CROSS ? g->params.n_src : g->params.pos + T;
        if (H < 1 || HD % H != 0)
            return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: attention: %lld heads do not divide %lld", (long long)H,
                                 (long long)HD);
        if (HD / H > 256)
            return too_big(n, "head size", HD / H);
        if (L < 1 || L > n->in[1]->shape[0])
            return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: attention: %lld keys, cache holds %lld", (long long)L,
                                 (long long)n->in[1]->shape[0]);
        int64_t Hkv = n->n_kv_head ? n->n_kv_head : H;
        if (Hkv < 1 || H % Hkv != 0 || n->in[1]->shape[1] != Hkv * (HD / H))
            return tfb_error_set(TFB_STATUS_INTERNAL,
                                 "vulkan: attention: %lld kv heads for %lld heads, K/V rows of %lld", (long long)Hkv,
                                 (long long)H, (long long)n->in[1]->shape[1]);
        if (n->in[3]) {
            /* Every visible key's distance j - (pos + t) must index the bias: |distance| <= (R-1)/2. */
            int64_t R = n->in[3]->shape[1], reach = (R - 1) / 2, p0 = g->params.pos;
            if (p0 + T - 1 > reach || L - 1 - p0 > reach)
                return tfb_error_set(TFB_STATUS_INTERNAL,
                                     "vulkan: attention: a relative bias of %lld distances for keys 0..%lld at rows "
                                     "%lld..%lld",
                                     (long long)R, (long long)(L - 1), (long long)p0, (long long)(p0 + T - 1));
            pc.blen = (uint32_t)R;
        }
        pc.n = (uint32_t)HD;
        pc.heads = (uint32_t)H;
        pc.len = (uint32_t)L;
        pc.kvw = (uint32_t)(Hkv * (HD / H));
        pc.group = (uint32_t)(H / Hkv);
        pc.mode = n->mask == TFB_MASK_CAUSAL ? TFB_VK_MASK_CAUSAL
                  : n->mask == TFB_MASK_BIDIR ? TFB_VK_MASK_BIDIR
                                              : TFB_VK_MASK_CROSS;
        if (r->vk->matmul == TFB_VK_MM_CPU && HD / H == 64) {
            uint32_t groups = ceil_div(H * T, 64), gx = groups < 65535 ? groups : 65535;
            dispatch(r, TFB_VK_P_ATTENTION_CPU, &pc, gx, ceil_div(groups, gx), 1);
        } else {
            dispatch(r, TFB_VK_P_ATTENTION, &pc, (uint32_t)H, (uint32_t)T, 1);
        }
        break;
    }
    case TFB_OP_LAST_ROW: {
        size_t row = (size_t)x->shape[1] * sizeof(float);
        copy(r, x, (size_t)(T - 1) * row, n->out, 0, row);
        break;
    }
    case TFB_OP_ARGMAX:
        pc.cols = (uint32_t)x->shape[1];
        dispatch(r, TFB_VK_P_ARGMAX, &pc, (uint32_t)T, 1, 1);
        break;
    default: return tfb_error_set(TFB_STATUS_UNSUPPORTED, "vulkan: op %d", (int)n->op);
    }
    return TFB_STATUS_OK;
}

/* ---- compute ------------------------------------------------------------------------------------------ */

tfb_status tfb__vk_read_timestamps(tfb_vk *vk) {
    if (!vk->ts_ok || vk->q_used < 2)
        return TFB_STATUS_OK;
    uint64_t ts[2 + 2 * 4096];
    VK_CHECK(vkGetQueryPoolResults(vk->dev, vk->qpool, 0, vk->q_used, sizeof ts, ts, sizeof ts[0],
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    double ns = vk->ts_period_ns;
    vk->last_time = (double)(ts[1] - ts[0]) * ns * 1e-9;
    if ((vk->profile || vk->op_prof) && vk->node_times) {
        uint64_t prev = ts[0];
        for (uint32_t i = 2; i < vk->q_used && (int)(i - 2) < vk->n_node_times; i++) {
            vk->node_times[i - 2] = (double)(ts[i] - prev) * ns * 1e-9;
            prev = ts[i];
            if (vk->last_graph && (int)(i - 2) < vk->last_graph->n_nodes) {
                tfb_op op = vk->last_graph->nodes[i - 2].op;
                vk->op_time[op] += vk->node_times[i - 2];
                vk->op_calls[op]++;
                if (vk->op_prof)
                    vk->op_window[op] += vk->node_times[i - 2];
            }
        }
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_compute(tfb_vk *vk, tfb_graph *g) {
    TFB_TRY(tfb__vk_wait(vk));
    tfb_vk_graph *gs = NULL;
    TFB_TRY(tfb__vk_rope_prepare(vk, g));
    TFB_TRY(graph_state(vk, g, &gs));
    bool per_node = (vk->profile || vk->op_prof) && vk->ts_ok && (uint32_t)g->n_nodes + 2 <= vk->q_cap;
    if (per_node && vk->n_node_times < g->n_nodes) {
        double *t = realloc(vk->node_times, (size_t)g->n_nodes * sizeof *t);
        if (!t)
            return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
        vk->node_times = t;
        vk->n_node_times = g->n_nodes;
    }
    vk->last_graph = g;
    VkCommandBuffer cmd = vk->cmd;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VK_CHECK(vkBeginCommandBuffer(cmd, &bi));
    vk->q_used = vk->ts_ok ? (per_node ? 2 + (uint32_t)g->n_nodes : 2) : 0;
    if (vk->ts_ok) {
        vkCmdResetQueryPool(cmd, vk->qpool, 0, vk->q_used);
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, vk->qpool, 0);
    }
    tfb__vk_record_uploads(vk, cmd);
    /* Earlier submissions (downloads, fills) may still touch these buffers' caches. */
    full_barrier(cmd);
    hazards hz = {.n_wr = 0, .n_rd = 0};
    rec r = {.vk = vk, .cmd = cmd, .g = g, .gs = gs};
    tfb_status st = TFB_STATUS_OK;
    for (int i = 0; i < g->n_nodes && st == TFB_STATUS_OK; i++) {
        const tfb_node *n = &g->nodes[i];
        if (per_node) {
            full_barrier(cmd); /* each node timed on its own */
#ifdef TFB_TEST_FAULTS
        } else if (tfb__planted("vk-no-barriers")) {
            /* test builds only: no barriers between nodes */
#endif
        } else {
            node_barrier(&hz, cmd, n);
        }
        r.node = i;
        st = record_node(&r, n);
        if (per_node)
            vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, vk->qpool, 2 + (uint32_t)i);
    }
    /* Make every result visible to later transfers (downloads) and the host. */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    if (vk->ts_ok)
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, vk->qpool, 1);
    VkResult er = vkEndCommandBuffer(cmd);
    if (st != TFB_STATUS_OK) {
        vk->q_used = 0;
        return st;
    }
    if (er != VK_SUCCESS)
        return tfb__vk_fail("vkEndCommandBuffer", er, __FILE__, __LINE__);
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd};
    VK_CHECK(vkQueueSubmit(vk->queue, 1, &si, vk->fence));
    vk->in_flight = true;
    return tfb__vk_check_messages(vk);
}
