#!/usr/bin/env bash
# --act f32|q8 from the command line: parsed once for run, bench, conform and list (one-line usage
# errors), recorded where a result says what it is (run --json), changing exactly the q8_0/q4_0
# numerics on the reference and nothing else, and named in `tfbench list`.
set -u
tfb=$1
. "$(dirname "$0")/../lib.sh"

# A bad or missing value: exit 2, one line, the same text from every subcommand.
expect_error 2 "--act: expected f32 or q8, got 'x'" -- run --model gpt2-tiny --tokens 1 --act x
expect_error 2 "--act: expected f32 or q8, got 'int8'" -- bench --backend reference --model gpt2-tiny --act int8
expect_error 2 "--act: expected f32 or q8, got 'Q8'" -- conform --backend reference --act Q8
expect_error 2 "--act: expected f32 or q8, got ''" -- list --act=
expect_error 2 "--act: missing value" -- run --model gpt2-tiny --tokens 1 --act
"$tfb" list --act q8 >/dev/null || fail "list --act q8"

# run --json says "act": "q8" only where the activations were rounded (q8_0/q4_0 weights).
for dt in q8_0 q4_0; do
  js=$("$tfb" run --model gpt2-tiny --dtype $dt --tokens 1,2,3 --n-gen 3 --json --act q8) || fail "run $dt --act q8"
  echo "$js" | grep -q '"act":"q8"' || fail "run --dtype $dt --act q8 --json: no act in '$js'"
  js=$("$tfb" run --model gpt2-tiny --dtype $dt --tokens 1,2,3 --n-gen 3 --json --act f32) || fail "run $dt --act f32"
  echo "$js" | grep -q '"act"' && fail "run --dtype $dt --act f32 --json: act in '$js'"
done
js=$("$tfb" run --model gpt2-tiny --dtype f32 --tokens 1,2,3 --n-gen 3 --json --act=q8) || fail "run f32 --act=q8"
echo "$js" | grep -q '"act"' && fail "run --dtype f32 --act q8 --json: act on f32 weights in '$js'"

# The numerics: --act q8 moves the q4_0 logits (it is not silently f32) and leaves f32 weights bit
# for bit alone; f32 is the default.
dump() { "$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 3 --dump-logits "$tmp/$1.npy" "${@:2}" >/dev/null ||
  fail "run --dump-logits $*"; }
dump q4 --dtype q4_0
dump q4_f32 --dtype q4_0 --act f32
dump q4_q8 --dtype q4_0 --act q8
dump f32 --dtype f32
dump f32_q8 --dtype f32 --act q8
cmp -s "$tmp/q4.npy" "$tmp/q4_f32.npy" || fail "--act f32 is not the default"
cmp -s "$tmp/q4.npy" "$tmp/q4_q8.npy" && fail "--act q8 did not change the q4_0 logits"
cmp -s "$tmp/f32.npy" "$tmp/f32_q8.npy" || fail "--act q8 changed the logits of f32 weights"

# list says which backends offer it: the reference does; every backend says one or the other.
"$tfb" list >"$tmp/list" || fail "list"
grep -A8 '^reference ' "$tmp/list" | grep -q '^ *act: f32, q8$' || fail "list: the reference does not offer act q8"
n_avail=$(grep -c '^[^ ]* *available' "$tmp/list")
n_act=$(grep -c '^ *act: f32' "$tmp/list")
[ "$n_avail" -eq "$n_act" ] || fail "list: $n_avail available backends, $n_act act lines"

# A backend without 8-bit activations refuses the q8_0/q4_0 model and says why (exit 1: not run).
for b in onednn opencl vulkan; do
  grep -q "^$b  *available" "$tmp/list" || continue
  grep -A8 "^$b " "$tmp/list" | grep -q '^ *act: f32, q8$' && continue
  expect_error 1 "matmul with q4_0 weights is not supported (--act q8: $b does not offer 8-bit activations)" -- \
    run --model gpt2-tiny --backend $b --dtype q4_0 --tokens 1,2 --n-gen 2 --act q8
  "$tfb" run --model gpt2-tiny --backend $b --dtype f32 --tokens 1,2 --n-gen 2 --act q8 >/dev/null ||
    fail "$b: f32 weights with --act q8 should run"
done

finish cli_act
