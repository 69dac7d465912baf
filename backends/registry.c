/* Every backend compiled in, reference first; each is probed at run time by its user. */
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

#define MAX_BACKENDS 16

static const tfb_backend_i *backends[MAX_BACKENDS] = {
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
};

static int count_builtin(void) {
    int n = 0;
    while (n < MAX_BACKENDS && backends[n])
        n++;
    return n;
}

int tfb_backend_count(void) {
    return count_builtin();
}

const tfb_backend_i *tfb_backend_get(int i) {
    return (i >= 0 && i < count_builtin()) ? backends[i] : NULL;
}

const tfb_backend_i *tfb_backend_find(const char *name) {
    for (int i = 0; i < count_builtin(); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

void tfb_backend_register(const tfb_backend_i *iface) {
    int n = count_builtin();
    TFB_ASSERT(n < MAX_BACKENDS);
    if (!tfb_backend_find(iface->name))
        backends[n] = iface;
}
