#!/bin/sh
# bench --act q8 on the reference: q8_0/q4_0 rows carry "act": "q8" and f32 rows do not (the
# validator checks both ways against environment.act), the tables and the report show q4_0/a8, the
# quantization table keeps its f32 baseline row, CSV has the act column, and compare never pairs an
# act row with a plain one.
# usage: bench_act.sh TFBENCH VALIDATOR WORKDIR
set -eu
cli=$1 validator=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
"$cli" bench --backend reference --model gpt2-tiny,bert-tiny --pp 8 --tg 2 -r 2 --dtype f32,q8_0,q4_0 --act q8 \
    -o "$dir/act.json" --csv "$dir/act.csv" >"$dir/stdout" 2>"$dir/stderr"
python3 "$validator" "$dir/act.json" --expect-kinds pp,encode,tg,quant
python3 - "$dir/act.json" <<'PY' || fail "act fields"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["environment"]["act"] == "q8", d["environment"].get("act")
rows = d["results"]
acts = {(r["dtype"], r.get("act")) for r in rows}
assert acts == {("f32", None), ("q8_0", "q8"), ("q4_0", "q8")}, acts
assert not d["skipped"], d["skipped"]
PY
grep -q '^| reference | gpt2-tiny | q4_0/a8 | default | pp8 | tokens_per_s |' "$dir/stdout" || fail "no q4_0/a8 row in the table"
grep -q '^| reference | bert-tiny | q8_0/a8 | default | pp8 | tokens_per_s |' "$dir/stdout" || fail "no q8_0/a8 encode row"
grep -q '^| reference | gpt2-tiny | q4_0 |' "$dir/stdout" && fail "a q4_0 row without /a8"
# The speed/accuracy table: every configuration, f32 included with - for its accuracy figures.
grep -Eq '^\| reference \| gpt2-tiny \| f32 \| default \| [0-9.e+]+ \| [0-9.e+]+ \| - \| - \| - \|$' "$dir/stdout" ||
    fail "no f32 baseline row in the quantization table"
grep -Eq '^\| reference \| bert-tiny \| f32 \| default \| [0-9.e+]+ \| - \| - \| - \| - \|$' "$dir/stdout" ||
    fail "no f32 bert-tiny row in the quantization table"
grep -Eq '^\| reference \| gpt2-tiny \| q4_0/a8 \| default \| [0-9.e+]+ \| [0-9.e+]+ \| [0-9.e+-]+ \| [0-9.e+-]+ \| [0-9.e+-]+ \|$' \
    "$dir/stdout" || fail "no q4_0/a8 row with figures in the quantization table"
[ ! -s "$dir/stderr" ] || { cat "$dir/stderr"; fail "unexpected stderr"; }
head -1 "$dir/act.csv" | grep -q '^backend,model,dtype,act,threads,' || fail "csv header has no act column"
grep -q '^reference,gpt2-tiny,q4_0,q8,' "$dir/act.csv" || fail "no q4_0 csv line with act q8"
grep -q '^reference,gpt2-tiny,f32,,' "$dir/act.csv" || fail "no f32 csv line with an empty act"

# The report labels them as the tables do (gnuplot left out: report.md is written all the same).
set +e
TFBENCH_GNUPLOT=/nonexistent/gnuplot "$cli" report "$dir/act.json" -o "$dir/report" >/dev/null 2>&1
set -e
grep -q 'q4_0/a8' "$dir/report/report.md" || fail "report.md does not show q4_0/a8"

# compare: the same rows without act (a plain q4_0 run, as far as the file says) pair only on f32.
python3 - "$dir/act.json" "$dir/plain.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["environment"]["act"] = "f32"
for r in d["results"]:
    r.pop("act", None)
json.dump(d, open(sys.argv[2], "w"))
PY
python3 "$validator" "$dir/plain.json"
n_all=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["results"]))' "$dir/act.json")
n_f32=$(python3 -c 'import json,sys; print(sum(r["dtype"] == "f32" for r in json.load(open(sys.argv[1]))["results"]))' "$dir/act.json")
"$cli" compare "$dir/plain.json" "$dir/act.json" >"$dir/cmp" || fail "compare plain act"
grep -q "^$n_f32 rows matched ($n_all in base, $n_all in new)" "$dir/cmp" || { cat "$dir/cmp"; fail "act rows paired with plain ones"; }
grep -Eq '\| q[48]_0(/a8)? \|' "$dir/cmp" && fail "a quantized row was compared across act"
"$cli" compare "$dir/act.json" "$dir/act.json" >"$dir/cmp2" || fail "compare act act"
grep -q "^$n_all rows matched" "$dir/cmp2" || { cat "$dir/cmp2"; fail "act rows do not pair with themselves"; }
grep -q '| reference | gpt2-tiny | q4_0/a8 | default | pp8 | tokens_per_s |' "$dir/cmp2" || fail "compare does not show q4_0/a8"
# An act value the schema does not know is refused, not read as f32.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [r.update(act="q4") for r in d["results"] if "act" in r]
json.dump(d, open(sys.argv[2], "w"))' "$dir/act.json" "$dir/bad.json"
set +e
"$cli" compare "$dir/plain.json" "$dir/bad.json" >/dev/null 2>"$dir/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "compare of an unknown act exited $rc, expected 2"
grep -q '^tfbench: compare: .*"act" must be "q8"' "$dir/bad.err" || fail "compare error: $(cat "$dir/bad.err")"
echo ok
