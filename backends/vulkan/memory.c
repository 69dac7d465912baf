/* Device memory: one VkBuffer + VkDeviceMemory per tfb_buffer (the session makes a few large ones:
 * weights, KV caches, one per graph; tensors are byte offsets into them). Uploads go through a
 * persistently mapped staging buffer and are batched: they are copied by the next graph's command
 * buffer (or a flush when staging fills up or a download needs them). Downloads go through a
 * host-visible readback buffer. */
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/vk_impl.h"
#include "core/grow.h"

#define STAGE_BYTES ((size_t)32 << 20)

static int find_type(tfb_vk *vk, uint32_t bits, VkMemoryPropertyFlags want) {
    for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (vk->mem_props.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* A buffer with memory of the first type that has `want`, else `fallback`. */
static tfb_status make_buffer(tfb_vk *vk, VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags want,
                              VkMemoryPropertyFlags fallback, VkBuffer *buf, VkDeviceMemory *mem,
                              VkMemoryPropertyFlags *got) {
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_CHECK(vkCreateBuffer(vk->dev, &bci, NULL, buf));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(vk->dev, *buf, &req);
    int type = find_type(vk, req.memoryTypeBits, want);
    if (type < 0)
        type = find_type(vk, req.memoryTypeBits, fallback);
    if (type < 0) {
        vkDestroyBuffer(vk->dev, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        return tfb_error_set(TFB_STATUS_BACKEND, "vulkan: no memory type with flags 0x%x", (unsigned)fallback);
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VkResult r = vkAllocateMemory(vk->dev, &mai, NULL, mem);
    if (r == VK_SUCCESS)
        r = vkBindBufferMemory(vk->dev, *buf, *mem, 0);
    if (r != VK_SUCCESS) {
        if (*mem)
            vkFreeMemory(vk->dev, *mem, NULL);
        vkDestroyBuffer(vk->dev, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        *mem = VK_NULL_HANDLE;
        return tfb__vk_fail("vkAllocateMemory", r, __FILE__, __LINE__);
    }
    if (got)
        *got = vk->mem_props.memoryTypes[type].propertyFlags;
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_memory_init(tfb_vk *vk) {
    vk->stage_size = STAGE_BYTES;
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    TFB_TRY(make_buffer(vk, vk->stage_size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, hv, hv, &vk->stage, &vk->stage_mem,
                        NULL));
    void *p;
    VK_CHECK(vkMapMemory(vk->dev, vk->stage_mem, 0, VK_WHOLE_SIZE, 0, &p));
    vk->stage_map = p;
    return TFB_STATUS_OK;
}

static void free_readback(tfb_vk *vk) {
    if (vk->rb_mem)
        vkFreeMemory(vk->dev, vk->rb_mem, NULL); /* implicitly unmapped */
    if (vk->rb)
        vkDestroyBuffer(vk->dev, vk->rb, NULL);
    vk->rb = VK_NULL_HANDLE;
    vk->rb_mem = VK_NULL_HANDLE;
    vk->rb_map = NULL;
    vk->rb_size = 0;
}

void tfb__vk_memory_free(tfb_vk *vk) {
    if (!vk->dev)
        return;
    free_readback(vk);
    if (vk->stage_mem)
        vkFreeMemory(vk->dev, vk->stage_mem, NULL);
    if (vk->stage)
        vkDestroyBuffer(vk->dev, vk->stage, NULL);
    free(vk->copies);
    vk->copies = NULL;
}

/* Wait for the graph command buffer, if one is in flight, and collect its timestamps. */
tfb_status tfb__vk_wait(tfb_vk *vk) {
    if (!vk->in_flight)
        return TFB_STATUS_OK;
    vk->in_flight = false;
    VK_CHECK(vkWaitForFences(vk->dev, 1, &vk->fence, VK_TRUE, UINT64_MAX));
    VK_CHECK(vkResetFences(vk->dev, 1, &vk->fence));
    return tfb__vk_read_timestamps(vk);
}

static const VkMemoryBarrier xfer_barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT,
};

void tfb__vk_record_uploads(tfb_vk *vk, VkCommandBuffer cmd) {
    if (vk->n_copies == 0)
        return;
    for (int i = 0; i < vk->n_copies; i++)
        vkCmdCopyBuffer(cmd, vk->stage, vk->copies[i].dst, 1, &vk->copies[i].region);
    vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &xfer_barrier,
                         0, NULL, 0, NULL);
    /* The staging bytes stay untouched until this command buffer's fence: upload() waits for it. */
    vk->n_copies = 0;
    vk->stage_used = 0;
}

/* Run `cmd` (already ended) on the queue and wait for it. */
static tfb_status submit_wait(tfb_vk *vk, VkCommandBuffer cmd) {
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd};
    VK_CHECK(vkQueueSubmit(vk->queue, 1, &si, vk->xfence));
    VK_CHECK(vkWaitForFences(vk->dev, 1, &vk->xfence, VK_TRUE, UINT64_MAX));
    VK_CHECK(vkResetFences(vk->dev, 1, &vk->xfence));
    return TFB_STATUS_OK;
}

static tfb_status begin_xfer(tfb_vk *vk) {
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VK_CHECK(vkBeginCommandBuffer(vk->xfer, &bi));
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_flush_uploads(tfb_vk *vk) {
    if (vk->n_copies == 0)
        return TFB_STATUS_OK;
    TFB_TRY(tfb__vk_wait(vk));
    TFB_TRY(begin_xfer(vk));
    tfb__vk_record_uploads(vk, vk->xfer);
    VK_CHECK(vkEndCommandBuffer(vk->xfer));
    return submit_wait(vk, vk->xfer);
}

tfb_status tfb__vk_buffer_alloc(tfb_vk *vk, size_t size, tfb_buffer *buf) {
    VkDeviceSize rounded = ((VkDeviceSize)size + 63) & ~(VkDeviceSize)63;
    /* Tensors are bound as ranges (ops.c), each within maxStorageBufferRange; a buffer may be larger. */
    if (rounded > UINT32_MAX)
        return tfb_error_set(TFB_STATUS_DEVICE_NOMEM, "vulkan: buffer of %zu bytes: 4 GiB is this backend's limit",
                             size);
    tfb_vk_buf *vb = calloc(1, sizeof *vb);
    if (!vb)
        return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
    vb->size = rounded;
    tfb_status s = make_buffer(vk, rounded,
                               VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                   VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                                   (vk->matmul == TFB_VK_MM_CPU ? VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT : 0),
                               VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, &vb->buf, &vb->mem, NULL);
    if (s != TFB_STATUS_OK) {
        free(vb);
        return s;
    }
    /* Zeroed like the reference backend's buffers, so unwritten rows read as 0 everywhere. */
    s = tfb__vk_wait(vk);
    if (s == TFB_STATUS_OK)
        s = begin_xfer(vk);
    if (s == TFB_STATUS_OK) {
        vkCmdFillBuffer(vk->xfer, vb->buf, 0, VK_WHOLE_SIZE, 0);
        VkResult r = vkEndCommandBuffer(vk->xfer);
        s = r == VK_SUCCESS ? submit_wait(vk, vk->xfer) : tfb__vk_fail("vkEndCommandBuffer", r, __FILE__, __LINE__);
    }
    if (s != TFB_STATUS_OK) {
        vkDestroyBuffer(vk->dev, vb->buf, NULL);
        vkFreeMemory(vk->dev, vb->mem, NULL);
        free(vb);
        return s;
    }
    buf->handle = vb;
    buf->host = NULL;
    vk->mem_used += (int64_t)rounded;
    return TFB_STATUS_OK;
}

void tfb__vk_buffer_free(tfb_vk *vk, tfb_buffer *buf) {
    tfb_vk_buf *vb = buf->handle;
    if (!vb)
        return;
    /* Work in flight (or pending copies) may still reference the buffer. */
    (void)tfb__vk_flush_uploads(vk);
    (void)tfb__vk_wait(vk);
    vkDestroyBuffer(vk->dev, vb->buf, NULL);
    vkFreeMemory(vk->dev, vb->mem, NULL);
    vk->mem_used -= (int64_t)vb->size;
    free(vb);
    buf->handle = NULL;
}

tfb_status tfb__vk_upload(tfb_vk *vk, tfb_tensor *t, const void *src, size_t off, size_t n) {
    /* The staging bytes of the in-flight graph's copies must not be overwritten. */
    TFB_TRY(tfb__vk_wait(vk));
    VkBuffer dst = tfb__vk_handle(t);
    size_t at = t->offset + off;
    const char *p = src;
    while (n > 0) {
        if (vk->stage_used == vk->stage_size)
            TFB_TRY(tfb__vk_flush_uploads(vk));
        size_t chunk = vk->stage_size - vk->stage_used;
        if (chunk > n)
            chunk = n;
        if (vk->n_copies == vk->cap_copies) {
            tfb_vk_copy *c = tfb__grow(vk->copies, &vk->cap_copies, sizeof *c);
            if (!c)
                return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
            vk->copies = c;
        }
        memcpy(vk->stage_map + vk->stage_used, p, chunk);
        vk->copies[vk->n_copies++] = (tfb_vk_copy){
            .dst = dst, .region = {.srcOffset = vk->stage_used, .dstOffset = at, .size = chunk}};
        vk->stage_used = (vk->stage_used + chunk + 15) & ~(size_t)15;
        if (vk->stage_used > vk->stage_size)
            vk->stage_used = vk->stage_size;
        p += chunk;
        at += chunk;
        n -= chunk;
    }
    return TFB_STATUS_OK;
}

static tfb_status grow_readback(tfb_vk *vk, size_t n) {
    if (vk->rb_size >= n)
        return TFB_STATUS_OK;
    free_readback(vk);
    size_t size = n < ((size_t)1 << 20) ? ((size_t)1 << 20) : n;
    VkMemoryPropertyFlags got;
    TFB_TRY(make_buffer(vk, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, &vk->rb, &vk->rb_mem, &got));
    vk->rb_coherent = (got & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
    void *p;
    VK_CHECK(vkMapMemory(vk->dev, vk->rb_mem, 0, VK_WHOLE_SIZE, 0, &p));
    vk->rb_map = p;
    vk->rb_size = size;
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_download(tfb_vk *vk, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    TFB_TRY(tfb__vk_flush_uploads(vk));
    TFB_TRY(tfb__vk_wait(vk));
    TFB_TRY(tfb__vk_check_messages(vk));
    if (n == 0)
        return TFB_STATUS_OK;
    TFB_TRY(grow_readback(vk, n));
    TFB_TRY(begin_xfer(vk));
    VkBufferCopy region = {.srcOffset = t->offset + off, .dstOffset = 0, .size = n};
    vkCmdCopyBuffer(vk->xfer, tfb__vk_handle(t), vk->rb, 1, &region);
    VkMemoryBarrier host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                            .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(vk->xfer, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &host, 0, NULL,
                         0, NULL);
    VK_CHECK(vkEndCommandBuffer(vk->xfer));
    TFB_TRY(submit_wait(vk, vk->xfer));
    if (!vk->rb_coherent) {
        VkMappedMemoryRange range = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                                     .memory = vk->rb_mem,
                                     .offset = 0,
                                     .size = VK_WHOLE_SIZE};
        VK_CHECK(vkInvalidateMappedMemoryRanges(vk->dev, 1, &range));
    }
    memcpy(dst, vk->rb_map, n);
    return tfb__vk_check_messages(vk);
}
