#include "exporter/probe.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <memory>

#include "exporter/text_format.h"
#include "snmp/engine.h"

namespace vrrp::exporter {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<prometheus::ClientMetric::Label>;

class Family {
 public:
  Family(std::string name, std::string help, MetricType type) {
    f_.name = std::move(name);
    f_.help = std::move(help);
    f_.type = type;
  }
  void Add(Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f_.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f_.metric.push_back(std::move(m));
  }
  MetricFamily Take() { return std::move(f_); }

 private:
  MetricFamily f_;
};

Labels InstanceLabels(const snmp::KeepalivedInstance& i) {
  return {{"iname", i.name},
          {"intf", i.interface},
          {"vrid", std::to_string(i.vrid)}};
}

// The deadline of one probe: Prometheus' scrape timeout less a margin to
// write the answer, or 10 s; never more than 60 s.
std::chrono::milliseconds Deadline(const Request& req) {
  std::chrono::milliseconds d(10000);
  if (auto h = req.Header("X-Prometheus-Scrape-Timeout-Seconds")) {
    const std::string s(*h);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() && std::isfinite(v) && v > 0) {
      d = std::chrono::milliseconds(static_cast<int64_t>(v * 1000) - 250);
    }
  }
  return std::clamp(d, std::chrono::milliseconds(100),
                    std::chrono::milliseconds(60000));
}

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

std::vector<MetricFamily> KeepalivedProbeFamilies(
    const snmp::KeepalivedScrape& s, double duration_seconds) {
  std::vector<MetricFamily> out;
  Family up("keepalived_up",
            "1 if Keepalived's own SNMP subtree answered (snmpd up without "
            "Keepalived attached is 0).",
            MetricType::Gauge);
  up.Add({}, s.up ? 1 : 0);
  out.push_back(up.Take());
  Family duration("keepalived_scrape_duration_seconds",
                  "Time the SNMP probe took.", MetricType::Gauge);
  duration.Add({}, duration_seconds);
  out.push_back(duration.Take());
  Family errors("keepalived_scrape_errors",
                "Failed SNMP requests and unusable rows in this probe, by "
                "reason.",
                MetricType::Gauge);
  for (int r = 0; r < snmp::kErrorReasonCount; ++r) {
    errors.Add(
        {{"reason",
          std::string(snmp::ToString(static_cast<snmp::ErrorReason>(r)))}},
        s.errors[static_cast<size_t>(r)]);
  }
  out.push_back(errors.Take());
  Family varbinds("keepalived_scrape_varbinds",
                  "Variable bindings the agent returned in this probe.",
                  MetricType::Gauge);
  varbinds.Add({}, s.varbinds);
  out.push_back(varbinds.Take());
  if (!s.up) return out;

  Family info("keepalived_version_info",
              "Keepalived's version string (KEEPALIVED-MIB version.0).",
              MetricType::Gauge);
  info.Add({{"version", s.version}}, 1);
  out.push_back(info.Take());

  Family state("keepalived_vrrp_state",
               "State of vrrp: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 other.",
               MetricType::Gauge);
  Family excluded("keepalived_vrrp_excluded_state",
                  "State of vrrp for excluded addresses: 0 INIT, 1 BACKUP, 2 "
                  "MASTER, 3 FAULT.",
                  MetricType::Gauge);
  Family vip_set("keepalived_vrrp_address_set",
                 "1 if Keepalived has this virtual address on its interface.",
                 MetricType::Gauge);
  Family base(
      "keepalived_vrrp_base_priority",
      "Priority as configured (KEEPALIVED-MIB vrrpInstanceBasePriority).",
      MetricType::Gauge);
  Family eff("keepalived_vrrp_effective_priority",
             "Priority after trackers (vrrpInstanceEffectivePriority).",
             MetricType::Gauge);
  Family advert("keepalived_vrrp_advert_interval_seconds",
                "Configured advertisement interval.", MetricType::Gauge);
  Family preempt("keepalived_vrrp_preempt",
                 "1 if a higher priority preempts this instance's master.",
                 MetricType::Gauge);
  struct C {
    const char* name;
    const char* help;
    uint64_t snmp::KeepalivedInstanceStats::*field;
  };
  // keepalived-exporter's names, from VRRPv3-MIB's vrrpv3StatisticsTable
  // (there is no SNMP source for advertisements sent or released masters).
  const C counters[] = {
      {"keepalived_advertisements_received_total", "Advertisements received",
       &snmp::KeepalivedInstanceStats::advertisements_received},
      {"keepalived_become_master_total", "Became master",
       &snmp::KeepalivedInstanceStats::master_transitions},
      {"keepalived_packet_length_errors_total", "Packet length errors",
       &snmp::KeepalivedInstanceStats::packet_length_errors},
      {"keepalived_advertisements_interval_errors_total",
       "Advertisement interval errors",
       &snmp::KeepalivedInstanceStats::interval_errors},
      {"keepalived_ip_ttl_errors_total", "TTL errors",
       &snmp::KeepalivedInstanceStats::ttl_errors},
      {"keepalived_invalid_type_received_total", "Invalid type errors",
       &snmp::KeepalivedInstanceStats::invalid_type_received},
      {"keepalived_address_list_errors_total", "Address list errors",
       &snmp::KeepalivedInstanceStats::address_list_errors},
      {"keepalived_priority_zero_received_total", "Priority zero received",
       &snmp::KeepalivedInstanceStats::priority_zero_received},
      {"keepalived_priority_zero_sent_total", "Priority zero sent",
       &snmp::KeepalivedInstanceStats::priority_zero_sent},
  };
  std::vector<Family> cf;
  for (const C& c : counters)
    cf.emplace_back(c.name, c.help, MetricType::Counter);

  for (const snmp::KeepalivedInstance& i : s.instances) {
    const std::string vrid = std::to_string(i.vrid);
    // keepalived-exporter: one series per VIP, intf being the VIP's
    // interface; an instance without VIPs has one with ip_address="".
    if (i.vips.empty()) {
      state.Add({{"iname", i.name},
                 {"intf", i.interface},
                 {"vrid", vrid},
                 {"ip_address", ""}},
                i.state);
    }
    for (const auto& a : i.vips) {
      const Labels l = {{"iname", i.name},
                        {"intf", a.ifname},
                        {"vrid", vrid},
                        {"ip_address", a.address}};
      state.Add(l, i.state);
      vip_set.Add(l, a.set ? 1 : 0);
    }
    for (const auto& a : i.excluded_vips) {
      excluded.Add({{"iname", i.name},
                    {"intf", a.ifname},
                    {"vrid", vrid},
                    {"ip_address", a.address}},
                   i.state);
    }
    const Labels l = InstanceLabels(i);
    base.Add(l, i.base_priority);
    eff.Add(l, i.effective_priority);
    if (i.advert_interval_seconds) advert.Add(l, *i.advert_interval_seconds);
    if (i.preempt) preempt.Add(l, *i.preempt ? 1 : 0);
    if (i.stats) {
      for (size_t k = 0; k < cf.size(); ++k) {
        cf[k].Add(l, static_cast<double>((*i.stats).*(counters[k].field)));
      }
    }
  }
  out.push_back(state.Take());
  out.push_back(excluded.Take());
  out.push_back(vip_set.Take());
  out.push_back(base.Take());
  out.push_back(eff.Take());
  out.push_back(advert.Take());
  out.push_back(preempt.Take());
  for (auto& f : cf) out.push_back(f.Take());

  Family script("keepalived_script_status",
                "Tracking script result: 1 good, 0 otherwise.",
                MetricType::Gauge);
  Family script_result("keepalived_script_result",
                       "vrrpScriptResult: 1 init, 2 bad, 3 good, 5 "
                       "initfailed.",
                       MetricType::Gauge);
  for (const auto& sc : s.scripts) {
    script.Add({{"name", sc.name}}, sc.result == 3 ? 1 : 0);
    script_result.Add({{"name", sc.name}}, sc.result);
  }
  out.push_back(script.Take());
  out.push_back(script_result.Take());
  Family group("keepalived_vrrp_sync_group_state",
               "Sync group state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
               MetricType::Gauge);
  for (const auto& g : s.sync_groups) group.Add({{"name", g.name}}, g.state);
  out.push_back(group.Take());
  return out;
}

std::string KeepalivedProbeText(const snmp::KeepalivedScrape& scrape,
                                double duration_seconds) {
  std::string out;
  AppendTextFormat(KeepalivedProbeFamilies(scrape, duration_seconds), out);
  return out;
}

void AppendSnmpSelfFamilies(const ProbeStats* probes,
                            const snmp::EngineStats* engine,
                            const snmp::AgentXStats* agentx,
                            std::vector<MetricFamily>& out) {
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    Family f(name, help, MetricType::Counter);
    f.Add({}, static_cast<double>(v));
    out.push_back(f.Take());
  };
  if (probes) {
    counter("vrrp_exporter_snmp_probes_total", "/probe requests served.",
            probes->probes);
    counter("vrrp_exporter_snmp_probes_failed_total",
            "Probes that answered keepalived_up 0.", probes->probes_failed);
    counter("vrrp_exporter_snmp_probe_bad_requests_total",
            "/probe requests refused (no or bad target, unknown module).",
            probes->bad_requests);
  }
  if (engine) {
    counter("vrrp_exporter_snmp_requests_sent_total",
            "SNMP requests sent by /probe (first tries).",
            engine->requests_sent);
    counter("vrrp_exporter_snmp_requests_retried_total",
            "SNMP requests sent again after a timeout.",
            engine->requests_retried);
  }
  if (agentx) {
    counter("vrrp_exporter_agentx_connects_total",
            "AgentX sessions opened with the master agent (reconnects "
            "included).",
            agentx->connects);
    counter("vrrp_exporter_agentx_disconnects_total", "AgentX sessions lost.",
            agentx->disconnects);
    counter("vrrp_exporter_agentx_requests_total",
            "Requests the master agent forwarded to us.", agentx->requests);
    counter("vrrp_exporter_agentx_notifications_total",
            "Notifications sent (vrrpv3NewMaster, vrrpv3ProtoError).",
            agentx->notifications);
  }
}

void RegisterProbeRoute(HttpServer& server, const ProbeOptions& opts) {
  server.Handle("/probe", Method::kGet, [opts](const Request& req) {
    ProbeStats* stats = opts.stats;
    auto target = req.QueryParam("target");
    if (!target || target->empty()) {
      if (stats) ++stats->bad_requests;
      return Text(400, "'target' parameter must be specified\n");
    }
    auto peer = snmp::PeerName(*target);
    if (!peer.ok()) {
      if (stats) ++stats->bad_requests;
      return Text(400, peer.error() + "\n");
    }
    std::string module_name = req.QueryParam("module").value_or("");
    const snmp::Module* module = nullptr;
    if (module_name.empty() && opts.modules->size() == 1) {
      module = &opts.modules->begin()->second;
    } else {
      auto it = opts.modules->find(module_name);
      if (it != opts.modules->end()) module = &it->second;
    }
    if (module == nullptr) {
      if (stats) ++stats->bad_requests;
      // The name is the client's own text; it goes back escaped by being
      // plain text, never into a header.
      return Text(400, "unknown module '" + module_name + "'\n");
    }
    if (stats) ++stats->probes;
    const auto start = std::chrono::steady_clock::now();
    auto done = std::make_shared<std::promise<snmp::KeepalivedScrape>>();
    auto result = done->get_future();
    snmp::SnmpEngine* engine = opts.engine;
    engine->Post([engine, t = *target, m = *module, done] {
      auto session = engine->Open(t, m);
      if (!session.ok()) {
        snmp::KeepalivedScrape s;
        ++s.errors[static_cast<size_t>(session.error().reason)];
        s.first_error = session.error().message;
        done->set_value(std::move(s));
        return;
      }
      snmp::CollectKeepalived(
          std::move(session.value()), m.bulk_repetitions,
          [done](snmp::KeepalivedScrape s) { done->set_value(std::move(s)); });
    });
    snmp::KeepalivedScrape scrape;
    if (result.wait_for(Deadline(req)) == std::future_status::ready) {
      scrape = result.get();
    } else {
      // The probe goes on on the SNMP thread and its answer is dropped.
      ++scrape.errors[static_cast<size_t>(snmp::ErrorReason::kTimeout)];
      scrape.first_error = "probe deadline passed";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (!scrape.up) {
      if (stats) ++stats->probes_failed;
      if (opts.log) {
        opts.log("probe of " + *target + " (module " + module->name +
                 ") failed: " + scrape.first_error);
      }
    }
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = KeepalivedProbeText(scrape, seconds);
    return r;
  });
}

}  // namespace vrrp::exporter
