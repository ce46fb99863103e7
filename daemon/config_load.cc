#include "config_load.h"

#include <cstdio>

#include "vrrp/config_loader.h"
#include "vrrp/sys/checkers.h"
#include "vrrp/sys/notifier.h"
#include "vrrp/sys/tracker_manager.h"

namespace vrrp::daemon {

std::optional<Config> Load(const std::string& path, const Report& report,
                           const Report& warn) {
  auto config = LoadConfigFile(path);
  if (!config.ok()) {
    for (const ConfigError& error : config.error()) report(error.ToString());
    return std::nullopt;
  }
  // What needs the system, not just the file: script_user exists, every
  // hook program is there and safe to run (script security).
  auto programs = sys::CheckNotificationPrograms(config.value());
  if (!programs.ok()) {
    for (const ConfigError& error : programs.error()) report(error.ToString());
    return std::nullopt;
  }
  // And every exec tracker's (its user exists; script security).
  auto refused = sys::CheckTrackerPrograms(*config);
  if (!refused.empty()) {
    for (const ConfigError& error : refused) report(error.ToString());
    return std::nullopt;
  }
  for (const ConfigWarning& w : config->warnings) warn(w.ToString());
  return std::move(config).value();
}

std::optional<sys::ProcessUser> ScriptUser(const Config& config) {
  if (!config.script_user) return std::nullopt;
  auto user = sys::LookupUser(*config.script_user);
  if (!user.ok()) return std::nullopt;
  return std::move(user).value();
}

int CheckConfig(const std::string& path) {
  auto print = [](const std::string& e) {
    std::fprintf(stderr, "%s\n", e.c_str());
  };
  auto config = Load(path, print, print);
  if (!config) return 1;
  std::printf("%s: OK, %zu instance(s), %zu tracker(s)\n", path.c_str(),
              config->instances.size(), config->trackers.size());
  return 0;
}

}  // namespace vrrp::daemon
