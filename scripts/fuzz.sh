#!/usr/bin/env bash
# Runs the decoder fuzzer for a bounded time: fuzz.sh BUILD_DIR SECONDS.
# Seeds are the captured Keepalived advertisements in each input mode; the
# corpus grows in BUILD_DIR/fuzz-corpus and is kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
seconds=$2
seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"
mkdir -p "$seeds" "$corpus"
python3 - "$seeds" <<'PY'
import sys, pathlib
out = pathlib.Path(sys.argv[1])
for line in open("test/vectors/keepalived_2.2.7.txt"):
    if not line.strip() or line.startswith("#"):
        continue
    f = dict(w.split("=", 1) for w in line.split())
    payload = bytes.fromhex(f["payload"])
    if f["family"] == "ipv4":
        src = bytes(int(x) for x in f["src"].split("."))
        dst = bytes(int(x) for x in f["dst"].split("."))
        total = 20 + len(payload)
        ip = bytes([0x45, 0xc0, total >> 8, total & 0xff, 0, 0, 0, 0, 255, 112, 0, 0]) + src + dst
        (out / (f["name"] + ".ip")).write_bytes(b"\x00" + ip + payload)
        (out / (f["name"] + ".v4")).write_bytes(b"\x01" + payload)
    else:
        (out / (f["name"] + ".v6")).write_bytes(b"\x02" + payload)
PY
log="$build/fuzz.log"
set +e
"$build/test/fuzz/decode_fuzzer" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/" \
  "$corpus" "$seeds" >"$log" 2>&1
rc=$?
set -e
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
if [ "$rc" -ne 0 ]; then
  tail -60 "$log"
  echo "fuzz: FAILED after $execs executions (exit $rc); see $log" >&2
  exit 1
fi
echo "fuzz: clean, $execs executions in ${seconds}s ($cov)"
