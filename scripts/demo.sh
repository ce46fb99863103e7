#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo.
#
# Today the demo is the VRRP core on a simulated LAN (vrrp_sim): the real
# packet codec and RFC 5798 state machine, three routers, an election, a
# crash, preemption and graceful stops, on a deterministic clock. The
# network-namespace lab with the Linux speaker replaces it when that lands.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target vrrp_sim vrrp_exporter
echo
./build/test/vrrp_sim "$@"
echo
echo "The same at 10 ms advertisements: ./build/test/vrrp_sim --interval-ms 10"
echo "Check a configuration:              ./build/daemon/vrrp_exporter --config.check examples/config.yml"
