#!/usr/bin/env bash
# End to end through the CLI: `tfbench run` greedy tokens on oneDNN identical to the reference (f32),
# for a decoder, an encoder and an encoder-decoder; `tfbench list` names oneDNN's version, runtime
# and ISA; q8_0 weights are refused (unsupported), never converted.
set -u
tfb=$1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

same() { # same LABEL ARGS...: reference and onednn print the same tokens
  local label=$1; shift
  local r d
  r=$("$tfb" run --backend reference "$@") || fail "$label: reference run failed"
  d=$("$tfb" run --backend onednn --threads 2 "$@") || fail "$label: onednn run failed"
  [ -n "$r" ] && [ "$r" = "$d" ] || fail "$label: reference '$r' vs onednn '$d'"
  echo "$label: $d"
}
same gpt2-tiny --model gpt2-tiny --tokens 5,17,99,3,250,7,8 --n-gen 32
same gpt2-tiny-1tok --model gpt2-tiny --tokens 42 --n-gen 16 --seed 3
same bert-tiny --model bert-tiny --tokens 1,5,17,99,3,250,7,8,2
same marian-tiny --model marian-tiny --source-tokens 5,17,99,3,250,7,8,0 --n-gen 24

"$tfb" list | grep -A3 '^onednn  *available' | grep -q 'library: oneDNN [0-9.]* (cpu runtime [A-Z]*, isa [a-z0-9_]*)' ||
  fail "list does not show oneDNN's version, runtime and ISA"
if "$tfb" run --backend onednn --model gpt2-tiny --dtype q8_0 --tokens 1,2 --n-gen 2 >/dev/null 2>&1; then
  fail "q8_0 ran on onednn: it must be reported unsupported"
fi
[ $fails -eq 0 ] || exit 1
