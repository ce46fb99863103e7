#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace vrrp {

// Where the core and the Linux layer send what the daemon logs; the daemon
// maps it onto spdlog, tests collect it.
enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };
using LogFn = std::function<void(LogLevel, const std::string&)>;

}  // namespace vrrp
