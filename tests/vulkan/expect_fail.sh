#!/bin/sh
# expect_fail.sh RC [--only REGEX] PATTERN... -- CMD [ARG...]
# For tests of planted faults: runs CMD and passes only if it exits with status RC (so a crash, a
# timeout kill or a usage error does not count as catching the fault), its output (stdout and
# stderr) matches every extended regex PATTERN, and, with --only, every output line that starts
# with "FAIL" matches REGEX (the fault is caught by the check meant to catch it, not by others).
# expect_fail.sh --selftest checks that this script rejects a crash, a wrong status, a missing
# pattern and a stray failure.
set -u

if [ "${1:-}" = "--selftest" ]; then
  self=$0
  bad=0
  expect() { # expect WANT(0|1) ARGS...: run this script on ARGS and compare its verdict
    want=$1
    shift
    sh "$self" "$@" >/dev/null 2>&1
    got=$?
    if [ "$want" -eq 0 ] && [ $got -ne 0 ]; then
      echo "selftest: rejected: $*"
      bad=1
    elif [ "$want" -ne 0 ] && [ $got -eq 0 ]; then
      echo "selftest: accepted: $*"
      bad=1
    fi
  }
  expect 0 1 'FAIL matmul' -- sh -c 'echo "FAIL matmul f32"; exit 1'
  expect 1 1 'FAIL matmul' -- sh -c 'echo "FAIL matmul f32"; kill -SEGV $$'
  expect 1 1 'FAIL matmul' -- sh -c 'echo "FAIL matmul f32"; exit 2'
  expect 1 1 'FAIL matmul' -- sh -c 'echo "FAIL add"; exit 1'
  expect 1 1 'FAIL matmul' 'cases failed' -- sh -c 'echo "FAIL matmul f32"; exit 1'
  expect 1 1 'FAIL matmul' -- sh -c 'echo "FAIL matmul f32"; exit 0'
  expect 0 1 --only '^FAIL matmul ' 'FAIL' -- sh -c 'echo "FAIL matmul a"; echo "FAIL matmul b"; exit 1'
  expect 1 1 --only '^FAIL matmul ' 'FAIL' -- sh -c 'echo "FAIL matmul a"; echo "FAIL add b"; exit 1'
  expect 1 1 -- sh -c 'exit 1'
  [ $bad -eq 0 ] && echo "ok: expect_fail.sh selftest"
  exit $bad
fi

want_rc=$1
shift
only=""
if [ "${1:-}" = "--only" ]; then
  only=$2
  shift 2
fi
pats_file=$(mktemp)
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  printf '%s\n' "$1" >>"$pats_file"
  shift
done
if [ $# -eq 0 ] || [ ! -s "$pats_file" ]; then
  rm -f "$pats_file"
  echo "usage: expect_fail.sh RC [--only REGEX] PATTERN... -- CMD [ARG...]" >&2
  exit 2
fi
shift
out=$(mktemp)
"$@" >"$out" 2>&1
rc=$?
cat "$out"
fail=0
if [ $rc -ne "$want_rc" ]; then
  echo "expect_fail: exit status $rc, expected $want_rc"
  fail=1
fi
while IFS= read -r p; do
  if ! grep -Eq -- "$p" "$out"; then
    echo "expect_fail: no output line matches '$p'"
    fail=1
  fi
done <"$pats_file"
if [ -n "$only" ]; then
  stray=$(grep '^FAIL' "$out" | grep -Ev -- "$only" | head -3)
  if [ -n "$stray" ]; then
    echo "expect_fail: failures other than '$only':"
    echo "$stray"
    fail=1
  fi
fi
rm -f "$out" "$pats_file"
if [ $fail -eq 0 ]; then
  echo "ok: failed as expected (exit $rc)"
fi
exit $fail
