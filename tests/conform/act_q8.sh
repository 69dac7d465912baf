#!/bin/sh
# A backend that offers --act q8 against the reference rounding the same way: every q8_0/q4_0 case
# (op level, model level, quantization effects) on the tiny models must run and pass; an
# "unsupported" here would mean the 8-bit path silently went missing.
# Exits 77 (skipped) when BACKEND is not compiled in or cannot run here.
#   act_q8.sh TFBENCH BACKEND WORKDIR [extra conform args...]
set -u
tfbench=$1 b=$2 dir=$3
shift 3
rm -rf "$dir" && mkdir -p "$dir"
"$tfbench" list >"$dir/list"
grep -q "^$b  *available" "$dir/list" || { echo "$b is not compiled in or unavailable: skipped"; exit 77; }
grep -A8 "^$b " "$dir/list" | grep -q '^ *act: f32, q8$' || { echo "$b does not offer --act q8"; exit 1; }
"$tfbench" conform --backend "$b" --model all --dtype q8_0,q4_0 --act q8 --json "$dir/conform.json" \
    --junit "$dir/conform.xml" "$@" >"$dir/out.txt" 2>"$dir/err.txt"
rc=$?
tail -1 "$dir/out.txt"
status=0
[ $rc = 0 ] || { echo "conform exited $rc"; sed -n '/^failed:/,$p' "$dir/out.txt"; cat "$dir/err.txt"; status=1; }
python3 - "$dir/conform.json" <<'PY' || status=1
import json, sys
res = json.load(open(sys.argv[1]))
rs = res["results"]
assert res["args"]["act"] == "q8", res["args"]
assert {r["kind"] for r in rs} == {"op", "model", "quant"}, {r["kind"] for r in rs}
bad = [(r["case"], r["dtype"], r["verdict"]) for r in rs if r["verdict"] not in ("pass", "near-tie")]
assert not bad, bad
assert all(r.get("act") == "q8" for r in rs)
PY
exit $status
