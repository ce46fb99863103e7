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

// What a rejected file logs: its first errors and how many more there
// were. A 1 MB file of mistakes logged 11,000 lines, enough to push the lines
// that matter out of journald's rate limit.
inline constexpr size_t kLoggedErrors = 10;

// Loads `path`, reporting the first `max_errors` errors (FILE:LINE:COLUMN:
// ...) through `report`, then one line with the count of the rest. Every
// line is redacted (vrrp/redact.h): errors quote the values they refuse.
// Returns the configuration only when it has no errors. Warnings (legal but
// probably not meant: a tracker weight that cannot move the master) go to
// `warn` at every load, never refused.
std::optional<Config> Load(const std::string& path, const Report& report,
                           const Report& warn,
                           size_t max_errors = kLoggedErrors);

// The script user of a configuration that passed Load().
std::optional<sys::ProcessUser> ScriptUser(const Config& config);

// --config.check: prints every error (redacted) and a summary; the process
// exit code.
int CheckConfig(const std::string& path);

}  // namespace vrrp::daemon
