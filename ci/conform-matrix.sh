#!/usr/bin/env bash
# The CI conformance matrix: every compiled backend (or --backend LIST) x model x dtype through
# `tfbench conform`, one JUnit XML and one JSON per backend, a markdown matrix, and an exit code
# CI can gate on: 0 all passed, 1 any failure, 2 bad usage, 3 a --require'd backend unavailable.
# Then q8_0/q4_0 once more with --act q8 for the backends that offer it (`tfbench list`: "act: f32, q8").
#
#   ci/conform-matrix.sh [--tfbench PATH] [--out DIR] [--backend B1,B2] [--model M|all]
#                        [--dtype D|all] [--require B1,B2] [--require-act B1,B2] [--dry-run]
# --dry-run prints the backends, then "act q8: B1,B2 (q8_0,q4_0)" when there is an --act q8 pass.
set -uo pipefail

tfb=./build/tfbench
out=conform-matrix
backends=""
model=all
dtype=all
require=""
require_act=""
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
    --require-act) require_act=${2:?}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
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

# The backends whose iface honours --act q8 (8-bit activations before q8_0/q4_0 matmuls): the
# "act: f32, q8" detail line under their row. The others would only report those cases unsupported.
act_offered=$(echo "$list" | tail -n +2 | awk '/^[^ ]/ { b = $1 } /^ +act: f32, q8$/ { print b }')
offers_act() { echo "$act_offered" | grep -qx "$1"; }
# --require-act: a backend that must take part in the --act q8 pass (available and offering it), so
# one that loses its int8 path fails the job instead of silently dropping out of the pass.
for b in ${require_act//,/ }; do
  st=$(status_of "$b")
  if [ "$st" != available ]; then
    echo "tfbench: conform-matrix: required backend '$b' is ${st:-not compiled in}" >&2
    exit 3
  fi
  if ! offers_act "$b"; then
    echo "tfbench: conform-matrix: required backend '$b' does not offer --act q8" >&2
    exit 3
  fi
done

[ -n "$backends" ] || backends=$(echo "$rows" | awk '{ print $1 }' | paste -sd, -)
# The --act q8 pass covers the chosen backends that offer it and, of the chosen dtypes, q8_0/q4_0
# (the only ones it changes).
act_backends=""
for b in ${backends//,/ }; do
  offers_act "$b" && act_backends=${act_backends:+$act_backends,}$b
done
act_dtype=""
for d in ${dtype//,/ }; do
  case $d in
    all) act_dtype=q8_0,q4_0 ;;
    q8_0|q4_0) act_dtype=${act_dtype:+$act_dtype,}$d ;;
  esac
done
if $dry_run; then
  echo "$backends"
  [ -n "$act_dtype" ] && [ -n "$act_backends" ] && echo "act q8: $act_backends ($act_dtype)"
  exit 0
fi
rc=0
jsons=()
# run_conform NAME BACKEND [conform args...]: one backend's pass into $out/NAME.{txt,json}, junit-NAME.xml
run_conform() {
  local name=$1 b=$2
  shift 2
  echo "== $name" >&2
  "$tfb" conform --backend "$b" --model "$model" "$@" \
    --json "$out/$name.json" --junit "$out/junit-$name.xml" --force >"$out/$name.txt"
  local r=$?
  case $r in
    0) ;;
    1) rc=1; echo "   $name: FAILED (see $out/$name.txt)" >&2 ;;
    3) echo "   $name: unavailable (not required): $(grep -m1 unavailable "$out/$name.txt" || true)" >&2 ;;
    *) echo "   $name: conform exited $r" >&2; [ $rc -eq 0 ] && rc=$r ;;
  esac
  [ -f "$out/$name.json" ] && jsons+=("$out/$name.json")
}
for b in ${backends//,/ }; do
  run_conform "$b" "$b" --dtype "$dtype"
done
if [ -n "$act_dtype" ]; then
  for b in ${act_backends//,/ }; do
    run_conform "$b-act-q8" "$b" --dtype "$act_dtype" --act q8
  done
fi

if [ ${#jsons[@]} -gt 0 ]; then
  "$tfb" matrix "${jsons[@]}" >"$out/matrix.md"
  cat "$out/matrix.md"
fi
exit $rc
