#!/bin/sh
# `tfbench conform` from the command line: the reference against itself passes with well-formed
# JSON and JUnit, and bad usage exits 2 with `tfbench: <where>: <what>`.
#   cli.sh TFBENCH WORKDIR smoke|errors
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
PY
    grep -q "^conform: .* 0 FAIL, 0 ERROR" "$dir/out.txt" || { echo "no clean summary line"; status=1; }
else
    expect 2 --dtype --backend reference --dtype q5_1
    expect 2 --backend --backend nosuch
    expect 2 --backend --backend fault # not registered without TFB_ENABLE_FAULT_BACKEND=1
    expect 2 --model --backend reference --model no-such-model
    expect 2 --op --backend reference --op conv2d
    expect 2 conform --backend reference --op-level-only --model-level-only
    expect 2 conform --backend reference --bogus
    expect 2 --threads --backend reference --threads 0
    expect 2 --json --backend reference --json
    : >"$dir/exists.json"
    expect 2 --json --backend reference --op relu --op-level-only --json "$dir/exists.json"
    expect 0 - --backend reference --op relu --op-level-only --json "$dir/exists.json" --force
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["results"] and all(x["case"].startswith("relu") for x in r["results"])' \
        "$dir/exists.json" || status=1
    TFB_ENABLE_FAULT_BACKEND=1 TFB_FAULT=bogus "$tfbench" conform --backend fault --op relu >/dev/null 2>&1
    [ $? = 2 ] || { echo "TFB_FAULT=bogus should exit 2"; status=1; }
fi
exit $status
