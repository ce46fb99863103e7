#pragma once

// --web.health-listen-address: /-/healthy and /-/ready on a listener of
// their own (exporter/health_listener.h), answered by the main server's
// handlers, so probes pass while stalled clients hold every HTTP worker.

#include <memory>
#include <string>

#include "exporter/health_listener.h"
#include "exporter/http_server.h"

namespace vrrp::daemon {

// Null with `*failed` false when `address` is empty (the listener is off);
// null with `*failed` true (and the reason logged) when it cannot start.
std::unique_ptr<exporter::HealthListener> StartHealthListener(
    const std::string& address, const exporter::HttpServer& server,
    bool* failed);

}  // namespace vrrp::daemon
