#!/usr/bin/env bash
# tfbench run / list: outputs, --dump-logits shape, exit codes and one-line errors.
set -u
tfb=$1
. "$(dirname "$0")/../lib.sh"

out=$("$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 5) || fail "run gpt2-tiny"
[ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 5 ] || fail "run printed '$out', expected 5 tokens"
[ "$("$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 5)" = "$out" ] || fail "run is not deterministic"
[ "$("$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 5 --seed 9)" != "$out" ] || fail "seed changes nothing"
js=$("$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 5 --json) || fail "run --json"
echo "$js" | grep -q '"tokens":\[' || fail "run --json: no tokens in '$js'"
# its own timing, split as bench splits it: 4 single-token decode steps after the first token
echo "$js" | grep -q '"decode_steps":4,' || fail "run --json: decode_steps is not 4 in '$js'"
for f in first_token_s prefill_tokens_per_s decode_s decode_tokens_per_s; do
  echo "$js" | grep -q "\"$f\":[0-9]" || fail "run --json: no $f in '$js'"
done
out=$("$tfb" run --model bert-tiny --tokens 1,2,3,4) || fail "run bert-tiny"
[ "$(echo "$out" | tr ',' '\n' | wc -l)" -eq 4 ] || fail "bert-tiny printed '$out', expected 4 argmaxes"
"$tfb" run --model marian-tiny --source-tokens 4,5,6 --n-gen 3 >/dev/null || fail "run marian-tiny"
for dt in f16 bf16 q8_0 q4_0; do
  "$tfb" run --model gpt2-tiny --dtype $dt --tokens 1,2 --n-gen 2 >/dev/null || fail "run --dtype $dt"
done

# --dump-logits: NumPy header and size: gpt2 rows = prompt + n_gen - 1 = 3 + 4 - 1
"$tfb" run --model gpt2-tiny --tokens 1,2,3 --n-gen 4 --dump-logits "$tmp/l.npy" >/dev/null || fail "dump"
head -c 6 "$tmp/l.npy" | od -c | head -1 | grep -q 'N   U   M   P   Y' || fail "dump is not .npy"
grep -aq "'shape': (6, 512)" "$tmp/l.npy" || fail "dump shape is not (6, 512)"
[ "$(stat -c %s "$tmp/l.npy")" -eq $((128 + 6 * 512 * 4)) ] || fail "dump size $(stat -c %s "$tmp/l.npy")"
"$tfb" run --model marian-tiny --source-tokens 4,5 --n-gen 3 --dump-logits "$tmp/m.npy" >/dev/null || fail "dump marian"
grep -aq "'shape': ([1-3], 512)" "$tmp/m.npy" || fail "marian dump shape"
"$tfb" run --model bert-tiny --tokens 4,5,6,7,8 --dump-logits "$tmp/b.npy" >/dev/null || fail "dump bert"
grep -aq "'shape': (5, 512)" "$tmp/b.npy" || fail "bert dump shape"

# errors: one line, exit 2 (usage/input), 3 (unavailable), never a partial file
expect_error 2 "exists" -- run --model gpt2-tiny --tokens 1 --n-gen 1 --dump-logits "$tmp/l.npy"
expect_error 2 "unknown weight dtype" -- run --model gpt2-tiny --dtype q3_k --tokens 1
expect_error 2 "comma-separated" -- run --model gpt2-tiny --tokens 1,x,3
expect_error 2 "missing value" -- run --model gpt2-tiny --tokens
expect_error 2 "neither a preset, a directory nor a GGUF file" -- run --model nosuch --tokens 1
expect_error 2 "outside the vocabulary" -- run --model gpt2-tiny --tokens 1,99999
expect_error 2 "exceed the context" -- run --model gpt2-tiny --tokens 1 --n-gen 500
expect_error 2 "unknown or not compiled in" -- run --model gpt2-tiny --backend nosuch --tokens 1
expect_error 2 "unknown option" -- run --model gpt2-tiny --tokens 1 --bogus
expect_error 2 "needs --source-tokens" -- run --model marian-tiny --tokens 1
expect_error 2 "unknown subcommand" -- frobnicate
expect_error 2 "cannot write" -- run --model gpt2-tiny --tokens 1 --n-gen 1 --dump-logits /nonexistent/dir/x.npy
expect_error 2 "backend reference cannot time its ops" -- run --model gpt2-tiny --tokens 1 --op-profile
ls "$tmp" | grep -q tmp && fail "a temporary file was left behind: $(ls "$tmp")"

# --op-profile: seconds per op kind on stderr, the ids on stdout as without it
"$tfb" run --model llama-tiny --backend simd --tokens 1,2,3 --n-gen 2 --op-profile >"$tmp/p.out" 2>"$tmp/p.err" ||
    fail "op profile: $(cat "$tmp/p.err")"
"$tfb" run --model llama-tiny --backend simd --tokens 1,2,3 --n-gen 2 >"$tmp/np.out" 2>/dev/null || fail "run"
cmp -s "$tmp/p.out" "$tmp/np.out" || fail "op profile changed stdout"
grep -q '^op profile (simd, whole run): ' "$tmp/p.err" || fail "op profile header: $(cat "$tmp/p.err")"
for op in matmul attention rmsnorm rope; do
    grep -Eq "^  $op +[0-9.]+ ms +[0-9.]+%$" "$tmp/p.err" || fail "op profile lacks $op: $(cat "$tmp/p.err")"
done
# oneDNN times its nodes too (a matmul with its fused activation counts as matmul)
"$tfb" run --model gpt2-tiny --backend onednn --tokens 1,2,3 --n-gen 2 --op-profile >/dev/null 2>"$tmp/d.err" ||
    fail "onednn op profile: $(cat "$tmp/d.err")"
grep -Eq "^  matmul +[0-9.]+ ms" "$tmp/d.err" || fail "onednn op profile lacks matmul: $(cat "$tmp/d.err")"

finish cli_run
