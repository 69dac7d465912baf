/* VkResult names and the one place a Vulkan failure becomes a tfbench status. */
#include <string.h>

#include "backends/vulkan/vk_impl.h"

#define TFB_VK_RESULT_MAP(X)                    \
    X(VK_SUCCESS)                               \
    X(VK_NOT_READY)                             \
    X(VK_TIMEOUT)                               \
    X(VK_EVENT_SET)                             \
    X(VK_EVENT_RESET)                           \
    X(VK_INCOMPLETE)                            \
    X(VK_ERROR_OUT_OF_HOST_MEMORY)              \
    X(VK_ERROR_OUT_OF_DEVICE_MEMORY)            \
    X(VK_ERROR_INITIALIZATION_FAILED)           \
    X(VK_ERROR_DEVICE_LOST)                     \
    X(VK_ERROR_MEMORY_MAP_FAILED)               \
    X(VK_ERROR_LAYER_NOT_PRESENT)               \
    X(VK_ERROR_EXTENSION_NOT_PRESENT)           \
    X(VK_ERROR_FEATURE_NOT_PRESENT)             \
    X(VK_ERROR_INCOMPATIBLE_DRIVER)             \
    X(VK_ERROR_TOO_MANY_OBJECTS)                \
    X(VK_ERROR_FORMAT_NOT_SUPPORTED)            \
    X(VK_ERROR_FRAGMENTED_POOL)                 \
    X(VK_ERROR_UNKNOWN)                         \
    X(VK_ERROR_OUT_OF_POOL_MEMORY)              \
    X(VK_ERROR_INVALID_EXTERNAL_HANDLE)         \
    X(VK_ERROR_FRAGMENTATION)                   \
    X(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)  \
    X(VK_PIPELINE_COMPILE_REQUIRED)             \
    X(VK_ERROR_VALIDATION_FAILED_EXT)

const char *tfb__vk_result_name(VkResult r) {
    switch (r) {
#define TFB_VK_RESULT_CASE_(name) \
    case name: return #name;
        TFB_VK_RESULT_MAP(TFB_VK_RESULT_CASE_)
#undef TFB_VK_RESULT_CASE_
    default: return "VK_RESULT_UNKNOWN";
    }
}

tfb_status tfb__vk_fail(const char *call, VkResult r, const char *file, int line) {
    /* Keep only the function name of the call expression: "vkQueueSubmit(vk->queue, ...)". */
    char name[64];
    size_t n = strcspn(call, "(");
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, call, n);
    name[n] = '\0';
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    tfb_status s = (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_POOL_MEMORY)
                       ? TFB_STATUS_DEVICE_NOMEM
                   : r == VK_ERROR_OUT_OF_HOST_MEMORY ? TFB_STATUS_NOMEM
                                                       : TFB_STATUS_BACKEND;
    return tfb_error_set(s, "vulkan: %s: %s (%s:%d)", name, tfb__vk_result_name(r), base, line);
}
