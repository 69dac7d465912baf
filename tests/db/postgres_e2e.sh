#!/bin/bash
# The results database on PostgreSQL, end to end, against a throw-away cluster: initdb in a scratch
# folder (as the postgres user when run as root: the server refuses root), started on a free
# loopback port with password authentication, removed afterwards whatever happens. Two bench
# processes write into a fresh database at once (schema creation and rows: nothing lost); history,
# regress, compare and report read it; a wrong password, a port nobody listens on, another tool's
# tables and a newer schema each fail in one line with exit 2, the password masked, nothing
# written, results.json still written.
# Skips (77) only when the PostgreSQL server binaries are absent (ci/install-deps.sh installs them;
# TFB_PG_BINDIR points elsewhere).
# usage: postgres_e2e.sh TFBENCH TESTS_DB_DIR
tfb=$1
. "$2/../lib.sh"
# The server binaries: TFB_PG_BINDIR, else Debian's newest /usr/lib/postgresql/N/bin, else initdb on PATH.
bindir=${TFB_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir=$(dirname "$(command -v initdb)"); fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ] || [ ! -x "$bindir/psql" ]; then
  echo "SKIP: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  exit 77
fi
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "FAIL: running as root and there is no postgres user to run the server"; exit 1; }
  as_pg=(runuser -u postgres --)
fi
pgdir=$(mktemp -d /tmp/tfbench-pg.XXXXXX)
chmod 755 "$pgdir"
[ ${#as_pg[@]} -eq 0 ] || chown postgres: "$pgdir"
cleanup() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$pgdir" "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP # a ctest timeout still stops the server and removes the cluster
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
pw=s3cret-pw
echo "$pw" >"$pgdir/pw"
[ ${#as_pg[@]} -eq 0 ] || chown postgres: "$pgdir/pw"
"${as_pg[@]}" "$bindir/initdb" -D "$pgdir/data" -U tfb --pwfile="$pgdir/pw" --auth=scram-sha-256 -E UTF8 \
  >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log"; echo "FAIL: initdb"; exit 1; }
"${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
  -o "-p $port -k $pgdir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 ||
  { cat "$pgdir/server.log"; echo "FAIL: the server did not start"; exit 1; }
export PGPASSWORD=$pw
sql() { "$bindir/psql" -X -q -At -h 127.0.0.1 -p "$port" -U tfb -d "$1" -c "$2"; }
for d in tfbench other newer; do sql postgres "CREATE DATABASE $d" || fail "CREATE DATABASE $d"; done
unset PGPASSWORD # tfbench gets its password from the URL only
url="postgresql://tfb:$pw@127.0.0.1:$port/tfbench"
bench() { "$tfb" bench --backend reference --model gpt2-tiny --quick -r 5 "$@"; }

# Two writers at once into a database without the schema yet.
bench -o "$tmp/a.json" --db "$url" >"$tmp/a.out" 2>&1 &
pa=$!
bench -o "$tmp/b.json" --db "$url" >"$tmp/b.out" 2>&1 &
pb=$!
wait $pa || fail "bench a: $(cat "$tmp/a.out")"
wait $pb || fail "bench b: $(cat "$tmp/b.out")"
grep -q "stored as run" "$tmp/a.out" && grep -q "stored as run" "$tmp/b.out" || fail "a run was not stored"
grep -q "$pw" "$tmp/a.out" "$tmp/a.json" && fail "the password was printed or recorded: $(grep "$pw" "$tmp/a.out" "$tmp/a.json")"
want=$(python3 -c '
import json, sys
docs = [json.load(open(f)) for f in sys.argv[1:]]
print(len(docs), sum(len(d["results"]) for d in docs), sum(len(r["samples"]) for d in docs for r in d["results"]))' \
  "$tmp/a.json" "$tmp/b.json")
export PGPASSWORD=$pw
got=$(sql tfbench "SELECT (SELECT COUNT(*) FROM tfb_runs) || ' ' || (SELECT COUNT(*) FROM tfb_results) || ' ' || (SELECT COUNT(*) FROM tfb_samples)")
[ "$got" = "$want" ] || fail "runs, rows, samples in the database: $got, in the two results files: $want"
[ "$(sql tfbench "SELECT COUNT(*) FROM tfb_runs WHERE manifest LIKE '%$pw%' OR command_line LIKE '%$pw%'")" = 0 ] ||
  fail "the password was stored in the database"
sql tfbench "SELECT command_line FROM tfb_runs" | grep -q "postgresql://tfb:\*\*\*@127.0.0.1:$port/tfbench" ||
  fail "the command line is not stored with the password masked: $(sql tfbench "SELECT command_line FROM tfb_runs")"
unset PGPASSWORD

# Reading it back.
"$tfb" history --db "$url" --metric tokens_per_s --test pp32 >"$tmp/h" 2>&1 || fail "history: $(cat "$tmp/h")"
[ "$(grep -c '| pp32 | tokens_per_s |' "$tmp/h")" -eq 2 ] || fail "history: $(cat "$tmp/h")"
"$tfb" regress --db "$url" --base 1 --new 2 >"$tmp/r" 2>&1
[ $? -le 1 ] && grep -q '^regress: 6 compared' "$tmp/r" || fail "regress: $(cat "$tmp/r")"
# REFs as a commit prefix and a date (LIKE with a text parameter): both runs pooled on each side.
commit=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["environment"]["git_commit"][:7])' "$tmp/a.json")
day=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["environment"]["timestamp"][:10])' "$tmp/a.json")
"$tfb" regress --db "$url" --base "commit:$commit" --new "$day" >"$tmp/r" 2>&1
[ $? -eq 0 ] && grep -q '| pp32 | tokens_per_s | .* (10) | .* (10) | +0.0% | 1 | no change |' "$tmp/r" ||
  fail "regress of the same pooled runs: $(cat "$tmp/r")"
TFBENCH_DB=$url "$tfb" compare 1 2 >"$tmp/c" 2>&1 || fail "compare (TFBENCH_DB): $(cat "$tmp/c")"
"$tfb" import --db "$url" "$tmp/a.json" >"$tmp/i" 2>&1 || fail "import: $(cat "$tmp/i")"
"$tfb" report --db "$url" -o "$tmp/rep" >"$tmp/rep.out" 2>&1 || fail "report --db: $(cat "$tmp/rep.out")"
[ -s "$tmp/rep/report.md" ] || fail "report --db wrote no report.md"
"$tfb" conform --backend reference --model gpt2-tiny --dtype f32 --model-level-only --db "$url" >"$tmp/cf" 2>&1 ||
  fail "conform --db: $(cat "$tmp/cf")"

# Bad input: one line, exit 2, nothing written, results.json written all the same.
export PGPASSWORD=$pw
count() { sql "$1" "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'" 2>/dev/null; }
runs_before=$(sql tfbench "SELECT COUNT(*) FROM tfb_runs")
unset PGPASSWORD
bad() { # NAME PATTERN URL
  err_prefix="--db: " expect_error 2 "$2" -- bench --backend reference --model gpt2-tiny --quick -o "$tmp/$1.json" --db "$3"
  [ -s "$tmp/$1.json" ] || fail "$1: results.json not written"
  grep -q "$pw" "$tmp/err" && fail "$1: the password was printed"
}
bad wrong_password "postgresql://tfb:\*\*\*@127.0.0.1:$port/tfbench: .*password authentication failed for user \"tfb\"" \
  "postgresql://tfb:not-$pw@127.0.0.1:$port/tfbench"
bad unreachable "Connection refused" "postgresql://tfb:$pw@127.0.0.1:$(free_port)/tfbench"
export PGPASSWORD=$pw
sql other "CREATE TABLE runs (x integer)"
unset PGPASSWORD
bad foreign "not a tfbench database (it holds table 'runs'" "postgresql://tfb:$pw@127.0.0.1:$port/other"
bench -o "$tmp/n.json" --db "postgresql://tfb:$pw@127.0.0.1:$port/newer" >/dev/null 2>&1 || fail "bench into newer"
export PGPASSWORD=$pw
sql newer "UPDATE tfbench_schema SET version = 99"
newer_runs=$(sql newer "SELECT COUNT(*) FROM tfb_runs")
unset PGPASSWORD
bad newer "schema version 99 is newer than this tfbench understands (1)" "postgresql://tfb:$pw@127.0.0.1:$port/newer"
export PGPASSWORD=$pw
[ "$(sql tfbench "SELECT COUNT(*) FROM tfb_runs")" = "$runs_before" ] || fail "a failed run wrote to tfbench"
[ "$(count other)" = 1 ] || fail "tfbench created tables in another tool's database"
[ "$(sql newer "SELECT COUNT(*) FROM tfb_runs")" = "$newer_runs" ] || fail "a run was written into the newer schema"
unset PGPASSWORD
finish postgres_e2e
