/* `tfbench list`: every backend compiled in, available or why not, with device and versions, and
 * which activation numerics it offers (--act). */
#include <string.h>

#include "cli.h"

int tfb_cmd_list(int argc, char **argv) {
    tfb_backend_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        int r = tfb_cli_backend_opt(argc, argv, &i, &opts);
        if (r >= 100)
            return r - 100;
        if (r == 0)
            return tfb_cli_usage("list", "unknown option '%s'", argv[i]);
    }
    printf("%-10s %-11s %s\n", "backend", "status", "device / reason");
    for (int i = 0; i < tfb_backend_count(); i++) {
        const tfb_backend_i *iface = tfb_backend_get(i);
        char why[256] = "";
        if (!iface->probe(why, sizeof why)) {
            printf("%-10s %-11s %s\n", iface->name, "unavailable", why);
            continue;
        }
        tfb_backend *b;
        tfb_status s = tfb_backend_init(iface, &opts, &b);
        if (s != TFB_STATUS_OK) {
            printf("%-10s %-11s %s\n", iface->name, "unavailable", tfb_error_last());
            continue;
        }
        tfb_device_info info;
        tfb_backend_device_info(b, &info);
        printf("%-10s %-11s %s\n", iface->name, "available", info.device);
        if (info.driver[0])
            printf("%-22s driver: %s\n", "", info.driver);
        if (info.api[0])
            printf("%-22s api: %s\n", "", info.api);
        if (info.library[0])
            printf("%-22s library: %s\n", "", info.library);
        if (info.extra[0])
            printf("%-22s %s\n", "", info.extra);
        if (info.mem_total >= 0)
            printf("%-22s memory: %.1f GiB\n", "", (double)info.mem_total / (1 << 30));
        /* ci/conform-matrix.sh reads this line to pick the backends for its --act q8 pass. */
        if (iface->act_q8)
            printf("%-22s act: f32, q8\n", "");
        else
            printf("%-22s act: f32 only (with --act q8 its q8_0/q4_0 matmuls are unsupported)\n", "");
        tfb_backend_free(b);
    }
    return 0;
}
