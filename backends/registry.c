/* Every backend compiled in, reference first; each is probed at run time by its user. Test builds
 * (TFB_TEST_FAULTS: this file's copy in the tfbench_test_faults objects) list the planted-fault
 * wrapper last. */
#include <string.h>

#include "tfbench/backend.h"

extern const tfb_backend_i tfb_backend_reference;
#ifdef TFB_WITH_SIMD
extern const tfb_backend_i tfb_backend_simd;
#endif
#ifdef TFB_WITH_ONEDNN
extern const tfb_backend_i tfb_backend_onednn;
#endif
#ifdef TFB_WITH_OPENCL
extern const tfb_backend_i tfb_backend_opencl;
#endif
#ifdef TFB_WITH_VULKAN
extern const tfb_backend_i tfb_backend_vulkan;
#endif
#ifdef TFB_TEST_FAULTS
extern const tfb_backend_i tfb_backend_fault;
#endif

static const tfb_backend_i *const backends[] = {
    &tfb_backend_reference,
#ifdef TFB_WITH_SIMD
    &tfb_backend_simd,
#endif
#ifdef TFB_WITH_ONEDNN
    &tfb_backend_onednn,
#endif
#ifdef TFB_WITH_OPENCL
    &tfb_backend_opencl,
#endif
#ifdef TFB_WITH_VULKAN
    &tfb_backend_vulkan,
#endif
#ifdef TFB_TEST_FAULTS
    &tfb_backend_fault,
#endif
};

#define N_BACKENDS ((int)(sizeof backends / sizeof backends[0]))

int tfb_backend_count(void) {
    return N_BACKENDS;
}

const tfb_backend_i *tfb_backend_get(int i) {
    return (i >= 0 && i < N_BACKENDS) ? backends[i] : NULL;
}

const tfb_backend_i *tfb_backend_find(const char *name) {
    for (int i = 0; i < N_BACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}
