/* Environment capture: build definitions from CMake, the CPU from /proc/cpuinfo at run time,
 * memory from /proc/meminfo, the OS from uname. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "tfb_git_commit.h"
#include "db.h"
#include "env.h"

void tfb_env_timestamp(char *buf, size_t len) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The value of the first "key<spaces>: value" line of a /proc file, or "" if absent. */
static void proc_field(const char *path, const char *key, char *out, size_t len) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char line[65536]; /* cpuinfo's flags line is long */
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0 || (line[klen] != ' ' && line[klen] != '\t' && line[klen] != ':'))
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(out, len, "%s", v);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

/* ISA extensions that matter for the kernels, picked from the flags line (x86 "flags", arm "Features"). */
static cJSON *isa_list(void) {
    static const char *wanted[] = {"sse4_2",     "avx",         "avx2",      "fma",         "f16c",
                                   "avx512f",    "avx512bw",    "avx512vl",  "avx512dq",    "avx512_vnni",
                                   "avx512_bf16", "avx512_fp16", "avx_vnni",  "amx_tile",    "amx_bf16",
                                   "amx_int8",   "asimd",       "asimddp",   "sve",         "sve2",
                                   "i8mm",       "bf16",        "fphp",      "asimdhp"};
    static char flags[65536];
    proc_field("/proc/cpuinfo", "flags", flags, sizeof flags);
    if (!flags[0])
        proc_field("/proc/cpuinfo", "Features", flags, sizeof flags);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t n = strlen(wanted[i]);
        for (const char *p = flags; (p = strstr(p, wanted[i])) != NULL; p += n) {
            bool start = p == flags || p[-1] == ' ', end = p[n] == ' ' || p[n] == '\0';
            if (start && end) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(wanted[i]));
                break;
            }
        }
    }
    return arr;
}

static int cmd_argc;
static char **cmd_argv;

void tfb_env_set_command_line(int argc, char **argv) {
    cmd_argc = argc;
    cmd_argv = argv;
}

cJSON *tfb_env_manifest(void) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "tfbench_version", TFB_VERSION);
    cJSON_AddStringToObject(o, "git_commit", TFB_GIT_COMMIT);
    cJSON_AddStringToObject(o, "compiler", TFB_COMPILER);
    cJSON_AddStringToObject(o, "cflags", TFB_CFLAGS);
    cJSON_AddStringToObject(o, "build_type", TFB_BUILD_TYPE);
    char buf[512];
    proc_field("/proc/cpuinfo", "model name", buf, sizeof buf);
    if (!buf[0])
        proc_field("/proc/cpuinfo", "Hardware", buf, sizeof buf);
    cJSON_AddStringToObject(o, "cpu_model", buf[0] ? buf : "unknown");
    cJSON_AddItemToObject(o, "isa", isa_list());
    cJSON_AddNumberToObject(o, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    proc_field("/proc/meminfo", "MemTotal", buf, sizeof buf); /* "131072 kB" */
    cJSON_AddNumberToObject(o, "memory_bytes", buf[0] ? 1024.0 * strtod(buf, NULL) : -1);
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(buf, sizeof buf, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(o, "os", buf);
        cJSON_AddStringToObject(o, "hostname", u.nodename);
    } else {
        cJSON_AddStringToObject(o, "os", "unknown");
    }
    /* CI runners get a new hostname every job: TFBENCH_MACHINE names the machine for the results
     * database (and the file), so runs of one machine line up across jobs. */
    const char *machine = getenv("TFBENCH_MACHINE");
    if (machine && *machine)
        cJSON_AddStringToObject(o, "machine", machine);
    cJSON *cmd = cJSON_AddArrayToObject(o, "command_line");
    for (int i = 0; i < cmd_argc; i++) { /* a --db URL's password never goes into a file or database */
        char masked[1024];
        tfb_db_mask_url(cmd_argv[i], masked, sizeof masked);
        cJSON_AddItemToArray(cmd, cJSON_CreateString(strstr(cmd_argv[i], "://") ? masked : cmd_argv[i]));
    }
    tfb_env_timestamp(buf, sizeof buf);
    cJSON_AddStringToObject(o, "timestamp", buf);
    cJSON_AddObjectToObject(o, "backends");
    return o;
}

void tfb_env_add_backend(cJSON *manifest, const char *name, const tfb_device_info *info) {
    cJSON *bs = cJSON_GetObjectItemCaseSensitive(manifest, "backends");
    if (!bs)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(bs, name);
    cJSON *b = cJSON_AddObjectToObject(bs, name);
    cJSON_AddStringToObject(b, "device", info->device);
    cJSON_AddStringToObject(b, "driver", info->driver);
    cJSON_AddStringToObject(b, "api", info->api);
    cJSON_AddStringToObject(b, "library", info->library);
    cJSON_AddStringToObject(b, "extra", info->extra);
    cJSON_AddNumberToObject(b, "mem_total", (double)info->mem_total);
    cJSON_AddNumberToObject(b, "mem_used", (double)info->mem_used);
}
