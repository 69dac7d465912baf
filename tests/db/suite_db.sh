#!/bin/bash
# The standard suite passes --db to its conform and bench steps: a conform run and a bench run land
# in the database. A database it cannot use stops the suite at its first step (conform) with exit 2
# and the one `tfbench: --db: ...` line, conform's files written all the same.
# usage: suite_db.sh TFBENCH TESTS_DB_DIR
tfb=$1
. "$2/../lib.sh"
"$tfb" --backend reference --model gpt2-tiny -r 1 -o "$tmp/suite" --db "$tmp/suite.sqlite" >"$tmp/log" 2>&1 ||
  fail "suite --db: $(tail -3 "$tmp/log")"
python3 -c 'import sqlite3, sys; k = [r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT kind FROM tfb_runs ORDER BY id")]; assert k == ["conform", "bench"], k' \
  "$tmp/suite.sqlite" || fail "the suite did not store its conform and bench runs"
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("CREATE TABLE x (a)")' "$tmp/foreign.sqlite"
"$tfb" --backend reference --model gpt2-tiny -r 1 -o "$tmp/bad" --db "$tmp/foreign.sqlite" >"$tmp/log" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "suite into a foreign database exited $rc, expected 2"
[ "$(grep -c '^tfbench: --db: .*not a tfbench database' "$tmp/err")" -eq 1 ] || fail "suite stderr: $(cat "$tmp/err")"
[ -s "$tmp/bad/conform.json" ] || fail "conform.json not written"
python3 -c 'import sqlite3, sys; n = sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]; assert n == 1, n' \
  "$tmp/foreign.sqlite" || fail "the foreign database was written to"
finish suite_db
