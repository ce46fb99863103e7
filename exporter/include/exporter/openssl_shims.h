#pragma once

// Loads the OpenSSL shims civetweb serves HTTPS through
// (exporter/openssl_shim/CMakeLists.txt says why they exist), when the first
// HTTPS server starts rather than at process start.
//
// Why not link them: as DT_NEEDED entries they mapped OpenSSL 3's libssl and
// libcrypto (1.7 MiB resident after relocation) into every daemon, and most
// serve plain HTTP (issue 3: resident memory no more than Keepalived's).
//
// Found in lib/vrrp_exporter beside the executable's bin/ directory (the
// build tree has the same layout), else by name through RUNPATH and
// LD_LIBRARY_PATH. Once loaded, civetweb's own dlopen("libssl.so") and
// dlopen("libcrypto.so") get these libraries, because dlopen() first
// compares a bare name with the SONAMEs of the libraries already loaded.

#include <string>

#include "vrrp/result.h"

namespace vrrp::exporter {

// Loads libcrypto.so and libssl.so and checks that they are our shims (a
// system libssl.so from libssl-dev found first, through LD_LIBRARY_PATH for
// instance, would let civetweb start and crash at the first handshake,
// civetweb/civetweb#1334). Once per process; later calls return the first
// result.
Result<Unit, std::string> LoadOpenSslShims();

}  // namespace vrrp::exporter
