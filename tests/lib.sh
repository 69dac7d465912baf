# Shared by the CLI test scripts (bash): source it after setting tfb to the tfbench binary.
#   fail MSG                          count a failure and say it
#   expect_error CODE PATTERN -- ARGS  run "$tfb" ARGS: exit code CODE and exactly one stderr line
#                                     "tfbench: $err_prefix..." matching PATTERN (err_prefix: "" or e.g.
#                                     "opencl: " to pin the component that reports it)
#   finish NAME                       print the count and exit non-zero on any failure
# Each script gets its own scratch directory in $tmp, removed on exit.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
err_prefix=${err_prefix:-}
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

expect_error() {
  local code=$1 pat=$2; shift 3
  "$tfb" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "'$*' printed $(wc -l <"$tmp/err") stderr lines: $(cat "$tmp/err")"
  grep -q "^tfbench: $err_prefix.*$pat" "$tmp/err" || fail "'$*' stderr '$(cat "$tmp/err")' does not match '$pat'"
}

finish() {
  echo "$1: $fails failure(s)"
  [ "$fails" -eq 0 ]
}
