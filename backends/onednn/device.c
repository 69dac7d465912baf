/* The oneDNN backend: engine and stream, threads, device description, what it supports, and the
 * vtable. Buffers: buffer.c; graph execution: compute.c and ops_*.c. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"

tfb_status tfb__dnnl_fail(dnnl_status_t st, const char *call, const char *file, int line) {
    return tfb_error_set(TFB_STATUS_BACKEND, "onednn: %s failed with status %d (%s:%d)", call, (int)st, file, line);
}

static bool dnn_probe(char *why, size_t why_len) {
    dnnl_engine_t e = NULL;
    dnnl_status_t st = dnnl_engine_create(&e, dnnl_cpu, 0);
    if (st != dnnl_success) {
        snprintf(why, why_len, "oneDNN cannot create a CPU engine (status %d)", (int)st);
        return false;
    }
    dnnl_engine_destroy(e);
    return true;
}

static void dnn_free(void *vctx) {
    dnn_ctx *c = vctx;
    if (!c)
        return;
    tfb__dnn_weights_free(c);
    tfb__dnn_prims_free(c);
    for (int i = 0; c->tstreams && i < c->n_threads; i++)
        if (c->tstreams[i])
            dnnl_stream_destroy(c->tstreams[i]);
    free(c->tstreams);
    if (c->stream)
        dnnl_stream_destroy(c->stream);
    if (c->engine)
        dnnl_engine_destroy(c->engine);
    free(c);
}

/* Which reduced-precision weight layouts this CPU's oneDNN accepts: it is asked, not assumed. */
static tfb_status probe_dtypes(dnn_ctx *c) {
    TFB_TRY(tfb__dnn_matmul_probe(c, dnnl_f32, dnnl_bf16, &c->bf16_f32src));
    TFB_TRY(tfb__dnn_matmul_probe(c, dnnl_bf16, dnnl_bf16, &c->bf16_bf16src));
    TFB_TRY(tfb__dnn_matmul_probe(c, dnnl_f32, dnnl_f16, &c->f16_f32src));
    TFB_TRY(tfb__dnn_matmul_probe(c, dnnl_f16, dnnl_f16, &c->f16_f16src));
    return TFB_STATUS_OK;
}

static tfb_status dnn_init(const tfb_backend_opts *opts, void **out) {
    *out = NULL;
    dnn_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
    /* Debian's oneDNN runs on OpenMP: its thread count is OpenMP's. */
    c->n_threads = opts->n_threads > 0 ? opts->n_threads : omp_get_num_procs();
    omp_set_num_threads(c->n_threads);
    c->cap_prims = 4096;
    c->prims = calloc((size_t)c->cap_prims, sizeof *c->prims);
    if (!c->prims) {
        free(c);
        return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
    }
    tfb_status st = TFB_STATUS_OK;
    if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags) != dnnl_success)
        st = tfb_error_set(TFB_STATUS_UNAVAILABLE, "onednn: cannot create a CPU engine and stream");
    if (st == TFB_STATUS_OK)
        st = probe_dtypes(c);
    if (st != TFB_STATUS_OK) {
        dnn_free(c);
        return st;
    }
    *out = c;
    return TFB_STATUS_OK;
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_all: return "all";
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    }
    return "unknown";
}

static const char *runtime_name(unsigned rt) {
    switch (rt) {
    case DNNL_RUNTIME_SEQ: return "SEQ";
    case DNNL_RUNTIME_OMP: return "OMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_THREADPOOL: return "THREADPOOL";
    }
    return "other";
}

/* Reduced-precision weights are claimed only with f32 activations (the graph's semantics: x is f32,
 * only w is bf16/f16). oneDNN 2.6 offers bf16 x bf16 matmuls but no f32 x bf16 one; rounding the
 * activations to bf16 would compute something else (conform measured it: NMSE ~1e-5 per matmul
 * against an f32-activation bound of ~1e-12), so those dtypes are then reported unsupported. */
static const char *mode(bool f32src, bool lowsrc) {
    return f32src ? "yes (f32 activations)" : lowsrc ? "no (oneDNN has it only with low-precision activations)" : "no";
}

static void dnn_device_info(void *vctx, tfb_device_info *info) {
    dnn_ctx *c = vctx;
    const dnnl_version_t *v = dnnl_version();
    snprintf(info->device, sizeof info->device, "host CPU (%d threads)", c->n_threads);
    snprintf(info->api, sizeof info->api, "oneDNN C API v2");
    snprintf(info->library, sizeof info->library, "oneDNN %d.%d.%d (cpu runtime %s, isa %s)", v->major, v->minor,
             v->patch, runtime_name(v->cpu_runtime), isa_name(dnnl_get_effective_cpu_isa()));
    snprintf(info->extra, sizeof info->extra, "git %s; bf16 weights: %s; f16 weights: %s", v->hash ? v->hash : "?",
             mode(c->bf16_f32src, c->bf16_bf16src), mode(c->f16_f32src, c->f16_f16src));
}

/* What compute.c dispatches: matmul, layernorm, softmax, the eltwise activations, scale, add, mul
 * and attention (grouped-query kv heads and a relative position bias too) as oneDNN primitives;
 * embed, kv_write, last_row, argmax, rmsnorm and rope (even head sizes) on the host (ops_host.c). */
static bool dnn_supports(void *vctx, const tfb_node *n) {
    dnn_ctx *c = vctx;
    switch (n->op) {
    case TFB_OP_MATMUL:
        switch (n->in[1]->dtype) {
        case TFB_DTYPE_F32: return true;
        case TFB_DTYPE_BF16: return c->bf16_f32src;
        case TFB_DTYPE_F16: return c->f16_f32src;
        default: return false; /* q8_0 / q4_0: no oneDNN 2.6 primitive takes GGUF blocks */
        }
    case TFB_OP_ATTENTION: /* plain, grouped-query, relative bias */
    case TFB_OP_ROPE: return true; /* either layout (tfb_node_well_formed has checked an even head size) */
    default: return tfb_op_is_rowwise(n->op);
    }
}

static tfb_status dnn_compute(void *vctx, tfb_graph *g) {
    return tfb__dnn_compute(vctx, g);
}

static tfb_status dnn_synchronize(void *vctx) {
    dnn_ctx *c = vctx;
    DNNL_CHECK(dnnl_stream_wait(c->stream));
    return TFB_STATUS_OK;
}

static void dnn_graph_release(void *vctx, tfb_graph *g) {
    tfb__dnn_graph_release(vctx, g);
}

tfb_status tfb__dnn_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf);
void tfb__dnn_buffer_free(void *ctx, tfb_buffer *buf);
tfb_status tfb__dnn_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n);
tfb_status tfb__dnn_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n);

static bool dnn_op_profile(void *ctx, bool on, double *secs) {
    dnn_ctx *c = ctx;
    if (on)
        memset(c->op_secs, 0, sizeof c->op_secs);
    else
        memcpy(secs, c->op_secs, sizeof c->op_secs);
    c->op_prof = on;
    return true;
}

const tfb_backend_i tfb_backend_onednn = {
    .name = "onednn",
    .probe = dnn_probe,
    .init = dnn_init,
    .free = dnn_free,
    .device_info = dnn_device_info,
    .supports = dnn_supports,
    .buffer_alloc = tfb__dnn_buffer_alloc,
    .buffer_free = tfb__dnn_buffer_free,
    .upload = tfb__dnn_upload,
    .download = tfb__dnn_download,
    .compute = dnn_compute,
    .synchronize = dnn_synchronize,
    .graph_release = dnn_graph_release,
    .op_profile = dnn_op_profile,
};
