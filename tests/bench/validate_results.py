#!/usr/bin/env python3
"""Check a tfbench results file against docs/results-schema.md ("tfbench-results/1").

usage: validate_results.py FILE [--expect-kinds k1,k2,...]
Exit 0 when valid, 1 with one line per problem otherwise. Standard library only."""
import json
import math
import sys

ENV_KEYS = {"tfbench_version": str, "git_commit": str, "compiler": str, "cflags": str, "build_type": str,
            "cpu_model": str, "isa": list, "cores": (int, float), "memory_bytes": (int, float), "os": str,
            "command_line": list, "timestamp": str, "backends": dict}
BACKEND_KEYS = {"device": str, "driver": str, "api": str, "library": str, "extra": str,
                "mem_total": (int, float), "mem_used": (int, float)}
ROW_KEYS = {"backend": str, "model": str, "dtype": str, "threads": (int, float), "test": str, "kind": str,
            "n_prompt": (int, float), "n_gen": (int, float), "depth": (int, float), "metric": str, "unit": str,
            "higher_is_better": bool, "mean_kind": str, "samples": list, "n": (int, float)}
SUMMARY = ["median", "mean", "stddev", "ci95", "cv", "min", "max"]
KINDS = {"load", "memory", "pp", "encode", "e2e", "tg", "kv", "xattn", "prefix", "scale_pp", "scale_tg", "quant"}
DTYPES = {"f32", "f16", "bf16", "q8_0", "q4_0"}
ACT_DTYPES = {"q8_0", "q4_0"}  # the only weight dtypes whose matmuls --act q8 changes


def check_act(where, r, env_act):
    """Optional "act": "q8" only, only on q8_0/q4_0 (rows and skipped entries); where the file says
    which activations it ran with (environment.act), the rows must agree with it both ways."""
    errs = []
    if "act" in r and (r["act"] != "q8" or r.get("dtype") not in ACT_DTYPES):
        errs.append("%s.act %r on dtype %r: only \"q8\", only on q8_0/q4_0" % (where, r["act"], r.get("dtype")))
    if env_act == "f32" and "act" in r:
        errs.append("%s.act %r in a run with environment.act 'f32'" % (where, r["act"]))
    if env_act == "q8" and r.get("dtype") in ACT_DTYPES and r.get("act") != "q8":
        errs.append("%s: a %s row of an --act q8 run without act 'q8'" % (where, r.get("dtype")))
    return errs


def typed(v, t):
    if t in ((int, float), int, float) and isinstance(v, bool):
        return False
    return isinstance(v, t)


def num_or_null(v):
    return v is None or (typed(v, (int, float)) and math.isfinite(v))


def check(doc, expect_kinds):
    errs = []
    if not isinstance(doc, dict):
        return ["top level is not an object"]
    if doc.get("schema") != "tfbench-results/1":
        errs.append("schema is %r, expected 'tfbench-results/1'" % doc.get("schema"))
    env = doc.get("environment")
    if not isinstance(env, dict):
        errs.append("environment missing")
        env = {}
    for k, t in ENV_KEYS.items():
        if not typed(env.get(k), t):
            errs.append("environment.%s missing or not %s" % (k, t))
    if "hostname" in env and not typed(env["hostname"], str):  # added later in schema 1: optional
        errs.append("environment.hostname is not a string")
    if "machine" in env and not (typed(env["machine"], str) and env["machine"]):  # TFBENCH_MACHINE: optional
        errs.append("environment.machine is not a non-empty string")
    env_act = env.get("act")  # added with --act: optional
    if "act" in env and env_act not in ("f32", "q8"):
        errs.append("environment.act %r is neither 'f32' nor 'q8'" % env_act)
    for name, b in (env.get("backends") or {}).items():
        for k, t in BACKEND_KEYS.items():
            if not isinstance(b, dict) or not typed(b.get(k), t):
                errs.append("environment.backends.%s.%s missing or mistyped" % (name, k))
    if not isinstance(doc.get("skipped"), list):
        errs.append("skipped is not an array")
    for i, sk in enumerate(doc.get("skipped") or []):
        if isinstance(sk, dict):
            errs += check_act("skipped[%d]" % i, sk, env_act)
    rows = doc.get("results")
    if not isinstance(rows, list) or not rows:
        return errs + ["results missing or empty"]
    seen = set()
    for i, r in enumerate(rows):
        where = "results[%d]" % i
        if not isinstance(r, dict):
            errs.append(where + " is not an object")
            continue
        for k, t in ROW_KEYS.items():
            if not typed(r.get(k), t):
                errs.append("%s.%s missing or not %s" % (where, k, t))
        if r.get("kind") not in KINDS:
            errs.append("%s.kind %r unknown" % (where, r.get("kind")))
        if r.get("dtype") not in DTYPES:
            errs.append("%s.dtype %r unknown" % (where, r.get("dtype")))
        errs += check_act(where, r, env_act)
        if r.get("mean_kind") not in ("harmonic", "arithmetic"):
            errs.append("%s.mean_kind %r" % (where, r.get("mean_kind")))
        smp = r.get("samples") if isinstance(r.get("samples"), list) else []
        if not smp or not all(typed(x, (int, float)) and math.isfinite(x) for x in smp):
            errs.append("%s.samples empty or not all finite numbers" % where)
        if r.get("n") != len(smp):
            errs.append("%s.n %r != len(samples) %d" % (where, r.get("n"), len(smp)))
        for k in SUMMARY:
            if k not in r or not num_or_null(r[k]):
                errs.append("%s.%s missing or not a number/null" % (where, k))
        if smp and typed(r.get("median"), (int, float)):
            s = sorted(smp)
            m = len(s)
            med = s[m // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) / 2
            if abs(med - r["median"]) > 1e-9 * max(1.0, abs(med)):
                errs.append("%s.median %r is not the median of its samples (%r)" % (where, r["median"], med))
        dev = r.get("device_time_s", "absent")
        if dev == "absent" or not (dev is None or (isinstance(dev, list) and len(dev) == len(smp))):
            errs.append("%s.device_time_s must be null or one number per sample" % where)
        if r.get("kind") == "tg":
            lat = r.get("token_latency_s")
            if not isinstance(lat, dict) or not all(num_or_null(lat.get(p)) and lat.get(p) is not None
                                                    for p in ("p50", "p90", "p99")):
                errs.append("%s.token_latency_s p50/p90/p99 missing on a tg row" % where)
            elif not lat["p50"] <= lat["p90"] <= lat["p99"]:
                errs.append("%s.token_latency_s not ordered" % where)
        if "ratio_ci95" in r:
            rc = r["ratio_ci95"]
            if r.get("metric") != "speedup" or not isinstance(rc, list) or len(rc) != 2 or \
                    not all(typed(v, (int, float)) and math.isfinite(v) for v in rc) or rc[0] > rc[1]:
                errs.append("%s.ratio_ci95 must be [lo, hi] (lo <= hi) on a speedup row" % where)
        seen.add(r.get("kind"))
    for k in expect_kinds:
        if k not in seen:
            errs.append("no row of kind %r" % k)
    return errs


def main():
    args = sys.argv[1:]
    expect = []
    if "--expect-kinds" in args:
        i = args.index("--expect-kinds")
        expect = args[i + 1].split(",")
        del args[i:i + 2]
    if len(args) != 1:
        print("usage: validate_results.py FILE [--expect-kinds k1,k2]", file=sys.stderr)
        return 2
    try:
        with open(args[0]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("%s: %s" % (args[0], e))
        return 1
    errs = check(doc, expect)
    for e in errs:
        print("%s: %s" % (args[0], e))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
