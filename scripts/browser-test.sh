#!/usr/bin/env bash
# A real browser opens a run's index.html: headless Chromium loads the page
# at #step=N, runs its script, and the dumped DOM must show the state of
# every actor at that step (consumer-1 CRASHED at the crash, running just
# before it). Screenshots of the report and the space-time tab are saved
# for people to look at (default target/browser-test/).
#
# Installs Chromium from the distribution's packages when it is missing
# (Debian/Ubuntu: apt-get; as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir="${SCREENSHOT_DIR:-target/browser-test}"
mkdir -p "$out_dir"

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
  browser=chromium
fi

runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
cargo build -q --bin eosim
target/debug/eosim run scenarios/09-m0-naive-crash-duplicates.ron --report --out "$runs" >/dev/null
dir="$(cd "$runs/latest" && pwd -P)"
page="file://$dir/index.html"

# The step of the crash: its 0-based line in events.jsonl.
crash=$(grep -n '"kind":"crash"' "$dir/events.jsonl" | head -1 | cut -d: -f1)
crash=$((crash - 1))

chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --virtual-time-budget=5000 "$@" 2>/dev/null
}

# The row of `actor` in the state inspector of a dumped DOM.
row() { grep -o "<tr data-actor=\"$2\"[^>]*><td>$2</td><td class=\"up\">[^<]*" "$1"; }

chrome --dump-dom "$page#step=$crash" >"$out_dir/dom-crash.html"
chrome --dump-dom "$page#step=$((crash - 1))" >"$out_dir/dom-before.html"

fail=0
check() { if eval "$2"; then echo "ok    $1"; else echo "FAIL  $1"; fail=1; fi; }
check "the slider shows step $crash" \
  "grep -q '<output id=\"step-now\">$crash</output>' '$out_dir/dom-crash.html'"
check "consumer-1 is CRASHED at step $crash" \
  "row '$out_dir/dom-crash.html' consumer-1 | grep -q 'class=\"[^\"]*down[^\"]*\".*CRASHED'"
check "consumer-1 is running at step $((crash - 1))" \
  "row '$out_dir/dom-before.html' consumer-1 | grep -q 'running'"
check "the broker is running at step $crash" \
  "row '$out_dir/dom-crash.html' broker | grep -q 'running'"
check "the space-time tab is shown, the summary hidden" \
  "grep -q 'id=\"tab-spacetime\" role=\"tabpanel\">' '$out_dir/dom-crash.html' &&
   grep -q 'id=\"tab-summary\" role=\"tabpanel\" hidden' '$out_dir/dom-crash.html'"

chrome --window-size=1280,1000 --screenshot="$out_dir/report.png" "$page" >/dev/null
chrome --window-size=1280,1400 --screenshot="$out_dir/spacetime.png" \
  "$page#step=$crash&tab=spacetime" >/dev/null
chrome --window-size=1280,1000 --screenshot="$out_dir/ledger.png" "$page#tab=ledger" >/dev/null
for shot in report spacetime ledger; do
  check "screenshot $shot.png" "[ -s '$out_dir/$shot.png' ]"
done
if [ "$fail" = 0 ]; then
  echo "screenshots in $out_dir"
  echo "browser: 8 passed, 0 failed"
else
  echo "browser test failed; DOM dumps in $out_dir" >&2
  exit 1
fi
