// A real Prometheus scraping our daemons in a namespace lab: through a
// failover, over TLS with basic auth, and with the queries of
// keepalived-exporter's Grafana dashboard.

#include "integration/prometheus.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::seconds;

std::string Target(int node) {
  return Lab::NodeAddress(node, Family::kIpv4) + ":9687";
}

SpeakerInstance Inst(int priority) {
  SpeakerInstance i;
  i.priority = priority;
  return i;
}

// Both nodes' daemons listen on their loopback and on their lab address
// (--web.listen-address twice), so the client namespace's Prometheus
// reaches them over the lab switch.
std::vector<std::string> ListenFlags(int node) {
  return {"--web.listen-address", "127.0.0.1:9687", "--web.listen-address",
          Target(node)};
}

std::string StaticJob(const std::string& job,
                      const std::vector<std::string>& targets,
                      const std::string& extra = "") {
  std::string y = "  - job_name: " + job + "\n" + extra +
                  "    static_configs:\n      - targets: [";
  for (size_t i = 0; i < targets.size(); ++i) {
    y += (i ? ", " : "") + std::string("'") + targets[i] + "'";
  }
  return y + "]\n";
}

double ValueFor(const std::vector<PromSample>& samples,
                const std::string& instance) {
  for (const auto& s : samples) {
    auto it = s.labels.find("instance");
    if (it != s.labels.end() && it->second == instance) return s.value;
  }
  return -1;
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RequireRootAndIproute();
    ASSERT_EQ(Sh("command -v prometheus >/dev/null && command -v promtool "
                 ">/dev/null"),
              0)
        << "prometheus and promtool are needed (scripts/install-deps.sh)";
  }
};

// Two speakers; Prometheus in the client namespace. n2 (priority 200) is
// master; a graceful stop of n2 hands over to n1, and Prometheus's API shows
// n1's state going 1 -> 2, its transitions counter and its failover
// histogram moving, and n2's target down.
TEST_F(PrometheusTest, ScrapesTwoSpeakersThroughAFailover) {
  Lab lab(2);
  // n2 first, and master before n1 starts: started together, a loaded
  // machine can delay n2 past n1's Master_Down_Interval, so that n1 is
  // master for a moment and the "no transition yet" below does not hold.
  auto n2 =
      VrrpDaemon::Start(lab, 2, SpeakerConfig({Inst(200)}), {}, ListenFlags(2));
  ASSERT_TRUE(n2->WaitForLog("Backup -> Master", seconds(10))) << n2->Log();
  auto n1 =
      VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}), {}, ListenFlags(1));
  auto prom = Prometheus::Start(lab, lab.client(), "prometheus",
                                StaticJob("vrrp", {Target(1), Target(2)}));

  // The repeated --web.listen-address: the loopback one answers too.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Curl(lab.node(1), "http://127.0.0.1:9687/metrics")
                   .find("vrrp_instance_state{") != std::string::npos;
      },
      seconds(5)));

  const std::string state = "vrrp_instance_state{job=\"vrrp\"}";
  std::vector<PromSample> r;
  ASSERT_TRUE(prom->WaitFor(
      state,
      [&](const auto& s) {
        return ValueFor(s, Target(1)) == 1 && ValueFor(s, Target(2)) == 2;
      },
      seconds(20), &r))
      << prom->Log();
  const std::string n1_sel = "{instance=\"" + Target(1) + "\"}";
  // A transitions series appears with its first transition: none yet.
  EXPECT_TRUE(
      prom->WaitForValue("sum(vrrp_instance_transitions_total{instance=\"" +
                             Target(1) + "\",to=\"master\"}) or vector(0)",
                         0, seconds(5)));
  EXPECT_TRUE(prom->WaitForValue(
      "vrrp_instance_failover_seconds_count" + n1_sel, 0, seconds(5)));
  // A few scrapes of the steady state, so the history holds the "before".
  ASSERT_TRUE(prom->WaitFor(
      "count_over_time(vrrp_instance_state" + n1_sel + "[1m])",
      [](const auto& s) { return s.size() == 1 && s[0].value >= 3; },
      seconds(10)));

  // promtool's linter has nothing to say about the live exposition.
  const std::string path = lab.dir() + "/n1.prom";
  std::ofstream(path) << Curl(lab.node(1), "http://127.0.0.1:9687/metrics");
  EXPECT_EQ(ShOut("promtool check metrics < " + path + " 2>&1; echo rc=$?"),
            "rc=0\n");

  // The failover: n2 stops gracefully (priority 0), n1 takes over.
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());

  EXPECT_TRUE(
      prom->WaitForValue("vrrp_instance_state" + n1_sel, 2, seconds(20)))
      << prom->Log();
  EXPECT_TRUE(
      prom->WaitForValue("sum(vrrp_instance_transitions_total{instance=\"" +
                             Target(1) + "\",from=\"backup\",to=\"master\"})",
                         1, seconds(10)));
  EXPECT_TRUE(prom->WaitForValue(
      "vrrp_instance_failover_seconds_count" + n1_sel, 1, seconds(10)));
  // The state change is in Prometheus's history, not only the latest value.
  EXPECT_TRUE(prom->WaitForValue(
      "min_over_time(vrrp_instance_state" + n1_sel + "[1m])", 1, seconds(5)));
  EXPECT_TRUE(prom->WaitForValue(
      "changes(vrrp_instance_state" + n1_sel + "[1m])", 1, seconds(5)));
  EXPECT_TRUE(prom->WaitFor(
      "increase(vrrp_instance_failover_seconds_count" + n1_sel + "[1m])",
      [](const auto& s) { return s.size() == 1 && s[0].value > 0; },
      seconds(10)));
  // A graceful handover waits Skew_Time (priority 100: 0.0609 s at 100 ms),
  // far below one second: the histogram's le="1" bucket counts it.
  EXPECT_TRUE(
      prom->WaitForValue("vrrp_instance_failover_seconds_bucket{instance=\"" +
                             Target(1) + "\",le=\"1\"}",
                         1, seconds(10)));
  EXPECT_TRUE(
      prom->WaitForValue("up{instance=\"" + Target(2) + "\"}", 0, seconds(10)));
  EXPECT_TRUE(
      prom->WaitForValue("up{instance=\"" + Target(1) + "\"}", 1, seconds(5)));

  // Our Grafana dashboard (dashboards/vrrp_exporter.json): every panel's
  // query is valid PromQL and, but for the receive-error panels (filtered
  // with "> 0", empty while nothing is refused), has data; so do its
  // variables' label_values() metrics.
  std::ifstream file(std::string(VRRP_SOURCE_DIR) +
                     "/dashboards/vrrp_exporter.json");
  const auto dashboard = nlohmann::json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded());
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"].get<std::string>();
      for (const auto& [var, value] :
           {std::pair<std::string, std::string>{"$instance", ".*"},
            {"$vrrp_instance", ".*"},
            {"$__rate_interval", "2s"}}) {
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
          expr, [](const auto& r) { return !r.empty(); }, seconds(10)))
          << panel["title"] << ": " << expr;
    }
  }
  EXPECT_GE(queries, 10);
  EXPECT_FALSE(prom->Query("vrrp_instance_info").empty());
}

// TLS, mutual TLS and basic auth from a web-config, checked with curl and
// scraped by a Prometheus in the same namespace (over the node's loopback).
TEST_F(PrometheusTest, ScrapesOverTlsWithBasicAuth) {
  Lab lab(1, /*with_client=*/false);
  MakeTestCertificates(lab.dir());
  const std::string web = lab.dir() + "/web.yml";
  // Relative paths: resolved against the web-config's directory.
  std::ofstream(web) << "tls_server_config:\n"
                        "  cert_file: server.crt\n"
                        "  key_file: server.key\n"
                        "  client_auth_type: RequireAndVerifyClientCert\n"
                        "  client_ca_file: ca.crt\n"
                        "basic_auth_users:\n"
                        "  prometheus: "
                     << BcryptHash("s3cret") << "\n";
  auto n1 = VrrpDaemon::Start(
      lab, 1, SpeakerConfig({Inst(100)}), {},
      {"--web.listen-address", "127.0.0.1:9687", "--web.config.file", web});
  const NetNs& ns = lab.node(1);
  const std::string ca = "--cacert " + ShellQuote(lab.dir() + "/ca.crt") +
                         " --cert " + ShellQuote(lab.dir() + "/client.crt") +
                         " --key " + ShellQuote(lab.dir() + "/client.key") +
                         " ";
  const std::string url = "https://127.0.0.1:9687/metrics";
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Curl(ns, ca + "-u prometheus:s3cret " + url)
                   .find("vrrp_instance_state{") != std::string::npos;
      },
      seconds(5)))
      << n1->Log();

  const std::string code = "-o /dev/null -w '%{http_code}' ";
  EXPECT_EQ(Curl(ns, code + ca + "-u prometheus:s3cret " + url), "200");
  EXPECT_EQ(Curl(ns, code + ca + "-u prometheus:wrong " + url), "401");
  EXPECT_EQ(Curl(ns, code + ca + "-u nobody:s3cret " + url), "401");
  EXPECT_EQ(Curl(ns, code + ca + url), "401");
  // Plain HTTP on the TLS port gets no HTTP answer at all.
  EXPECT_EQ(
      Curl(ns, code + "-u prometheus:s3cret http://127.0.0.1:9687/metrics"),
      "000");
  // Nor does a client that does not trust the test CA.
  EXPECT_EQ(Curl(ns, code + "-u prometheus:s3cret --cert " +
                         ShellQuote(lab.dir() + "/client.crt") + " --key " +
                         ShellQuote(lab.dir() + "/client.key") + " " + url),
            "000");
  // Nor one without a client certificate.
  EXPECT_EQ(Curl(ns, code + "-u prometheus:s3cret --cacert " +
                         ShellQuote(lab.dir() + "/ca.crt") + " " + url),
            "000");

  const std::string server_ca =
      "    scheme: https\n"
      "    tls_config:\n"
      "      ca_file: " +
      lab.dir() + "/ca.crt\n";
  const std::string tls = server_ca + "      cert_file: " + lab.dir() +
                          "/client.crt\n      key_file: " + lab.dir() +
                          "/client.key\n";
  auto prom = Prometheus::Start(
      lab, ns, "prometheus",
      StaticJob("good", {"127.0.0.1:9687"},
                tls + "    basic_auth:\n      username: prometheus\n"
                      "      password: s3cret\n") +
          StaticJob("wrong-password", {"127.0.0.1:9687"},
                    tls + "    basic_auth:\n      username: prometheus\n"
                          "      password: guess\n") +
          StaticJob("no-client-cert", {"127.0.0.1:9687"},
                    server_ca + "    basic_auth:\n      username: prometheus\n"
                                "      password: s3cret\n") +
          StaticJob("plain-http", {"127.0.0.1:9687"},
                    "    basic_auth:\n      username: prometheus\n"
                    "      password: s3cret\n"));
  EXPECT_TRUE(prom->WaitForValue("up{job=\"good\"}", 1, seconds(20)))
      << prom->Log();
  EXPECT_TRUE(
      prom->WaitForValue("vrrp_instance_state{job=\"good\"}", 2, seconds(20)));
  EXPECT_TRUE(prom->WaitForValue("up{job=\"wrong-password\"}", 0, seconds(20)));
  EXPECT_TRUE(prom->WaitForValue("up{job=\"plain-http\"}", 0, seconds(20)));
  EXPECT_TRUE(prom->WaitForValue("up{job=\"no-client-cert\"}", 0, seconds(20)));
  EXPECT_TRUE(prom->Query("vrrp_instance_state{job!=\"good\"}").empty());
}

// The PromQL of mehdy/keepalived-exporter's Grafana dashboard
// (grafana/dashboards/keepalived-exporter.json), with $instance taken from
// its variable query label_values(keepalived_up, instance) and
// $__rate_interval as Grafana sets it for this scrape interval (4 x 500 ms),
// run against our daemons' --metrics.keepalived-compat names.
TEST_F(PrometheusTest, KeepalivedExporterDashboardQueriesGetData) {
  Lab lab(2);
  const std::vector<std::string> compat = {"--metrics.keepalived-compat",
                                           "true"};
  auto flags = [&](int n) {
    auto f = ListenFlags(n);
    f.insert(f.end(), compat.begin(), compat.end());
    return f;
  };
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}), {}, flags(1));
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({Inst(200)}), {}, flags(2));
  auto prom =
      Prometheus::Start(lab, lab.client(), "prometheus",
                        StaticJob("keepalived", {Target(1), Target(2)}));

  // The dashboard's panels, as written there.
  const std::vector<std::string> panels = {
      "keepalived_up{instance=\"$instance\"}",
      "keepalived_vrrp_state{instance=\"$instance\"}",
      "rate(keepalived_become_master_total{instance=\"$instance\"}[$__rate_"
      "interval])",
      "rate(keepalived_release_master_total{instance=\"$instance\"}[$__rate_"
      "interval])",
      "rate(keepalived_advertisements_sent_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_advertisements_received_total{instance=\"$instance\"}[$_"
      "_rate_interval])",
      "rate(keepalived_priority_zero_sent_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_priority_zero_received_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_advertisements_interval_errors_total{instance=\"$"
      "instance\"}[$__rate_interval])",
      "rate(keepalived_packet_length_errors_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_ip_ttl_errors_total{instance=\"$instance\"}[$__rate_"
      "interval])",
      "rate(keepalived_invalid_type_received_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_address_list_errors_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_authentication_invalid_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_authentication_failure_total{instance=\"$instance\"}[$__"
      "rate_interval])",
      "rate(keepalived_authentication_mismatch_total{instance=\"$instance\"}[$_"
      "_rate_interval])",
  };
  // Its panels for Keepalived's check scripts (keepalived_script_status,
  // keepalived_exporter_check_script_status, keepalived_script_state) and
  // keepalived_gratuitous_arp_delay_total (a Keepalived setting) have no
  // counterpart here and stay empty, as they do for a Keepalived without
  // scripts.

  // The dashboard's instance variable.
  std::vector<PromSample> up;
  ASSERT_TRUE(prom->WaitFor(
      "keepalived_up", [](const auto& s) { return s.size() == 2; }, seconds(20),
      &up))
      << prom->Log();
  std::set<std::string> instances;
  for (const auto& s : up) instances.insert(s.labels.at("instance"));
  EXPECT_EQ(instances, (std::set<std::string>{Target(1), Target(2)}));

  const auto substitute = [](std::string expr, const std::string& instance) {
    for (const auto& [var, value] :
         {std::pair<std::string, std::string>{"$instance", instance},
          {"$__rate_interval", "2s"}}) {
      for (size_t at; (at = expr.find(var)) != std::string::npos;) {
        expr.replace(at, var.size(), value);
      }
    }
    return expr;
  };
  for (const std::string& instance : instances) {
    for (const std::string& panel : panels) {
      const std::string expr = substitute(panel, instance);
      std::vector<PromSample> result;
      EXPECT_TRUE(prom->WaitFor(
          expr, [](const auto& s) { return !s.empty(); }, seconds(20), &result))
          << expr;
    }
  }
  // The data is right, not only present: the master sends advertisements at
  // 10 a second (100 ms), the backup receives them, and the states are
  // Keepalived's numbers.
  EXPECT_TRUE(prom->WaitFor(
      substitute(
          "rate(keepalived_advertisements_sent_total{instance=\"$instance\"}"
          "[$__rate_interval])",
          Target(2)),
      [](const auto& s) {
        return s.size() == 1 && s[0].value > 8 && s[0].value < 12;
      },
      seconds(10)));
  EXPECT_TRUE(prom->WaitFor(
      substitute("rate(keepalived_advertisements_received_total{instance=\"$"
                 "instance\"}[$__rate_interval])",
                 Target(1)),
      [](const auto& s) {
        return s.size() == 1 && s[0].value > 8 && s[0].value < 12;
      },
      seconds(10)));
  EXPECT_TRUE(prom->WaitForValue(
      substitute("keepalived_vrrp_state{instance=\"$instance\"}", Target(1)), 1,
      seconds(5)));
  EXPECT_TRUE(prom->WaitForValue(
      substitute("keepalived_vrrp_state{instance=\"$instance\"}", Target(2)), 2,
      seconds(5)));
}

}  // namespace
}  // namespace vrrp::testing
