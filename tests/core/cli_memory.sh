#!/usr/bin/env bash
# A configuration that cannot fit in memory says so before allocating anything, in one line naming
# the model, the dtype, what it needs and what the machine has: run and conform refuse (exit 2),
# bench skips it with that reason (or only the quantization effects, when the f32 twin is what does
# not fit). TFBENCH_MEM_AVAILABLE stands in for the machine's available memory. And Llama runs.
set -u
tfb=$1
. "$(dirname "$0")/../lib.sh"

# llama2-7b at f32 is 27 GB of weights: twice that never fits a 24 GiB machine, and is refused at once.
export TFBENCH_MEM_AVAILABLE=24e9
expect_error 2 "llama2-7b: f32 weights need 5[0-9]\.[0-9] GB (2 copies: host and backend, plus the KV cache), this machine has 24.0 GB available" -- run --model llama2-7b --tokens 1,2
# gpt2-124m at f32: ~0.5 GB of weights
export TFBENCH_MEM_AVAILABLE=0.5e9
expect_error 2 "gpt2-124m: f32 weights need .* this machine has 0.5 GB available" -- run --model gpt2-124m --tokens 1,2
"$tfb" conform --backend reference --model gpt2-124m --dtype f32 --model-level-only >"$tmp/c.out" 2>&1
[ $? -eq 1 ] || fail "conform on a model that does not fit did not fail"
grep -q "gpt2-124m: f32 weights need .* (3 copies" "$tmp/c.out" || fail "conform did not say why: $(tail -3 "$tmp/c.out")"
"$tfb" bench --backend reference --model gpt2-124m --dtype f32 --pp 8 --tg 2 -r 1 -o "$tmp/b.json" 2>"$tmp/b.err" >/dev/null ||
  fail "bench on a model that does not fit failed instead of skipping: $(cat "$tmp/b.err")"
grep -q '"reason":.*gpt2-124m: f32 weights need' "$tmp/b.json" || fail "bench results do not record the skip: $(cat "$tmp/b.json" | head -c 600)"
# q8_0 fits in 1 GB twice, its f32 twin for the quantization effects does not
export TFBENCH_MEM_AVAILABLE=1.0e9
"$tfb" bench --backend reference --model gpt2-tiny,gpt2-124m --dtype q8_0 --pp 8 --tg 2 -r 1 -o "$tmp/q.json" --force 2>"$tmp/q.err" >/dev/null ||
  fail "bench q8_0 failed: $(cat "$tmp/q.err")"
grep -q 'quantization effects not measured: gpt2-124m' "$tmp/q.json" || fail "bench did not record the skipped quantization effects"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; sys.exit(0 if any(x['model']=='gpt2-124m' and x['kind']=='tg' for x in r) and not any(x['model']=='gpt2-124m' and x['kind']=='quant' for x in r) else 1)" "$tmp/q.json" ||
  fail "bench q8_0 did not measure gpt2-124m's speed without its quantization effects"
unset TFBENCH_MEM_AVAILABLE

# Llama: the tiny preset generates on the reference, at every weight dtype.
for dt in f32 f16 q8_0 q4_0; do
  out=$("$tfb" run --model llama-tiny --dtype $dt --tokens 1,5,9 --n-gen 4) || fail "run llama-tiny --dtype $dt"
  [ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 4 ] || fail "llama-tiny $dt printed '$out'"
done
finish cli_memory
