#pragma once

// Loading a configuration file as the daemon does: the file's own checks,
// then what needs the system (users, hook and tracker programs).

#include <functional>
#include <optional>
#include <string>

#include "vrrp/config.h"
#include "vrrp/sys/process_runner.h"

namespace vrrp::daemon {

using Report = std::function<void(const std::string&)>;

// Loads `path`, reporting every error (FILE:LINE:COLUMN: ...) through
// `report`. Returns the configuration only when it has no errors. Warnings
// (legal but probably not meant: a tracker weight that cannot move the
// master) go to `warn` at every load, never refused.
std::optional<Config> Load(const std::string& path, const Report& report,
                           const Report& warn);

// The script user of a configuration that passed Load().
std::optional<sys::ProcessUser> ScriptUser(const Config& config);

// --config.check: prints errors and a summary; the process exit code.
int CheckConfig(const std::string& path);

}  // namespace vrrp::daemon
