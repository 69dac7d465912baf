/* The FMA loop at 512 bits (compiled with -mavx512f -mfma -ffp-contract=fast). */
#include <stddef.h>

#include "probe.h"
#define VEC_BYTES 64
#define FN        tfb_probe_fma_avx512
#define READ_FN   tfb_probe_read_avx512
#include "probe_fma.inc"
