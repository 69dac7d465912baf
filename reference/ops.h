/* The reference op kernels: plain C, double-precision accumulation, exact libm functions. */
#ifndef TFB_REFERENCE_OPS_H
#define TFB_REFERENCE_OPS_H

#include "tfbench/graph.h"

/* Run one node of g on host tensors; act_q8: tfb_backend_opts.act_q8. */
tfb_status tfb__ref_node(const tfb_graph *g, const tfb_node *n, bool act_q8);

#endif
