#!/bin/sh
# Run `tfbench-faults conform` on the planted-fault backend around TFB_FAULT_BASE (the reference when
# unset) and check the exit code and the output.
#   fault.sh TFBENCH_FAULTS FAULT EXPECTED_RC WORKDIR "EXTRA CONFORM ARGS"|- [PATTERN...]
# Each PATTERN (an extended regex) must match a line of stdout. The run also writes
# WORKDIR/conform.json and WORKDIR/conform.xml, which must parse (python3 json, xml.dom.minidom) and
# agree: one testcase per result, one <failure>/<error> with a message per failed case.
set -u
tfbench=$1 fault=$2 want=$3 dir=$4 extra=$5
shift 5
[ "$extra" = - ] && extra=""
base=${TFB_FAULT_BASE:-reference}
rm -rf "$dir" && mkdir -p "$dir"
TFB_FAULT=$fault TFB_FAULT_BASE=$base "$tfbench" conform --backend fault --model gpt2-tiny --dtype f32 \
    --json "$dir/conform.json" --junit "$dir/conform.xml" $extra >"$dir/out.txt" 2>"$dir/err.txt"
rc=$?
status=0
if [ "$rc" != "$want" ]; then
    echo "fault $fault on $base: exit $rc, expected $want"
    status=1
fi
for p in "$@"; do
    if ! grep -Eq -- "$p" "$dir/out.txt"; then
        echo "fault $fault on $base: no line matches '$p'"
        status=1
    fi
done
python3 - "$dir/conform.json" "$dir/conform.xml" "$want" "$fault" "$base" <<'PY' || status=1
import json, sys, xml.dom.minidom
res = json.load(open(sys.argv[1]))
doc = xml.dom.minidom.parse(sys.argv[2])
cases = doc.getElementsByTagName("testcase")
assert len(cases) == len(res["results"]), (len(cases), len(res["results"]))
suite = "fault (act q8)" if res["args"]["act"] == "q8" else "fault"
assert [s.getAttribute("name") for s in doc.getElementsByTagName("testsuite")] == [suite]
fails = doc.getElementsByTagName("failure") + doc.getElementsByTagName("error")
nfail = res["summary"]["FAIL"] + res["summary"]["ERROR"]
assert len(fails) == nfail, (len(fails), nfail)
assert (nfail > 0) == (sys.argv[3] == "1")
for f in fails:
    assert f.getAttribute("message"), "failure without a message"
for r in res["results"]:
    assert r["repro"].startswith("TFB_FAULT=%s TFB_FAULT_BASE=%s tfbench-faults conform --backend fault " % (sys.argv[4], sys.argv[5])), r["repro"]
PY
if [ $status != 0 ]; then
    echo "--- stdout"; cat "$dir/out.txt"; echo "--- stderr"; cat "$dir/err.txt"
fi
exit $status
