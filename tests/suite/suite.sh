#!/usr/bin/env bash
# The standard suite and the CI conformance matrix, end to end on tiny models.
#   suite.sh TFBENCH WORKDIR CASE
set -u
tfb=$1 work=$2 case=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

case "$case" in
suite)
  # the suite on the reference only, tiny model: conformance matrix + headline figures + report
  "$tfb" --backend reference --model gpt2-tiny -r 2 -o "$work/out" >"$work/stdout" 2>"$work/stderr"
  rc=$?
  [ $rc -eq 0 ] || fail "suite exited $rc: $(cat "$work/stderr")"
  grep -q "^| reference | gpt2-tiny | pass | pass | pass | pass | pass |" "$work/stdout" || fail "no passing matrix row"
  grep -q "^| reference | gpt2-tiny | f32 | pp64 | tokens_per_s |" "$work/stdout" || fail "no headline prefill row"
  for f in conform.json junit.xml results.json summary.md report/report.md; do
    [ -s "$work/out/$f" ] || fail "missing $f"
  done
  ls "$work/out/report/"*.png >/dev/null 2>&1 || fail "the report has no figures"
  ls "$work/out/report/"*.svg "$work/out/report/"*.pdf >/dev/null 2>&1 || fail "no SVG/PDF beside the PNGs"
  # every family a decoder-only model has, in one merged results file that the schema accepts
  python3 "$root/tests/bench/validate_results.py" "$work/out/results.json" \
    --expect-kinds load,memory,pp,e2e,tg,kv,prefix,quant,scale_pp,scale_tg || fail "results.json"
  grep -Eq "^\| reference \| gpt2-tiny \| f32 \| kv tg[0-9]+@d64 \| speedup \|" "$work/stdout" || fail "no kv headline row"
  grep -q "^| reference | gpt2-tiny | q4_0/a8 | quant teacher64 | kl_mean |" "$work/stdout" || fail "no act q8 row"
  # stderr is no terminal and --progress was not given: no progress lines
  grep -Eq '^\[(bench|conform) ' "$work/stderr" && fail "progress lines without a terminal or --progress"
  # a second run into the same directory needs --force; nothing is overwritten before that check
  before=$(stat -c %Y "$work/out/summary.md")
  "$tfb" --backend reference --model gpt2-tiny -o "$work/out" 2>"$work/err2"
  [ $? -eq 2 ] || fail "rerun without --force did not exit 2"
  grep -q "^tfbench: -o: .*--force" "$work/err2" || fail "rerun error: $(cat "$work/err2")"
  [ "$(stat -c %Y "$work/out/summary.md")" = "$before" ] || fail "summary.md was touched"
  ;;
quick)
  # --quick: every family on every tiny model (one per family), with a progress line per step
  "$tfb" --quick --backend reference -o "$work/out" --progress >"$work/stdout" 2>"$work/stderr"
  rc=$?
  [ $rc -eq 0 ] || fail "suite --quick exited $rc: $(grep -v '^\[' "$work/stderr")"
  python3 "$root/tests/bench/validate_results.py" "$work/out/results.json" \
    --expect-kinds load,memory,pp,encode,e2e,tg,kv,xattn,prefix,quant,scale_pp,scale_tg || fail "results.json"
  for m in gpt2-tiny bert-tiny marian-tiny llama-tiny t5-tiny; do
    grep -q "^| reference | $m | f32 | " "$work/stdout" || fail "no headline rows for $m"
  done
  grep -q "^| reference | t5-tiny | f32 | xattn tg2@d0 | speedup |" "$work/stdout" || fail "no xattn row for t5-tiny"
  total=$(sed -n 's/^\[bench 1\/\([0-9]*\)\].*/\1/p' "$work/stderr")
  [ -n "$total" ] && [ "$(grep -c '^\[bench [0-9]*/'"$total"'\] reference ' "$work/stderr")" -eq "$total" ] ||
    fail "progress lines do not count to $total"
  grep -Eq "^\\[bench $total/$total\\] .* elapsed [0-9:]+, eta [0-9:]+\$" "$work/stderr" || fail "last progress line: $(grep '^\[bench' "$work/stderr" | tail -1)"
  grep -q '^\[suite 1/[0-9]*\] reference gpt2-tiny f32: every family' "$work/stderr" || fail "no suite step lines"
  # conformance counts its steps too: every dtype's op cases, then every model x dtype (5 + 5 x 5)
  [ "$(grep -c '^\[conform [0-9]*/30\] reference ' "$work/stderr")" -eq 30 ] ||
    fail "conform progress lines: $(grep '^\[conform' "$work/stderr" | head -3)"
  grep -q '^\[conform 1/30\] reference op cases f32 \.\.\. elapsed ' "$work/stderr" || fail "first conform line"
  grep -Eq '^\[conform 30/30\] reference t5-tiny q4_0 \.\.\. elapsed [0-9:]+, eta [0-9:]+$' "$work/stderr" || fail "last conform line"
  ;;
errors)
  "$tfb" --backend nosuch 2>"$work/e"; [ $? -eq 2 ] || fail "unknown backend not exit 2"
  grep -q "^tfbench: --backend: unknown" "$work/e" || fail "unknown backend message: $(cat "$work/e")"
  "$tfb" --model nosuch 2>"$work/e"; [ $? -eq 2 ] || fail "unknown model not exit 2"
  "$tfb" -r 0 2>"$work/e"; [ $? -eq 2 ] || fail "-r 0 not exit 2"
  "$tfb" --bogus 2>"$work/e"; [ $? -eq 2 ] || fail "unknown option not exit 2"
  # a model whose context cannot hold an explicit size is refused before anything runs
  "$tfb" --model nosuch,gpt2-tiny -o "$work/o" 2>"$work/e"; [ $? -eq 2 ] || fail "unknown model in a list not exit 2"
  ;;
matrix-fault)
  # one backend made to fail: FAIL in the matrix, failing JUnit testcases, exit 1
  TFB_FAULT=scale "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" \
    --backend fault,reference --model gpt2-tiny --dtype f32 >"$work/stdout" 2>"$work/stderr"
  rc=$?
  [ $rc -eq 1 ] || fail "matrix with a faulty backend exited $rc, expected 1"
  grep -q "^| fault | gpt2-tiny | FAIL |" "$work/stdout" || fail "matrix does not show FAIL for the fault backend"
  grep -q "^| reference | gpt2-tiny | pass |" "$work/stdout" || fail "matrix does not show the reference passing"
  grep -q "<failure" "$work/m/junit-fault.xml" || fail "no failing JUnit testcase"
  grep -q "<failure" "$work/m/junit-reference.xml" && fail "the reference has a failing testcase"
  python3 -c "import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]" "$work/m"/junit-*.xml \
    || fail "JUnit XML is not well formed"
  ;;
matrix-default)
  # without --backend: exactly the backends `tfbench list` shows (not its indented detail lines)
  want=$("$tfb" list | tail -n +2 | grep -c '^[^ ]')
  "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" --dry-run >"$work/dry"
  got=$(head -1 "$work/dry")
  [ "$(echo "$got" | tr ',' '\n' | wc -l)" -eq "$want" ] || fail "default backends '$got', expected $want"
  echo "$got" | grep -q '^reference' || fail "default backends '$got' do not start with the reference"
  echo "$got" | grep -q ':' && fail "a detail line was taken for a backend: '$got'"
  # then the --act q8 pass: q8_0/q4_0 on the backends whose list entry says "act: f32, q8"
  act_want=$("$tfb" list | tail -n +2 | awk '/^[^ ]/ { b = $1 } /^ +act: f32, q8$/ { print b }' | paste -sd, -)
  [ "$(sed -n 2p "$work/dry")" = "act q8: $act_want (q8_0,q4_0)" ] || fail "act pass '$(sed -n 2p "$work/dry")'"
  echo "$act_want" | grep -q '^reference' || fail "the reference is not in the act pass: '$act_want'"
  [ "$(wc -l <"$work/dry")" -eq 2 ] || fail "dry run printed $(wc -l <"$work/dry") lines"
  # no act pass where the dtypes leave nothing for it
  "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" --dtype f32,bf16 --dry-run >"$work/dry2"
  [ "$(wc -l <"$work/dry2")" -eq 1 ] || fail "an act pass for f32,bf16: $(cat "$work/dry2")"
  "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" --dtype f32,q4_0 --dry-run >"$work/dry3"
  [ "$(sed -n 2p "$work/dry3")" = "act q8: $act_want (q4_0)" ] || fail "act pass for f32,q4_0: $(cat "$work/dry3")"
  ;;
matrix-act)
  # the --act q8 pass end to end: its own JSON/JUnit, its own matrix rows, and --require-act
  "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" --backend reference --model gpt2-tiny \
    --require-act reference >"$work/stdout" 2>"$work/stderr"
  rc=$?
  [ $rc -eq 0 ] || fail "matrix with the act pass exited $rc: $(cat "$work/stderr")"
  grep -q "^| reference | gpt2-tiny | pass | pass | pass | pass | pass |" "$work/stdout" || fail "no f32 run row"
  grep -q "^| reference (act q8) | gpt2-tiny | - | - | - | pass | pass |" "$work/stdout" || fail "no act q8 row"
  grep -q 'testsuite name="reference (act q8)"' "$work/m/junit-reference-act-q8.xml" || fail "act JUnit suite name"
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["args"]["act"] == "q8"' \
    "$work/m/reference-act-q8.json" || fail "act JSON args"
  # a required backend that does not offer --act q8 exits 3 before anything runs
  for b in onednn opencl vulkan; do
    "$tfb" list | grep -A8 "^$b  *available" | grep -q '^ *act: f32 only' || continue
    "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m3" --require-act "$b" 2>"$work/e"
    rc=$?
    [ $rc -eq 3 ] || fail "--require-act $b exited $rc, expected 3"
    grep -q "required backend '$b' does not offer --act q8" "$work/e" || fail "message: $(cat "$work/e")"
    [ -e "$work/m3/matrix.md" ] && fail "a matrix was written although --require-act failed"
    break
  done
  ;;
matrix-require)
  # a required backend that is missing exits 3, before running anything
  "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m" --require reference,nosuch 2>"$work/e"
  rc=$?
  [ $rc -eq 3 ] || fail "missing required backend exited $rc, expected 3"
  grep -q "required backend 'nosuch' is not compiled in" "$work/e" || fail "message: $(cat "$work/e")"
  [ -e "$work/m/matrix.md" ] && fail "a matrix was written although the requirement failed"
  # compiled in but without its driver: also 3 (only where the Vulkan backend is built)
  if "$tfb" list | grep -q "^vulkan "; then
    VK_ICD_FILENAMES=/nonexistent.json VK_DRIVER_FILES=/nonexistent.json \
      "$root/ci/conform-matrix.sh" --tfbench "$tfb" --out "$work/m2" --require vulkan 2>"$work/e"
    rc=$?
    [ $rc -eq 3 ] || fail "vulkan without a driver exited $rc, expected 3"
  fi
  ;;
esac
echo "suite.sh $case: $fails failure(s)"
[ $fails -eq 0 ]
