/* Planted faults that can only live inside a backend (a missing Vulkan barrier, an invalid one, a
 * wrong oneDNN fusion or weight layout), for the tests that prove a check catches them. Faults a
 * wrapper can plant (wrong values, positions, out-of-bounds writes) belong to the fault backend
 * (backends/fault.c) instead.
 *
 * Compiled only where TFB_TEST_FAULTS is defined: the copies of the backend sources that carry a
 * fault, built into the tfbench_test_faults objects (CMake option TFBENCH_TEST_FAULTS) and linked only
 * into test binaries, where they take the place of the library's own. Every fault site sits under
 * #ifdef TFB_TEST_FAULTS, so the tfbench users run holds no fault branch. TFB_PLANT names the fault:
 *   vk-bad-barrier    Vulkan: a barrier with an access mask its stage cannot perform before the first
 *                     dispatch (the validation layer must report it; harmless to run)
 *   vk-no-barriers    Vulkan: no barriers between nodes (synchronization validation must report it)
 *   onednn-layout     oneDNN: weights read untransposed (the plain layout tagged ab instead of ba)
 *   onednn-fuse       oneDNN: an activation or residual add fused into a matmul whose output is read
 *                     elsewhere too */
#ifndef TFBENCH_BACKENDS_PLANTED_H
#define TFBENCH_BACKENDS_PLANTED_H

#ifdef TFB_TEST_FAULTS
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Is fault `name` planted in this process (TFB_PLANT)? */
static inline bool tfb__planted(const char *name) {
    const char *e = getenv("TFB_PLANT");
    return e && strcmp(e, name) == 0;
}
#endif

#endif
