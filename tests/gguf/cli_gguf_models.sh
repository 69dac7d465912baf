#!/bin/sh
# usage: cli_gguf_models.sh TEST_GGUF_MODELS TFBENCH GGUF_FIXTURES HF_FIXTURES SCRATCH
# `tfbench run --model FILE.gguf` on the GGUF model fixtures: a good file generates (exit 0) the
# tokens its Hugging Face twin generates, conform runs a mixed q4_0/q8_0 file once, labelled
# "mixed", --gguf-convert converts a type the default refuses; each malformed mapping (written by TEST_GGUF_MODELS into
# SCRATCH) exits 2 with exactly one stderr line "tfbench: FILE: ...".
set -u
gen=$1 cli=$2 fx=$3 hf=$4 dir=$5
mkdir -p "$dir"
"$gen" "$fx" "$hf" "$dir" >/dev/null || { echo "FAIL: $gen"; exit 1; }
fail=0
want=$("$cli" run --model "$hf/llama_gqa" --tokens 1,17,42,3,88 --n-gen 8 2>&1)
got=$("$cli" run --model "$fx/llama_gqa.f32.gguf" --tokens 1,17,42,3,88 --n-gen 8 2>&1)
echo "safetensors: $want"
echo "gguf:        $got"
[ -n "$want" ] && [ "$want" = "$got" ] || { echo "FAIL: llama_gqa.f32.gguf generates unlike its safetensors twin"; fail=1; }
# conform takes a GGUF file once, in its stored types, labelled by them.
rm -f "$dir/conform.json"
"$cli" conform --backend reference --model "$fx/llama_gqa.q4_0.gguf" --dtype all --model-level-only --quiet \
    --json "$dir/conform.json" >/dev/null 2>&1 || { echo "FAIL: conform on llama_gqa.q4_0.gguf"; fail=1; }
n=$(grep -c '"dtype":[[:space:]]*"mixed"' "$dir/conform.json" 2>/dev/null)
other=$(grep '"dtype":' "$dir/conform.json" 2>/dev/null | grep -vc 'mixed\|"all"')
echo "conform: $n results labelled mixed, $other otherwise"
[ "${n:-0}" -ge 2 ] && [ "${other:-1}" -eq 0 ] || { echo "FAIL: conform labels"; fail=1; }
# --gguf-convert q8_0 loads the Q5_0 matrix the default refuses, and says so in the label.
out=$("$cli" run --model "$dir/unsupported-type.gguf" --gguf-convert q8_0 --tokens 1,2 --n-gen 2 --json 2>&1)
echo "--gguf-convert q8_0: $out"
case "$out" in
    *'"dtype":"mixed (f32 14, q8_0 1); 1 converted"'*) ;;
    *) echo "FAIL: --gguf-convert q8_0 on unsupported-type.gguf"; fail=1 ;;
esac
for f in "$dir"/unknown-arch.gguf "$dir"/missing-tensor.gguf "$dir"/rope-scaling.gguf "$dir"/unsupported-type.gguf \
         "$fx"/gpt2.f32.gguf; do
    "$cli" run --model "$f" --tokens 1,2 --n-gen 2 >/dev/null 2>"$dir/stderr"
    rc=$?
    echo "$(basename "$f"): exit $rc: $(cat "$dir/stderr")"
    [ $rc -eq 2 ] || { echo "FAIL: expected exit 2"; fail=1; }
    [ "$(wc -l <"$dir/stderr")" -eq 1 ] || { echo "FAIL: expected exactly one line on stderr"; fail=1; }
    case "$(cat "$dir/stderr")" in
        "tfbench: $f: "*) ;;
        *) echo "FAIL: stderr is not 'tfbench: $f: ...'"; fail=1 ;;
    esac
done
exit $fail
