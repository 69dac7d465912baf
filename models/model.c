/* The immutable model: config + host weights; validation; synthetic weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/expect.h"

tfb_status tfb_model_add(tfb_model *m, const char *name, tfb_dtype dt, int ndim, const int64_t *shape,
                         void *data) {
    if (ndim < 1 || ndim > TFB_MAX_DIMS || strlen(name) >= TFB_NAME_MAX) {
        free(data);
        return tfb_error_set(TFB_STATUS_INTERNAL, "model: bad tensor %s", name);
    }
    if (tfb_model_find(m, name)) {
        free(data);
        return tfb_error_set(TFB_STATUS_INPUT, "%s: tensor %s given twice", m->cfg.name, name);
    }
    if (m->n_w == m->cap_w) {
        int ncap = m->cap_w ? 2 * m->cap_w : 64;
        tfb_weight *nw = realloc(m->w, (size_t)ncap * sizeof *nw);
        if (!nw) {
            free(data);
            return tfb_error_set(TFB_STATUS_NOMEM, "model: out of memory");
        }
        m->w = nw;
        m->cap_w = ncap;
    }
    tfb_weight *w = &m->w[m->n_w++];
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    w->dtype = dt;
    w->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        w->shape[i] = shape[i];
    w->data = data;
    return TFB_STATUS_OK;
}

const tfb_weight *tfb_model_find(const tfb_model *m, const char *name) {
    for (int i = 0; i < m->n_w; i++)
        if (strcmp(m->w[i].name, name) == 0)
            return &m->w[i];
    return NULL;
}

void tfb_model_free(tfb_model *m) {
    for (int i = 0; i < m->n_w; i++)
        free(m->w[i].data);
    free(m->w);
    memset(m, 0, sizeof *m);
}

static int64_t weight_elems(const tfb_weight *w) {
    int64_t n = 1;
    for (int i = 0; i < w->ndim; i++)
        n *= w->shape[i];
    return n;
}

size_t tfb_model_bytes(const tfb_model *m) {
    size_t total = 0;
    for (int i = 0; i < m->n_w; i++)
        total += tfb_dtype_row_bytes(m->w[i].dtype, weight_elems(&m->w[i]));
    return total;
}

static tfb_status check_stack(const tfb_config *c, const tfb_stack *st, const char *side, tfb_dtype wtype) {
    int be = tfb_dtype_block_elems(wtype);
    if (st->n_layer == 0)
        return TFB_STATUS_OK;
    if (st->n_layer < 0 || st->n_head < 1 || st->d_ff < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: the %s has a non-positive size", c->name, side);
    if (st->n_kv_head < 0 || st->n_head % tfb_stack_kv_heads(st) != 0)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: the %s's %lld heads are not a multiple of its %lld kv heads", c->name, side,
                             (long long)st->n_head, (long long)tfb_stack_kv_heads(st));
    if (c->d_model % st->n_head != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: d_model %lld not divisible by the %s's %lld heads",
                             c->name, (long long)c->d_model, side, (long long)st->n_head);
    if (c->pos == TFB_POS_ROTARY && (c->d_model / st->n_head) % 2 != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: rotary positions need an even head width", c->name);
    if (st->d_ff % be != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s needs d_model and d_ff multiples of %d", c->name,
                             tfb_dtype_name(wtype), be);
    return TFB_STATUS_OK;
}

static tfb_status check_config(const tfb_config *c, tfb_dtype wtype) {
    if (c->n_vocab < 1 || c->n_dec_vocab < 1 || c->n_ctx < 1 || c->d_model < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: config has a non-positive size", c->name);
    if (c->enc.n_layer < 1 && c->dec.n_layer < 1)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: config has neither an encoder nor a decoder", c->name);
    if (c->dec.n_layer > 0 && !c->has_lm_head)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: a decoder needs an LM head", c->name);
    if (c->has_lm_head && c->head != TFB_HEAD_OWN && c->n_dec_vocab != c->n_vocab)
        return tfb_error_set(TFB_STATUS_INPUT,
                             "%s: a head tied to an embedding of %lld rows cannot give %lld logits", c->name,
                             (long long)c->n_vocab, (long long)c->n_dec_vocab);
    if (c->pos == TFB_POS_SINUSOIDAL && c->d_model % 2 != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: sinusoidal positions need an even d_model", c->name);
    if (c->pos != TFB_POS_LEARNED && c->pos != TFB_POS_SINUSOIDAL && c->pos != TFB_POS_ROTARY &&
        c->pos != TFB_POS_RELATIVE)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: unsupported position kind", c->name);
    if (c->pos == TFB_POS_RELATIVE &&
        (c->rel_buckets < 2 || c->rel_buckets > 4096 || c->rel_max_distance <= c->rel_buckets / 2 ||
         c->rel_max_distance > (INT64_C(1) << 30)))
        return tfb_error_set(
            TFB_STATUS_INPUT,
            "%s: relative positions need 2..4096 buckets and a max distance past the exact ones", c->name);
    if (c->pos == TFB_POS_ROTARY && !(c->rope_theta > 0.0f))
        return tfb_error_set(TFB_STATUS_INPUT, "%s: rotary positions need a positive theta", c->name);

    int be = tfb_dtype_block_elems(wtype);
    if (c->d_model % be != 0)
        return tfb_error_set(TFB_STATUS_INPUT, "%s: %s needs d_model and d_ff multiples of %d", c->name,
                             tfb_dtype_name(wtype), be);
    TFB_TRY(check_stack(c, &c->enc, "encoder", wtype));
    TFB_TRY(check_stack(c, &c->dec, "decoder", wtype));
    int64_t ids[] = {c->bos_id, c->eos_id, c->pad_id, c->decoder_start_id};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] < 0 || ids[i] >= c->n_dec_vocab || ids[i] >= c->n_vocab)
            return tfb_error_set(TFB_STATUS_INPUT, "%s: special token id %lld outside the vocabulary",
                                 c->name, (long long)ids[i]);
    return TFB_STATUS_OK;
}

static tfb_dtype expected_dtype(const tfb_model *m, tfb_wkind kind) {
    return kind == TFB_WKIND_MATRIX ? m->wtype : TFB_DTYPE_F32;
}

/* A matrix of a per-tensor model may be in any weight dtype whose blocks tile its rows. */
static bool dtype_ok(const tfb_model *m, const tfb_weight *w, tfb_wkind kind) {
    if (!m->per_tensor || kind != TFB_WKIND_MATRIX)
        return w->dtype == expected_dtype(m, kind);
    if (w->dtype == TFB_DTYPE_I32 || w->dtype >= TFB_DTYPE_COUNT)
        return false;
    return w->shape[w->ndim - 1] % tfb_dtype_block_elems(w->dtype) == 0;
}

tfb_status tfb_model_validate(const tfb_model *m) {
    TFB_TRY(check_config(&m->cfg, m->per_tensor ? TFB_DTYPE_F32 : m->wtype));
    int n = tfb__model_expect(&m->cfg, NULL, 0);
    tfb_wexpect *e = calloc((size_t)n, sizeof *e);
    if (!e)
        return tfb_error_set(TFB_STATUS_NOMEM, "model: out of memory");
    tfb__model_expect(&m->cfg, e, n);
    tfb_status s = TFB_STATUS_OK;
    for (int i = 0; i < n && s == TFB_STATUS_OK; i++) {
        const tfb_weight *w = tfb_model_find(m, e[i].name);
        if (!w) {
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: missing tensor %s", m->cfg.name, e[i].name);
            break;
        }
        bool shape_ok = w->ndim == e[i].ndim;
        for (int d = 0; shape_ok && d < e[i].ndim; d++)
            shape_ok = w->shape[d] == e[i].shape[d];
        if (!shape_ok)
            s = tfb_error_set(TFB_STATUS_INPUT,
                              "%s: tensor %s has shape [%lld%s%lld], config implies [%lld%s%lld]",
                              m->cfg.name, w->name, (long long)w->shape[0], w->ndim > 1 ? "," : "",
                              w->ndim > 1 ? (long long)w->shape[1] : 0LL, (long long)e[i].shape[0],
                              e[i].ndim > 1 ? "," : "", e[i].ndim > 1 ? (long long)e[i].shape[1] : 0LL);
        else if (!dtype_ok(m, w, e[i].kind))
            s = tfb_error_set(TFB_STATUS_INPUT, "%s: tensor %s is %s, expected %s", m->cfg.name, w->name,
                              tfb_dtype_name(w->dtype), tfb_dtype_name(expected_dtype(m, e[i].kind)));
    }
    free(e);
    return s;
}

/* ---- synthetic weights ------------------------------------------------------------------------ */

/* splitmix64: tiny, fast, and good enough to fill weights deterministically from a seed. */
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float uniform(uint64_t *state) {
    return (float)((double)(splitmix64(state) >> 40) * 0x1p-23 - 1.0);
}

/* Scales chosen so activations stay O(1) and logits are spread (not near-uniform), so greedy
 * tokens are decided by clear margins and a broken kernel changes them. Uniform(-a, a) has
 * standard deviation a/sqrt(3). With the head tied to tok_emb, a residual stream dominated by
 * the embedding makes every model predict its input token forever; matrices with gain above 1
 * let the blocks dominate, so GPT-2 and BERT produce varied tokens. (Marian's decoder still
 * settles on one token with random weights: its checks rely on per-position logits.) */
static void fill(float *dst, int64_t n, tfb_wkind kind, int64_t fan_in, uint64_t *state) {
    float a;
    float base = 0.0f;
    switch (kind) {
    case TFB_WKIND_MATRIX:
        a = 2.0f / sqrtf((float)fan_in);
        break;
    case TFB_WKIND_EMBED:
        a = 0.1f;
        break;
    case TFB_WKIND_GAMMA:
        a = 0.2f, base = 1.0f;
        break;
    default:
        a = 0.05f;
        break;
    }
    for (int64_t i = 0; i < n; i++)
        dst[i] = base + a * uniform(state);
}

tfb_status tfb_model_synthetic(const tfb_config *cfg, uint64_t seed, tfb_dtype wtype, tfb_model *out) {
    memset(out, 0, sizeof *out);
    out->cfg = *cfg;
    out->wtype = wtype;
    TFB_TRY(check_config(cfg, wtype));
    int n = tfb__model_expect(cfg, NULL, 0);
    tfb_wexpect *e = calloc((size_t)n, sizeof *e);
    if (!e)
        return tfb_error_set(TFB_STATUS_NOMEM, "model: out of memory");
    tfb__model_expect(cfg, e, n);
    tfb_status s = TFB_STATUS_OK;
    float *row = NULL;
    for (int i = 0; i < n && s == TFB_STATUS_OK; i++) {
        /* Each tensor has its own stream, so adding a tensor never changes the others. */
        uint64_t state = seed * 0x100000001b3ull + (uint64_t)i * 0x9e3779b97f4a7c15ull;
        int64_t rows = e[i].shape[0], cols = e[i].ndim > 1 ? e[i].shape[1] : 1;
        int64_t elems = e[i].ndim > 1 ? cols : rows; /* elements per quantized row */
        int64_t nrows = e[i].ndim > 1 ? rows : 1;
        tfb_dtype dt = expected_dtype(out, e[i].kind);
        void *data = malloc(tfb_dtype_row_bytes(dt, elems) * (size_t)nrows);
        row = realloc(row, (size_t)elems * sizeof *row);
        if (!data || !row) {
            free(data);
            s = tfb_error_set(TFB_STATUS_NOMEM, "%s: out of memory for synthetic weights", cfg->name);
            break;
        }
        for (int64_t r = 0; r < nrows; r++) {
            fill(row, elems, e[i].kind, cols, &state);
            tfb_quantize_row(dt, row, (char *)data + (size_t)r * tfb_dtype_row_bytes(dt, elems), elems);
        }
        s = tfb_model_add(out, e[i].name, dt, e[i].ndim, e[i].shape, data);
    }
    free(row);
    free(e);
    if (s != TFB_STATUS_OK)
        tfb_model_free(out);
    return s;
}

size_t tfb_config_weight_bytes(const tfb_config *cfg, tfb_dtype wtype) {
    tfb_model m = {.cfg = *cfg, .wtype = wtype};
    int n = tfb__model_expect(cfg, NULL, 0);
    tfb_wexpect *e = calloc((size_t)n, sizeof *e);
    if (!e)
        return SIZE_MAX;
    tfb__model_expect(cfg, e, n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t rows = e[i].ndim > 1 ? e[i].shape[0] : 1,
                cols = e[i].ndim > 1 ? e[i].shape[1] : e[i].shape[0];
        total += tfb_dtype_row_bytes(expected_dtype(&m, e[i].kind), cols) * (size_t)rows;
    }
    free(e);
    if (cfg->has_lm_head && cfg->head != TFB_HEAD_OWN && wtype != TFB_DTYPE_F32)
        total += tfb_dtype_row_bytes(wtype, cfg->d_model) * (size_t)cfg->n_dec_vocab;
    return total;
}

size_t tfb_config_kv_bytes(const tfb_config *cfg, int64_t n_ctx) {
    size_t self = (size_t)(2 * cfg->dec.n_layer * tfb_config_kv_width(cfg, &cfg->dec));
    size_t cross = tfb_config_has_cross(cfg) ? (size_t)(2 * cfg->dec.n_layer * cfg->d_model) : 0;
    return (self + cross) * (size_t)n_ctx * sizeof(float);
}

tfb_status tfb_model_config(const char *name_or_dir, tfb_config *out) {
    const tfb_config *preset = tfb_preset_find(name_or_dir);
    if (preset) {
        *out = *preset;
        return TFB_STATUS_OK;
    }
    struct stat st;
    if (stat(name_or_dir, &st) == 0 && S_ISDIR(st.st_mode))
        return tfb__hf_load_config(name_or_dir, out);
    if (stat(name_or_dir, &st) == 0 && S_ISREG(st.st_mode))
        return tfb__gguf_load_config(name_or_dir, out);
    return tfb_error_set(TFB_STATUS_USAGE, "--model: '%s' is neither a preset, a directory nor a GGUF file",
                         name_or_dir);
}

tfb_status tfb_model_open(const char *name_or_dir, uint64_t seed, tfb_dtype wtype, tfb_model *out) {
    memset(out, 0, sizeof *out);
    const tfb_config *preset = tfb_preset_find(name_or_dir);
    if (preset)
        return tfb_model_synthetic(preset, seed, wtype, out);
    struct stat st;
    if (stat(name_or_dir, &st) == 0 && S_ISDIR(st.st_mode))
        return tfb_model_load_dir(name_or_dir, wtype, out);
    if (stat(name_or_dir, &st) == 0 && S_ISREG(st.st_mode))
        return tfb_model_load_gguf(name_or_dir, false, out);
    return tfb_error_set(TFB_STATUS_USAGE, "--model: '%s' is neither a preset, a directory nor a GGUF file",
                         name_or_dir);
}

const char *tfb_model_dtype_label(const tfb_model *m, char *buf, size_t n) {
    if (!m->per_tensor) {
        snprintf(buf, n, "%s", tfb_dtype_name(m->wtype));
        return buf;
    }
    int count[TFB_DTYPE_COUNT] = {0}, kinds = 0;
    int ne = tfb__model_expect(&m->cfg, NULL, 0);
    tfb_wexpect *e = calloc((size_t)(ne ? ne : 1), sizeof *e);
    if (!e) {
        snprintf(buf, n, "%s", tfb_dtype_name(m->wtype));
        return buf;
    }
    tfb__model_expect(&m->cfg, e, ne);
    for (int i = 0; i < ne; i++) {
        const tfb_weight *w = e[i].kind == TFB_WKIND_MATRIX ? tfb_model_find(m, e[i].name) : NULL;
        if (w && w->dtype < TFB_DTYPE_COUNT && count[w->dtype]++ == 0)
            kinds++;
    }
    free(e);
    char full[160];
    size_t k = 0;
    if (kinds <= 1) {
        k = (size_t)snprintf(full, sizeof full, "%s", tfb_dtype_name(m->wtype));
    } else {
        k = (size_t)snprintf(full, sizeof full, "mixed (");
        for (int d = 0; d < TFB_DTYPE_COUNT && k < sizeof full; d++)
            if (count[d])
                k += (size_t)snprintf(full + k, sizeof full - k, "%s%s %d", k > 7 ? ", " : "",
                                      tfb_dtype_name((tfb_dtype)d), count[d]);
        if (k < sizeof full)
            k += (size_t)snprintf(full + k, sizeof full - k, ")");
    }
    if (m->n_converted > 0 && k < sizeof full)
        snprintf(full + k, sizeof full - k, "; %d converted", m->n_converted);
    snprintf(buf, n, "%s", strlen(full) < n ? full : kinds > 1 ? "mixed" : tfb_dtype_name(m->wtype));
    return buf;
}

bool tfb_model_stored_dtypes(const char *name_or_dir) {
    struct stat st;
    return !tfb_preset_find(name_or_dir) && stat(name_or_dir, &st) == 0 && S_ISREG(st.st_mode);
}

tfb_status tfb_model_open_f32(const char *name_or_dir, uint64_t seed, tfb_model *out) {
    if (tfb_model_stored_dtypes(name_or_dir))
        return tfb_model_load_gguf(name_or_dir, true, out);
    return tfb_model_open(name_or_dir, seed, TFB_DTYPE_F32, out);
}
