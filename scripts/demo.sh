#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo: two vrrp_exporter
# speakers and a client in network namespaces (scripts/lab.sh), a crash of
# the master and a graceful handover, with the client's outage measured from
# pings every 10 ms. The lab stays up afterwards; `scripts/lab.sh down`
# removes it. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target vrrp_exporter
./scripts/lab.sh down
./scripts/lab.sh up
STATE=/run/vxdemo
VIP=192.0.2.200
ns() { ip netns exec "vxdemo-$1" "${@:2}"; }

wait_for() {  # wait_for NODE: until the VIP is on NODE (10 s at most)
  for _ in $(seq 200); do
    [ "$(./scripts/lab.sh where)" = "$1" ] && return 0
    sleep 0.05
  done
  echo "demo: the virtual address did not move to $1" >&2
  exit 1
}

# What the client saw in a `ping -D` log: the largest gap between consecutive
# replies (ms) and how many echo requests went unanswered. iputils ping paces
# itself (-i 0.01 sends about every 10-20 ms here), so a gap of 20-25 ms with
# nothing lost is ping's pacing, not an outage; the 1 ms prober of
# bench/failover measures below that.
outage() {
  awk -F'[][]' '/bytes from/ { t = $2 * 1000; if (p) { g = t - p; if (g > m) m = g }; p = t }
                / transmitted, / { split($0, w, " "); lost = w[1] - w[4] }
                END { printf "largest gap between replies %.0f ms, %d of the requests unanswered", m, lost }' "$1"
}


echo
echo "== Two speakers (VRRPv3, 100 ms advertisements): n1 priority 100, n2 priority 200"
wait_for n2
echo "   master: n2 holds $VIP"

echo
echo "== Crash: SIGKILL the daemon on n2 and cut n2's link (a dead host)"
# The client pings the VIP every 10 ms, with timestamps (-D).
ns client ping -D -n -i 0.01 -w 4 -W 1 "$VIP" >"$STATE/ping-crash.log" 2>&1 &
pinger=$!
sleep 1
kill -KILL "$(cat "$STATE/n2.pid")"
ip -n vxdemo-sw link set sw-n2 down
wait_for n1
wait "$pinger" || true
echo "   master: n1. Client: $(outage "$STATE/ping-crash.log")"
echo "   (Master_Down_Interval at priority 100 and 100 ms: 360.9 ms)"
grep -h "Backup -> Master" "$STATE/n1.log" | tail -1 | sed 's/^/   n1: /'

echo
echo "== n2 comes back and preempts"
# After a crash the dead daemon's addresses are still configured: a rebooted
# host would not have them.
ns n2 ip addr del "$VIP/24" dev eth0 2>/dev/null || true
ip -n vxdemo-sw link set sw-n2 up
./scripts/lab.sh start 2 200
wait_for n2
echo "   master: n2"

echo
echo "== Graceful stop of n2 (SIGTERM; hitless: it keeps the address until n1 is heard)"
sleep 1
ns client ping -D -n -i 0.01 -w 3 -W 1 "$VIP" >"$STATE/ping-graceful.log" 2>&1 &
pinger=$!
sleep 1
kill -TERM "$(cat "$STATE/n2.pid")"
wait_for n1
wait "$pinger" || true
echo "   master: n1. Client: $(outage "$STATE/ping-graceful.log")"
echo "   (ping paces itself at 10-20 ms: a gap of that size with none unanswered is no outage)"
grep -h "all instances released" "$STATE/n2.log" | tail -1 | sed 's/^/   n2: /'

echo
echo "== What n1's exporter says (http://localhost:9687/metrics, forwarded into vxdemo-n1)"
sleep 0.3
curl -s http://127.0.0.1:9687/metrics |
  grep -E '^vrrp_instance_(state|in_state\{.*master|address_present|failover_seconds_(count|sum))|^vrrp_instance_transitions_total' |
  sed 's/^/   /'

echo
echo "The lab is still running: n1 is master, n2 is stopped."
echo "  n1:        http://localhost:9687/ (landing page), /metrics, /api/v1/status"
echo "  n2:        http://localhost:9688/ (answers again once you run: ./scripts/lab.sh start 2 200)"
echo "  logs:      $STATE/n1.log $STATE/n2.log"
echo "  where:     ./scripts/lab.sh status"
echo "  tear down: ./scripts/lab.sh down"
