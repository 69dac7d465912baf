// Shared by every shader: push constants, workgroup reductions (subgroup ops when compiled with
// -DTFB_SUBGROUP, which the backend picks only when the device reports them; shared memory otherwise).
#extension GL_GOOGLE_include_directive : require
#ifdef TFB_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "push.h"

#ifdef TFB_NEED_REDUCE
shared float red_s[WG];

float wg_sum(float v) {
#ifdef TFB_SUBGROUP
    float s = subgroupAdd(v);
    if (subgroupElect())
        red_s[gl_SubgroupID] = s;
    barrier();
    float t = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++)
        t += red_s[i];
    barrier();
    return t;
#else
    uint lid = gl_LocalInvocationID.x;
    red_s[lid] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            red_s[lid] += red_s[lid + s];
        barrier();
    }
    float t = red_s[0];
    barrier();
    return t;
#endif
}

float wg_max(float v) {
#ifdef TFB_SUBGROUP
    float s = subgroupMax(v);
    if (subgroupElect())
        red_s[gl_SubgroupID] = s;
    barrier();
    float t = red_s[0];
    for (uint i = 1; i < gl_NumSubgroups; i++)
        t = max(t, red_s[i]);
    barrier();
    return t;
#else
    uint lid = gl_LocalInvocationID.x;
    red_s[lid] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            red_s[lid] = max(red_s[lid], red_s[lid + s]);
        barrier();
    }
    float t = red_s[0];
    barrier();
    return t;
#endif
}
#endif
