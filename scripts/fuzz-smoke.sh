#!/usr/bin/env bash
# A short fuzz pass for .ci/run: with a nightly toolchain and cargo fuzz,
# each target of fuzz/ runs FUZZ_SECONDS (default 15) on the corpus of
# scripts/fuzz-corpus.sh; without them, the proptest properties that
# mirror the targets run with PROPTEST_CASES (default 2000) cases instead.
# FUZZ_SMOKE=properties runs the properties even where cargo fuzz is
# installed (the fuzz targets' first build takes a few minutes). A crash,
# a panic or a failed property fails the pass.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}
targets=(scenario_parse scenario_run merge_shard replay_folder)

if [[ ${FUZZ_SMOKE:-} == properties ]] ||
  ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz smoke: no nightly toolchain or cargo fuzz here (or FUZZ_SMOKE=properties); running the proptest properties instead"
  PROPTEST_CASES=${PROPTEST_CASES:-2000} cargo test --test properties
  exit 0
fi

bash scripts/fuzz-corpus.sh
# Release with debug assertions and overflow checks; no sanitizer (the
# workspace forbids unsafe code).
flags=(-O -a -s none)
(cd fuzz && cargo +nightly fuzz build "${flags[@]}")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  # The target's stdout and stderr are closed (replay prints on every
  # run); libFuzzer still reports. A crash exits non-zero and leaves its
  # input in fuzz/artifacts/<target>/.
  if ! (cd fuzz && cargo +nightly fuzz run "${flags[@]}" "$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
    -print_final_stats=1) >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz smoke: $t failed (its input is in fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz smoke: $t: ${runs:-?} runs in ${seconds}s, no crash"
done
