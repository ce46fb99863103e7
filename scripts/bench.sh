#!/usr/bin/env bash
# Builds and runs the benchmarks under bench/ and prints their figures.
#
#   scripts/bench.sh                      # every benchmark: codec, scrape, failover
#   scripts/bench.sh codec [ARGS...]      # codec_bench (Google Benchmark) only
#   scripts/bench.sh scrape [ARGS...]     # scrape_bench only, e.g. --gzip
#                                         #   --instances=1000 --concurrency=1,4
#   scripts/bench.sh failover [ARGS...]   # failover_bench only, e.g.
#                                         #   --only=graceful --runs=3
#                                         #   --intervals=10ms --verbose
#
# failover_bench needs root (network namespaces, Keepalived, raw sockets);
# it takes about 4 minutes on 2 cores with the default 5 runs per case
# (VB_RUNS=N or --runs=N to change). See bench/failover/README.md.
#
# Environment: BUILD_DIR (default build-bench), VB_RUNS, FAILOVER_ARGS (extra
# failover_bench flags, also for the all-benchmarks run, e.g. --verbose),
# SKIP_DEPS=1 to not run scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-bench}
what=${1:-all}
if [ $# -gt 0 ]; then shift; fi
case "$what" in
  all | codec | scrape | failover) ;;
  *)
    echo "usage: scripts/bench.sh [all|codec|scrape|failover] [ARGS...]" >&2
    exit 2
    ;;
esac
if [ "$what" = all ] && [ $# -gt 0 ]; then
  echo "bench.sh: arguments go with a benchmark name (codec, scrape or failover)" >&2
  exit 2
fi

if [ "$what" != codec ] && [ "$what" != scrape ] && [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: failover_bench needs root (network namespaces); run as root," >&2
  echo "          or 'scripts/bench.sh codec' / 'scrape' for those alone" >&2
  exit 1
fi
if [ "${SKIP_DEPS:-0}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
  ./scripts/install-deps.sh
fi

targets=()
case "$what" in
  all) targets+=(codec_bench scrape_bench failover_bench vrrp_exporter) ;;
  codec) targets+=(codec_bench) ;;
  scrape) targets+=(scrape_bench) ;;
  failover) targets+=(failover_bench vrrp_exporter) ;;
esac
echo "== building ${targets[*]} in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

status=0
if [ "$what" = all ] || [ "$what" = codec ]; then
  echo
  echo "== codec_bench: encode / decode cost per advertisement"
  "$build/bench/codec_bench" "$@" || status=1
fi
if [ "$what" = all ] || [ "$what" = scrape ]; then
  echo
  echo "== scrape_bench: /metrics with 1000 instances (bench/scrape/README.md)"
  if [ "$what" = all ]; then
    "$build/bench/scrape_bench" || status=1
    "$build/bench/scrape_bench" --gzip || status=1
  else
    "$build/bench/scrape_bench" "$@" || status=1
  fi
fi
if [ "$what" = all ] || [ "$what" = failover ]; then
  echo
  echo "== failover_bench: ours vs Keepalived $(keepalived --version 2>&1 | head -1 | awk '{print $2}')"
  # shellcheck disable=SC2086 # FAILOVER_ARGS is a list of flags
  "$build/bench/failover_bench" ${FAILOVER_ARGS:-} "$@" || status=1
fi
exit $status
