#include <dlfcn.h>

#include <filesystem>

#include "snmp/engine.h"

namespace vrrp::snmp {
namespace {

// lib/vrrp_exporter/NAME beside the executable's directory when it exists
// (installed: bin/../lib/vrrp_exporter; the build tree has the daemon and
// the tests one level below it too), else the bare name for RUNPATH and
// LD_LIBRARY_PATH (as exporter/src/openssl_shims.cc finds its shims).
std::string ModulePath() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto path =
        (exe.parent_path() / ".." / "lib" / "vrrp_exporter" / kModuleName)
            .lexically_normal();
    if (std::filesystem::exists(path, ec)) return path.string();
  }
  return kModuleName;
}

}  // namespace

Result<std::unique_ptr<SnmpEngine>, std::string> StartSnmpEngine(
    EngineOptions options) {
  const std::string path =
      options.module_path.empty() ? ModulePath() : options.module_path;
  // Never dlclose()d: net-snmp's state is process-wide and initialised once
  // (netsnmp_engine.cc).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Err("cannot load " + path + " (vrrp_exporter's SNMP module, in " +
               "lib/vrrp_exporter/ beside bin/): " +
               (why != nullptr ? why : "unknown error"));
  }
  auto start =
      reinterpret_cast<StartEngineFn>(dlsym(handle, kStartEngineSymbol));
  if (start == nullptr) {
    return Err(path + " is not vrrp_exporter's SNMP module");
  }
  std::string error;
  SnmpEngine* engine = start(&options, &error);
  if (engine == nullptr) return Err(error);
  return std::unique_ptr<SnmpEngine>(engine);
}

}  // namespace vrrp::snmp
