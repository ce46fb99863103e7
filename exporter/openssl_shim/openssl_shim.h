#pragma once

// Markers of the two OpenSSL shims civetweb loads TLS through (see
// exporter/openssl_shim/CMakeLists.txt). Calling them makes the shims real
// link dependencies of whatever uses civetweb's TLS; both initialize OpenSSL
// (idempotent) and return 1 on success.

extern "C" {
int vrrp_exporter_libssl_shim(void);
int vrrp_exporter_libcrypto_shim(void);
}
