#pragma once

// libcurl, loaded at run time when HTTP checks or webhooks are configured:
// by main before the loop starts, or by the first check or webhook that a
// reload adds (on its worker thread).
//
// Why not link it: libcurl's DT_NEEDED chain is about 25 libraries (OpenSSL,
// GnuTLS through librtmp, Kerberos, LDAP, SASL, libssh2, nghttp2, ...). The
// dynamic linker maps and relocates all of them at start-up, which kept
// 5.8 MiB resident in a daemon that never made an HTTP request; most
// configurations have neither HTTP checks nor webhooks (issue 3: resident
// memory no more than Keepalived's). dlopen() defers that cost to the
// configurations that use it.
//
// The headers are the build's libcurl4-openssl-dev; the run-time library is
// its SONAME, libcurl.so.4 (the ABI has been 4 since libcurl 7.16, 2006).

#include <curl/curl.h>

#include <string>

#include "vrrp/result.h"

namespace vrrp::sys {

// The libcurl functions we call, resolved from the loaded library.
struct CurlApi {
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// Loads libcurl.so.4 and runs curl_global_init(CURL_GLOBAL_DEFAULT), once per
// process (concurrent first calls wait for one another); every later call
// returns the first call's result, so a missing library is one clear error
// per check or webhook, never a crash.
//
// curl_global_init(3) is only safe while no other thread uses libcurl or
// the libraries it initializes: no other thread of ours calls libcurl, and
// OpenSSL 3, which civetweb's TLS threads may use, initializes itself under
// its own run-once lock. Debian 12's libcurl 7.88 also reports
// CURL_VERSION_THREADSAFE.
Result<const CurlApi*, std::string> LoadCurl();

}  // namespace vrrp::sys
