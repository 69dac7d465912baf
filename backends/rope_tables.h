/* Rotary tables of the device backends (opencl, vulkan): the host computes cos and sin of ROPE's
 * angles once per (theta, head size D) for positions 0..cap-1 (tfb_rope_cos_sin, in double), the
 * device kernel only multiplies. cap is a power of two from 256, grown as generation goes deeper;
 * D = 128 at 4096 positions is 2 MiB. This file keeps the slots (which (theta, D) each holds, for
 * how many positions, which to replace) once for both; each backend stores the table in its own
 * device memory through tfb_rope_dev. Not part of the public API. */
#ifndef TFB_BACKENDS_ROPE_TABLES_H
#define TFB_BACKENDS_ROPE_TABLES_H

#include "tfbench/graph.h"

#define TFB_ROPE_SLOTS 8 /* tables kept at once, one per (theta, D) a graph uses */

typedef struct tfb_rope_tables {
    struct {
        float theta;
        int64_t d;   /* head size */
        int64_t cap; /* positions held; 0: the slot is free */
    } slot[TFB_ROPE_SLOTS];
    int next;     /* the slot replaced next when all are taken */
    uint64_t gen; /* bumped whenever a slot is (re)filled: bindings to the old table are stale */
} tfb_rope_tables;

/* A backend's device side of the tables. */
typedef struct tfb_rope_dev {
    const char *name; /* for messages: "opencl" */
    /* Put the host table f32 [cap][D/2][cos, sin] (bytes long) in slot k's device memory, replacing
     * whatever slot k held (its previous memory may still be read by queued work: the backend keeps
     * it alive until that finishes). */
    tfb_status (*store)(void *ctx, int k, const float *table, size_t bytes);
    /* Free slot k's device memory. */
    void (*drop)(void *ctx, int k);
} tfb_rope_dev;

/* Before a graph runs: every ROPE node's (theta, D) in a slot covering positions up to params.pos
 * plus its rows. Fails (UNSUPPORTED) when a graph uses more (theta, D) pairs than there are slots. */
tfb_status tfb_rope_tables_prepare(tfb_rope_tables *t, const tfb_graph *g, const tfb_rope_dev *dev, void *ctx);
/* The slot holding n's table, or -1. */
int tfb_rope_tables_find(const tfb_rope_tables *t, const tfb_node *n);
void tfb_rope_tables_free(tfb_rope_tables *t, const tfb_rope_dev *dev, void *ctx);

#endif
