/* Internal helpers shared by the tfbench subcommands. Only harness/ prints and decides exit codes. */
#ifndef TFB_HARNESS_CLI_H
#define TFB_HARNESS_CLI_H

#include <stdio.h>

#include "tfbench/model.h"

/* Exit codes (DESIGN.md): 0 ok, 1 a check failed, 2 bad usage or input, 3 backend unavailable. */
enum { TFB_EXIT_OK = 0, TFB_EXIT_FAIL = 1, TFB_EXIT_USAGE = 2, TFB_EXIT_UNAVAILABLE = 3 };

/* Map a status to an exit code. */
int tfb_cli_exit_code(tfb_status s);
/* Print `tfbench: <where>: <what>` (what = tfb_error_last() when fmt is NULL) and return the exit code. */
int tfb_cli_fail(tfb_status s, const char *where);
/* Print a usage error `tfbench: <where>: <what>` and return 2. */
int tfb_cli_usage(const char *where, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parse a comma-separated list of integers into a malloc'ed array; false on any junk. */
bool tfb_cli_parse_ints(const char *s, int32_t **out, int64_t *n);
/* Parse one integer in [lo, hi]. */
bool tfb_cli_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* Write a file atomically: data goes to PATH.tmp.<pid>, renamed over PATH at the end. An existing
 * PATH is an error unless force. */
typedef struct tfb_atomic_file {
    FILE *f;
    char path[4096];
    char tmp[4200];
} tfb_atomic_file;
tfb_status tfb_atomic_open(tfb_atomic_file *af, const char *path, bool force);
tfb_status tfb_atomic_commit(tfb_atomic_file *af);
void tfb_atomic_abort(tfb_atomic_file *af);

/* NumPy .npy (version 1.0, little-endian float32, C order) of shape [rows, cols]. */
tfb_status tfb_npy_write(const char *path, const float *data, int64_t rows, int64_t cols, bool force);

/* `tfbench list --ops`: the op x backend coverage matrix, one row per op and weight dtype, one column
 * per compiled-in backend: yes / no / unavailable, or "some k/n" when the backend's supports slot
 * takes only k of the n op-definition shapes (opdef.c); derived by asking each backend's supports
 * slot about those shapes as nodes, never from a written table. */
void tfb_cli_list_ops(FILE *f, const tfb_backend_opts *opts);

/* Subcommands. argv[0] is the subcommand name. */
int tfb_cmd_list(int argc, char **argv);
int tfb_cmd_run(int argc, char **argv);
int tfb_cmd_bench(int argc, char **argv);
int tfb_cmd_compare(int argc, char **argv);
int tfb_cmd_report(int argc, char **argv);
int tfb_cmd_gguf_info(int argc, char **argv);
/* The results database (db.h): import results files, a metric's history, regressions between REFs. */
int tfb_cmd_import(int argc, char **argv);
int tfb_cmd_history(int argc, char **argv);
int tfb_cmd_regress(int argc, char **argv);

#endif

/* Option matching for hand-rolled parsers: true if argv[*i] is `name` (value in the next argument)
 * or `name=value`; sets *val and advances *i past it. A matching option without its value prints
 * `tfbench: NAME: missing value`, sets *bad and returns false (check *bad before "unknown option"). */
bool tfb_cli_opt(int argc, char **argv, int *i, const char *name, const char **val, bool *bad);

/* The backend options every subcommand accepts: --threads N, --device D, --isa X, --act f32|q8.
 * Returns 1 if argv[*i] was one (consumed), 0 if not, or an exit code + 100 on a bad value (caller
 * returns it - 100). */
int tfb_cli_backend_opt(int argc, char **argv, int *i, tfb_backend_opts *opts);

/* --act q8 (tfb_backend_opts.act_q8) changes the numerics of q8_0/q4_0 matmuls only: true when it is
 * on and wt is one of those, i.e. when a result at wt must be told apart from an f32-activation one. */
bool tfb_cli_act_applies(const tfb_backend_opts *opts, tfb_dtype wt);
/* Why iface reports wt's matmuls unsupported under opts, for error and skip texts: " (--act q8:
 * <name> does not offer 8-bit activations)" when the act_q8 rule refuses them, else "" (a static
 * buffer, valid until the next call). */
const char *tfb_cli_act_refusal(const tfb_backend_opts *opts, const tfb_backend_i *iface, tfb_dtype wt);
/* s unchanged; when s is UNSUPPORTED and tfb_cli_act_refusal has a reason, it is appended to the
 * last error message (so `tfbench: opencl: matmul with q8_0 weights is not supported` says why). */
tfb_status tfb_cli_act_explain(tfb_status s, const tfb_backend_opts *opts, const tfb_backend_i *iface,
                               tfb_dtype wt);

/* Resolve a backend by name and init it; prints the error itself and returns the exit code (0 ok). */
int tfb_cli_backend_open(const char *name, const tfb_backend_opts *opts, tfb_backend **out);
int tfb_cmd_suite(int argc, char **argv);

/* Memory a command will hold, checked before anything is allocated: `copies` copies of c's weights
 * at wt (each named in `copies_what`, e.g. "host and backend"), plus `extra` bytes (caches, an f32
 * twin). Fails INPUT with "<model>: <dtype> weights need X GB (...), this machine has Y GB
 * available" when it does not fit. Available memory is MemAvailable, or TFBENCH_MEM_AVAILABLE
 * (bytes) when set (tests). */
tfb_status tfb_cli_check_fit(const tfb_config *c, tfb_dtype wt, int copies, const char *copies_what, size_t extra);
int tfb_cmd_matrix(int argc, char **argv);
/* `tfbench conform` (conform.c). */
int tfb_cmd_conform(int argc, char **argv);

/* Text (cli_text.c): tokenize / detokenize / embed, and for `run`: --prompt and --source encoded by
 * the model directory's tokenizer into *tokens / *src (replacing them; either text may be NULL), and
 * ids printed as text. Both return an exit code (0 ok) after printing any error. */
int tfb_cmd_tokenize(int argc, char **argv);
int tfb_cmd_detokenize(int argc, char **argv);
int tfb_cmd_embed(int argc, char **argv);
int tfb_cli_text_args(const char *model, const char *prompt, int32_t **tokens, int64_t *n_tokens, const char *source,
                      int32_t **src, int64_t *n_src);
int tfb_cli_text_print(const char *model, const int32_t *ids, int64_t n);

/* Monotonic wall clock in seconds. */
double tfb_now(void);
