// The fleet dashboard and alert on a real lab's series: our daemon serving
// /probe (--snmp.config.file) in a monitoring node, two `keepalived -x`
// nodes behind their own snmpd, a target whose snmpd has no Keepalived,
// and Debian's Prometheus scraping /probe with the README's relabelling.
// After a failover every panel's query of dashboards/keepalived_fleet.json
// has data (or is valid, for the "> 0" ones), and the alert expression of
// alerts/keepalived_fleet.rules.yml selects exactly the targets that are
// down. Needs root, keepalived, snmpd, prometheus.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "integration/lab.h"
#include "integration/prometheus.h"
#include "integration/snmp_lab.h"
#include "integration/vrrp_daemon.h"
#include "sys/netns.h"

namespace vrrp::testing {
namespace {

using namespace std::chrono_literals;

std::string KeepalivedConfigFor(const std::string& id, int priority) {
  std::string s = KeepalivedGlobalDefs(id);
  s += R"(
vrrp_script chk_true {
    script "/bin/true"
    interval 1
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
)";
  for (int k = 1; k <= 2; ++k) {
    s += "vrrp_instance VI_" + std::to_string(k) +
         " {\n    state BACKUP\n    interface eth0\n    virtual_router_id " +
         std::to_string(60 + k) + "\n    priority " + std::to_string(priority) +
         "\n    advert_int 0.1\n    version 3\n" +
         (k == 1 ? "    track_script {\n        chk_true\n    }\n" : "") +
         "    virtual_ipaddress {\n        192.0.2.2" + std::to_string(k) +
         "0/24\n    }\n}\n";
  }
  return s;
}

std::string AlertExpr() {
  YAML::Node rules = YAML::LoadFile(std::string(VRRP_SOURCE_DIR) +
                                    "/alerts/keepalived_fleet.rules.yml");
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"]) {
      if (r["alert"].as<std::string>() == "KeepalivedTargetDown") {
        return r["expr"].as<std::string>();
      }
    }
  }
  throw std::runtime_error("no KeepalivedTargetDown rule");
}

std::set<std::string> Instances(const std::vector<PromSample>& v) {
  std::set<std::string> out;
  for (const auto& s : v) out.insert(s.labels.at("instance"));
  return out;
}

TEST(SnmpPrometheusTest, FleetDashboardAndAlertOnTheLabsSeries) {
  RequireRootAndIproute();
  Lab lab(3, /*with_client=*/false);
  const NetNs& mon = lab.node(3);
  SnmpdOptions o;
  o.ns = &mon;
  auto snmpd1 = Snmpd::Start(lab, "n1", o);
  auto snmpd2 = Snmpd::Start(lab, "n2", o);
  auto lonely = Snmpd::Start(lab, "lonely", o);  // no Keepalived attached
  auto ka1 = StartKeepalivedAgentX(lab, 1, KeepalivedConfigFor("n1", 150),
                                   snmpd1->agentx_socket());
  auto ka2 = StartKeepalivedAgentX(lab, 2, KeepalivedConfigFor("n2", 100),
                                   snmpd2->agentx_socket());
  const std::string modules = lab.dir() + "/snmp.yml";
  std::ofstream(modules) << "modules:\n  keepalived:\n    version: 2c\n"
                            "    community: public\n    timeout: 150ms\n"
                            "    retries: 0\n";
  SpeakerInstance speaker;
  speaker.vrid = 99;
  speaker.vips = {"192.0.2.250/24"};
  auto daemon = VrrpDaemon::Start(lab, 3, SpeakerConfig({speaker}), {},
                                  {"--web.listen-address", "127.0.0.1:9687",
                                   "--snmp.config.file", modules});
  // The README's scrape configuration (target relabelled into the
  // parameter, the exporter's address as __address__).
  const std::string scrape =
      "  - job_name: keepalived\n"
      "    metrics_path: /probe\n"
      "    params:\n"
      "      module: [keepalived]\n"
      "    static_configs:\n"
      "      - targets: ['" +
      snmpd1->target() + "', '" + snmpd2->target() + "', '" + lonely->target() +
      "']\n"
      "    relabel_configs:\n"
      "      - source_labels: [__address__]\n"
      "        target_label: __param_target\n"
      "      - source_labels: [__param_target]\n"
      "        target_label: instance\n"
      "      - target_label: __address__\n"
      "        replacement: 127.0.0.1:9687\n";
  auto prom = Prometheus::Start(lab, mon, "prometheus-snmp", scrape);

  const std::string vi1 = "keepalived_vrrp_state{iname=\"VI_1\",instance=\"";
  ASSERT_TRUE(prom->WaitForValue(vi1 + snmpd1->target() + "\"}", 2, 30s))
      << daemon->Log();
  ASSERT_TRUE(prom->WaitForValue(vi1 + snmpd2->target() + "\"}", 1, 10s));
  EXPECT_TRUE(prom->WaitForValue(
      "keepalived_up{instance=\"" + lonely->target() + "\"}", 0, 10s));

  // The alert's expression (without its `for`): the lonely snmpd only.
  const std::string alert = AlertExpr();
  std::vector<PromSample> last;
  EXPECT_TRUE(prom->WaitFor(
      alert,
      [&](const auto& r) {
        return Instances(r) == std::set<std::string>{lonely->target()};
      },
      10s, &last))
      << alert;

  // Failover: n1's Keepalived stops; n2 takes over, n1's target goes down.
  ka1->Signal(SIGTERM);
  ASSERT_TRUE(ka1->Wait(10s).has_value());
  ASSERT_TRUE(prom->WaitForValue(vi1 + snmpd2->target() + "\"}", 2, 20s));
  EXPECT_TRUE(prom->WaitFor(
      alert,
      [&](const auto& r) {
        return Instances(r) ==
               std::set<std::string>{lonely->target(), snmpd1->target()};
      },
      10s, &last))
      << alert;

  // Every panel of the fleet dashboard on these series.
  std::ifstream file(std::string(VRRP_SOURCE_DIR) +
                     "/dashboards/keepalived_fleet.json");
  const auto dashboard = nlohmann::json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded());
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"].get<std::string>();
      for (const auto& [var, value] :
           {std::pair<std::string, std::string>{"$job", ".*"},
            {"$target", ".*"},
            {"$iname", ".*"},
            {"$__rate_interval", "5s"}}) {
        for (size_t at; (at = expr.find(var)) != std::string::npos;) {
          expr.replace(at, var.size(), value);
        }
      }
      ++queries;
      if (expr.find("> 0") != std::string::npos) {
        EXPECT_NO_THROW(prom->Query(expr)) << expr;
        continue;
      }
      EXPECT_TRUE(prom->WaitFor(
          expr, [](const auto& r) { return !r.empty(); }, 10s))
          << panel["title"] << ": " << expr;
    }
  }
  EXPECT_GE(queries, 12);
  // The failover shows in the "Failovers" panel's series.
  EXPECT_TRUE(prom->WaitFor(
      "sum by (instance) (increase(keepalived_become_master_total{instance=\"" +
          snmpd2->target() + "\"}[30s])) > 0",
      [](const auto& r) { return r.size() == 1; }, 10s));
  // Two targets down in the "Targets down" stat.
  EXPECT_TRUE(prom->WaitForValue(
      dashboard["panels"][0]["targets"][0]["expr"].get<std::string>().replace(
          dashboard["panels"][0]["targets"][0]["expr"].get<std::string>().find(
              "job=~\"$job\",instance=~\"$target\""),
          std::string("job=~\"$job\",instance=~\"$target\"").size(),
          "job=~\".*\",instance=~\".*\""),
      2, 10s));
}

}  // namespace
}  // namespace vrrp::testing
