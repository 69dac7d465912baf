#!/usr/bin/env bash
# OpenCL CLI errors: a missing device is "unavailable" (exit 3) with exactly one stderr line
# `tfbench: opencl: ...`; device selection by index and by name substring works; `list` shows the
# device with its versions and the extensions that matter.
set -u
tfb=$1
err_prefix="opencl: "
. "$(dirname "$0")/../lib.sh"

expect_error 3 "no device matches --device '99'" -- run --model gpt2-tiny --backend opencl --device 99 --tokens 1,2
expect_error 3 "no device matches --device '0:7'" -- run --model gpt2-tiny --backend opencl --device 0:7 --tokens 1,2
expect_error 3 "no device matches --device 'no-such-gpu'" -- run --model gpt2-tiny --backend opencl --device no-such-gpu --tokens 1,2

"$tfb" list >"$tmp/out" || fail "list exited non-zero"
grep -q "^opencl  *available" "$tmp/out" || fail "list does not show opencl available: $(cat "$tmp/out")"
grep -q "fp16 \(yes\|no\), subgroups \(yes\|no\)" "$tmp/out" || fail "list does not show fp16/subgroups"

ref=$("$tfb" run --model gpt2-tiny --backend opencl --tokens 1,2,3 --n-gen 4) || fail "run on the default device"
name=$("$tfb" list | sed -n 's/^opencl  *available  *\(...\).*/\1/p')
[ -n "$name" ] || fail "no device name in list"
[ "$("$tfb" run --model gpt2-tiny --backend opencl --device 0:0 --tokens 1,2,3 --n-gen 4)" = "$ref" ] ||
  fail "--device 0:0 differs from the default device"
[ "$("$tfb" run --model gpt2-tiny --backend opencl --device "$name" --tokens 1,2,3 --n-gen 4)" = "$ref" ] ||
  fail "--device '$name' (name substring) does not select the device"
finish cli_errors
