/* Internal state of the SIMD backend, shared by its files (simd.c: vtable; matmul.c; ops.c). */
#ifndef TFB_SIMD_IMPL_H
#define TFB_SIMD_IMPL_H

#include "backends/simd/pool.h"
#include "kernels/simd/kern.h"
#include "tfbench/backend.h"

#define TFB_SIMD_KC 256 /* K block of the packed weight panel (a multiple of 32) */
#define TFB_SIMD_NB_TILES 8 /* micro-tile columns per packed panel */

/* One f32 weight packed once for the prefill gemm (matmul.c): slivers of nr columns, each [K][nr]
 * (K blocks of TFB_SIMD_KC stacked), columns past N zero. Kept until the weight's buffer is uploaded
 * into or freed. */
typedef struct tfb__simd_wpack {
    const void *src;        /* the weight's host address */
    const tfb_buffer *buf;  /* and its buffer (what upload and free name) */
    int64_t N, K;
    float *data;
    size_t bytes;
} tfb__simd_wpack;

typedef struct tfb__simd {
    const tfb__simd_kern *k; /* the path in use */
    tfb__pool *pool;
    int n_threads;
    float **scratch;         /* [n_threads] per-thread buffers of scratch_floats floats */
    size_t scratch_floats;
    bool act_q8;             /* tfb_backend_opts.act_q8: 8-bit activations for q8_0/q4_0 matmuls */
    void *abuf;              /* activations as act_q8 rounds them (matmul.c), 64-byte aligned */
    size_t abuf_bytes;
    tfb__simd_wpack *wp;     /* packed f32 weights (matmul.c) */
    int n_wp, cap_wp;
    size_t wp_cap;           /* bytes of packed weights all simd backends of the process may hold */
    char cpu[96];
    bool op_prof;                    /* op_profile on: time every node */
    double op_secs[TFB_OP_COUNT];    /* seconds per op kind while op_prof */
} tfb__simd;

/* The kernel tables this CPU can run (the checks pick_path makes), best first, at most max; the count. */
int tfb__simd_paths_here(const tfb__simd_kern **out, int max);
/* Grow every thread's scratch buffer to at least n floats (called from the compute thread). */
tfb_status tfb__simd_scratch(tfb__simd *s, size_t n);
/* Grow the activation buffer abuf to at least n bytes. */
tfb_status tfb__simd_abuf(tfb__simd *s, size_t n);
/* c[mr_v, nr_v] (row stride ldc) += a[mr_v, kc] (row stride lda) * panel[kc, nr] (packed by pack_b),
 * or with init, c = init (every row: init[nr_v], a bias or zeros) + a * panel without reading c: one
 * micro tile with mr_v <= mr valid rows, nr_v <= nr valid columns and kc <= TFB_SIMD_KC; partial tiles
 * go through small copies so the kernel never reads or writes outside a, init and c. */
void tfb__simd_tile(const tfb__simd_kern *k, int64_t kc, const float *a, int64_t lda, const float *panel,
                    const float *init, float *c, int64_t ldc, int mr_v, int nr_v);
/* nr zeros, a tile's init where there is no bias. */
extern const float tfb__simd_zeros[64];
/* Forget the packed weights held for buffer buf (its contents change or it goes); NULL: all of them. */
void tfb__simd_wpack_drop(tfb__simd *s, const tfb_buffer *buf);
/* Op kernels; each returns OK or an error set through tfb_error_set. */
tfb_status tfb__simd_matmul(tfb__simd *s, const tfb_graph *g, const tfb_node *n);
tfb_status tfb__simd_node(tfb__simd *s, const tfb_graph *g, const tfb_node *n);

#endif
