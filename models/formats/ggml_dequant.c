/* ggml's reference dequantization (ggml-quants.c, dequantize_row_*) of the types tfbench does not
 * run as stored, for `--gguf-convert`: Q4_1, Q5_0, Q5_1 (32-element blocks) and the k-quants Q4_K,
 * Q5_K, Q6_K (256-element super-blocks). Written as ggml writes them, operation for operation, so the
 * floats are the ones ggml and the `gguf` package's dequantize give (tests/gguf checks bit for bit);
 * no fused multiply-add (compiled with -ffp-contract=off, models/CMakeLists.txt). */
#include "models/formats/ggml_dequant.h"

#include <string.h>

#define QK_K 256

static float f16(const uint8_t *p) {
    return tfb_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
}

/* ---- 32-element blocks --------------------------------------------------------------------------- */

static void deq_q4_1(const uint8_t *b, float *y) { // b: d, m, qs[16]; y: [32]
    float d = f16(b), m = f16(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = (qs[j] & 0x0F) * d + m;
        y[j + 16] = (qs[j] >> 4) * d + m;
    }
}

/* Q5_0 and Q5_1: the fifth bits in a little-endian uint32 qh. */
static void deq_q5(const uint8_t *b, bool with_min, float *y) { // y: [32]
    float d = f16(b), m = with_min ? f16(b + 2) : 0.0f;
    const uint8_t *p = b + (with_min ? 4 : 2);
    uint32_t qh = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    const uint8_t *qs = p + 4;
    for (int j = 0; j < 16; j++) {
        uint8_t xh0 = (uint8_t)(((qh >> (j + 0)) << 4) & 0x10);
        uint8_t xh1 = (uint8_t)(((qh >> (j + 12))) & 0x10);
        if (with_min) {
            int x0 = (qs[j] & 0x0F) | xh0, x1 = (qs[j] >> 4) | xh1;
            y[j] = x0 * d + m;
            y[j + 16] = x1 * d + m;
        } else {
            int x0 = ((qs[j] & 0x0F) | xh0) - 16, x1 = ((qs[j] >> 4) | xh1) - 16;
            y[j] = x0 * d;
            y[j + 16] = x1 * d;
        }
    }
}

/* ---- k-quants ------------------------------------------------------------------------------------ */

/* The 6-bit scale and min of sub-block j from the 12 packed bytes q. */
static void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

static void deq_q4_k(const uint8_t *b, float *y) { // b: d, dmin, scales[12], qs[128]; y: [256]
    float d = f16(b), min = f16(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < QK_K; j += 64) {
        scale_min_k4(is + 0, scales, &sc, &m);
        float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

static void deq_q5_k(const uint8_t *b, float *y) { // b: d, dmin, scales[12], qh[32], qs[128]; y: [256]
    float d = f16(b), min = f16(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    int is = 0;
    uint8_t sc, m, u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
        scale_min_k4(is + 0, scales, &sc, &m);
        float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = (uint8_t)(u1 << 2);
        u2 = (uint8_t)(u2 << 2);
    }
}

static void deq_q6_k(const uint8_t *b, float *y) { // b: ql[128], qh[64], scales[16] (int8), d; y: [256]
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = f16(b + 208);
    for (int n = 0; n < QK_K; n += 128) {
        for (int l = 0; l < 32; ++l) {
            int is = l / 16;
            int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

bool tfb__ggml_can_dequantize(uint32_t ggml_type) {
    switch (ggml_type) {
    case TFB_GGML_Q4_1:
    case TFB_GGML_Q5_0:
    case TFB_GGML_Q5_1:
    case TFB_GGML_Q4_K:
    case TFB_GGML_Q5_K:
    case TFB_GGML_Q6_K:
        return true;
    default:
        return false;
    }
}

bool tfb__ggml_dequantize_row(uint32_t ggml_type, const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    int bytes = 0;
    int per = tfb__gguf_ggml_block(ggml_type, &bytes);
    if (!tfb__ggml_can_dequantize(ggml_type) || per <= 0 || n % per != 0)
        return false;
    for (int64_t i = 0; i < n / per; i++, b += bytes, dst += per) {
        switch (ggml_type) {
        case TFB_GGML_Q4_1:
            deq_q4_1(b, dst);
            break;
        case TFB_GGML_Q5_0:
            deq_q5(b, false, dst);
            break;
        case TFB_GGML_Q5_1:
            deq_q5(b, true, dst);
            break;
        case TFB_GGML_Q4_K:
            deq_q4_k(b, dst);
            break;
        case TFB_GGML_Q5_K:
            deq_q5_k(b, dst);
            break;
        case TFB_GGML_Q6_K:
            deq_q6_k(b, dst);
            break;
        }
    }
    return true;
}
