/* Vulkan instance, physical device selection, logical device and queue, device info, and the
 * backend vtable. TFB_VK_VALIDATION=1 enables the Khronos validation layer with a debug-utils
 * messenger that counts warnings and errors; any such message fails the next backend call. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/vk_impl.h"

static bool env_on(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static VkResult create_instance(bool validation, VkInstance *inst) {
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "tfbench",
        .applicationVersion = 1,
        .pEngineName = "tfbench",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
    /* Synchronization validation too: it checks the barriers ops.c leaves out. */
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validation ? &features : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = validation ? 2 : 0,
        .ppEnabledExtensionNames = exts,
    };
    return vkCreateInstance(&ci, NULL, inst);
}

bool tfb__vk_probe(char *why, size_t why_len) {
    VkInstance inst;
    VkResult r = create_instance(false, &inst);
    if (r != VK_SUCCESS) {
        snprintf(why, why_len, "vkCreateInstance: %s (no Vulkan 1.2 loader or driver)", tfb__vk_result_name(r));
        return false;
    }
    uint32_t n = 0;
    r = vkEnumeratePhysicalDevices(inst, &n, NULL);
    vkDestroyInstance(inst, NULL);
    if (r != VK_SUCCESS) {
        snprintf(why, why_len, "vkEnumeratePhysicalDevices: %s", tfb__vk_result_name(r));
        return false;
    }
    if (n == 0) {
        snprintf(why, why_len, "no Vulkan physical device (no ICD installed?)");
        return false;
    }
    return true;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    tfb_vk *vk = user;
    vk->n_messages++;
    fprintf(stderr, "tfbench: vulkan: validation %s: %s\n",
            (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning",
            data && data->pMessage ? data->pMessage : "(no text)");
    return VK_FALSE;
}

tfb_status tfb__vk_check_messages(tfb_vk *vk) {
    if (vk->n_messages > vk->n_messages_seen) {
        int n = vk->n_messages - vk->n_messages_seen;
        vk->n_messages_seen = vk->n_messages;
        return tfb_error_set(TFB_STATUS_BACKEND, "vulkan: validation layer reported %d message(s)", n);
    }
    return TFB_STATUS_OK;
}

static tfb_status setup_validation(tfb_vk *vk) {
    uint32_t n = 0;
    VK_CHECK(vkEnumerateInstanceLayerProperties(&n, NULL));
    VkLayerProperties *lp = calloc(n ? n : 1, sizeof *lp);
    if (!lp)
        return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
    VkResult r = vkEnumerateInstanceLayerProperties(&n, lp);
    bool found = false;
    for (uint32_t i = 0; r == VK_SUCCESS && i < n; i++)
        found = found || strcmp(lp[i].layerName, "VK_LAYER_KHRONOS_validation") == 0;
    free(lp);
    VK_CHECK(r);
    if (!found)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "vulkan: TFB_VK_VALIDATION is set but VK_LAYER_KHRONOS_validation "
                                                     "is not installed (Debian vulkan-validationlayers)");
    return TFB_STATUS_OK;
}

static bool name_matches(const char *name, const char *want) {
    size_t n = strlen(name), m = strlen(want);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)name[i + j]) == tolower((unsigned char)want[j]))
            j++;
        if (j == m)
            return true;
    }
    return false;
}

static tfb_status pick_device(tfb_vk *vk, const char *want) {
    uint32_t n = 0;
    VK_CHECK(vkEnumeratePhysicalDevices(vk->inst, &n, NULL));
    if (n == 0)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "vulkan: no physical device");
    VkPhysicalDevice devs[16];
    if (n > 16)
        n = 16;
    VkResult r = vkEnumeratePhysicalDevices(vk->inst, &n, devs);
    if (r != VK_INCOMPLETE)
        VK_CHECK(r);
    int pick = -1;
    if (!want || !*want) {
        pick = 0;
    } else {
        char *end;
        long idx = strtol(want, &end, 10);
        if (*end == '\0') {
            if (idx < 0 || idx >= (long)n)
                return tfb_error_set(TFB_STATUS_USAGE, "vulkan: --device %ld: only %u device(s)", idx, n);
            pick = (int)idx;
        } else {
            for (uint32_t i = 0; i < n && pick < 0; i++) {
                VkPhysicalDeviceProperties p;
                vkGetPhysicalDeviceProperties(devs[i], &p);
                if (name_matches(p.deviceName, want))
                    pick = (int)i;
            }
            if (pick < 0)
                return tfb_error_set(TFB_STATUS_USAGE, "vulkan: --device '%s' matches no device name", want);
        }
    }
    vk->pdev = devs[pick];
    vkGetPhysicalDeviceProperties(vk->pdev, &vk->props);
    if (vk->props.apiVersion < VK_API_VERSION_1_2)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "vulkan: %s supports only Vulkan %u.%u, 1.2 is needed",
                             vk->props.deviceName, VK_API_VERSION_MAJOR(vk->props.apiVersion),
                             VK_API_VERSION_MINOR(vk->props.apiVersion));
    vkGetPhysicalDeviceMemoryProperties(vk->pdev, &vk->mem_props);
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    vk->subgroup = (VkPhysicalDeviceSubgroupProperties){
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &drv};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &vk->subgroup};
    vkGetPhysicalDeviceProperties2(vk->pdev, &p2);
    snprintf(vk->driver_name, sizeof vk->driver_name, "%s", drv.driverName);
    snprintf(vk->driver_info, sizeof vk->driver_info, "%s", drv.driverInfo);
    vk->f11 = (VkPhysicalDeviceVulkan11Features){.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    vk->f12 = (VkPhysicalDeviceVulkan12Features){.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                                 .pNext = &vk->f11};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &vk->f12};
    vkGetPhysicalDeviceFeatures2(vk->pdev, &f2);
    VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    vk->use_subgroup = (vk->subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                       (vk->subgroup.supportedOperations & need) == need && !env_on("TFB_VK_NO_SUBGROUP");
    /* Workgroup barriers and shared memory cost much on CPU devices: use a barrier-free matmul
     * there, reading through texel buffers where every weight part fits one texel view (lavapipe).
     * TFB_VK_MATMUL=cpu|reg|gpu overrides (tests run every path on lavapipe); cpu falls back to reg
     * where the device cannot run it. */
    VkFormatProperties f1, f4;
    vkGetPhysicalDeviceFormatProperties(vk->pdev, VK_FORMAT_R32_UINT, &f1);
    vkGetPhysicalDeviceFormatProperties(vk->pdev, VK_FORMAT_R32G32B32A32_UINT, &f4);
    bool cpu_ok = (f1.bufferFeatures & f4.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) &&
                  vk->props.limits.maxTexelBufferElements >= vk->props.limits.maxStorageBufferRange / 4;
    const char *mm = getenv("TFB_VK_MATMUL");
    bool is_cpu = vk->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    if (mm && strcmp(mm, "gpu") == 0)
        vk->matmul = TFB_VK_MM_GPU;
    else if (mm && strcmp(mm, "reg") == 0)
        vk->matmul = TFB_VK_MM_REG;
    else if ((mm && strcmp(mm, "cpu") == 0) || is_cpu)
        vk->matmul = cpu_ok ? TFB_VK_MM_CPU : TFB_VK_MM_REG;
    else
        vk->matmul = TFB_VK_MM_GPU;
    uint32_t sgs = vk->subgroup.subgroupSize;
    vk->gemv_sg = vk->matmul == TFB_VK_MM_CPU && vk->use_subgroup && sgs > 0 && 64 % sgs == 0;
    const char *tx = getenv("TFB_VK_TEXELS");
    vk->words_only = tx && strcmp(tx, "words") == 0;
    return TFB_STATUS_OK;
}

static tfb_status create_device(tfb_vk *vk) {
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->pdev, &nq, NULL);
    VkQueueFamilyProperties qp[32];
    if (nq > 32)
        nq = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(vk->pdev, &nq, qp);
    int fam = -1;
    for (uint32_t i = 0; i < nq && fam < 0; i++)
        if (qp[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            fam = (int)i;
    if (fam < 0)
        return tfb_error_set(TFB_STATUS_UNAVAILABLE, "vulkan: %s has no compute queue", vk->props.deviceName);
    vk->qfam = (uint32_t)fam;
    vk->ts_ok = qp[fam].timestampValidBits > 0 && vk->props.limits.timestampPeriod > 0.0f;
    vk->ts_period_ns = vk->props.limits.timestampPeriod;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = vk->qfam,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
    };
    VK_CHECK(vkCreateDevice(vk->pdev, &dci, NULL, &vk->dev));
    vkGetDeviceQueue(vk->dev, vk->qfam, 0, &vk->queue);
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = vk->qfam,
    };
    VK_CHECK(vkCreateCommandPool(vk->dev, &pci, NULL, &vk->cpool));
    VkCommandBuffer cbs[2];
    VkCommandBufferAllocateInfo cai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = vk->cpool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 2,
    };
    VK_CHECK(vkAllocateCommandBuffers(vk->dev, &cai, cbs));
    vk->cmd = cbs[0];
    vk->xfer = cbs[1];
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(vkCreateFence(vk->dev, &fci, NULL, &vk->fence));
    VK_CHECK(vkCreateFence(vk->dev, &fci, NULL, &vk->xfence));
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_device_init(tfb_vk *vk, const tfb_backend_opts *opts) {
    vk->validation = env_on("TFB_VK_VALIDATION");
    vk->profile = opts->profile || env_on("TFB_VK_PROFILE");
    if (vk->validation)
        TFB_TRY(setup_validation(vk));
    VK_CHECK(create_instance(vk->validation, &vk->inst));
    if (vk->validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->inst, "vkCreateDebugUtilsMessengerEXT");
        if (!create)
            return tfb_error_set(TFB_STATUS_UNAVAILABLE, "vulkan: vkCreateDebugUtilsMessengerEXT is missing");
        VkDebugUtilsMessengerCreateInfoEXT mci = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity =
                VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_message,
            .pUserData = vk,
        };
        VK_CHECK(create(vk->inst, &mci, NULL, &vk->messenger));
    }
    TFB_TRY(pick_device(vk, opts->device));
    TFB_TRY(create_device(vk));
    return tfb__vk_check_messages(vk);
}

void tfb__vk_device_free(tfb_vk *vk) {
    if (vk->dev) {
        vkDeviceWaitIdle(vk->dev);
        if (vk->fence)
            vkDestroyFence(vk->dev, vk->fence, NULL);
        if (vk->xfence)
            vkDestroyFence(vk->dev, vk->xfence, NULL);
        if (vk->cpool)
            vkDestroyCommandPool(vk->dev, vk->cpool, NULL);
        vkDestroyDevice(vk->dev, NULL);
    }
    if (vk->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->inst, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(vk->inst, vk->messenger, NULL);
    }
    if (vk->inst)
        vkDestroyInstance(vk->inst, NULL);
}

static const char *type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

void tfb__vk_device_info(tfb_vk *vk, tfb_device_info *info) {
    snprintf(info->device, sizeof info->device, "%s (%s)", vk->props.deviceName, type_name(vk->props.deviceType));
    snprintf(info->driver, sizeof info->driver, "%s %s (driver version 0x%x)", vk->driver_name, vk->driver_info,
             vk->props.driverVersion);
    uint32_t v = vk->props.apiVersion;
    snprintf(info->api, sizeof info->api, "Vulkan %u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
             VK_API_VERSION_PATCH(v));
    uint32_t lv = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion(&lv) != VK_SUCCESS)
        lv = VK_API_VERSION_1_0;
    snprintf(info->library, sizeof info->library, "Vulkan loader %u.%u.%u, headers 1.%u.%u",
             VK_API_VERSION_MAJOR(lv), VK_API_VERSION_MINOR(lv), VK_API_VERSION_PATCH(lv),
             VK_API_VERSION_MINOR(VK_HEADER_VERSION_COMPLETE), VK_HEADER_VERSION);
    uint32_t ops = vk->subgroup.supportedOperations;
    int64_t heap = 0;
    char heaps[96] = "";
    for (uint32_t i = 0; i < vk->mem_props.memoryHeapCount && i < 4; i++) {
        const VkMemoryHeap *h = &vk->mem_props.memoryHeaps[i];
        size_t l = strlen(heaps);
        snprintf(heaps + l, sizeof heaps - l, "%s%.1fG%s", i ? "," : "", (double)h->size / (1 << 30),
                 (h->flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? "(local)" : "");
        if (h->flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            heap += (int64_t)h->size;
    }
    snprintf(info->extra, sizeof info->extra,
             "heaps %s; fp16 arith %s, int8 arith %s, 16-bit storage %s, 8-bit storage %s; subgroup %u "
             "(arith %s, shuffle %s, ballot %s)%s; timestamps %s; matmul %s",
             heaps, vk->f12.shaderFloat16 ? "yes" : "no", vk->f12.shaderInt8 ? "yes" : "no",
             vk->f11.storageBuffer16BitAccess ? "yes" : "no", vk->f12.storageBuffer8BitAccess ? "yes" : "no",
             vk->subgroup.subgroupSize, (ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) ? "yes" : "no",
             (ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) ? "yes" : "no", (ops & VK_SUBGROUP_FEATURE_BALLOT_BIT) ? "yes" : "no",
             vk->use_subgroup ? ", used" : ", not used", vk->ts_ok ? "yes" : "no",
             vk->matmul == TFB_VK_MM_CPU   ? "texel-buffer register blocks"
             : vk->matmul == TFB_VK_MM_REG ? "4x4 register blocks"
                                           : "tiled + gemv");
    info->mem_total = heap;
    info->mem_used = vk->mem_used;
}

/* ---- the vtable ----------------------------------------------------------------------------------- */

static tfb_status vkb_init(const tfb_backend_opts *opts, void **ctx) {
    *ctx = NULL;
    tfb_vk *vk = calloc(1, sizeof *vk);
    if (!vk)
        return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
    vk->last_time = -1.0;
    tfb_status s = tfb__vk_device_init(vk, opts);
    if (s == TFB_STATUS_OK)
        s = tfb__vk_memory_init(vk);
    if (s == TFB_STATUS_OK)
        s = tfb__vk_pipelines_init(vk);
    if (s == TFB_STATUS_OK)
        s = tfb__vk_check_messages(vk);
    if (s != TFB_STATUS_OK) {
        tfb__vk_pipelines_free(vk);
        tfb__vk_memory_free(vk);
        tfb__vk_device_free(vk);
        free(vk);
        return s;
    }
    *ctx = vk;
    return TFB_STATUS_OK;
}

static void vkb_free(void *ctx) {
    tfb_vk *vk = ctx;
    if (!vk)
        return;
    if (vk->dev)
        vkDeviceWaitIdle(vk->dev);
    (void)tfb__vk_wait(vk);
    if (vk->profile) /* per-op device time under opts->profile or TFB_VK_PROFILE=1 */
        for (int op = 0; op < TFB_OP_COUNT; op++)
            if (vk->op_calls[op])
                fprintf(stderr, "tfbench: vulkan: profile: %-10s %8lld calls %10.3f ms\n", tfb_op_name((tfb_op)op),
                        (long long)vk->op_calls[op], vk->op_time[op] * 1e3);
    while (vk->graphs)
        tfb__vk_graph_release(vk, vk->graphs->g);
    tfb__vk_rope_free(vk);
    tfb__vk_pipelines_free(vk);
    tfb__vk_memory_free(vk);
    tfb__vk_device_free(vk);
    free(vk->node_times);
    free(vk);
}

static void vkb_device_info(void *ctx, tfb_device_info *info) {
    tfb__vk_device_info(ctx, info);
}

/* What ops.c records, with its dispatch limits: a call's rows are one grid dimension (at most 65535
 * workgroups; dyn_rows tensors show their maximum here), a matmul's N/32 column blocks another, and
 * attention.comp holds a head in 4 accumulators per invocation of 64 (TFB_VK_ATT_MAXD); grouped-query
 * K/V heads and a relative position bias are read by both attention kernels. ROPE takes either
 * layout and any theta (host tables, rope.c); tfb_node_well_formed has checked an even head size. */
static bool vkb_supports(void *ctx, const tfb_node *n) {
    (void)ctx;
    const tfb_tensor *rows = n->op == TFB_OP_EMBED ? n->out : n->in[0];
    if (rows->shape[0] > TFB_VK_MAX_GROUPS)
        return false;
    switch (n->op) {
    case TFB_OP_MATMUL:
        return (n->in[1]->shape[0] + 31) / 32 <= TFB_VK_MAX_GROUPS && tfb_dtype_is_weight(n->in[1]->dtype);
    case TFB_OP_ATTENTION: return tfb_node_head_size(n) <= TFB_VK_ATT_MAXD;
    case TFB_OP_ROPE: return n->rope_theta > 0.0f;
    default: return tfb_op_is_rowwise(n->op);
    }
}

static tfb_status vkb_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    return tfb__vk_buffer_alloc(ctx, size, buf);
}

static void vkb_buffer_free(void *ctx, tfb_buffer *buf) {
    tfb__vk_buffer_free(ctx, buf);
}

static tfb_status vkb_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    return tfb__vk_upload(ctx, t, src, off, n);
}

static tfb_status vkb_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    return tfb__vk_download(ctx, t, dst, off, n);
}

static tfb_status vkb_compute(void *ctx, tfb_graph *g) {
    return tfb__vk_compute(ctx, g);
}

static tfb_status vkb_synchronize(void *ctx) {
    tfb_vk *vk = ctx;
    TFB_TRY(tfb__vk_flush_uploads(vk));
    TFB_TRY(tfb__vk_wait(vk));
    return tfb__vk_check_messages(vk);
}

static void vkb_graph_release(void *ctx, tfb_graph *g) {
    tfb__vk_graph_release(ctx, g);
}

static double vkb_last_device_time(void *ctx) {
    tfb_vk *vk = ctx;
    if (tfb__vk_wait(vk) != TFB_STATUS_OK)
        return -1.0;
    return vk->last_time;
}

/* Per-op device time from the per-node timestamps (each node then runs behind a full barrier, so
 * the times are the nodes' own, and the graph runs a little slower than unprofiled). */
static bool vkb_op_profile(void *ctx, bool on, double *secs) {
    tfb_vk *vk = ctx;
    if (!vk->ts_ok || tfb__vk_wait(vk) != TFB_STATUS_OK) // earlier work is not part of the window
        return false;
    if (on)
        memset(vk->op_window, 0, sizeof vk->op_window);
    else
        memcpy(secs, vk->op_window, sizeof vk->op_window);
    vk->op_prof = on;
    return true;
}

const tfb_backend_i tfb_backend_vulkan = {
    .name = "vulkan",
    .probe = tfb__vk_probe,
    .init = vkb_init,
    .free = vkb_free,
    .device_info = vkb_device_info,
    .supports = vkb_supports,
    .buffer_alloc = vkb_buffer_alloc,
    .buffer_free = vkb_buffer_free,
    .upload = vkb_upload,
    .download = vkb_download,
    .compute = vkb_compute,
    .synchronize = vkb_synchronize,
    .graph_release = vkb_graph_release,
    .last_device_time = vkb_last_device_time,
    .op_profile = vkb_op_profile,
};
