#pragma once

// The exporter's HTTP routes, served from our own CivetServer:
//   GET  /metrics (--web.telemetry-path)  the speaker's metrics
//   GET  /                                a landing page with the instances
//   GET  /api/v1/status                   the same as JSON
//   GET  /-/healthy                       200 while the event loop publishes
//   GET  /-/ready                         200 once the speaker is running
//   POST /-/reload                        reload the configuration
// Every handler reads a published Snapshot; none waits for the event loop
// except /-/reload, which must (bounded by the reload callback).

#include <prometheus/metric_family.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/snapshot.h"
#include "vrrp/result.h"

namespace vrrp::exporter {

struct RouteOptions {
  std::string telemetry_path = "/metrics";
  bool disable_exporter_metrics = false;  // --web.disable-exporter-metrics
  bool keepalived_compat = true;          // keepalived_* names as well
  std::string version;
  const SnapshotStore* store = nullptr;
  // Reloads the configuration on the event loop; the message says what
  // changed, or lists the errors (FILE:LINE:...) when the file was rejected.
  // Unset: POST /-/reload answers 403 (--web.enable-lifecycle not given).
  std::function<Result<std::string, std::string>()> reload;
  // /-/healthy fails when the newest snapshot is older than this: the event
  // loop that publishes it (and sends advertisements) has stalled.
  std::chrono::seconds max_snapshot_age{5};
  // More of the exporter's own families for /metrics (the SNMP side's
  // counters), appended to each rendering. Called from HTTP threads.
  std::function<void(std::vector<prometheus::MetricFamily>&)> extra_families;
};

void RegisterRoutes(HttpServer& server, const RouteOptions& options);

// The bodies, as pure functions for tests.
std::string StatusJson(const Snapshot& snapshot, const std::string& version);
std::string LandingPage(const Snapshot* snapshot, const RouteOptions& options);
std::string MetricsText(const Snapshot* snapshot, const RouteOptions& options,
                        double now_unix_seconds);

}  // namespace vrrp::exporter
