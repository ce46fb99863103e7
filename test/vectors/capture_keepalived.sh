#!/usr/bin/env bash
# Regenerate the keepalived known-answer VRRP test vectors.
#
# Runs keepalived as a lone VRRP MASTER inside two throw-away network
# namespaces joined by a veth pair, captures its advertisements with tcpdump,
# and converts the captures into test/vectors/keepalived_<version>.txt plus
# one raw .pcap per run. Every decoded field is checked against the
# configuration that produced it and every checksum is verified; the script
# fails rather than write a vector it cannot explain.
#
# Usage (as root):  test/vectors/capture_keepalived.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to the directory holding this script.
#   KEEPALIVED=/path/to/keepalived and TCPDUMP=/path/to/tcpdump override the
#   binaries.
#
# Needs: keepalived (built with VRRP), tcpdump, iproute2, python3 (stdlib
# only). Traffic never leaves the namespaces; only documentation prefixes
# (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) and link-local addresses are
# used. Namespaces, processes and the temp dir are removed on every exit path.

set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=$(cd "${1:-$SCRIPT_DIR}" && pwd)
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
TCPDUMP=${TCPDUMP:-$(command -v tcpdump || echo /usr/bin/tcpdump)}

# Fixed, documentation-only addressing so that regenerated payloads are
# byte-identical from run to run. The MAC pins the EUI-64 link-local source
# address used for IPv6 (02:00:5e:00:53:01 -> fe80::5eff:fe00:5301).
SPEAKER_IF=veth0
PEER_IF=veth1
SPEAKER_MAC=02:00:5e:00:53:01
PEER_MAC=02:00:5e:00:53:02
SPEAKER_V4=192.0.2.1
PEER_V4=192.0.2.2
SPEAKER_V6=2001:db8::1
PEER_V6=2001:db8::2
SPEAKER_LL=fe80::5eff:fe00:5301

if [[ $(id -u) -ne 0 ]]; then
  echo "$0: must run as root (network namespaces)" >&2
  exit 1
fi
for bin in "$KEEPALIVED" "$TCPDUMP" ip python3; do
  command -v "$bin" >/dev/null || { echo "$0: $bin not found" >&2; exit 1; }
done

# No `| head` pipelines anywhere: with pipefail, SIGPIPE in the writer would
# abort the script. Capture whole outputs and match them in bash instead.
KA_VERSION_OUT=$("$KEEPALIVED" --version 2>&1 || true)
KA_VERSION_LINE=${KA_VERSION_OUT%%$'\n'*}
KA_VERSION=
if [[ $KA_VERSION_LINE =~ ^Keepalived\ v([0-9][0-9.]*) ]]; then
  KA_VERSION=${BASH_REMATCH[1]}
fi
if [[ -z $KA_VERSION ]]; then
  echo "$0: cannot determine keepalived version" >&2
  exit 1
fi
ID_PREFIX="ka${KA_VERSION//./}"           # e.g. ka227
VECTORS="$OUT_DIR/keepalived_${KA_VERSION}.txt"

PFX="vxcap$$-"
NS_SPK="${PFX}spk"   # keepalived + tcpdump live here
NS_PEER="${PFX}peer" # the other end of the veth, otherwise idle
WORK=$(mktemp -d "/tmp/vxcap$$.XXXXXX")
STAGE="$WORK/out" # results land here; copied to OUT_DIR only if all succeed
mkdir -p "$STAGE"
STARTED_PIDS=()

log() { printf '[capture] %s\n' "$*" >&2; }

# Kill a PID we started, politely then firmly.
stop_pid() {
  local pid=$1 sig=${2:-TERM} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid ns
  set +e
  trap - EXIT INT TERM HUP
  for pid in "${STARTED_PIDS[@]}"; do
    stop_pid "$pid"
  done
  # Anything still inside our own namespaces (keepalived children) is ours.
  for ns in "$NS_SPK" "$NS_PEER"; do
    if [[ -e /run/netns/$ns ]]; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        stop_pid "$pid"
      done
      ip netns del "$ns" 2>/dev/null
    fi
  done
  rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

in_spk() { ip netns exec "$NS_SPK" "$@"; }
in_peer() { ip netns exec "$NS_PEER" "$@"; }

setup_namespaces() {
  local ns
  for ns in "$NS_SPK" "$NS_PEER"; do
    ip netns add "$ns"
    # No DAD, so link-local addresses are usable the moment the link is up.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
    ip netns exec "$ns" ip link set lo up
  done
  in_spk ip link add "$SPEAKER_IF" address "$SPEAKER_MAC" type veth \
    peer name "$PEER_IF" address "$PEER_MAC" netns "$NS_PEER"
  in_spk sysctl -qw "net.ipv6.conf.$SPEAKER_IF.accept_dad=0"
  in_peer sysctl -qw "net.ipv6.conf.$PEER_IF.accept_dad=0"
  in_spk ip addr add "$SPEAKER_V4/24" dev "$SPEAKER_IF"
  in_spk ip addr add "$SPEAKER_V6/64" dev "$SPEAKER_IF" nodad
  in_peer ip addr add "$PEER_V4/24" dev "$PEER_IF"
  in_peer ip addr add "$PEER_V6/64" dev "$PEER_IF" nodad
  in_spk ip link set "$SPEAKER_IF" up
  in_peer ip link set "$PEER_IF" up
  local i
  for ((i = 0; i < 50; i++)); do
    local addrs link
    addrs=$(in_spk ip -6 addr show dev "$SPEAKER_IF")
    link=$(in_spk ip link show "$SPEAKER_IF")
    if [[ $addrs == *"inet6 $SPEAKER_LL/64 scope link"* && $addrs != *tentative* &&
      $link == *LOWER_UP* ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "$0: $SPEAKER_IF never got link-local $SPEAKER_LL / carrier" >&2
  in_spk ip addr show dev "$SPEAKER_IF" >&2
  return 1
}

# write_conf FILE VERSION VRID PRIORITY ADVERT_INT AUTH_PASS(or -) EXTRA VIP...
#   EXTRA: "" or "g:KEYWORD" (added to global_defs) or "i:KEYWORD" (added to
#   the vrrp_instance).
write_conf() {
  local file=$1 version=$2 vrid=$3 prio=$4 adv=$5 pass=$6 extra=$7
  shift 7
  {
    echo "global_defs {"
    echo "  router_id vxcap"
    echo "  enable_script_security"
    echo "  script_user root"
    echo "  vrrp_version $version"
    [[ $extra == g:* ]] && echo "  ${extra#g:}"
    echo "}"
    echo "vrrp_instance VI_$vrid {"
    echo "  state MASTER"
    echo "  interface $SPEAKER_IF"
    echo "  virtual_router_id $vrid"
    echo "  priority $prio"
    echo "  advert_int $adv"
    [[ $extra == i:* ]] && echo "  ${extra#i:}"
    if [[ $pass != - ]]; then
      echo "  authentication {"
      echo "    auth_type PASS"
      echo "    auth_pass $pass"
      echo "  }"
    fi
    echo "  virtual_ipaddress {"
    local vip
    for vip in "$@"; do echo "    $vip dev $SPEAKER_IF"; done
    echo "  }"
    echo "}"
  } >"$file"
}

# capture RUN CONF ADVERT_INT: run keepalived until it has been MASTER for a
# few adverts, SIGTERM it (it then sends a priority-0 advert), save the pcap.
capture() {
  local run=$1 conf=$2 adv=$3
  local dir="$WORK/$run" pcap="$STAGE/keepalived_${KA_VERSION}_${run}.pcap"
  mkdir -p "$dir"
  local tmp_pcap="$dir/capture.pcap"

  : >"$dir/tcpdump.log"
  : >"$dir/keepalived.log"
  # Run ip(8) directly (not via the in_spk function) so that $! is the PID
  # that ip netns exec replaces with tcpdump/keepalived itself.
  ip netns exec "$NS_SPK" "$TCPDUMP" -Z root -U -n -i "$SPEAKER_IF" -c 50 -w "$tmp_pcap" \
    'ip proto 112 or ip6 proto 112' 2>"$dir/tcpdump.log" &
  local td_pid=$!
  STARTED_PIDS+=("$td_pid")
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$dir/tcpdump.log" && break
    kill -0 "$td_pid" 2>/dev/null || { cat "$dir/tcpdump.log" >&2; return 1; }
    sleep 0.1
  done

  ip netns exec "$NS_SPK" "$KEEPALIVED" -n -D -l -f "$conf" -p "$dir/keepalived.pid" \
    -r "$dir/vrrp.pid" -c "$dir/checkers.pid" >"$dir/keepalived.log" 2>&1 &
  local ka_pid=$!
  STARTED_PIDS+=("$ka_pid")

  local master=0
  for ((i = 0; i < 200; i++)); do   # up to 20 s
    if grep -q 'Entering MASTER STATE' "$dir/keepalived.log"; then
      master=1
      break
    fi
    kill -0 "$ka_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ((!master)); then
    log "keepalived ($run) never became MASTER; its log:"
    cat "$dir/keepalived.log" >&2
    return 1
  fi
  # Let it send at least three periodic adverts after the transition.
  sleep "$(python3 -c "print(3 * float('$adv') + 0.5)")"

  stop_pid "$ka_pid" TERM      # master -> priority 0 advert on the way out
  sleep 0.5
  stop_pid "$td_pid" INT
  local left
  left=$(ip netns pids "$NS_SPK")
  if [[ -n $left ]]; then
    log "$run: processes still running in $NS_SPK after stop: $left"
    return 1
  fi
  # Surface anything keepalived complained about (it still became MASTER).
  grep -iE 'warn|unknown|invalid|error|deprecat' "$dir/keepalived.log" |
    sed "s/^/[keepalived $run] /" >&2 || true
  cp "$tmp_pcap" "$pcap"
  log "$run: $(python3 -c "import os;print(os.path.getsize('$pcap'))") bytes -> $(basename "$pcap")"
}

# Does this keepalived accept keyword $1 at place $2 (g: global_defs, i:
# vrrp_instance)? Asked through keepalived's config test mode (-t).
keyword_supported() {
  local kw=$1 where=$2 conf="$WORK/probe_$1_$2.conf" out
  write_conf "$conf" 3 99 100 1 - "$where:$kw" "198.51.100.99/24"
  out=$(ip netns exec "$NS_SPK" "$KEEPALIVED" -t -l -f "$conf" -p "$WORK/probe.pid" \
    -r "$WORK/probe_vrrp.pid" -c "$WORK/probe_chk.pid" 2>&1 || true)
  log "keepalived -t with '$kw' in $([[ $where == g ]] && echo global_defs || echo vrrp_instance) says:"
  printf '    %s\n' "${out:-(nothing)}" >&2
  ! grep -q "Unknown keyword '$kw'" <<<"$out"
}

setup_namespaces
log "namespaces $NS_SPK / $NS_PEER ready; $KA_VERSION_LINE"

# Each run: name|vrrp_version|vrid|priority|advert_int|auth_pass or -|EXTRA (see
# write_conf)|VIPs (space separated). Every run is a lone MASTER.
RUNS=(
  "v2_ipv4_pass|2|51|150|1|secret1||198.51.100.10/24 198.51.100.11/24"
  "v2_ipv4_noauth|2|52|200|2|-||198.51.100.12/24"
  "v3_ipv4|3|51|150|1|-||198.51.100.20/24"
  "v3_ipv4_b|3|52|200|0.5|-||198.51.100.21/24 198.51.100.22/24"
  "v3_ipv6|3|51|150|1|-||2001:db8:1::20/64 2001:db8:1::21/64"
  "v3_ipv6_b|3|52|200|0.5|-||fe80::52/64 2001:db8:2::20/64"
)

# A VRRPv3/IPv4 checksum without the pseudo-header, if keepalived can send one.
CKV2_NOTE="v3_checksum_as_v2: unknown keyword to this keepalived (global_defs and vrrp_instance, per keepalived -t); no without-pseudo-header sample captured."
for where in g i; do
  if keyword_supported v3_checksum_as_v2 "$where"; then
    CKV2_NOTE="v3_checksum_as_v2: accepted by this keepalived ($where); run v3_ipv4_ckv2 uses it."
    RUNS+=("v3_ipv4_ckv2|3|53|150|1|-|$where:v3_checksum_as_v2|198.51.100.30/24")
    break
  fi
done
log "$CKV2_NOTE"

SPECS="$WORK/specs.txt"
: >"$SPECS"
for spec in "${RUNS[@]}"; do
  IFS='|' read -r run ver vrid prio adv pass extra vips <<<"$spec"
  conf="$WORK/$run.conf"
  # shellcheck disable=SC2086 # VIPs are intentionally word-split
  write_conf "$conf" "$ver" "$vrid" "$prio" "$adv" "$pass" "$extra" $vips
  capture "$run" "$conf" "$adv"
  echo "$spec" >>"$SPECS"
done

# Convert pcaps to vectors, checking every field against the configuration.
python3 - "$STAGE" "$KA_VERSION" "$ID_PREFIX" "$SPECS" "$STAGE/$(basename "$VECTORS")" \
  "$KA_VERSION_LINE" "$CKV2_NOTE" "$SPEAKER_V4" "$SPEAKER_LL" <<'PY'
import ipaddress
import struct
import sys
from decimal import Decimal

out_dir, ka_version, id_prefix, specs_path, vectors_path, ka_line, ckv2_note, \
    exp_src4, exp_src6 = sys.argv[1:]

MCAST4 = "224.0.0.18"
MCAST6 = "ff02::12"


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file (pcapng unsupported)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"{path}: link type {linktype}, want 1 (Ethernet)")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        yield data[off:off + incl]
        off += incl


def parse_frame(frame):
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 112:
            return None
        return dict(family="ipv4", src=ip[12:16], dst=ip[16:20], ttl=ip[8],
                    payload=ip[ihl:total])
    if ethertype == 0x86DD:
        plen = struct.unpack("!H", ip[4:6])[0]
        if ip[6] != 112:  # keepalived sends no extension headers
            return None
        return dict(family="ipv6", src=ip[8:24], dst=ip[24:40], ttl=ip[7],
                    payload=ip[40:40 + plen])
    return None


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s  # 0xffff when the embedded checksum is correct


def checksum_forms(pkt):
    """Names of every checksum form the packet's checksum verifies under."""
    msg, n = pkt["payload"], len(pkt["payload"])
    forms = []
    if pkt["family"] == "ipv4":
        pseudo = pkt["src"] + pkt["dst"] + bytes([0, 112]) + struct.pack("!H", n)
        if csum(pseudo + msg) == 0xFFFF:
            forms.append("with-pseudo-header")
        if csum(msg) == 0xFFFF:
            forms.append("without-pseudo-header")
    else:
        pseudo = pkt["src"] + pkt["dst"] + struct.pack("!I", n) + bytes([0, 0, 0, 112])
        if csum(pseudo + msg) == 0xFFFF:
            forms.append("with-pseudo-header")
    return forms


def decode(pkt):
    m = pkt["payload"]
    ver, typ = m[0] >> 4, m[0] & 0x0F
    assert typ == 1, f"type {typ}"
    d = dict(version=ver, vrid=m[1], priority=m[2], count=m[3])
    alen = 4 if pkt["family"] == "ipv4" else 16
    body = m[8:]
    addrs = [ipaddress.ip_address(body[i * alen:(i + 1) * alen])
             for i in range(d["count"])]
    d["addrs"] = ",".join(str(a) for a in addrs)
    rest = body[d["count"] * alen:]
    if ver == 2:
        d["auth_type"] = m[4]
        d["interval_cs"] = m[5] * 100
        assert len(rest) == 8, f"v2 auth data length {len(rest)}"
        d["auth_data"] = rest
    else:
        assert m[4] >> 4 == 0, "v3 reserved bits set"
        d["interval_cs"] = struct.unpack("!H", m[4:6])[0] & 0x0FFF
        assert not rest, f"{len(rest)} trailing bytes"
    return d


lines = [
    f"# VRRP advertisements captured from {ka_line}",
    "# Generated by test/vectors/capture_keepalived.sh; do not edit by hand.",
    "# Format: name= family= src= dst= ttl= payload=<VRRP message hex> then the",
    "# expected decode: version= vrid= priority= interval_cs= addrs= auth= checksum=",
    f"# {ckv2_note}",
]
with open(specs_path) as f:
    specs = [l.rstrip("\n") for l in f if l.strip()]

for spec in specs:
    run, ver, vrid, prio, adv, pw, extra, vips = spec.split("|")
    ver, vrid, prio = int(ver), int(vrid), int(prio)
    interval_cs = int(Decimal(adv) * 100)
    exp_addrs = ",".join(str(ipaddress.ip_interface(v).ip) for v in vips.split())
    family = "ipv6" if ":" in vips.split()[0] else "ipv4"
    if ver == 2:
        auth = f"pass:{pw}" if pw != "-" else "none"
        exp_form = "v2"
    elif family == "ipv6" or "v3_checksum_as_v2" not in extra:
        exp_form = "with-pseudo-header"
    else:
        exp_form = "without-pseudo-header"
    if ver == 3:
        auth = "none"

    pcap = f"{out_dir}/keepalived_{ka_version}_{run}.pcap"
    pkts = [p for p in map(parse_frame, read_pcap(pcap)) if p]
    normal = [p for p in pkts if p["payload"][2] != 0]
    stop = [p for p in pkts if p["payload"][2] == 0]
    if len(normal) < 2:
        raise SystemExit(f"{run}: only {len(normal)} adverts captured")
    if any(p["payload"] != normal[0]["payload"] for p in normal):
        raise SystemExit(f"{run}: periodic adverts differ from each other")
    lines.append("")
    lines.append(f"# {run}: vrrp_version {ver}, virtual_router_id {vrid}, priority {prio}, "
                 f"advert_int {adv}, auth {auth}, VIPs {vips}"
                 + (f", {'global_defs' if extra.startswith('g:') else 'vrrp_instance'} "
                    f"{extra[2:]}" if extra else "")
                 + f"; pcap keepalived_{ka_version}_{run}.pcap")
    samples = [("", normal[0], prio)]
    if stop:
        samples.append(("_prio0", stop[0], 0))
    for suffix, pkt, exp_prio in samples:
        name = f"{id_prefix}_{run}{suffix}"
        d = decode(pkt)
        src = str(ipaddress.ip_address(pkt["src"]))
        dst = str(ipaddress.ip_address(pkt["dst"]))
        expect = dict(family=family, src=exp_src4 if family == "ipv4" else exp_src6,
                      dst=MCAST4 if family == "ipv4" else MCAST6, ttl=255,
                      version=ver, vrid=vrid, priority=exp_prio,
                      interval_cs=interval_cs, addrs=exp_addrs)
        got = dict(family=pkt["family"], src=src, dst=dst, ttl=pkt["ttl"],
                   version=d["version"], vrid=d["vrid"], priority=d["priority"],
                   interval_cs=d["interval_cs"], addrs=d["addrs"])
        if ver == 2:
            got_auth = "none" if d["auth_type"] == 0 else \
                "pass:" + d["auth_data"].rstrip(b"\0").decode()
            if d["auth_type"] == 0 and d["auth_data"] != bytes(8):
                raise SystemExit(f"{name}: auth type 0 with non-zero auth data")
            if d["auth_type"] not in (0, 1):
                raise SystemExit(f"{name}: auth type {d['auth_type']}")
            expect["auth"], got["auth"] = auth, got_auth
        for k in expect:
            if expect[k] != got[k]:
                raise SystemExit(f"{name}: {k} decoded {got[k]!r}, config says {expect[k]!r}")
        forms = checksum_forms(pkt)
        if ver == 2:
            form = "v2" if csum(pkt["payload"]) == 0xFFFF else None
        else:
            form = forms[0] if len(forms) == 1 else None
        if form != exp_form:
            raise SystemExit(f"{name}: checksum verifies as {forms or 'nothing'}, "
                             f"expected {exp_form}")
        lines.append(
            f"name={name} family={family} src={src} dst={dst} ttl={pkt['ttl']} "
            f"payload={pkt['payload'].hex()} version={ver} vrid={vrid} "
            f"priority={exp_prio} interval_cs={interval_cs} addrs={exp_addrs} "
            f"auth={auth} checksum={form}")

with open(vectors_path, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"checked {sum(1 for l in lines if l.startswith('name='))} vectors", file=sys.stderr)
PY

cp -- "$STAGE"/* "$OUT_DIR"/
log "done: $VECTORS (+ $(cd "$STAGE" && echo ./*.pcap | wc -w) pcaps in $OUT_DIR)"
