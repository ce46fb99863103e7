#pragma once

// GET /probe?target=HOST[:PORT]&module=NAME: scrapes one remote Keepalived
// through its SNMP agent, as snmp_exporter's multi-target pattern does
// (Prometheus relabels each target into the `target` parameter). The
// answer holds only that target's series; the exporter's own metrics stay on
// /metrics.
//
// The HTTP thread never calls net-snmp: it posts the probe to the SNMP
// thread (snmp/engine.h) and waits, bounded by the scrape timeout
// Prometheus sends (X-Prometheus-Scrape-Timeout-Seconds) or 10 s. A target
// that does not answer gives keepalived_up 0 once its module's timeout x
// (retries + 1) has passed, and other targets' probes run meanwhile.

#include <prometheus/metric_family.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "exporter/http_server.h"
#include "snmp/engine.h"
#include "snmp/keepalived_collector.h"
#include "snmp/module.h"

namespace vrrp::exporter {

struct ProbeStats {
  std::atomic<uint64_t> probes{0};
  std::atomic<uint64_t> probes_failed{0};  // keepalived_up 0
  std::atomic<uint64_t> bad_requests{0};
};

struct ProbeOptions {
  const snmp::Modules* modules = nullptr;  // outlives the server
  snmp::SnmpEngine* engine = nullptr;      // outlives the server
  ProbeStats* stats = nullptr;             // optional
  // One line per failed probe (target, module, reason; never a secret).
  std::function<void(const std::string&)> log;
};

void RegisterProbeRoute(HttpServer& server, const ProbeOptions& options);

// The SNMP side's own counters, for /metrics (RouteOptions::extra_families):
// probes, SNMP requests sent and retried, AgentX connects and
// notifications. Any pointer may be null.
void AppendSnmpSelfFamilies(const ProbeStats* probes,
                            const snmp::EngineStats* engine,
                            const snmp::AgentXStats* agentx,
                            std::vector<prometheus::MetricFamily>& out);

// The series of one probe, keepalived-exporter's names and labels first.
std::vector<prometheus::MetricFamily> KeepalivedProbeFamilies(
    const snmp::KeepalivedScrape& scrape, double duration_seconds);
std::string KeepalivedProbeText(const snmp::KeepalivedScrape& scrape,
                                double duration_seconds);

}  // namespace vrrp::exporter
