#include "logging_observer.h"

#include <spdlog/spdlog.h>

namespace vrrp::daemon {

void Log(LogLevel level, const std::string& message) {
  switch (level) {
    case LogLevel::kDebug:
      spdlog::debug("{}", message);
      break;
    case LogLevel::kInfo:
      spdlog::info("{}", message);
      break;
    case LogLevel::kWarn:
      spdlog::warn("{}", message);
      break;
    case LogLevel::kError:
      spdlog::error("{}", message);
      break;
  }
}

}  // namespace vrrp::daemon
