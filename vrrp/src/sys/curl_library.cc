#include "vrrp/sys/curl_library.h"

#include <dlfcn.h>

namespace vrrp::sys {
namespace {

constexpr const char* kCurlSoname = "libcurl.so.4";

// Resolves `name` into `fn`, or records the first missing symbol.
template <typename Fn>
void Resolve(void* handle, const char* name, Fn& fn, std::string& missing) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr && missing.empty()) missing = name;
  fn = reinterpret_cast<Fn>(symbol);
}

Result<const CurlApi*, std::string> Load() {
  // RTLD_LOCAL: libcurl's symbols stay out of the global scope (nothing else
  // in the process should bind to them by accident). Never dlclose()d:
  // libcurl and OpenSSL keep process-wide state.
  void* handle = dlopen(kCurlSoname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Err(std::string("cannot load ") + kCurlSoname + " (package " +
               "libcurl4): " + (why != nullptr ? why : "unknown error"));
  }
  static CurlApi api{};
  std::string missing;
  Resolve(handle, "curl_easy_init", api.easy_init, missing);
  Resolve(handle, "curl_easy_setopt", api.easy_setopt, missing);
  Resolve(handle, "curl_easy_perform", api.easy_perform, missing);
  Resolve(handle, "curl_easy_getinfo", api.easy_getinfo, missing);
  Resolve(handle, "curl_easy_cleanup", api.easy_cleanup, missing);
  Resolve(handle, "curl_easy_strerror", api.easy_strerror, missing);
  Resolve(handle, "curl_slist_append", api.slist_append, missing);
  Resolve(handle, "curl_slist_free_all", api.slist_free_all, missing);
  CURLcode (*global_init)(long) = nullptr;
  Resolve(handle, "curl_global_init", global_init, missing);
  if (!missing.empty()) {
    return Err(std::string(kCurlSoname) + " has no " + missing);
  }
  if (const CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return Err("curl_global_init failed: " +
               std::string(api.easy_strerror(rc)));
  }
  return &api;
}

}  // namespace

Result<const CurlApi*, std::string> LoadCurl() {
  // A function-local static is initialized once, and other threads wait
  // for it ([stmt.dcl]).
  static const Result<const CurlApi*, std::string> result = Load();
  return result;
}

}  // namespace vrrp::sys
