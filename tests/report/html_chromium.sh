#!/bin/sh
# The suite's report.html in headless Chromium: it loads without a console message, every figure is
# inlined and laid out with a size, and it needs no other file. The checks are shown to catch a
# planted console error and a figure that does not render.
# usage: html_chromium.sh TFBENCH WORKDIR   (exit 77, skipped, without chromium)
set -u
cli=$1 dir=$2
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "chromium not installed (Debian chromium): skipped"; exit 77; }
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
"$cli" --quick --backend reference --model gpt2-tiny -r 1 -o "$dir/out" >"$dir/suite.out" 2>"$dir/suite.err" ||
    fail "suite: $(cat "$dir/suite.err")"
html=$dir/out/report.html
# render: prints the DOM after load to stdout, the page's console messages (CONSOLE) to stderr;
# as root Chromium needs --no-sandbox
render() {
    HOME=$dir timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
        --user-data-dir="$dir/profile" --dump-dom "file://$(realpath "$1")" >"$2.dom" 2>"$2.log"
}
check() { # FILE NAME: 0 when it renders clean with every figure shown
    render "$1" "$dir/$2" || { echo "chromium exited $?"; return 1; }
    if grep -E "CONSOLE|Uncaught" "$dir/$2.log"; then return 1; fi
    n=$(grep -c '<figure class="tfb-fig"' "$1")
    grep -q "data-figures=\"$n/$n\"" "$dir/$2.dom" || { grep -o 'data-figures="[^"]*"' "$dir/$2.dom"; return 1; }
}
svgs=$(ls "$dir/out/report/"*.svg | wc -l)
[ "$svgs" -ge 4 ] || fail "only $svgs SVG figures"
[ "$(grep -c '<figure class="tfb-fig"' "$html")" -eq "$svgs" ] || fail "not every SVG is inlined"
check "$html" page || fail "report.html does not render clean with every figure"
# self-contained: nothing loaded from beside it (in-page #anchors only)
grep -Eq '(src|href)="[^"#]' "$html" && fail "report.html refers to other files"
# conformance failures come before the matrix, figures after the headline table
[ "$(grep -n 'id="failures"' "$html" | cut -d: -f1)" -lt "$(grep -n 'Conformance (worst' "$html" | cut -d: -f1)" ] ||
    fail "failures are not first"
# the checker catches a console error and a figure that is not shown
sed 's|</body>|<script>console.error("planted")</script></body>|' "$html" >"$dir/planted-console.html"
check "$dir/planted-console.html" planted-console >/dev/null && fail "a console error went unnoticed"
sed '0,/<figure class="tfb-fig"/s|<figure class="tfb-fig"|<figure class="tfb-fig" style="display:none"|' "$html" \
    >"$dir/planted-hidden.html"
check "$dir/planted-hidden.html" planted-hidden >/dev/null && fail "a hidden figure went unnoticed"
echo ok
