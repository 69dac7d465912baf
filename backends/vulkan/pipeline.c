/* Shader modules and compute pipelines from the embedded SPIR-V, each created once: the small ones at
 * init, the matmul families at their first use (tfb__vk_pipe). One descriptor set layout (5 storage
 * buffers, then 3 uniform texel buffers that only the CPU-device kernels read) and one pipeline
 * layout (80 bytes of push constants) serve every pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/vulkan/shaders.h"
#include "backends/vulkan/vk_impl.h"

static const tfb_vk_shader *find_shader(const char *name) {
    for (const tfb_vk_shader *s = tfb__vk_shaders; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static tfb_status make_pipeline(tfb_vk *vk, const char *name, VkPipeline *out) {
    const tfb_vk_shader *sh = find_shader(name);
    if (!sh)
        return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: shader %s is not embedded", name);
    /* The byte array has no 4-byte alignment guarantee; pCode must be uint32_t-aligned. */
    size_t len = *sh->len;
    uint32_t *code = malloc(len);
    if (!code)
        return tfb_error_set(TFB_STATUS_NOMEM, "vulkan: out of memory");
    memcpy(code, sh->spv, len);
    VkShaderModuleCreateInfo mci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = len, .pCode = code};
    VkShaderModule mod;
    VkResult r = vkCreateShaderModule(vk->dev, &mci, NULL, &mod);
    free(code);
    VK_CHECK(r);
    VkComputePipelineCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main"},
        .layout = vk->layout,
    };
    r = vkCreateComputePipelines(vk->dev, VK_NULL_HANDLE, 1, &pci, NULL, out);
    vkDestroyShaderModule(vk->dev, mod, NULL);
    VK_CHECK(r);
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_pipelines_init(tfb_vk *vk) {
    VkDescriptorSetLayoutBinding b[TFB_VK_BINDINGS + TFB_VK_TEXELS];
    for (int i = 0; i < TFB_VK_BINDINGS + TFB_VK_TEXELS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i,
                                              .descriptorType = i < TFB_VK_BINDINGS
                                                                    ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                                    : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
                                              .descriptorCount = 1,
                                              .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = TFB_VK_BINDINGS + TFB_VK_TEXELS,
                                           .pBindings = b};
    VK_CHECK(vkCreateDescriptorSetLayout(vk->dev, &dci, NULL, &vk->dsl));
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = sizeof(tfb_vk_push)};
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &vk->dsl,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pcr,
    };
    VK_CHECK(vkCreatePipelineLayout(vk->dev, &lci, NULL, &vk->layout));

    const char *sg = vk->use_subgroup ? "_sg" : "";
    static const char *wt[5] = {"f32", "f16", "bf16", "q8_0", "q4_0"};
    char name[64];
    TFB_TRY(make_pipeline(vk, "embed", &vk->pipes[TFB_VK_P_EMBED]));
    TFB_TRY(make_pipeline(vk, "add", &vk->pipes[TFB_VK_P_ADD]));
    TFB_TRY(make_pipeline(vk, "act", &vk->pipes[TFB_VK_P_ACT]));
    TFB_TRY(make_pipeline(vk, "argmax", &vk->pipes[TFB_VK_P_ARGMAX]));
    TFB_TRY(make_pipeline(vk, "rope", &vk->pipes[TFB_VK_P_ROPE]));
    snprintf(name, sizeof name, "norm%s", sg);
    TFB_TRY(make_pipeline(vk, name, &vk->pipes[TFB_VK_P_NORM]));
    snprintf(name, sizeof name, "softmax%s", sg);
    TFB_TRY(make_pipeline(vk, name, &vk->pipes[TFB_VK_P_SOFTMAX]));
    snprintf(name, sizeof name, "attention%s", sg);
    TFB_TRY(make_pipeline(vk, name, &vk->pipes[TFB_VK_P_ATTENTION]));
    if (vk->matmul == TFB_VK_MM_CPU) {
        TFB_TRY(make_pipeline(vk, "attention_cpu", &vk->pipes[TFB_VK_P_ATTENTION_CPU]));
    }
    /* The matmul pipelines (one family per device, a variant per weight dtype and texel width, 41
     * in all) are only named here and compiled at their first use (tfb__vk_pipe): compiling them
     * all up front took lavapipe ~0.7 s per backend. */
    static const char *tx[3] = {"", "_x4", "_x4w4"};
    for (int i = 0; i < 5; i++) {
        snprintf(vk->pipe_name[TFB_VK_P_MATMUL + i], TFB_VK_NAME, "matmul_%s", wt[i]);
        snprintf(vk->pipe_name[TFB_VK_P_MATMUL_REG + i], TFB_VK_NAME, "matmul_reg_%s", wt[i]);
        snprintf(vk->pipe_name[TFB_VK_P_GEMV + i], TFB_VK_NAME, "gemv_%s%s", wt[i], sg);
        for (int v = 0; v < 3; v++) {
            snprintf(vk->pipe_name[TFB_VK_P_MATMUL_CPU + 3 * i + v], TFB_VK_NAME, "matmul_cpu_%s%s", wt[i], tx[v]);
            snprintf(vk->pipe_name[TFB_VK_P_GEMV_CPU + 3 * i + v], TFB_VK_NAME, "gemv_cpu_%s%s", wt[i], tx[v]);
            snprintf(vk->pipe_name[TFB_VK_P_GEMV_CPU_SG + 3 * i + v], TFB_VK_NAME, "gemv_cpu_sg_%s%s", wt[i], tx[v]);
        }
    }

    if (vk->ts_ok) {
        vk->q_cap = 2 + 2 * 4096;
        VkQueryPoolCreateInfo qci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = vk->q_cap};
        VK_CHECK(vkCreateQueryPool(vk->dev, &qci, NULL, &vk->qpool));
    }
    return TFB_STATUS_OK;
}

tfb_status tfb__vk_pipe(tfb_vk *vk, int idx) {
    if (vk->pipes[idx])
        return TFB_STATUS_OK;
    if (!vk->pipe_name[idx][0])
        return tfb_error_set(TFB_STATUS_INTERNAL, "vulkan: pipeline %d has no shader", idx);
    return make_pipeline(vk, vk->pipe_name[idx], &vk->pipes[idx]);
}

void tfb__vk_pipelines_free(tfb_vk *vk) {
    if (!vk->dev)
        return;
    for (int i = 0; i < TFB_VK_P_COUNT; i++)
        if (vk->pipes[i])
            vkDestroyPipeline(vk->dev, vk->pipes[i], NULL);
    if (vk->layout)
        vkDestroyPipelineLayout(vk->dev, vk->layout, NULL);
    if (vk->dsl)
        vkDestroyDescriptorSetLayout(vk->dev, vk->dsl, NULL);
    if (vk->qpool)
        vkDestroyQueryPool(vk->dev, vk->qpool, NULL);
}
