/* The FMA loop at 256 bits (compiled with -mavx2 -mfma -ffp-contract=fast). */
#include <stddef.h>

#include "probe.h"
#define VEC_BYTES 32
#define FN        tfb_probe_fma_avx2
#define READ_FN   tfb_probe_read_avx2
#include "probe_fma.inc"
