/* The backend's caches: primitives by key (created once per shape), and weight matrices reordered
 * once into the layout a matmul prefers. Both live as long as the backend. */
#include <stdlib.h>
#include <string.h>

#include "backends/onednn/onednn.h"
#include "backends/planted.h"
#include "core/grow.h"

static bool key_eq(const dnn_key *a, const dnn_key *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

tfb_status tfb__dnn_prim_get(dnn_ctx *c, const dnn_key *key, const_dnnl_op_desc_t desc,
                             const_dnnl_primitive_attr_t attr, dnn_prim **out) {
    for (int i = 0; i < c->n_prims; i++)
        if (key_eq(&c->prims[i].key, key)) {
            *out = &c->prims[i];
            return TFB_STATUS_OK;
        }
    if (c->n_prims == c->cap_prims) {
        /* Entries are handed out by address: grow by chunks that never move (a list of arrays
         * would do too; a generous fixed cap keeps it simple). */
        return tfb_error_set(TFB_STATUS_INTERNAL, "onednn: primitive cache full (%d)", c->cap_prims);
    }
    dnn_prim *p = &c->prims[c->n_prims];
    memset(p, 0, sizeof *p);
    p->key = *key;
    DNNL_CHECK(dnnl_primitive_desc_create(&p->pd, desc, attr, c->engine, NULL));
    dnnl_status_t st = dnnl_primitive_create(&p->prim, p->pd);
    if (st != dnnl_success) {
        dnnl_primitive_desc_destroy(p->pd);
        return tfb__dnnl_fail(st, "dnnl_primitive_create", __FILE__, __LINE__);
    }
    c->n_prims++;
    c->n_created++;
    *out = p;
    return TFB_STATUS_OK;
}

void tfb__dnn_prims_free(dnn_ctx *c) {
    for (int i = 0; i < c->n_prims; i++) {
        dnnl_primitive_destroy(c->prims[i].prim);
        dnnl_primitive_desc_destroy(c->prims[i].pd);
    }
    free(c->prims);
    c->prims = NULL;
    c->n_prims = c->cap_prims = 0;
}

/* ---- weights --------------------------------------------------------------------------------------- */

static void wc_release(dnn_wcache *w) {
    if (w->mem)
        dnnl_memory_destroy(w->mem);
    free(w->data);
}

tfb_status tfb__dnn_weight_get(dnn_ctx *c, const tfb_tensor *w, const dnnl_memory_desc_t *md, dnnl_memory_t *out) {
    const void *src = tfb_tensor_host(w);
    for (int i = 0; i < c->n_wc; i++)
        if (c->wc[i].src == src && dnnl_memory_desc_equal(&c->wc[i].md, md)) {
            *out = c->wc[i].mem;
            return TFB_STATUS_OK;
        }
    if (c->n_wc == c->cap_wc) {
        dnn_wcache *nw = tfb__grow(c->wc, &c->cap_wc, sizeof *nw);
        if (!nw)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: out of memory");
        c->wc = nw;
    }
    /* The stored matrix is [N,K] row-major: as the matmul's [K,N] weights that is tag ba. */
    dnnl_format_tag_t tag = dnnl_ba;
#ifdef TFB_TEST_FAULTS
    if (tfb__planted("onednn-layout"))
        tag = dnnl_ab; /* test builds only: the weights read untransposed */
#endif
    dnnl_memory_desc_t plain;
    dnnl_dims_t dims = {w->shape[1], w->shape[0]};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&plain, 2, dims, tfb__dnn_dtype(w->dtype), tag));
    dnn_wcache e = {.src = src, .buf = w->buf, .md = *md};
    if (dnnl_memory_desc_equal(&plain, md)) {
        DNNL_CHECK(dnnl_memory_create(&e.mem, md, c->engine, (void *)src));
    } else {
        size_t bytes = (dnnl_memory_desc_get_size(md) + 63) & ~(size_t)63;
        e.data = aligned_alloc(64, bytes);
        if (!e.data)
            return tfb_error_set(TFB_STATUS_NOMEM, "onednn: cannot allocate %zu bytes for %s", bytes, w->name);
        dnnl_memory_t from = NULL;
        dnnl_primitive_desc_t rpd = NULL;
        dnnl_primitive_t r = NULL;
        dnnl_status_t st = dnnl_memory_create(&e.mem, md, c->engine, e.data);
        if (st == dnnl_success)
            st = dnnl_memory_create(&from, &plain, c->engine, (void *)src);
        if (st == dnnl_success)
            st = dnnl_reorder_primitive_desc_create(&rpd, &plain, c->engine, md, c->engine, NULL);
        if (st == dnnl_success)
            st = dnnl_primitive_create(&r, rpd);
        if (st == dnnl_success) {
            dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, e.mem}};
            st = dnnl_primitive_execute(r, c->stream, 2, args);
        }
        if (st == dnnl_success)
            st = dnnl_stream_wait(c->stream);
        if (r)
            dnnl_primitive_destroy(r);
        if (rpd)
            dnnl_primitive_desc_destroy(rpd);
        if (from)
            dnnl_memory_destroy(from);
        if (st != dnnl_success) {
            wc_release(&e);
            return tfb_error_set(TFB_STATUS_BACKEND, "onednn: reorder of weight %s failed (status %d)", w->name,
                                 (int)st);
        }
        c->n_reorders++;
    }
    c->wc[c->n_wc++] = e;
    *out = e.mem;
    return TFB_STATUS_OK;
}

void tfb__dnn_weights_drop(dnn_ctx *c, const tfb_buffer *buf) {
    int j = 0;
    for (int i = 0; i < c->n_wc; i++) {
        if (c->wc[i].buf == buf)
            wc_release(&c->wc[i]);
        else
            c->wc[j++] = c->wc[i];
    }
    if (j != c->n_wc)
        c->wgen++;
    c->n_wc = j;
}

void tfb__dnn_weights_free(dnn_ctx *c) {
    for (int i = 0; i < c->n_wc; i++)
        wc_release(&c->wc[i]);
    free(c->wc);
    c->wc = NULL;
    c->n_wc = c->cap_wc = 0;
}

/* ---- descriptors ----------------------------------------------------------------------------------- */

dnnl_data_type_t tfb__dnn_dtype(tfb_dtype t) {
    switch (t) {
    case TFB_DTYPE_F32: return dnnl_f32;
    case TFB_DTYPE_BF16: return dnnl_bf16;
    case TFB_DTYPE_F16: return dnnl_f16;
    default: return dnnl_data_type_undef;
    }
}

tfb_status tfb__dnn_md2(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, dnnl_data_type_t dt) {
    dnnl_dims_t dims = {rows, cols};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(md, 2, dims, dt, dnnl_ab));
    return TFB_STATUS_OK;
}
