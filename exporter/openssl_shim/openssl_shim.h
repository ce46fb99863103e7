#pragma once

// Markers of the two OpenSSL shims civetweb loads TLS through (see
// exporter/openssl_shim/CMakeLists.txt). The loader looks them up with
// dlsym() to tell our shims from a system libssl.so; both initialize OpenSSL
// (idempotent) and return 1 on success.

extern "C" {
int vrrp_exporter_libssl_shim(void);
int vrrp_exporter_libcrypto_shim(void);
}
