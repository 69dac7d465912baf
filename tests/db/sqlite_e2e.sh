#!/bin/bash
# The results database on SQLite, end to end: bench --quick on gpt2-tiny twice into a file (every
# raw sample of results.json stored), TFBENCH_DB, TFBENCH_MACHINE, conform --db, import, history (+ --plot), regress,
# compare on REFs, report --db; bad databases (another tool's tables, a newer schema, not a
# database, a lock held past the busy timeout) fail in one line with exit 2, leave the database as
# it was and still write results.json; a lock released within the busy timeout is waited for.
# usage: sqlite_e2e.sh TFBENCH TESTS_DB_DIR
tfb=$1
. "$2/../lib.sh"
db=$tmp/h.sqlite
bench() { "$tfb" bench --backend reference --model gpt2-tiny --quick -r 5 "$@"; }
py() { python3 -c "import sqlite3, sys, json; $1" "${@:2}"; }

bench -o "$tmp/r1.json" --db "$db" >"$tmp/out1" 2>"$tmp/err1" || fail "bench 1: $(cat "$tmp/err1")"
grep -q "^bench: stored as run 1 in $db" "$tmp/out1" || fail "bench 1 did not say where it stored: $(tail -1 "$tmp/out1")"
TFBENCH_DB=$db bench -o "$tmp/r2.json" >"$tmp/out2" 2>&1 || fail "bench 2 (TFBENCH_DB): $(cat "$tmp/out2")"
grep -q "stored as run 2" "$tmp/out2" || fail "TFBENCH_DB was not used"
# TFBENCH_MACHINE names the machine in the manifest and the database.
TFBENCH_MACHINE=ci-runner-a bench -o "$tmp/m.json" --db "$tmp/m.sqlite" >/dev/null 2>&1 || fail "bench with TFBENCH_MACHINE"
py 'db = sqlite3.connect(sys.argv[1]); m = db.execute("SELECT machine FROM tfb_runs").fetchall(); assert m == [("ci-runner-a",)], m; assert json.load(open(sys.argv[2]))["environment"]["machine"] == "ci-runner-a"' \
  "$tmp/m.sqlite" "$tmp/m.json" || fail "TFBENCH_MACHINE not recorded"

# Every row and every raw sample of each results.json is in the database, in order.
check_run() { py '
db = sqlite3.connect(sys.argv[1]); doc = json.load(open(sys.argv[2])); run = int(sys.argv[3])
rows = db.execute("SELECT id, backend, model, dtype, test, metric FROM tfb_results WHERE run_id = ? ORDER BY id", (run,)).fetchall()
assert len(rows) == len(doc["results"]), (len(rows), len(doc["results"]))
for (rid, *key), want in zip(rows, doc["results"]):
    assert key == [want[k] for k in ("backend", "model", "dtype", "test", "metric")], (key, want)
    got = [v for (v,) in db.execute("SELECT value FROM tfb_samples WHERE result_id = ? ORDER BY idx", (rid,))]
    # cJSON prints 15 digits when they read back within an ulp or two: compare to that precision.
    assert len(got) == len(want["samples"]) and all(abs(g - w) <= 4e-16 * abs(w) for g, w in zip(got, want["samples"])), (key, got, want["samples"])
m = db.execute("SELECT machine, git_commit, started, manifest FROM tfb_runs WHERE id = ?", (run,)).fetchone()
env = doc["environment"]
assert m[0] == env["hostname"] and m[1] == env["git_commit"] and m[2] == env["timestamp"], m[:3]
assert json.loads(m[3]) == env
' "$db" "$1" "$2" || fail "run $2 does not hold $1"; }
check_run "$tmp/r1.json" 1
check_run "$tmp/r2.json" 2

# conform --db: a run of kind conform with its cases.
"$tfb" conform --backend reference --model gpt2-tiny --dtype f32 --model-level-only --db "$db" >"$tmp/cf" 2>&1 ||
  fail "conform --db: $(cat "$tmp/cf")"
py 'db = sqlite3.connect(sys.argv[1]); n = db.execute("SELECT COUNT(*) FROM tfb_conform c JOIN tfb_runs r ON r.id = c.run_id WHERE r.kind = ? AND c.verdict = ?", ("conform", "pass")).fetchone()[0]; assert n >= 1, n' "$db" ||
  fail "conform cases not stored"

# import: a file already stored (bench --db wrote it) is skipped; a copy of it from "another
# start time" is a new run with the same samples.
"$tfb" import --db "$db" "$tmp/r1.json" >"$tmp/imp" 2>&1 || fail "import: $(cat "$tmp/imp")"
grep -q "r1.json: already stored as run 1, skipped" "$tmp/imp" || fail "import of a stored run: $(cat "$tmp/imp")"
py 'd = json.load(open(sys.argv[1])); d["environment"]["timestamp"] = "2026-01-02T03:04:05Z"; json.dump(d, open(sys.argv[2], "w"))' \
  "$tmp/r1.json" "$tmp/r1b.json"
"$tfb" import --db "$db" "$tmp/r1b.json" >"$tmp/imp" 2>&1 || fail "import: $(cat "$tmp/imp")"
grep -q "r1b.json: stored as run 4" "$tmp/imp" || fail "import: $(cat "$tmp/imp")"
check_run "$tmp/r1b.json" 4

# history: one line per run of the series, and a plot through gnuplot.
"$tfb" history --db "$db" --backend reference --model gpt2-tiny --metric tokens_per_s --test pp32 \
  --plot "$tmp/hist.svg" >"$tmp/hist" 2>"$tmp/hist.err" || fail "history: $(cat "$tmp/hist.err")"
[ "$(grep -c '| pp32 | tokens_per_s |' "$tmp/hist")" -eq 3 ] || fail "history: expected 3 runs of pp32: $(cat "$tmp/hist")"
grep -q '<svg' "$tmp/hist.svg" 2>/dev/null || fail "history --plot wrote no SVG"
expect_error 2 "no stored results match" -- history --db "$db" --model no-such-model
err_prefix="--plot: " expect_error 2 "exists (use --force to overwrite)" -- history --db "$db" --plot "$tmp/hist.svg"
"$tfb" history --db "$db" --test pp32 --plot "$tmp/hist.svg" --force >/dev/null 2>&1 || fail "history --plot --force"

# regress between runs 1 and 2 (same build, so whatever noise says, exit 0 or 1 with a table), and
# the one-sample rows (load, memory) are "insufficient samples", never "no change".
"$tfb" regress --db "$db" --base 1 --new 2 >"$tmp/reg" 2>&1
rc=$?
[ $rc -le 1 ] || fail "regress exited $rc: $(cat "$tmp/reg")"
grep -q '| load | load_s | .* | insufficient samples |' "$tmp/reg" || fail "load_s not insufficient: $(cat "$tmp/reg")"
grep -q '^regress: 6 compared' "$tmp/reg" || fail "regress summary: $(tail -1 "$tmp/reg")"

# compare on REFs (run ids), and a file against a REF.
"$tfb" compare --db "$db" 1 4 >"$tmp/cmp" 2>&1 || fail "compare on REFs: $(cat "$tmp/cmp")"
grep -q "6 rows matched (6 in base, 6 in new); 0 significantly better, 0 significantly worse" "$tmp/cmp" ||
  fail "compare run 1 with its own import: $(tail -1 "$tmp/cmp")"
"$tfb" compare "$tmp/r1.json" db:4 --db "$db" >"$tmp/cmp2" 2>&1 || fail "compare file vs REF: $(cat "$tmp/cmp2")"

# report --db: the newest run per machine, rendered like files.
"$tfb" report --db "$db" -o "$tmp/rep" >"$tmp/rep.out" 2>&1 || fail "report --db: $(cat "$tmp/rep.out")"
[ -s "$tmp/rep/report.md" ] && grep -q "rep/db-runs/db-run-4.json" "$tmp/rep/report.md" || fail "report --db: no report.md of run 4"
[ -s "$tmp/rep/db-runs/db-run-4.json" ] || fail "report --db did not keep its input"
err_prefix="report: " expect_error 2 "db-run-4.json: exists (use --force" -- report --db "$db" -o "$tmp/rep"
"$tfb" report --db "$db" -o "$tmp/rep" --force >/dev/null 2>&1 || fail "report --db --force"
"$tfb" report --db "$db" --ref 1 --ref 2 -o "$tmp/rep2" >/dev/null 2>&1 || fail "report --db --ref"
grep -q "db-run-2.json" "$tmp/rep2/report.md" || fail "report --ref 2 missing"

# Bad databases: one line, exit 2, the database file unchanged, results.json still written.
bad_db() { # NAME PATTERN: bench into $tmp/NAME, which the caller has prepared
  local f=$tmp/$1 before
  before=$(sha256sum "$f")
  expect_error 2 "$2" -- bench --backend reference --model gpt2-tiny --quick -o "$tmp/$1.json" --db "$f"
  [ "$(sha256sum "$f")" = "$before" ] || fail "$1: the database changed"
  [ -s "$tmp/$1.json" ] || fail "$1: results.json not written"
}
py 'sqlite3.connect(sys.argv[1]).execute("CREATE TABLE runs (x)")' "$tmp/foreign.sqlite"
err_prefix="--db: " bad_db foreign.sqlite "not a tfbench database (it holds table 'runs'"
cp "$db" "$tmp/newer.sqlite"
py 'c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE tfbench_schema SET version = 99"); c.commit()' "$tmp/newer.sqlite"
err_prefix="--db: " bad_db newer.sqlite "schema version 99 is newer than this tfbench understands (1)"
echo "not a database, just text that is long enough to be read as a header" >"$tmp/text.sqlite"
err_prefix="--db: " bad_db text.sqlite "file is not a database"
err_prefix="--db: " expect_error 2 "newer than this tfbench" -- history --db "$tmp/newer.sqlite"
err_prefix="--db: " expect_error 2 "no such database file" -- history --db "$tmp/missing.sqlite"
[ ! -e "$tmp/missing.sqlite" ] || fail "history created a database file"

# A lock held by another writer: waited for within the busy timeout, an error past it.
cp "$db" "$tmp/locked.sqlite"
py '
import time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close(); time.sleep(float(sys.argv[3])); c.execute("COMMIT")' "$tmp/locked.sqlite" "$tmp/held" 1.5 &
lock=$!
while [ ! -e "$tmp/held" ]; do sleep 0.05; done
TFBENCH_DB_BUSY_MS=10000 bench -o "$tmp/waited.json" --db "$tmp/locked.sqlite" >"$tmp/w" 2>&1 ||
  fail "bench did not wait for the lock: $(cat "$tmp/w")"
wait $lock
rm -f "$tmp/held"
py '
import time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close(); time.sleep(float(sys.argv[3])); c.execute("COMMIT")' "$tmp/locked.sqlite" "$tmp/held" 3 &
lock=$!
while [ ! -e "$tmp/held" ]; do sleep 0.05; done
TFBENCH_DB_BUSY_MS=300 err_prefix="--db: " bad_db locked.sqlite "database is locked"
wait $lock
finish sqlite_e2e
