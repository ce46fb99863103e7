#!/usr/bin/env bash
# The demo lab: network namespaces vxdemo-{sw,n1,n2,client} on one bridge.
#   scripts/lab.sh up      create it and start a vrrp_exporter on n1 and n2
#   scripts/lab.sh down    stop the daemons and delete the namespaces
#   scripts/lab.sh status  where the virtual address is
# Addresses are documentation prefixes only (RFC 5737): nodes 192.0.2.11
# and .12, client .100, virtual address 192.0.2.200. Nothing leaves the
# namespaces. The two exporters are also on the host's localhost,
# http://127.0.0.1:9687 (n1) and :9688 (n2), through socat: it listens on
# the host's loopback and connects to the node's own 127.0.0.1:9687 from
# inside the node's namespace, so no lab address is routed to the host.
set -euo pipefail
cd "$(dirname "$0")/.."
P=vxdemo-
STATE=/run/vxdemo
BIN=$(pwd)/build/daemon/vrrp_exporter
VIP=192.0.2.200

ns() { ip netns exec "$P$1" "${@:2}"; }

down() {
  for f in "$STATE"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    # Only a process we started: its command line names our binary or, for
    # the forwarders, socat.
    if grep -qaE "vrrp_exporter|socat" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  for n in sw n1 n2 client; do ip netns del "$P$n" 2>/dev/null || true; done
}

start_node() {  # start_node N PRIORITY
  mkdir -p "$STATE"
  cat >"$STATE/n$1.yml" <<YAML
instances:
  - name: demo
    interface: eth0
    vrid: 51
    priority: $2
    advert_interval: 100ms
    virtual_ipaddresses: [$VIP/24]
YAML
  # `ip netns exec` execs the daemon, so $! is the daemon's own PID.
  ip netns exec "${P}n$1" "$BIN" --config.file "$STATE/n$1.yml" \
    >>"$STATE/n$1.log" 2>&1 </dev/null &
  echo $! >"$STATE/n$1.pid"
}

forward() {  # forward N HOST_PORT: node N's exporter on 127.0.0.1:HOST_PORT
  if ss -Hltn "sport = :$2" | grep -q .; then
    echo "lab.sh: 127.0.0.1:$2 is in use; n$1's exporter is only inside ${P}n$1" >&2
    return 0
  fi
  socat "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:ip netns exec ${P}n$1 socat STDIO TCP\:127.0.0.1\:9687" \
    </dev/null >>"$STATE/forward-n$1.log" 2>&1 &
  echo $! >"$STATE/forward-n$1.pid"
}

up() {
  if ip netns list | grep -q "^${P}"; then
    echo "lab.sh: the lab is already up (scripts/lab.sh down first)" >&2
    exit 1
  fi
  trap 'down' ERR
  ip netns add "${P}sw"
  ns sw ip link add br0 type bridge
  ns sw ip link set br0 type bridge mcast_snooping 0
  ns sw ip link set br0 up
  i=0
  for n in n1 n2 client; do
    i=$((i + 1))
    ip netns add "$P$n"
    ns "$n" ip link set lo up
    ip -n "${P}sw" link add "sw-$n" type veth peer name eth0 netns "$P$n"
    ns sw ip link set "sw-$n" master br0 up
    ns "$n" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
    ns "$n" ip link set eth0 up
  done
  ns n1 ip addr add 192.0.2.11/24 dev eth0
  ns n2 ip addr add 192.0.2.12/24 dev eth0
  ns client ip addr add 192.0.2.100/24 dev eth0
  start_node 1 100
  start_node 2 200
  forward 1 9687
  forward 2 9688
  trap - ERR
}

where() {
  for n in n1 n2; do
    if ns "$n" ip -o addr show dev eth0 2>/dev/null | grep -q " $VIP/"; then
      echo "$n"
      return
    fi
  done
  echo none
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) echo "virtual address $VIP is on: $(where)" ;;
  where) where ;;
  start) start_node "$2" "$3" ;;  # start N PRIORITY (used by demo.sh)
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
