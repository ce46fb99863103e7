// The libcrypto.so that Debian 12's libcivetweb finds (see CMakeLists.txt
// here): OpenSSL 3's libcrypto unchanged, under the name civetweb dlopen()s.

#include <openssl/crypto.h>

#include "openssl_shim.h"

extern "C" __attribute__((visibility("default"))) int
vrrp_exporter_libcrypto_shim(void) {
  // A call into libcrypto, so no --as-needed link drops it from DT_NEEDED.
  return OPENSSL_init_crypto(0, nullptr);
}
