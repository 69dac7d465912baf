#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan+UBSan) and run each briefly on its seed corpus, so the
# fuzz build cannot rot and the parsers of untrusted files meet fresh inputs on every CI run.
# Long campaigns are run by hand (tests/fuzz/CMakeLists.txt says how).
# usage: ci/fuzz-smoke.sh [SECONDS per target, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
cmake --preset fuzz
cmake --build --preset fuzz -j "$(nproc)" --target fuzz_safetensors fuzz_hf_json fuzz_tokenizer_json fuzz_gguf fuzz_spm
seeds=build-fuzz/seeds
python3 tests/fuzz/make_seeds.py "$seeds"
run() { # target dict seed-dir...
    local target=$1 dict=$2 corpus=build-fuzz/corpus-$1 log=build-fuzz/$1.log rc=0
    shift 2
    mkdir -p "$corpus"
    echo "-- $target: ${secs}s"
    "build-fuzz/tests/fuzz/$target" -dict="tests/fuzz/$dict" -max_total_time="$secs" -print_final_stats=1 \
        "$corpus" "$@" >"$log" 2>&1 || rc=$? # non-zero on a crash, leak, timeout or sanitizer report
    grep -E "^stat::number_of_executed_units|ERROR|SUMMARY" "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log"
        echo "$target failed (exit $rc): reproduce with the crash-* file named above"
        return "$rc"
    fi
}
run fuzz_safetensors safetensors.dict "$seeds"
# tests/fuzz/regress: inputs that once failed (kept so they are tried first on every run).
run fuzz_hf_json hf_json.dict "$seeds/json" tests/fuzz/regress
run fuzz_tokenizer_json tokenizer_json.dict "$seeds/tokenizer" tests/fuzz/regress-tok
run fuzz_gguf gguf.dict "$seeds/gguf" tests/fuzz/regress-gguf
# tests/fuzz/regress-spm: a .model whose charsmap trie points past itself (refused before libsentencepiece).
run fuzz_spm spm.dict "$seeds/spm" tests/fuzz/regress-spm
