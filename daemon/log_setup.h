#pragma once

// The daemon's logger: spdlog's default sink behind a filter that redacts
// secrets (vrrp/redact.h) from every line, whoever wrote it: our code,
// civetweb's messages, a tracker's error text.

#include <string>

namespace vrrp::daemon {

// Replaces spdlog's default logger by a redacting one, at `level` (debug,
// info, warn, error) with the daemon's line format.
void SetUpLogging(const std::string& level);

}  // namespace vrrp::daemon
