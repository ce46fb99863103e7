#include "config_load.h"

#include <cstdint>
#include <cstdio>
#include <vector>

#include "vrrp/config_loader.h"
#include "vrrp/redact.h"
#include "vrrp/sys/checkers.h"
#include "vrrp/sys/notifier.h"
#include "vrrp/sys/tracker_manager.h"

namespace vrrp::daemon {

namespace {

// Reports the first `max` errors of `errors` and a count of the rest.
void ReportErrors(const std::vector<ConfigError>& errors, const Report& report,
                  size_t max) {
  for (size_t i = 0; i < errors.size() && i < max; ++i) {
    report(RedactSecrets(errors[i].ToString()));
  }
  if (errors.size() > max) {
    report(std::to_string(errors.size() - max) +
           " more error(s) not shown; run --config.check to see them all");
  }
}

}  // namespace

std::optional<Config> Load(const std::string& path, const Report& report,
                           const Report& warn, size_t max_errors) {
  auto config = LoadConfigFile(path);
  if (!config.ok()) {
    ReportErrors(config.error(), report, max_errors);
    return std::nullopt;
  }
  // What needs the system, not just the file: script_user exists, every
  // hook program is there and safe to run (script security).
  auto programs = sys::CheckNotificationPrograms(config.value());
  if (!programs.ok()) {
    ReportErrors(programs.error(), report, max_errors);
    return std::nullopt;
  }
  // And every exec tracker's (its user exists; script security).
  auto refused = sys::CheckTrackerPrograms(*config);
  if (!refused.empty()) {
    ReportErrors(refused, report, max_errors);
    return std::nullopt;
  }
  for (const ConfigWarning& w : config->warnings) {
    warn(RedactSecrets(w.ToString()));
  }
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
  auto config = Load(path, print, print, SIZE_MAX);
  if (!config) return 1;
  std::printf("%s: OK, %zu instance(s), %zu tracker(s)\n", path.c_str(),
              config->instances.size(), config->trackers.size());
  return 0;
}

}  // namespace vrrp::daemon
