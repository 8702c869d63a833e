#!/usr/bin/env bash
# Build the seed corpus of the fuzz targets in fuzz/corpus/<target>/ (not
# committed): the bundled scenarios, the malformed and fixture scenarios,
# the small seeds in fuzz/seeds/, and shard files and run folders that
# eosim itself writes. Usage: bash scripts/fuzz-corpus.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
if [[ -d $corpus/replay_folder && ${1:-} != --force ]]; then
  echo "fuzz corpus already in $corpus (--force rebuilds it)"
  exit 0
fi
rm -rf "$corpus"
mkdir -p "$corpus"/{scenario_parse,scenario_run,merge_shard,replay_folder}

# The separator the targets cut an input at into files (fuzz/src/lib.rs).
sep=$'\n%%%%\n'
# Copy each file into a corpus folder under a name unique across sources.
add() {
  local target=$1; shift
  local f
  for f in "$@"; do
    [[ -f $f ]] && cp "$f" "$corpus/$target/$(echo "$f" | tr '/' '_')"
  done
  return 0
}

shopt -s nullglob globstar
valid=(scenarios/**/*.ron tests/fixtures/*.ron)
add scenario_parse "${valid[@]}" tests/malformed/*.ron fuzz/seeds/scenario/*
add scenario_run "${valid[@]}" fuzz/seeds/scenario/*
add merge_shard fuzz/seeds/shard/*
add replay_folder fuzz/seeds/replay/*

cargo build --release --quiet --bin eosim
eosim=target/release/eosim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Shard files of small sweeps: each shard alone, and the complete sets as
# one input (the files cut at the separator).
for s in scenarios/01-*.ron scenarios/05-*.ron scenarios/13-*.ron scenarios/21-*.ron tests/fixtures/m2-*.ron; do
  name=$(basename "$s" .ron)
  for n in 1 2 3; do
    out=$work/shards-$name-$n
    for ((i = 0; i < n; i++)); do
      "$eosim" sweep "$s" --seeds 0..12 --shard "$i/$n" --jobs 1 --progress none \
        --out "$out" >/dev/null 2>&1 || true
    done
    files=("$out"/*/shard-*.json)
    ((${#files[@]} == n)) || continue
    cp "${files[0]}" "$corpus/merge_shard/$name-shard-0-of-$n.json"
    {
      for ((i = 0; i < n; i++)); do
        ((i > 0)) && printf '%s' "$sep"
        cat "${files[$i]}"
      done
    } >"$corpus/merge_shard/$name-all-$n-shards"
  done
done

# Run folders of small runs: verdict.json, scenario.ron, repro.txt and
# events.txt as one input.
for s in scenarios/01-*.ron scenarios/05-*.ron scenarios/08-*.ron scenarios/09-*.ron \
  scenarios/12-*.ron scenarios/16-*.ron scenarios/20-*.ron scenarios/23-*.ron \
  scenarios/27-*.ron scenarios/30-*.ron tests/fixtures/*.ron; do
  name=$(basename "$s" .ron)
  out=$work/runs-$name
  "$eosim" run "$s" --report --no-shrink --out "$out" >/dev/null 2>&1 || true
  for dir in "$out"/*/*-s*/; do
    [[ -f $dir/verdict.json ]] || continue
    {
      cat "$dir/verdict.json"
      printf '%s' "$sep"
      cat "$dir/scenario.ron"
      printf '%s' "$sep"
      cat "$dir/repro.txt"
      printf '%s' "$sep"
      cat "$dir/events.txt"
    } >"$corpus/replay_folder/$name"
    cp "$dir/scenario.ron" "$corpus/scenario_parse/$name-resolved.ron"
    cp "$dir/scenario.ron" "$corpus/scenario_run/$name-resolved.ron"
  done
done

for t in "$corpus"/*/; do
  echo "$(basename "$t"): $(find "$t" -type f | wc -l) files, $(du -sh "$t" | cut -f1)"
done
