/* The SIMD backend: host memory, intrinsics micro-kernels chosen at run time (kernels/simd), a
 * persistent thread pool. The path is the best the CPU offers unless opts->isa or the environment
 * variable TFB_SIMD_ISA asks for a lower one ("avx512", "avx2", "neon", "scalar"). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

#include "backends/simd/simd_impl.h"
#include "core/clock.h"

/* ---- which paths this CPU can run --------------------------------------------------------------- */

#if defined(__x86_64__) || defined(_M_X64)
/* F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c". */
static bool has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static bool path_available(const tfb__simd_kern *k) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (k == &tfb__simd_kern_avx512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    if (k == &tfb__simd_kern_avx2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
#endif
    return true; /* scalar; NEON is always present on AArch64 */
}

/* Best first. */
static const tfb__simd_kern *const paths[] = {
#if defined(__x86_64__) || defined(_M_X64)
    &tfb__simd_kern_avx512,
    &tfb__simd_kern_avx2,
#endif
#if defined(__aarch64__)
    &tfb__simd_kern_neon,
#endif
    &tfb__simd_kern_scalar,
};
#define N_PATHS (sizeof paths / sizeof paths[0])

int tfb__simd_paths_here(const tfb__simd_kern **out, int max) {
    int n = 0;
    for (size_t i = 0; i < N_PATHS && n < max; i++)
        if (path_available(paths[i]))
            out[n++] = paths[i];
    return n;
}

static tfb_status pick_path(const char *want, const tfb__simd_kern **out) {
    const tfb__simd_kern *best = NULL;
    for (size_t i = 0; i < N_PATHS && !best; i++)
        if (path_available(paths[i]))
            best = paths[i];
    *out = best;
    if (!want || !*want)
        return TFB_STATUS_OK;
    char built[64] = "";
    for (size_t i = 0; i < N_PATHS; i++) {
        if (strcmp(paths[i]->name, want) == 0) {
            if (!path_available(paths[i]))
                return tfb_error_set(TFB_STATUS_UNAVAILABLE, "simd: path '%s' is not supported by this CPU (best: %s)",
                                     want, best->name);
            *out = paths[i];
            return TFB_STATUS_OK;
        }
        strncat(built, i ? ", " : "", sizeof built - strlen(built) - 1);
        strncat(built, paths[i]->name, sizeof built - strlen(built) - 1);
    }
    return tfb_error_set(TFB_STATUS_USAGE, "simd: unknown path '%s' (built: %s)", want, built);
}

static void cpu_name(char *dst, size_t n) {
    snprintf(dst, n, "host CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ' || *v == '\t')
                    v++;
                v[strcspn(v, "\n")] = '\0';
                snprintf(dst, n, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

/* ---- vtable ------------------------------------------------------------------------------------- */

static bool simd_probe(char *why, size_t why_len) {
    (void)why;
    (void)why_len;
    return true; /* the scalar path runs anywhere */
}

static void simd_free(void *ctx) {
    tfb__simd *s = ctx;
    if (!s)
        return;
    tfb__pool_free(s->pool);
    tfb__simd_wpack_drop(s, NULL);
    free(s->wp);
    if (s->scratch)
        for (int i = 0; i < s->n_threads; i++)
            free(s->scratch[i]);
    free(s->scratch);
    free(s->abuf);
    free(s);
}

/* Memory for f32 weights packed once (matmul.c), shared by every simd backend of the process:
 * TFB_SIMD_PACK_CACHE MiB (0: pack on every call), by default a quarter of the machine's memory. */
static tfb_status pack_budget(size_t *cap) {
    const char *e = getenv("TFB_SIMD_PACK_CACHE");
    if (e) {
        char *end;
        errno = 0;
        unsigned long long mib = strtoull(e, &end, 10);
        if (end == e || *end || errno || e[0] == '-' || mib > (SIZE_MAX >> 20))
            return tfb_error_set(TFB_STATUS_USAGE, "simd: TFB_SIMD_PACK_CACHE '%s' is not a number of MiB", e);
        *cap = (size_t)mib << 20;
        return TFB_STATUS_OK;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *cap = pages > 0 && page > 0 ? (size_t)pages / 4 * (size_t)page : 0;
    return TFB_STATUS_OK;
}

static tfb_status simd_init(const tfb_backend_opts *opts, void **ctx) {
    *ctx = NULL;
    tfb__simd *s = calloc(1, sizeof *s);
    if (!s)
        return tfb_error_set(TFB_STATUS_NOMEM, "simd: out of memory");
    const char *want = opts->isa ? opts->isa : getenv("TFB_SIMD_ISA");
    tfb_status st = pick_path(want, &s->k);
    if (st != TFB_STATUS_OK) {
        free(s);
        return st;
    }
    s->act_q8 = opts->act_q8;
    s->n_threads = opts->n_threads;
    if (s->n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->n_threads = n > 0 ? (int)n : 1;
    }
    s->scratch = calloc((size_t)s->n_threads, sizeof *s->scratch);
    if (!s->scratch) {
        free(s);
        return tfb_error_set(TFB_STATUS_NOMEM, "simd: out of memory");
    }
    st = tfb__pool_init(s->n_threads, &s->pool);
    if (st != TFB_STATUS_OK) {
        simd_free(s);
        return st;
    }
    st = pack_budget(&s->wp_cap);
    if (st != TFB_STATUS_OK) {
        simd_free(s);
        return st;
    }
    cpu_name(s->cpu, sizeof s->cpu);
    *ctx = s;
    return TFB_STATUS_OK;
}

tfb_status tfb__simd_scratch(tfb__simd *s, size_t n) {
    if (n <= s->scratch_floats)
        return TFB_STATUS_OK;
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    for (int i = 0; i < s->n_threads; i++) {
        float *p = aligned_alloc(64, bytes);
        if (!p)
            return tfb_error_set(TFB_STATUS_NOMEM, "simd: cannot allocate %zu bytes of scratch", bytes);
        free(s->scratch[i]);
        s->scratch[i] = p;
    }
    s->scratch_floats = n;
    return TFB_STATUS_OK;
}

tfb_status tfb__simd_abuf(tfb__simd *s, size_t n) {
    if (n <= s->abuf_bytes)
        return TFB_STATUS_OK;
    size_t bytes = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes);
    if (!p)
        return tfb_error_set(TFB_STATUS_NOMEM, "simd: cannot allocate %zu bytes for activations", bytes);
    free(s->abuf);
    s->abuf = p;
    s->abuf_bytes = bytes;
    return TFB_STATUS_OK;
}

static void simd_device_info(void *ctx, tfb_device_info *info) {
    tfb__simd *s = ctx;
    snprintf(info->device, sizeof info->device, "%s", s->cpu);
    snprintf(info->api, sizeof info->api, "C11 intrinsics");
    snprintf(info->library, sizeof info->library, "tfbench simd (%s)", s->k->name);
    size_t held = 0;
    for (int i = 0; i < s->n_wp; i++)
        held += s->wp[i].bytes;
    snprintf(info->extra, sizeof info->extra,
             "path %s, %d thread%s, gemm tile %dx%d, f32 weights packed once (%zu KiB held, %zu MiB budget per process)%s",
             s->k->name, s->n_threads, s->n_threads == 1 ? "" : "s", s->k->mr, s->k->nr, held >> 10, s->wp_cap >> 20,
             s->act_q8 ? ", act_q8 (8-bit activations, integer dots for q8_0/q4_0)" : "");
}

/* The ops ops.c and matmul.c have kernels for, at any size (attention falls back from the GEMM tiles
 * to the row kernel when a head is wider than a K block; grouped-query kv heads and a relative
 * position bias in both); matmul takes every weight dtype; rope needs an even head size (its pairs). */
static bool simd_supports(void *ctx, const tfb_node *n) {
    (void)ctx;
    switch (n->op) {
    case TFB_OP_MATMUL: return tfb_dtype_is_weight(n->in[1]->dtype);
    case TFB_OP_ATTENTION: /* plain, grouped-query, relative bias */
    case TFB_OP_ROPE: return true; /* either layout (tfb_node_well_formed has checked an even head size) */
    default: return tfb_op_is_rowwise(n->op);
    }
}

/* Buffers of at least this size are mapped on their own. What is uploaded into them (the weights)
 * is asked for transparent huge pages as it is written: decode streams every weight once per token,
 * and with 4 KiB pages the page walks and the prefetchers' stops at page boundaries cost a measurable
 * share of the bandwidth. Buffers the graphs write (the KV cache, the activations) keep small pages:
 * where THP defrag is "madvise" (Debian's default) the first write to each advised 2 MiB compacts
 * memory synchronously, 4-21 ms a time here, and those writes fall inside prefill and decode (a
 * gpt2-124m q4_0 run of 128 tokens spent 29% of its op time in KV_WRITE's page faults). */
#define HUGE_MIN ((size_t)2 << 20)

static tfb_status simd_buffer_alloc(void *ctx, size_t size, tfb_buffer *buf) {
    (void)ctx;
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded >= HUGE_MIN) {
        void *p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return tfb_error_set(TFB_STATUS_NOMEM, "simd: cannot map %zu bytes", size);
        buf->host = p; // anonymous pages are zero
    } else {
        buf->host = aligned_alloc(64, rounded);
        if (!buf->host)
            return tfb_error_set(TFB_STATUS_NOMEM, "simd: cannot allocate %zu bytes", size);
        memset(buf->host, 0, rounded);
    }
    buf->handle = buf->host;
    return TFB_STATUS_OK;
}

static void simd_buffer_free(void *ctx, tfb_buffer *buf) {
    tfb__simd_wpack_drop(ctx, buf);
    size_t rounded = ((buf->size ? buf->size : 64) + 63) & ~(size_t)63; // as simd_buffer_alloc saw it
    if (rounded >= HUGE_MIN)
        munmap(buf->host, rounded);
    else
        free(buf->host);
}

/* Huge pages for the 2 MiB regions of a mapped buffer that bytes [off, off+n) touch (HUGE_MIN). */
static void advise_huge(const tfb_buffer *buf, size_t off, size_t n) {
#ifdef MADV_HUGEPAGE
    if (buf->size < HUGE_MIN || n == 0)
        return;
    uintptr_t base = (uintptr_t)buf->host, end = base + ((buf->size + 4095) & ~(size_t)4095);
    uintptr_t lo = (base + off) & ~(uintptr_t)(HUGE_MIN - 1), hi = (base + off + n + HUGE_MIN - 1) & ~(uintptr_t)(HUGE_MIN - 1);
    lo = lo < base ? base : lo;
    hi = hi > end ? end : hi;
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); // advice only: without THP the pages stay small
#else
    (void)buf, (void)off, (void)n;
#endif
}

static tfb_status simd_upload(void *ctx, tfb_tensor *t, const void *src, size_t off, size_t n) {
    tfb__simd_wpack_drop(ctx, t->buf); // packed copies of what this buffer held are stale
    advise_huge(t->buf, t->offset + off, n);
    memcpy((char *)tfb_tensor_host(t) + off, src, n);
    return TFB_STATUS_OK;
}

static tfb_status simd_download(void *ctx, const tfb_tensor *t, void *dst, size_t off, size_t n) {
    (void)ctx;
    memcpy(dst, (const char *)tfb_tensor_host(t) + off, n);
    return TFB_STATUS_OK;
}

static tfb_status simd_compute(void *ctx, tfb_graph *g) {
    tfb__simd *s = ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        double t0 = s->op_prof ? tfb__now() : 0.0;
        TFB_TRY(tfb__simd_node(s, g, &g->nodes[i]));
        if (s->op_prof) // every node returns with its work done: host time is the op's time
            s->op_secs[g->nodes[i].op] += tfb__now() - t0;
    }
    return TFB_STATUS_OK;
}

static bool simd_op_profile(void *ctx, bool on, double *secs) {
    tfb__simd *s = ctx;
    if (on)
        memset(s->op_secs, 0, sizeof s->op_secs);
    else
        memcpy(secs, s->op_secs, sizeof s->op_secs);
    s->op_prof = on;
    return true;
}

static tfb_status simd_synchronize(void *ctx) {
    (void)ctx;
    return TFB_STATUS_OK; /* compute returns when the work is done */
}

const tfb_backend_i tfb_backend_simd = {
    .name = "simd",
    .probe = simd_probe,
    .init = simd_init,
    .act_q8 = true,
    .free = simd_free,
    .device_info = simd_device_info,
    .supports = simd_supports,
    .buffer_alloc = simd_buffer_alloc,
    .buffer_free = simd_buffer_free,
    .upload = simd_upload,
    .download = simd_download,
    .compute = simd_compute,
    .synchronize = simd_synchronize,
    .op_profile = simd_op_profile,
};
