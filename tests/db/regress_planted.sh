#!/bin/bash
# regress on crafted results files imported into SQLite: planted regressions are found, planted noise
# is not, and too few samples are "insufficient samples". Machine "lab-a": two runs at the base
# commit (pooled: 4 + 4 samples) and one at the new commit; machine "lab-b": noise only.
#   pp16        -15% with 1% noise              REGRESSED
#   pp16+tg4 ttft_s  20% lower (lower is better)     improved
#   pp16+tg4 tpot_s  3% slower, separated samples    no change (under the 5% threshold; --threshold 2: REGRESSED)
#   tg4@d0 ... tg4@d15  noise only (1%, 16 rows)   no change
#   pp8         -30% but 3 samples a side          insufficient samples
# usage: regress_planted.sh TFBENCH TESTS_DB_DIR
tfb=$1
. "$2/../lib.sh"
db=$tmp/r.sqlite
python3 - "$tmp" <<'PY' || fail "could not write the fixtures"
import json, random, sys
out = sys.argv[1]
rng = random.Random(21)
def row(test, kind, metric, unit, hib, samples):
    return {"backend": "reference", "model": "gpt2-tiny", "dtype": "f32", "threads": 0, "test": test, "kind": kind,
            "n_prompt": 16, "n_gen": 4, "depth": 0, "metric": metric, "unit": unit, "higher_is_better": hib,
            "mean_kind": "harmonic" if hib else "arithmetic", "samples": samples, "n": len(samples)}
def noisy(center, n, sd=0.01):
    return [center * (1 + rng.gauss(0, sd)) for _ in range(n)]
def run(machine, commit, date, rows):
    env = {"tfbench_version": "0.1.0", "git_commit": commit, "hostname": machine, "cpu_model": "test cpu",
           "cores": 4, "os": "Linux", "timestamp": date, "command_line": ["tfbench", "bench"], "backends": {}}
    return {"schema": "tfbench-results/1", "environment": env, "skipped": [], "results": rows}
def rows(new, n, machine_b=False, pp8=True):
    r = [row("tg4@d%d" % d, "tg", "tokens_per_s", "tokens/s", True, noisy(50 + d, n)) for d in range(16)]
    if machine_b:
        return r
    r.append(row("pp16", "pp", "tokens_per_s", "tokens/s", True, noisy(85 if new else 100, n)))
    r[-1]["device_time_s"] = [0.001 * (i + 1) for i in range(n)]  # imported beside the samples
    r.append(row("pp16+tg4", "e2e", "ttft_s", "s", False, noisy(0.008 if new else 0.010, n)))
    # 3% slower, samples separated (a clear rank difference, a small effect)
    tpot = [0.00103 + 0.000001 * i for i in range(n)] if new else [0.00100 + 0.000001 * i for i in range(n)]
    r.append(row("pp16+tg4", "e2e", "tpot_s", "s", False, tpot))
    if pp8:  # one run a side: 3 samples each
        r.append(row("pp8", "pp", "tokens_per_s", "tokens/s", True, [70.0, 71.0, 72.0] if new else [100.0, 101.0, 102.0]))
    return r
files = {
    "a-base1": run("lab-a", "aaaa1111", "2026-01-01T10:00:00Z", rows(False, 4)),
    "a-base2": run("lab-a", "aaaa1111", "2026-01-01T11:00:00Z", rows(False, 4, pp8=False)),
    "a-new": run("lab-a", "bbbb2222", "2026-02-01T10:00:00Z", rows(True, 8)),
    "b-base": run("lab-b", "aaaa1111", "2026-01-01T12:00:00Z", rows(False, 8, True)),
    "b-new": run("lab-b", "bbbb2222", "2026-02-01T12:00:00Z", rows(True, 8, True)),
}
for name, doc in files.items():
    json.dump(doc, open("%s/%s.json" % (out, name), "w"))
PY
"$tfb" import --db "$db" "$tmp"/a-base1.json "$tmp"/a-base2.json "$tmp"/a-new.json "$tmp"/b-base.json \
  "$tmp"/b-new.json >"$tmp/imp" 2>&1 || fail "import: $(cat "$tmp/imp")"

python3 -c 'import sqlite3, sys; n = sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*), SUM(device_s) FROM tfb_samples WHERE device_s IS NOT NULL").fetchone(); assert n[0] == 16 and abs(n[1] - 0.056) < 1e-12, n' \
  "$db" || fail "device times not imported"

"$tfb" regress --db "$db" --base aaaa --new commit:bbbb >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ $rc -eq 1 ] || fail "regress with a planted regression exited $rc, expected 1"
has() { grep -q -- "$1" "$tmp/out" || fail "missing: $1"; }
has '| lab-a | reference | gpt2-tiny | f32 | default | pp16 | tokens_per_s | .* (8) | .* (8) | -1[0-9]\.[0-9]% | .* | REGRESSED |'
has '| lab-a | reference | gpt2-tiny | f32 | default | pp16+tg4 | ttft_s | .* | improved |'
has '| lab-a | reference | gpt2-tiny | f32 | default | pp16+tg4 | tpot_s | .* | -3\.[0-9]% | .* | no change |'
has '| lab-a | reference | gpt2-tiny | f32 | default | pp8 | tokens_per_s | 101 (3) | 71 (3) | -29\.7% | - | insufficient samples |'
[ "$(grep -c '| tg4@d[0-9]* | tokens_per_s | .* | no change |' "$tmp/out")" -eq 32 ] ||
  fail "the 32 noise-only rows (16 per machine) must all be 'no change'"
has '^regress: 36 compared: 1 regressed, 1 improved, 33 no change, 1 insufficient samples'

# A lower threshold turns the 3% tpot change into a regression too.
"$tfb" regress --db "$db" --base aaaa --new bbbb --threshold 2 >"$tmp/out" 2>&1
has '| pp16+tg4 | tpot_s | .* | REGRESSED |'

# Noise only (machine lab-b; REFs as dates): nothing regressed, exit 0.
"$tfb" regress --db "$db" --base 2026-01-01 --new 2026-02 --machine lab-b >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "noise-only regress exited $rc: $(cat "$tmp/out")"
has '^regress: 16 compared: 0 regressed, 0 improved, 16 no change, 0 insufficient samples'

# Run ids: run 1 alone has 4 samples a side against run 3's 8 (still enough for the exact test).
"$tfb" regress --db "$db" --base 1 --new run:3 >"$tmp/out" 2>&1
[ $? -eq 1 ] || fail "regress 1 vs 3: $(cat "$tmp/out")"
has '| pp16 | tokens_per_s | .* (4) | .* (8) | .* | REGRESSED |'

# Bad REFs and usage: one line, exit 2.
err_prefix="regress: " expect_error 2 "no run matches --new 'cccc'" -- regress --db "$db" --base aaaa --new cccc
err_prefix="regress: " expect_error 2 "--base REF and --new REF are required" -- regress --db "$db" --base aaaa
expect_error 2 "expected a percentage" -- regress --db "$db" --base aaaa --new bbbb --threshold x
finish regress_planted
