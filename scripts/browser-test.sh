#!/usr/bin/env bash
# A real browser opens a run's index.html: headless Chromium loads the page
# at #step=N, runs its script, and the dumped DOM must show the state of
# every actor at that step (consumer-1 CRASHED at the crash, running just
# before it). Then, for one lesson of each family (the seeds' protocol,
# transactions, leases), a story step is clicked: the slider must move to
# its event, the address must say #step=N, the state inspector must show
# the state events.jsonl records for every actor at that step, and the
# page opened afresh at that address must show the same. Screenshots at
# 1400 and 400 px are saved for people to look at (default
# target/browser-test/).
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
# The last step before the crash's handler began (its earlier events carry
# "handler_ends":<crash>: they show the states the handler leaves).
before=$((crash - 1))
while sed -n "$((before + 1))p" "$dir/events.jsonl" | grep -q "\"handler_ends\":$crash[,}]"; do
  before=$((before - 1))
done

chrome() {
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --virtual-time-budget=5000 "$@" 2>/dev/null
}

# The row of `actor` in the state inspector of a dumped DOM.
row() { grep -o "<tr data-actor=\"$2\"[^>]*><td>$2</td><td class=\"up\">[^<]*" "$1"; }

chrome --dump-dom "$page#step=$crash" >"$out_dir/dom-crash.html"
chrome --dump-dom "$page#step=$before" >"$out_dir/dom-before.html"

fail=0
passed=0
check() {
  if eval "$2"; then echo "ok    $1"; passed=$((passed + 1)); else echo "FAIL  $1"; fail=1; fi
}
check "the slider shows step $crash" \
  "grep -q '<output id=\"step-now\">$crash</output>' '$out_dir/dom-crash.html'"
check "consumer-1 is CRASHED at step $crash" \
  "row '$out_dir/dom-crash.html' consumer-1 | grep -q 'class=\"[^\"]*down[^\"]*\".*CRASHED'"
check "consumer-1 is running at step $before, before the handler that crashes" \
  "row '$out_dir/dom-before.html' consumer-1 | grep -q 'running'"
check "the broker is running at step $crash" \
  "row '$out_dir/dom-crash.html' broker | grep -q 'running'"
check "the space-time tab is shown, the summary hidden" \
  "grep -q 'id=\"tab-spacetime\" role=\"tabpanel\">' '$out_dir/dom-crash.html' &&
   grep -q 'id=\"tab-summary\" role=\"tabpanel\" hidden' '$out_dir/dom-crash.html'"

# Click story step `$2` (0-based) of the run in folder `$1` inside a frame,
# check what the page shows against events.jsonl, and print the verdict
# lines of the check page (`ok …` or `FAIL …`).
click_story() {
  local dir="$1" nth="$2" probe="$1/story-probe.html"
  cat >"$probe" <<'PROBE'
<!doctype html><meta charset="utf-8"><body><pre id="out"></pre>
<iframe id="run" src="index.html" width="1400" height="900"></iframe>
<iframe id="again" width="1400" height="900"></iframe>
<script>
var out = [];
function say(ok, what) { out.push((ok ? "ok    " : "FAIL  ") + what); }
function done() { document.getElementById("out").textContent = out.join("\n") + "\nEND"; }
// The state events.jsonl records for each actor at `step`: the latest at
// or before the end of its handler (`handler_ends`, for an event inside one).
function recorded(step) {
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "events.jsonl", false);
  xhr.send();
  var lines = xhr.responseText.split("\n").filter(function (l) { return l; }).map(JSON.parse);
  var at = lines[step] && lines[step].handler_ends !== undefined ? lines[step].handler_ends : step;
  var states = {};
  lines.forEach(function (e) {
    if (e.step > at || !e.state) { return; }
    Object.keys(e.state).forEach(function (k) { states[k] = e.state[k]; });
  });
  return states;
}
function inspector(doc) {
  var shown = {};
  doc.querySelectorAll("#states tbody tr").forEach(function (tr) {
    shown[tr.dataset.actor] = {
      up: tr.querySelector(".up").textContent,
      durable: tr.querySelector(".durable").textContent,
      volatile: tr.querySelector(".volatile").textContent
    };
  });
  return shown;
}
function compare(doc, step, where) {
  var want = recorded(step), got = inspector(doc), bad = [];
  Object.keys(got).forEach(function (actor) {
    var w = want[actor], g = got[actor];
    if (!w) { if (g.up !== "not started") { bad.push(actor + " should be not started"); } return; }
    var up = w.up ? "running" : "CRASHED";
    var vol = w.volatile === null ? "— (lost in the crash)" : w.volatile;
    if (g.up !== up || g.durable !== w.durable || g.volatile !== vol) {
      bad.push(actor + ": shown " + JSON.stringify(g) + ", recorded " + JSON.stringify(w));
    }
  });
  say(bad.length === 0, where + ": the inspector shows the recorded state of every actor at step " + step +
      (bad.length ? " (" + bad.join("; ") + ")" : ""));
}
var run = document.getElementById("run");
run.onload = function () {
  var doc = run.contentDocument, win = run.contentWindow;
  // A story step's first line (a long step wraps onto more links).
  var links = Array.prototype.filter.call(doc.querySelectorAll(".story a.story-step"),
    function (a) { return /^\s*\d+\. /.test(a.textContent); });
  var link = links[Math.min(NTH, links.length - 1)];
  if (!link) { say(false, "the story has step links"); done(); return; }
  doc.querySelector('nav button[data-tab="explanation"]').click();
  link.click();
  var step = Number(link.dataset.step);
  say(doc.getElementById("step-now").textContent === String(step), "clicking story step '" +
      link.textContent.trim().replace(/\s+/g, " ").slice(0, 60) + "' moves the slider to step " + step);
  say(win.location.hash === "#step=" + step + "&tab=explanation", "the address says " + win.location.hash);
  say(link.classList.contains("current"), "the story step is highlighted");
  compare(doc, step, "after the click");
  var again = document.getElementById("again");
  again.onload = function () {
    var d2 = again.contentDocument;
    say(d2.getElementById("step-now").textContent === String(step), "the page opened at " +
        win.location.hash + " shows step " + step);
    compare(d2, step, "opened afresh");
    done();
  };
  again.src = "index.html" + win.location.hash;
};
</script>
PROBE
  sed -i "s/NTH/$nth/" "$probe"
  chrome --allow-file-access-from-files --dump-dom "file://$probe" |
    sed -n '/<pre id="out">/,/END/p' | sed 's/.*<pre id="out">//; /END/d; s/&amp;/\&/g'
}

# One lesson of each family: its story step $2 is clicked.
for lesson in "09-m0-naive-crash-duplicates 4" "36-m7-pre890-late-abort-tears-a-transaction 5" \
              "46-m12-lease-alone-lets-the-zombie-write 3"; do
  set -- $lesson
  target/debug/eosim run "scenarios/$1.ron" --report --out "$runs/$1" >/dev/null || true
  ldir="$(cd "$runs/$1/latest" && pwd -P)"
  result="$(click_story "$ldir" "$2")"
  echo "$result" | sed "s/^\(ok    \|FAIL  \)/\1$1: /"
  if [ -z "$result" ] || echo "$result" | grep -q '^FAIL'; then fail=1; fi
  passed=$((passed + $(echo "$result" | grep -c '^ok' || true)))
  step=$(grep -o 'moves the slider to step [0-9]*' <<<"$result" | grep -o '[0-9]*$' || echo 0)
  for width in 1400 400; do
    chrome --window-size="$width",1000 --screenshot="$out_dir/$1-$width.png" \
      "file://$ldir/index.html#step=$step&tab=explanation" >/dev/null
    check "screenshot $1-$width.png" "[ -s '$out_dir/$1-$width.png' ]"
  done
done

chrome --window-size=1280,1000 --screenshot="$out_dir/report.png" "$page" >/dev/null
chrome --window-size=1280,1400 --screenshot="$out_dir/spacetime.png" \
  "$page#step=$crash&tab=spacetime" >/dev/null
chrome --window-size=1280,1000 --screenshot="$out_dir/ledger.png" "$page#tab=ledger" >/dev/null
for shot in report spacetime ledger; do
  check "screenshot $shot.png" "[ -s '$out_dir/$shot.png' ]"
done
if [ "$fail" = 0 ]; then
  echo "screenshots in $out_dir"
  echo "browser: $passed passed, 0 failed"
else
  echo "browser test failed; DOM dumps in $out_dir" >&2
  exit 1
fi
