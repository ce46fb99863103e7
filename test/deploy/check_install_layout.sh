#!/bin/sh
# `cmake --install` into a scratch prefix, then checks that the installed
# binary finds its OpenSSL shims (exporter/openssl_shim) through RUNPATH,
# wherever the prefix is: without them TLS cannot start.
# Usage: check_install_layout.sh BUILD_DIR SCRATCH_DIR
set -eu
build=$1
prefix=$2/usr/local
rm -rf "$2"
cmake --install "$build" --prefix "$prefix" >/dev/null
bin=$prefix/bin/vrrp_exporter
"$bin" --version
fail=0
for lib in libssl.so libcrypto.so; do
  if ! ldd "$bin" | grep -q "^[[:space:]]*$lib => $prefix/bin/../lib/vrrp_exporter/$lib "; then
    echo "FAIL: $lib does not resolve to the installed shim:" >&2
    ldd "$bin" | grep -E "ssl|crypto" >&2
    fail=1
  fi
done
rm -rf "$2"
[ "$fail" -eq 0 ] && echo "install layout: OK"
