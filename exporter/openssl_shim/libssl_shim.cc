// The libssl.so that Debian 12's libcivetweb finds (see CMakeLists.txt here
// for how and why): OpenSSL 3's libssl plus the one OpenSSL 1.1 function it
// dropped.

#include <openssl/ssl.h>

#include "openssl_shim.h"

// OpenSSL 3 headers turn this name into a macro for SSL_get1_peer_certificate;
// the exported symbol civetweb looks up must carry the old name.
#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1's SSL_get_peer_certificate also took a reference the caller
// frees with X509_free, exactly what SSL_get1_peer_certificate does (OpenSSL
// 3 renamed it to say so), so civetweb's X509_free after use stays right.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(
    const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

__attribute__((visibility("default"))) int vrrp_exporter_libssl_shim(void) {
  // A call into libssl, so no --as-needed link drops it from DT_NEEDED.
  return OPENSSL_init_ssl(0, nullptr);
}

}  // extern "C"
