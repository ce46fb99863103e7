#!/bin/sh
# `cmake --install` into a scratch prefix, then starts the installed daemon
# with HTTPS and fetches /-/healthy over TLS: the daemon loads civetweb's
# OpenSSL shims (exporter/openssl_shim) by name at run time, found through
# its RUNPATH $ORIGIN/../lib/vrrp_exporter wherever the prefix is; without
# them TLS cannot start. Also checks that neither the shims nor libcurl are
# link dependencies (both are loaded on demand; issue 3's memory).
# Usage: check_install_layout.sh BUILD_DIR SCRATCH_DIR
set -eu
build=$1
scratch=$2
prefix=$scratch/usr/local
rm -rf "$scratch"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT INT TERM
cmake --install "$build" --prefix "$prefix" >/dev/null
bin=$prefix/bin/vrrp_exporter
"$bin" --version
fail=0

for lib in libssl.so libcrypto.so; do
  if [ ! -f "$prefix/lib/vrrp_exporter/$lib" ]; then
    echo "FAIL: $lib is not installed in $prefix/lib/vrrp_exporter" >&2
    fail=1
  fi
done
if ldd "$bin" | grep -E "libcurl|libssl|libcrypto\.so" >&2; then
  echo "FAIL: the lines above are link dependencies; they must be loaded on demand" >&2
  fail=1
fi

# A self-signed certificate for 127.0.0.1, an empty instance list, port 0.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$scratch/key.pem" -out "$scratch/cert.pem" 2>/dev/null
printf 'instances: []\n' >"$scratch/config.yml"
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' \
  "$scratch/cert.pem" "$scratch/key.pem" >"$scratch/web.yml"
# The log exists before the daemon starts: the background redirection may
# come after the first read below.
: >"$scratch/log"
"$bin" --config.file "$scratch/config.yml" --web.config.file "$scratch/web.yml" \
  --web.listen-address 127.0.0.1:0 >>"$scratch/log" 2>&1 &
pid=$!
port=
i=0
while [ $i -lt 100 ] && [ -z "$port" ]; do
  port=$(sed -n 's/.*HTTP on port(s) \([0-9]*\).*/\1/p' "$scratch/log" || true)
  [ -n "$port" ] || { kill -0 "$pid" 2>/dev/null || break; sleep 0.1; }
  i=$((i + 1))
done
if [ -z "$port" ]; then
  echo "FAIL: the installed daemon did not start HTTPS:" >&2
  cat "$scratch/log" >&2
  fail=1
else
  body=$(curl -sS --cacert "$scratch/cert.pem" "https://127.0.0.1:$port/-/healthy") || body=
  if [ -z "$body" ]; then
    echo "FAIL: no answer over HTTPS from the installed daemon on port $port:" >&2
    cat "$scratch/log" >&2
    fail=1
  fi
  if ! grep -q "$(realpath "$prefix")/lib/vrrp_exporter/libssl.so" "/proc/$pid/maps"; then
    echo "FAIL: HTTPS served, but not through the installed shim:" >&2
    grep -E "libssl|libcrypto" "/proc/$pid/maps" >&2 || true
    fail=1
  fi
fi
[ "$fail" -eq 0 ] && echo "install layout: OK"
