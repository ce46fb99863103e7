#!/usr/bin/env bash
# Installs the Debian 12 packages this project builds, tests and demos with.
# Idempotent: when every package is already installed it touches nothing and
# does not even refresh the package lists, so it costs well under a second.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries (see README.md, "Dependencies", for why each one is here)
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libmnl-dev
  prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev libssl-dev libcrypt-dev
  libcurl4-openssl-dev
  zlib1g-dev
  # SNMP: the client and AgentX libraries (snmp/), and the real peers of the
  # SNMP tests and benchmark: snmpd (AgentX master), snmpwalk, snmptrapd and
  # prometheus-snmp-exporter (the incumbent in bench/snmp/)
  libsnmp-dev snmpd snmp snmptrapd prometheus-snmp-exporter
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # network labs: namespaces, captures, the Keepalived and FRR peers
  iproute2 iputils-ping tcpdump keepalived frr procps
  # the demo: its exporters forwarded to the host's localhost
  socat
  # exporter tests: a real Prometheus (promtool too), curl, openssl
  prometheus curl openssl
  # deployment files checked offline: docker-compose config, YAML
  docker-compose python3 python3-yaml
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# frr's (and keepalived's) maintainer scripts start and enable their system
# service through invoke-rc.d. The tests start their own daemons inside
# namespaces and want no host FRR or Keepalived, so for the install a
# policy-rc.d forbids any service action (101, see
# /usr/share/doc/init-system-helpers/README.policy-rc.d.gz); it goes again on
# every exit path unless it was already there.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# install-deps.sh: no service starts during the install\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# These packages also enable a system service (for the next boot); the project
# starts its own Keepalived, FRR, snmpd and snmp_exporter processes (inside
# test namespaces or on 127.0.0.1 ports chosen at run time) and never wants
# the host ones.
for svc in keepalived frr snmpd snmptrapd prometheus-snmp-exporter; do
  if dpkg-query -W "$svc" >/dev/null 2>&1 && command -v systemctl >/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
