#!/bin/sh
# tfbench-kernels writes Google Benchmark JSON (its own flags work), with the probe and GFLOP/s + GB/s
# counters on every kernel, and tfbench report draws the roofline from it. Unknown flags exit 2.
# usage: kernels_json.sh TFBENCH_KERNELS TFBENCH WORKDIR
set -eu
kern=$1 cli=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }

"$kern" --benchmark_filter='probe/|matmul/reference/f32/1x768x3072|softmax/reference|layernorm/reference' \
    --benchmark_min_time=0.01 --benchmark_repetitions=2 --benchmark_out="$dir/k.json" --benchmark_out_format=json \
    >"$dir/stdout" 2>"$dir/stderr" || { rc=$?; cat "$dir/stderr"; fail "tfbench-kernels exited $rc"; }
python3 - "$dir/k.json" <<'PY' || fail "JSON check"
import json, math, sys
d = json.load(open(sys.argv[1]))
assert "context" in d and "benchmarks" in d, "no context/benchmarks"
names = {b["run_name"] for b in d["benchmarks"]}
want = {"probe/bandwidth/real_time", "probe/peak_fp32/real_time", "matmul/reference/f32/1x768x3072/real_time",
        "softmax/reference/f32/1536x512/real_time", "layernorm/reference/f32/512x768/real_time"}
assert want <= names, "missing %s" % (want - names)
assert not any(n.startswith("attention/") for n in names), "the filter was not applied"
for b in d["benchmarks"]:
    assert not b.get("error_occurred"), "%s: %s" % (b["name"], b.get("error_message"))
    if b["run_type"] != "iteration":
        continue
    n = b["run_name"]
    keys = ["GB/s"] if n.startswith("probe/bandwidth") else ["GFLOP/s"] if n.startswith("probe/peak") else ["GFLOP/s", "GB/s"]
    for k in keys:
        assert k in b and math.isfinite(b[k]) and b[k] > 0, "%s: counter %s = %r" % (n, k, b.get(k))
    if n.startswith("matmul/reference/f32/1x768x3072"):
        # GFLOP/s is 2*M*K*N / wall time; GB/s counts the f32 weights + x + out.
        t = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        assert abs(b["GFLOP/s"] - 2 * 768 * 3072 / t / 1e9) < 0.05 * b["GFLOP/s"], "GFLOP/s inconsistent with time"
        assert abs(b["GB/s"] - 4 * (3072 * 768 + 768 + 3072) / t / 1e9) < 0.05 * b["GB/s"], "GB/s inconsistent"
aggs = {b.get("aggregate_name") for b in d["benchmarks"] if b["run_type"] == "aggregate"}
assert {"mean", "stddev"} <= aggs, "repetitions gave no aggregates"
PY
"$cli" report "$dir/k.json" -o "$dir/report" 2>"$dir/report.err" || { cat "$dir/report.err"; fail "report failed"; }
[ "$(head -c 8 "$dir/report/roofline.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "no roofline.png"
grep -q 'matmul/reference/f32/1x768x3072' "$dir/report/roofline.dat" || fail "roofline.dat lacks the matmul"
if "$kern" --no-such-flag >/dev/null 2>&1; then fail "unknown flag accepted"; fi
echo ok
