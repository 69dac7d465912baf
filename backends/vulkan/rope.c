/* Rotary tables on Vulkan: the slots are backends/rope_tables.c's (host cos/sin in double, rope.comp
 * only multiplies: GPU sin/cos of large arguments lose precision and real GPUs lack fast fp64); this
 * file keeps each slot's buffer and the tensor that binds it. Replacing a table bumps the slots' gen,
 * so graphs rewrite the descriptor sets that bound the old one. */
#include <stdio.h>

#include "backends/vulkan/vk_impl.h"

static void drop(void *ctx, int k) {
    tfb_vk *vk = ctx;
    if (vk->rope_t[k].buf)
        tfb__vk_buffer_free(vk, &vk->rope_buf[k]);
    vk->rope_t[k] = (tfb_tensor){0};
}

static tfb_status store(void *ctx, int k, const float *table, size_t bytes) {
    tfb_vk *vk = ctx;
    drop(vk, k);
    TFB_TRY(tfb__vk_buffer_alloc(vk, bytes, &vk->rope_buf[k]));
    tfb_tensor *t = &vk->rope_t[k];
    *t = (tfb_tensor){.dtype = TFB_DTYPE_F32, .ndim = 1, .shape = {(int64_t)(bytes / sizeof(float))},
                      .buf = &vk->rope_buf[k]};
    snprintf(t->name, sizeof t->name, "rope_table");
    tfb_status s = tfb__vk_upload(vk, t, table, 0, bytes);
    if (s != TFB_STATUS_OK)
        drop(vk, k);
    return s;
}

static const tfb_rope_dev vk_rope_dev = {.name = "vulkan", .store = store, .drop = drop};

tfb_status tfb__vk_rope_prepare(tfb_vk *vk, const tfb_graph *g) {
    return tfb_rope_tables_prepare(&vk->ropes, g, &vk_rope_dev, vk);
}

const tfb_tensor *tfb__vk_rope_table(const tfb_vk *vk, const tfb_node *n) {
    int k = tfb_rope_tables_find(&vk->ropes, n);
    return k >= 0 ? &vk->rope_t[k] : NULL;
}

void tfb__vk_rope_free(tfb_vk *vk) {
    tfb_rope_tables_free(&vk->ropes, &vk_rope_dev, vk);
}
