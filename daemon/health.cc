#include "health.h"

#include <spdlog/spdlog.h>

namespace vrrp::daemon {

std::unique_ptr<exporter::HealthListener> StartHealthListener(
    const std::string& address, const exporter::HttpServer& server,
    bool* failed) {
  *failed = false;
  if (address.empty()) return nullptr;
  exporter::HealthListener::Options options;
  options.listen_address = address;
  auto health = exporter::HealthListener::Start(
      options,
      [&server](const exporter::Request& r) { return server.Dispatch(r); });
  if (!health.ok()) {
    spdlog::error("health listener: {}", health.error());
    *failed = true;
    return nullptr;
  }
  spdlog::info("/-/healthy and /-/ready also on {} (port {})", address,
               health.value()->port());
  return std::move(health.value());
}

}  // namespace vrrp::daemon
