/* The environment manifest every results file carries (DESIGN.md, Benchmarks): tfbench version and
 * git commit, compiler and flags, CPU model and ISA extensions, cores, memory, OS, per-backend
 * device / driver / API / library versions, the command line and a timestamp. */
#ifndef TFB_HARNESS_ENV_H
#define TFB_HARNESS_ENV_H

#include <cjson/cJSON.h>

#include "tfbench/backend.h"

/* Record the process's command line once (main does): every manifest carries it, whichever
 * subcommand writes the file (the standard suite runs bench on the user's behalf). */
void tfb_env_set_command_line(int argc, char **argv);
/* A new JSON object with everything but the backends (the caller frees it with cJSON_Delete, or
 * it is freed with the document it is added to). NULL when out of memory. */
cJSON *tfb_env_manifest(void);
/* Add one backend's device info under manifest.backends[name] (replacing an earlier entry). */
void tfb_env_add_backend(cJSON *manifest, const char *name, const tfb_device_info *info);
/* Current UTC time as ISO 8601 ("2026-11-23T15:30:00Z"). */
void tfb_env_timestamp(char *buf, size_t len);

#endif
