#!/bin/sh
# `tfbench conform` from the command line: the reference against itself passes with well-formed
# JSON and JUnit (with --act q8 too, recorded so that run is told apart from an f32 one), and bad
# usage exits 2 with `tfbench: <where>: <what>`; fault-errors (TFBENCH = tfbench-faults): the
# planted-fault backend refuses a fault, an op or a base it does not know.
#   cli.sh TFBENCH WORKDIR smoke|act|errors|fault-errors
set -u
tfbench=$1 dir=$2 what=$3
rm -rf "$dir" && mkdir -p "$dir"
status=0

# expect RC WHERE ARGS...: exit code RC, and for RC 2 a stderr line `tfbench: WHERE: ...`
expect() {
    want=$1 where=$2
    shift 2
    "$tfbench" conform "$@" >"$dir/out.txt" 2>"$dir/err.txt"
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "conform $*: exit $rc, expected $want"; cat "$dir/err.txt"; status=1
    elif [ "$want" = 2 ] && ! grep -q "^tfbench: $where: " "$dir/err.txt"; then
        echo "conform $*: stderr lacks 'tfbench: $where: '"; cat "$dir/err.txt"; status=1
    fi
}

if [ "$what" = smoke ]; then
    expect 0 - --backend reference --model all --dtype all --json "$dir/r.json" --junit "$dir/r.xml"
    python3 - "$dir/r.json" "$dir/r.xml" <<'PY' || status=1
import json, sys, xml.dom.minidom
res = json.load(open(sys.argv[1]))
doc = xml.dom.minidom.parse(sys.argv[2])
cases = doc.getElementsByTagName("testcase")
assert len(cases) == len(res["results"]) > 100, len(cases)
assert res["summary"]["pass"] == len(res["results"]), res["summary"]
kinds = {(r["kind"], r["dtype"]) for r in res["results"]}
for d in ("f32", "f16", "bf16", "q8_0", "q4_0"):
    assert ("op", d) in kinds and ("model", d) in kinds, d
    if d != "f32":
        assert ("quant", d) in kinds, d
names = " ".join(r["case"] for r in res["results"])
for m in ("gpt2-tiny", "bert-tiny", "marian-tiny"):
    assert m in names, m
assert not doc.getElementsByTagName("failure")
# f32 activations, the default: said so, and no case claims rounded ones
assert res["args"]["act"] == "f32" and not any("act" in r for r in res["results"]), res["args"]
assert [s.getAttribute("name") for s in doc.getElementsByTagName("testsuite")] == ["reference"]
props = doc.getElementsByTagName("property")
assert [(p.getAttribute("name"), p.getAttribute("value")) for p in props] == [("act", "f32")]
PY
    grep -q "^conform: .* 0 FAIL, 0 ERROR" "$dir/out.txt" || { echo "no clean summary line"; status=1; }
    grep -q "^activations: f32" "$dir/out.txt" || { echo "the table does not say f32 activations"; status=1; }
elif [ "$what" = fault-errors ]; then
    expect 0 - --backend fault --op relu --op-level-only
    export TFB_FAULT=bogus
    expect 2 fault --backend fault --op relu
    export TFB_FAULT=oob TFB_FAULT_OP=conv2d
    expect 2 fault --backend fault --op relu
    unset TFB_FAULT TFB_FAULT_OP
    export TFB_FAULT_BASE=nosuch
    expect 3 - --backend fault --op relu
    unset TFB_FAULT_BASE
elif [ "$what" = act ]; then
    # --act q8: the oracle rounds the same way, so the reference still passes with the tight bounds;
    # every case and file says q8 (a8), so it never reads as an f32 run.
    expect 0 - --backend reference --model all --dtype q8_0,q4_0 --act q8 --json "$dir/r.json" --junit "$dir/r.xml"
    python3 - "$dir/r.json" "$dir/r.xml" <<'PY' || status=1
import json, sys, xml.dom.minidom
res = json.load(open(sys.argv[1]))
doc = xml.dom.minidom.parse(sys.argv[2])
rs = res["results"]
assert res["args"]["act"] == "q8" and res["args"]["dtype"] == "q8_0,q4_0", res["args"]
assert res["summary"]["pass"] == len(rs) > 30, res["summary"]
assert {r["dtype"] for r in rs} == {"q8_0", "q4_0"} and all(r.get("act") == "q8" for r in rs)
assert {r["kind"] for r in rs} == {"op", "model", "quant"}
for r in rs:
    assert r["repro"].endswith(" --act q8"), r["repro"]
    # op level: the matmul bound is still eps*sqrt(K) (NMSE threshold 16 eps^2 K), said in its reason
    if r["kind"] == "op":
        assert r["case"].startswith("matmul") and r["threshold"] < 1e-9, (r["case"], r["threshold"])
        assert "--act q8 both sides round x identically" in r["figures"]["tolerance_reason"]
suites = doc.getElementsByTagName("testsuite")
assert [s.getAttribute("name") for s in suites] == ["reference (act q8)"]
props = doc.getElementsByTagName("property")
assert [(p.getAttribute("name"), p.getAttribute("value")) for p in props] == [("act", "q8")]
cases = doc.getElementsByTagName("testcase")
assert len(cases) == len(rs) and all(c.getAttribute("name").endswith("/a8]") for c in cases)
PY
    grep -q "^activations: q8 for q8_0/q4_0 matmuls" "$dir/out.txt" || { echo "the table does not say q8"; status=1; }
    grep -Eq "^reference +model +gpt2-tiny teacher-forced +q4_0/a8 +pass " "$dir/out.txt" ||
        { echo "no q4_0/a8 row in the table"; status=1; }
    # the matrix gives an --act q8 run rows of its own
    "$tfbench" matrix "$dir/r.json" >"$dir/matrix.md" || { echo "matrix failed"; status=1; }
    grep -q "^| reference (act q8) | gpt2-tiny | - | - | - | pass | pass |" "$dir/matrix.md" ||
        { echo "matrix row:"; cat "$dir/matrix.md"; status=1; }
else
    expect 2 --dtype --backend reference --dtype q5_1
    expect 2 --backend --backend nosuch
    expect 2 --backend --backend fault # only the test binary tfbench-faults has it
    expect 2 --model --backend reference --model no-such-model
    expect 2 --op --backend reference --op conv2d
    expect 2 conform --backend reference --op-level-only --model-level-only
    expect 2 conform --backend reference --bogus
    expect 2 --threads --backend reference --threads 0
    expect 2 --act --backend reference --act int8
    expect 2 --dtype --backend reference --dtype q8_0,q5_1
    expect 2 --dtype --backend reference --dtype q8_0,
    expect 2 --json --backend reference --json
    : >"$dir/exists.json"
    expect 2 --json --backend reference --op relu --op-level-only --json "$dir/exists.json"
    expect 0 - --backend reference --op relu --op-level-only --json "$dir/exists.json" --force
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["results"] and all(x["case"].startswith("relu") for x in r["results"])' \
        "$dir/exists.json" || status=1
fi
exit $status
