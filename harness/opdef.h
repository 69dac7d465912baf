/* Internal: the one op-conformance definition (DESIGN.md, Conformance, op level): which shapes test
 * each op, and how close to the reference each op's output must be (the tolerance table, op x dtype,
 * each bound with its reason). Used by `tfbench conform`'s op level (conform_op.c), by
 * `tfbench list --ops` (the representative nodes of the coverage matrix) and by every backend's op
 * tests (tests/{simd,opencl,vulkan,onednn}), which may add backend-specific cases (kernel-variant
 * boundaries) but take every comparison bound from here.
 *
 * Why here and how it links: conformance is the harness's knowledge, so it lives in harness/; opdef.c
 * depends on include/tfbench only (no cJSON, nothing else of the harness), so a backend test links it
 * alone: the NEON cross-build (ci/neon-test.sh) compiles it beside the simd test. Tests sit outside the
 * harness -> models -> backends -> kernels -> core stack, so a test linking the harness makes no
 * arrow back up; no backend or model ever includes this header. */
#ifndef TFB_HARNESS_OPDEF_H
#define TFB_HARNESS_OPDEF_H

#include <stdio.h>

#include "tfbench/graph.h"

#define TFB_OPDEF_EPS_F32 1.1920928955078125e-07 /* 2^-23 */

/* ---- the shapes ---------------------------------------------------------------------------------- */

/* One op case: a single-node graph. Rows T are this call's; tensors with rows are dyn_rows with a
 * larger maximum, so a kernel that uses shape[0] instead of n_rows is caught. */
typedef struct tfb_opdef_case {
    tfb_op op;
    const char *tag; /* extra words in the name ("causal", "learned+type", "ties") */
    int64_t T;       /* rows of this call */
    int64_t K, N;    /* matmul x [T,K] w [N,K]; every other op's width C = N; embed: K = vocabulary */
    int64_t H, D;    /* attention / rope heads and head size (N = H*D) */
    int64_t Hkv;     /* attention: kv heads (0: H); the caches are Hkv*D wide */
    int64_t S;       /* cache rows (kv_write, attention), learned position rows (embed) */
    int64_t pos, n_src;
    tfb_mask mask;
    tfb_pos_kind pos_kind;
    bool type;        /* embed: token-type row */
    bool bias;        /* matmul: bias */
    bool kv_at_zero;  /* kv_write */
    bool ties;        /* argmax: the maximum twice in a row, the lower index must win */
    bool cache_input; /* attention: K/V from a cache (not a same-call activation) */
    bool rel_bias;    /* attention: a relative position bias in[3] [H, 2S-1] */
    float scale, eps; /* softmax / embed / scale-op scale, norm eps (attention: 1/sqrt(D), by the builder) */
    float rope_theta;
    tfb_rope_layout rope_layout;
    float lo, hi;     /* input range */
} tfb_opdef_case;

/* The list: odd sizes (1, 7, 33, 127, ...) and the real model shapes (gpt2-124m, bert-base,
 * marian-base, t5-base, tinyllama-1.1b, llama2-7b widths, heads, kv heads and vocabularies). */
int tfb__opdef_count(void);
const tfb_opdef_case *tfb__opdef_get(int i);
/* Does case c run with weight dtype wt? Only matmul has a weight dtype (every other op is f32, its
 * tables and gammas too); q8_0/q4_0 need K % 32 == 0. */
bool tfb__opdef_applies(const tfb_opdef_case *c, tfb_dtype wt);
/* "matmul 7x768x3072 bias", "attention causal T1 H12 D64 pos100", ... (conform's case names) */
void tfb__opdef_name(const tfb_opdef_case *c, char *buf, size_t len);

/* Case c as a node with weight dtype wt: tensors with dtypes and shapes but no storage, enough for a
 * backend's supports slot (and for `list --ops`). The node points into *out. */
typedef struct tfb_opdef_node {
    tfb_node node;
    tfb_tensor t[TFB_MAX_INPUTS + 1]; /* inputs, then the output */
    tfb_graph_params params;
} tfb_opdef_node;
void tfb__opdef_node(const tfb_opdef_case *c, tfb_dtype wt, tfb_opdef_node *out);

/* ---- the tolerance table --------------------------------------------------------------------------- */

/* Error bound relative to the output's RMS for op x weight dtype with reduction length k:
 * tol = eps32 * (a + b*sqrt(k) + c*k). An element passes when |x - ref| <= tol*(rms(ref) + |ref|), the
 * whole output when NMSE = sum((x-ref)^2)/sum(ref^2) <= tol^2; 0 demands equality. `why` (may be
 * NULL) gets the entry's reason. */
double tfb__opdef_tol(tfb_op op, tfb_dtype wt, int64_t k, const char **why);
/* The reduction length k of node n run with params p: K of a matmul, C of a norm or softmax, D + L
 * of attention (L the keys it sees), the largest position of a sinusoidal embedding or a rope, else 1. */
int64_t tfb__opdef_node_k(const tfb_node *n, const tfb_graph_params *p);
/* The bound of node n as run: tfb__opdef_tol(op, weight dtype, node k). */
double tfb__opdef_node_tol(const tfb_node *n, const tfb_graph_params *p, const char **why);
/* The NMSE threshold (tol^2) of node n as run: what NMSE-only checkers compare against. */
double tfb__opdef_node_nmse(const tfb_node *n, const tfb_graph_params *p);
/* Print the table with its reasons (conform --tolerances). */
void tfb__opdef_print_tolerances(FILE *f);

#endif
