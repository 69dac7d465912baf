/* Push constants shared by the Vulkan backend (C) and every compute shader (GLSL, built with
 * -DTFB_GLSL). One layout for all pipelines, so one VkPipelineLayout serves them all.
 *
 * Tensors are byte offsets into whole bound buffers (binding i = node input i, binding 4 = output),
 * so no descriptor ever depends on minStorageBufferOffsetAlignment. */
#ifndef TFB_VK_PUSH_H
#define TFB_VK_PUSH_H

#ifdef TFB_GLSL
#define TFB_U32 uint
#define TFB_F32 float
#define TFB_PUSH_BEGIN layout(push_constant) uniform tfb_vk_push_block {
#define TFB_PUSH_END } pc;
#else
#include <stdint.h>
#define TFB_U32 uint32_t
#define TFB_F32 float
#define TFB_PUSH_BEGIN typedef struct tfb_vk_push {
#define TFB_PUSH_END } tfb_vk_push;
#endif

TFB_PUSH_BEGIN
    TFB_U32 off0;  /* byte offset of input 0 in binding 0 */
    TFB_U32 off1;  /* input 1 (binding 1) */
    TFB_U32 off2;  /* input 2 (binding 2) */
    TFB_U32 off3;  /* input 3 (binding 3) */
    TFB_U32 offo;  /* output (binding 4) */
    TFB_U32 rows;  /* T: rows of this call */
    TFB_U32 cols;  /* C, or K for MATMUL */
    TFB_U32 n;     /* N for MATMUL; H*D for ATTENTION and ROPE */
    TFB_U32 pos;   /* params.pos */
    TFB_U32 len;   /* ATTENTION: keys L */
    TFB_U32 heads; /* ATTENTION, ROPE: H */
    TFB_U32 mode;  /* op variant: activation kind, mask kind, norm kind, embed flags */
    TFB_F32 eps;
    TFB_F32 scale;
    TFB_U32 nbase;  /* MATMUL: first weight row (output column) of this part; EMBED: first token row */
    TFB_U32 ncount; /* rows of the weight (token table) bound in this part */
    TFB_U32 kvw;    /* ATTENTION: width of a K/V cache row, Hkv*D (grouped-query: narrower than n) */
    TFB_U32 group;  /* ATTENTION: query heads per K/V head, H/Hkv; head h reads K/V head h/group */
    TFB_U32 blen;   /* ATTENTION: R of the relative position bias [H, R] (input 3), 0 = no bias */
    TFB_U32 pad0;
TFB_PUSH_END

/* A weight larger than maxStorageBufferRange (lavapipe: 128 MiB; GPT-2's f32 LM head is 147 MiB)
 * is bound in parts of whole rows, one dispatch per part: off1 and the row index are relative to the
 * part, output columns are nbase + row. */

/* mode values */
#define TFB_VK_ACT_GELU 0u
#define TFB_VK_ACT_GELU_TANH 1u
#define TFB_VK_ACT_RELU 2u
#define TFB_VK_ACT_SILU 3u
#define TFB_VK_ACT_SCALE 4u /* SCALE: scale * x */
#define TFB_VK_BIN_ADD 0u
#define TFB_VK_BIN_MUL 1u
#define TFB_VK_ROPE_HALF 0u        /* pairs (i, i + D/2) */
#define TFB_VK_ROPE_INTERLEAVED 1u /* pairs (2i, 2i + 1) */
#define TFB_VK_NORM_LAYER 0u
#define TFB_VK_NORM_RMS 1u
#define TFB_VK_MASK_CAUSAL 0u
#define TFB_VK_MASK_BIDIR 1u
#define TFB_VK_MASK_CROSS 2u
#define TFB_VK_EMBED_POS_LEARNED 1u
#define TFB_VK_EMBED_POS_SIN 2u
#define TFB_VK_EMBED_TYPE 4u
#define TFB_VK_MATMUL_BIAS 1u

#ifndef TFB_GLSL
_Static_assert(sizeof(tfb_vk_push) == 80, "push constants are 80 bytes (<= the 128 every device offers)");
#endif

#endif
