#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   1. the normal build (g++), every ctest test;
#   2. the AddressSanitizer + UndefinedBehaviorSanitizer build, every test but
#      the interop ones (label interop: Keepalived's and FRR's behaviour, with
#      code paths of ours that the other lab tests run under the sanitizers
#      too; ~2 minutes of the CI budget);
#   3. the libFuzzer target (clang), for a bounded time (FUZZ_SECONDS);
#   4. a fixed sample of the mutants of scripts/mutants/ (scripts/mutation.sh
#      --sample, its own build directory, 2-4 minutes): each must be killed,
#      so the mutation score cannot fall silently. Each mutant counts as one
#      test in the summary.
# Needs root (apt-get; later milestones' network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${FUZZ_SECONDS:-60}
jobs=$(nproc)

./scripts/install-deps.sh

passed=0
failed=0
run_ctest() {  # run_ctest BUILD_DIR LABEL [CTEST ARGS...]
  local log="$1/ctest.log"
  local dir=$1 what=$2
  shift 2
  set +e
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs" "$@" \
    2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  if [ -n "$line" ]; then
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + t - f))
    failed=$((failed + f))
  fi
  if [ "$rc" -ne 0 ]; then
    echo "test.sh: $what tests failed (ctest exit $rc)" >&2
    [ "$failed" -gt 0 ] || failed=1
  fi
}

echo "== normal build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
run_ctest build normal

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVRRP_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan sanitizer -LE interop

echo "== fuzzing the receive path for ${fuzz_seconds}s"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVRRP_FUZZ=ON -DVRRP_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target decode_fuzzer
if "$root/scripts/fuzz.sh" build-fuzz "$fuzz_seconds"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "== mutation sample (scripts/mutation.sh --sample)"
mkdir -p build-mutation-sample
set +e
"$root/scripts/mutation.sh" --sample -j "$jobs" 2>&1 | tee build-mutation-sample/run.log
mutation_rc=${PIPESTATUS[0]}
set -e
mutation_line=$(grep -E '^mutation: [0-9]+ killed' build-mutation-sample/run.log | tail -1 || true)
if [ -n "$mutation_line" ]; then
  read -r killed survived broken < <(sed -E \
    's/^mutation: ([0-9]+) killed, ([0-9]+) survived, [0-9]+ equivalent, ([0-9]+) broken.*/\1 \2 \3/' \
    <<<"$mutation_line")
  passed=$((passed + killed))
  failed=$((failed + survived + broken))
fi
if [ "$mutation_rc" -ne 0 ] && { [ -z "$mutation_line" ] || [ "$((survived + broken))" -eq 0 ]; }; then
  echo "test.sh: the mutation sample failed (exit $mutation_rc)" >&2
  failed=$((failed + 1))
fi

echo
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
