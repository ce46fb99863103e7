#include "exporter/openssl_shims.h"

#include <dlfcn.h>
#include <link.h>

#include <filesystem>

namespace vrrp::exporter {
namespace {

// Where a loaded library came from, for the error message.
std::string PathOf(void* handle) {
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr ||
      map->l_name == nullptr) {
    return "?";
  }
  return map->l_name;
}

// lib/vrrp_exporter/NAME beside the executable's directory when it exists
// (installed: bin/../lib/vrrp_exporter; the build tree has every executable
// one level below it too), else the bare name, searched through RUNPATH and
// LD_LIBRARY_PATH. An absolute path first because dlopen() searches the
// RUNPATH of its caller, and an interceptor of dlopen (AddressSanitizer's,
// or an LD_PRELOADed library's) makes itself the caller.
std::string ShimPath(const char* name) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto path =
        (exe.parent_path() / ".." / "lib" / "vrrp_exporter" / name)
            .lexically_normal();
    if (std::filesystem::exists(path, ec)) return path.string();
  }
  return name;
}

Result<Unit, std::string> LoadShim(const char* name, const char* marker) {
  // Never dlclose()d: civetweb keeps using them. Loaded by path, they still
  // answer to civetweb's dlopen(NAME): their SONAME is NAME.
  void* handle = dlopen(ShimPath(name).c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Err(std::string("cannot load ") + name +
               " (vrrp_exporter's shim, in lib/vrrp_exporter/ beside bin/): " +
               (why != nullptr ? why : "unknown error"));
  }
  // Each shim exports a marker that initializes OpenSSL (idempotent) and
  // returns 1; a library without it is somebody else's libssl.so.
  auto init = reinterpret_cast<int (*)()>(dlsym(handle, marker));
  if (init == nullptr) {
    return Err(std::string(name) + " resolved to " + PathOf(handle) +
               ", not vrrp_exporter's shim (is LD_LIBRARY_PATH pointing "
               "elsewhere? civetweb/civetweb#1334)");
  }
  if (init() != 1) {
    return Err(std::string("OpenSSL failed to initialize through ") +
               PathOf(handle));
  }
  return kOk;
}

}  // namespace

Result<Unit, std::string> LoadOpenSslShims() {
  // Once per process; a function-local static makes other threads wait for
  // the first call ([stmt.dcl]).
  static const Result<Unit, std::string> result = [] {
    auto crypto = LoadShim("libcrypto.so", "vrrp_exporter_libcrypto_shim");
    return crypto.ok() ? LoadShim("libssl.so", "vrrp_exporter_libssl_shim")
                       : crypto;
  }();
  return result;
}

}  // namespace vrrp::exporter
