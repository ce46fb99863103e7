#!/usr/bin/env bash
# Regenerates the exporter's golden files (test/exporter/golden/*.prom) after
# a deliberate change to the exposition. The golden tests only ever read
# them: each run leaves what it produced in BUILD/test/exporter/golden-actual/,
# and this script builds and runs the tests, copies that output over the
# golden files, runs the tests again (they must pass now) and shows the diff
# to review before committing.
#   scripts/update-golden.sh [BUILD_DIR]        (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tests=(speaker_collector_test tracker_metrics_test keepalived_collector_test)
filter='*MatchesTheGoldenExposition*'

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target "${tests[@]}"
actual="$build/test/exporter/golden-actual"
rm -rf "$actual"
for t in "${tests[@]}"; do
  # Fails while the golden file differs: that is what is being updated.
  "$build/test/$t" --gtest_filter="$filter" --gtest_brief=1 >/dev/null || true
done
shopt -s nullglob
produced=("$actual"/*.prom)
if [ ${#produced[@]} -eq 0 ]; then
  echo "update-golden.sh: the tests produced nothing in $actual" >&2
  exit 1
fi
for f in "${produced[@]}"; do
  cp "$f" test/exporter/golden/
  echo "updated test/exporter/golden/$(basename "$f")"
done
for t in "${tests[@]}"; do
  "$build/test/$t" --gtest_filter="$filter" --gtest_brief=1
done
git --no-pager diff --stat -- test/exporter/golden/ || true
