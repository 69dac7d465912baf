#!/bin/sh
# A backend without 8-bit activations under --act q8: conform reports its q8_0/q4_0 cases
# unsupported (never pass, never FAIL: it must not run them with f32 activations and call that q8),
# saying why, while f32 still runs; bench skips those dtypes with the reason and measures f32.
# Exits 77 (skipped) when BACKEND is not compiled in, cannot run here, or offers --act q8.
#   act_unsupported.sh TFBENCH VALIDATOR BACKEND WORKDIR
set -u
tfbench=$1 validator=$2 b=$3 dir=$4
rm -rf "$dir" && mkdir -p "$dir"
"$tfbench" list >"$dir/list"
grep -q "^$b  *available" "$dir/list" || { echo "$b is not compiled in or unavailable: skipped"; exit 77; }
if grep -A8 "^$b " "$dir/list" | grep -q '^ *act: f32, q8$'; then
    echo "$b offers --act q8: skipped"
    exit 77
fi
status=0
"$tfbench" conform --backend "$b" --model gpt2-tiny --dtype f32,q8_0,q4_0 --op matmul --act q8 \
    --json "$dir/conform.json" --junit "$dir/conform.xml" >"$dir/out.txt" 2>"$dir/err.txt"
rc=$?
[ $rc = 0 ] || { echo "conform exited $rc, expected 0"; status=1; }
python3 - "$dir/conform.json" "$dir/conform.xml" "$b" <<'PY' || status=1
import json, sys, xml.dom.minidom
res, b = json.load(open(sys.argv[1])), sys.argv[3]
assert res["args"]["act"] == "q8", res["args"]
quant = [r for r in res["results"] if r["dtype"] in ("q8_0", "q4_0")]
plain = [r for r in res["results"] if r["dtype"] == "f32"]
assert quant and plain, (len(quant), len(plain))
for r in quant:
    assert r.get("act") == "q8", r
    assert r["verdict"] == "unsupported", (r["case"], r["dtype"], r["verdict"], r["detail"])
    assert "does not offer 8-bit activations" in r["detail"] or "act_q8" in r["detail"], r["detail"]
assert {r["kind"] for r in quant} == {"op", "model"}, {r["kind"] for r in quant}
for r in plain:
    assert "act" not in r and r["verdict"] == "pass", (r["case"], r["verdict"])
doc = xml.dom.minidom.parse(sys.argv[2])
suites = doc.getElementsByTagName("testsuite")
assert [s.getAttribute("name") for s in suites] == [b + " (act q8)"], [s.getAttribute("name") for s in suites]
assert int(suites[0].getAttribute("skipped")) == len(quant) and suites[0].getAttribute("failures") == "0"
PY
"$tfbench" bench --backend "$b" --model gpt2-tiny --pp 4 --tg 2 -r 1 --warmup 0 --dtype f32,q4_0 --act q8 \
    -o "$dir/bench.json" >"$dir/bench.out" 2>"$dir/bench.err"
rc=$?
[ $rc = 0 ] || { echo "bench exited $rc, expected 0"; cat "$dir/bench.err"; status=1; }
python3 "$validator" "$dir/bench.json" || status=1
python3 - "$dir/bench.json" "$b" <<'PY' || status=1
import json, sys
d, b = json.load(open(sys.argv[1])), sys.argv[2]
assert {r["dtype"] for r in d["results"]} == {"f32"}, {r["dtype"] for r in d["results"]}
sk = d["skipped"]
assert len(sk) == 1 and sk[0]["backend"] == b and sk[0]["dtype"] == "q4_0" and sk[0].get("act") == "q8", sk
assert "--act q8: %s does not offer 8-bit activations" % b in sk[0]["reason"], sk[0]["reason"]
PY
grep -q "^tfbench: bench: skipped $b gpt2-tiny q4_0/a8: .*does not offer 8-bit activations" "$dir/bench.err" ||
    { echo "bench stderr does not say why q4_0/a8 was skipped"; status=1; }
if [ $status != 0 ]; then
    echo "--- conform"; cat "$dir/out.txt" "$dir/err.txt"; echo "--- bench"; cat "$dir/bench.out" "$dir/bench.err"
fi
exit $status
