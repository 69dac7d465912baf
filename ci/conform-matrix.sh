#!/usr/bin/env bash
# The CI conformance matrix: every compiled backend (or --backend LIST) x model x dtype through
# `tfbench conform`, one JUnit XML and one JSON per backend, a markdown matrix, and an exit code
# CI can gate on: 0 all passed, 1 any failure, 2 bad usage, 3 a --require'd backend unavailable.
#
#   ci/conform-matrix.sh [--tfbench PATH] [--out DIR] [--backend B1,B2] [--model M|all]
#                        [--dtype D|all] [--require B1,B2] [--dry-run]
set -uo pipefail

tfb=./build/tfbench
out=conform-matrix
backends=""
model=all
dtype=all
require=""
dry_run=false
die() { echo "tfbench: conform-matrix: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tfbench) tfb=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --backend) backends=${2:?}; shift 2 ;;
    --model) model=${2:?}; shift 2 ;;
    --dtype) dtype=${2:?}; shift 2 ;;
    --require) require=${2:?}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option '$1'" ;;
  esac
done
[ -x "$tfb" ] || die "$tfb: not an executable (build first, or pass --tfbench PATH)"
mkdir -p "$out" || die "$out: cannot create"

list=$("$tfb" list) || die "'$tfb list' failed"
# Backend rows start in column 0 ("name status ..."); indented rows are device details, and awk's
# field splitting drops leading blanks, so rows are told apart by their first character.
rows=$(echo "$list" | tail -n +2 | grep '^[^ ]')
status_of() { echo "$rows" | awk -v b="$1" '$1 == b { print $2 }'; }

# A required backend that is not compiled in or not available fails the job: a runner that lost
# its driver must not turn into a quietly skipped column.
for b in ${require//,/ }; do
  st=$(status_of "$b")
  if [ "$st" != available ]; then
    why=$(echo "$rows" | awk -v b="$b" '$1 == b { $1 = ""; $2 = ""; sub(/^ +/, ""); print }')
    echo "tfbench: conform-matrix: required backend '$b' is ${st:-not compiled in}${why:+: $why}" >&2
    exit 3
  fi
done

[ -n "$backends" ] || backends=$(echo "$rows" | awk '{ print $1 }' | paste -sd, -)
if $dry_run; then
  echo "$backends"
  exit 0
fi
rc=0
jsons=()
for b in ${backends//,/ }; do
  echo "== $b" >&2
  "$tfb" conform --backend "$b" --model "$model" --dtype "$dtype" \
    --json "$out/$b.json" --junit "$out/junit-$b.xml" --force >"$out/$b.txt"
  r=$?
  case $r in
    0) ;;
    1) rc=1; echo "   $b: FAILED (see $out/$b.txt)" >&2 ;;
    3) echo "   $b: unavailable (not required): $(grep -m1 unavailable "$out/$b.txt" || true)" >&2 ;;
    *) echo "   $b: conform exited $r" >&2; [ $rc -eq 0 ] && rc=$r ;;
  esac
  [ -f "$out/$b.json" ] && jsons+=("$out/$b.json")
done

if [ ${#jsons[@]} -gt 0 ]; then
  "$tfb" matrix "${jsons[@]}" >"$out/matrix.md"
  cat "$out/matrix.md"
fi
exit $rc
