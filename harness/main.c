/* tfbench: the command line. Subcommands live in harness/cmd_*.c and cli_*.c. */
#include <string.h>

#include "cli.h"
#include "env.h"

static void usage(FILE *f) {
    fprintf(f, "usage: tfbench [--backend NAME|all] [--model M[,M2]] [-o DIR] [--force] [--db URL]   the standard suite\n"
               "              [--quick|--full] [--progress] [--dry-run]   CI-sized / paper-sized; progress lines\n"
               "              when stderr is not a terminal; the plan without running it\n"
               "       tfbench list [--ops]               backends and devices, available or why not; with\n"
               "                                          --ops the op x backend coverage matrix\n"
               "       tfbench matrix CONFORM.json...     markdown conformance matrix of conform --json files\n"
               "       tfbench run --model M --backend B [--dtype D] --tokens 1,2,3 [--source-tokens ...]\n"
               "                   [--n-gen N] [--dump-logits F.npy] [--json] [--seed S] [--threads N]\n"
               "                   [--act f32|q8] [--op-profile]   (time per op kind on stderr)\n"
               "       tfbench run ... --prompt TEXT | --source TEXT   text through the model's tokenizer (a\n"
               "                   directory's tokenizer files or a GGUF file's tokenizer metadata)\n"
               "       tfbench tokenize --model DIR|FILE.gguf [--ids] TEXT   ids (and tokens) of the model's tokenizer\n"
               "       tfbench detokenize --model DIR|FILE.gguf 1,2,3       text of ids\n"
               "       tfbench embed --model DIR TEXT...            sentence-transformers embeddings (mean pooling)\n"
               "       tfbench bench --backend B[,B2|all] --model M[,M2] [--pp 128,512] [--tg 64] [--depth 0,512]\n"
               "                   [--dtype f32,q8_0] [--threads 1,2] [-r N] [-o F.json] [--csv F] [--kv-reuse] ...\n"
               "       tfbench conform --backend B|all --model M|all --dtype D|all [--json F] [--junit F]\n"
               "       tfbench gguf-info FILE.gguf            a GGUF file's metadata and tensor table\n"
               "       tfbench compare BASE NEW [--threshold 5] [--db URL [--machine H]]   files or database REFs\n"
               "       tfbench report RESULTS.json... -o DIR [--format png,svg,pdf] [--force]\n"
               "       tfbench report --db URL [--ref REF]... -o DIR ...   runs of the results database\n"
               "       tfbench import [--db URL] RESULTS.json...    results files into the results database\n"
               "       tfbench history [--db URL] [--machine H] [--backend B] [--model M] [--metric X] [--plot F.png]\n"
               "       tfbench regress [--db URL] --base REF --new REF [--threshold 5]   exit 1 on a regression\n"
               "  --db URL: a SQLite file or postgresql://...; default $TFBENCH_DB (bench, conform and the suite\n"
               "  append their runs to it)\n"
               "every subcommand that runs a backend also takes [--threads N] [--device D] [--isa X] and\n"
               "  [--act f32|q8]: q8 rounds the activations of q8_0/q4_0 matmuls to 8 bits first (llama.cpp's\n"
               "  integer dot products; the reference rounds the same way); default f32\n"
               "--model M: a preset, a Hugging Face directory, or a GGUF file (FILE.gguf: run in its stored\n"
               "  types whatever --dtype says; [--gguf-convert q8_0|f16] converts the types tfbench does not\n"
               "  run, Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K, at load instead of refusing them)\n"
               "presets:");
    for (int i = 0; i < tfb_preset_count(); i++)
        fprintf(f, " %s", tfb_preset_get(i)->name);
    fprintf(f, "\n");
}

int main(int argc, char **argv) {
    tfb_env_set_command_line(argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return tfb_cmd_list(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return tfb_cmd_run(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "conform") == 0)
        return tfb_cmd_conform(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return tfb_cmd_bench(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "compare") == 0)
        return tfb_cmd_compare(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return tfb_cmd_report(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "tokenize") == 0)
        return tfb_cmd_tokenize(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "detokenize") == 0)
        return tfb_cmd_detokenize(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "embed") == 0)
        return tfb_cmd_embed(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "gguf-info") == 0)
        return tfb_cmd_gguf_info(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return tfb_cmd_import(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "history") == 0)
        return tfb_cmd_history(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "regress") == 0)
        return tfb_cmd_regress(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "matrix") == 0)
        return tfb_cmd_matrix(argc - 1, argv + 1);
    if (argc >= 2 && argv[1][0] != '-')
        return tfb_cli_usage(argv[1], "unknown subcommand (tfbench --help lists them)");
    return tfb_cmd_suite(argc, argv);
}
