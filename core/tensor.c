/* Dtypes, fp16/bf16 conversion and the one quantizer every backend shares. */
#include <math.h>
#include <string.h>

#include "tfbench/tensor.h"

static const char *const dtype_names[TFB_DTYPE_COUNT] = {"f32", "f16", "bf16", "q8_0", "q4_0", "i32"};

const char *tfb_dtype_name(tfb_dtype t) {
    return (unsigned)t < TFB_DTYPE_COUNT ? dtype_names[t] : "?";
}

bool tfb_dtype_is_weight(tfb_dtype t) {
    switch (t) {
    case TFB_DTYPE_F32:
    case TFB_DTYPE_F16:
    case TFB_DTYPE_BF16:
    case TFB_DTYPE_Q8_0:
    case TFB_DTYPE_Q4_0: return true;
    default: return false;
    }
}

bool tfb_dtype_parse(const char *name, tfb_dtype *out) {
    for (int i = 0; i < TFB_DTYPE_COUNT; i++) {
        if (strcmp(name, dtype_names[i]) == 0) {
            *out = (tfb_dtype)i;
            return true;
        }
    }
    return false;
}

int tfb_dtype_block_elems(tfb_dtype t) {
    return (t == TFB_DTYPE_Q8_0 || t == TFB_DTYPE_Q4_0) ? TFB_QK : 1;
}

size_t tfb_dtype_block_bytes(tfb_dtype t) {
    switch (t) {
    case TFB_DTYPE_F32: return 4;
    case TFB_DTYPE_I32: return 4;
    case TFB_DTYPE_F16: return 2;
    case TFB_DTYPE_BF16: return 2;
    case TFB_DTYPE_Q8_0: return sizeof(tfb_block_q8_0);
    case TFB_DTYPE_Q4_0: return sizeof(tfb_block_q4_0);
    default: TFB_ASSERT(!"bad dtype");
    }
    return 0;
}

size_t tfb_dtype_row_bytes(tfb_dtype t, int64_t n) {
    int be = tfb_dtype_block_elems(t);
    TFB_ASSERT(n % be == 0);
    return (size_t)(n / be) * tfb_dtype_block_bytes(t);
}

int64_t tfb_tensor_nelements(const tfb_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

int64_t tfb_tensor_row_elems(const tfb_tensor *t) {
    int64_t n = 1;
    for (int i = 1; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

size_t tfb_tensor_nbytes(const tfb_tensor *t) {
    return (size_t)t->shape[0] * tfb_dtype_row_bytes(t->dtype, tfb_tensor_row_elems(t));
}

void *tfb_tensor_host(const tfb_tensor *t) {
    if (!t->buf || !t->buf->host)
        return NULL;
    return (char *)t->buf->host + t->offset;
}

/* ---- fp16 / bf16 -------------------------------------------------------------------------------- */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float tfb_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) /* inf / NaN */
        return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) { /* zero / subnormal: man * 2^-24 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t tfb_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) /* inf or NaN (keep a quiet NaN) */
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);
    if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return sign | 0x7c00;
    if (abs < 0x38800000u) { /* below the smallest normal half: subnormal, round to nearest even */
        float a = bits_f32(abs);
        float q = a * 0x1p24f; /* units of 2^-24, exact in float for this range */
        float r = nearbyintf(q); /* default rounding mode: to nearest even */
        return sign | (uint16_t)r;
    }
    /* normal: rebias exponent and round the 13 dropped mantissa bits to nearest even */
    uint32_t mant_odd = (abs >> 13) & 1;
    abs += 0xfffu + mant_odd;
    return sign | (uint16_t)(((abs >> 13) - (112u << 10)) & 0x7fff);
}

float tfb_bf16_to_f32(uint16_t h) {
    return bits_f32((uint32_t)h << 16);
}

uint16_t tfb_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* ---- quantizer ------------------------------------------------------------------------------------ */

static void quantize_q8_0(const float *x, tfb_block_q8_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / TFB_QK; b++) {
        const float *xb = x + b * TFB_QK;
        float amax = 0.0f;
        for (int i = 0; i < TFB_QK; i++)
            amax = fmaxf(amax, fabsf(xb[i]));
        float d = amax / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = tfb_f32_to_f16(d);
        for (int i = 0; i < TFB_QK; i++)
            y[b].qs[i] = (int8_t)roundf(xb[i] * id);
    }
}

/* q4_0: the scale maps the value of largest magnitude to -8, so the full [-8, 7] range is used. */
static void quantize_q4_0(const float *x, tfb_block_q4_0 *y, int64_t n) {
    for (int64_t b = 0; b < n / TFB_QK; b++) {
        const float *xb = x + b * TFB_QK;
        float amax = 0.0f, max = 0.0f;
        for (int i = 0; i < TFB_QK; i++) {
            if (fabsf(xb[i]) > amax) {
                amax = fabsf(xb[i]);
                max = xb[i];
            }
        }
        float d = max / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = tfb_f32_to_f16(d);
        for (int i = 0; i < TFB_QK / 2; i++) {
            int lo = (int)(xb[i] * id + 8.5f);
            int hi = (int)(xb[i + TFB_QK / 2] * id + 8.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            y[b].qs[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void tfb_quantize_row(tfb_dtype t, const float *src, void *dst, int64_t n) {
    switch (t) {
    case TFB_DTYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case TFB_DTYPE_F16:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = tfb_f32_to_f16(src[i]);
        break;
    case TFB_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = tfb_f32_to_bf16(src[i]);
        break;
    case TFB_DTYPE_Q8_0: TFB_ASSERT(n % TFB_QK == 0); quantize_q8_0(src, dst, n); break;
    case TFB_DTYPE_Q4_0: TFB_ASSERT(n % TFB_QK == 0); quantize_q4_0(src, dst, n); break;
    default: TFB_ASSERT(!"quantize: bad dtype");
    }
}

void tfb_quantize_act_q8(const float *x, int64_t n, int8_t *q, float *d) {
    TFB_ASSERT(n % TFB_QK == 0);
    for (int64_t b = 0; b < n / TFB_QK; b++) {
        const float *xb = x + b * TFB_QK;
        float amax = 0.0f;
        for (int i = 0; i < TFB_QK; i++)
            amax = fmaxf(amax, fabsf(xb[i]));
        d[b] = amax / 127.0f;
        for (int i = 0; i < TFB_QK; i++) {
            float r = d[b] != 0.0f ? nearbyintf(xb[i] / d[b]) : 0.0f; // |r| <= 127 for finite x
            q[b * TFB_QK + i] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? (int)r : 0);
        }
    }
}

void tfb_dequantize_row(tfb_dtype t, const void *src, float *dst, int64_t n) {
    switch (t) {
    case TFB_DTYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case TFB_DTYPE_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = tfb_f16_to_f32(((const uint16_t *)src)[i]);
        break;
    case TFB_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = tfb_bf16_to_f32(((const uint16_t *)src)[i]);
        break;
    case TFB_DTYPE_Q8_0: {
        const tfb_block_q8_0 *b = src;
        for (int64_t i = 0; i < n; i++)
            dst[i] = tfb_f16_to_f32(b[i / TFB_QK].d) * (float)b[i / TFB_QK].qs[i % TFB_QK];
        break;
    }
    case TFB_DTYPE_Q4_0: {
        const tfb_block_q4_0 *b = src;
        for (int64_t i = 0; i < n; i++) {
            const tfb_block_q4_0 *blk = &b[i / TFB_QK];
            int j = (int)(i % TFB_QK);
            int q = j < TFB_QK / 2 ? (blk->qs[j] & 0x0f) : (blk->qs[j - TFB_QK / 2] >> 4);
            dst[i] = tfb_f16_to_f32(blk->d) * (float)(q - 8);
        }
        break;
    }
    case TFB_DTYPE_I32:
        for (int64_t i = 0; i < n; i++)
            dst[i] = (float)((const int32_t *)src)[i];
        break;
    default: TFB_ASSERT(!"dequantize: bad dtype");
    }
}
