// The exporter of a real speaker: two daemons in a namespace lab, each
// serving HTTP on 127.0.0.1 inside its own node namespace, scraped through
// a failover. Metrics, JSON status, health and reload over HTTP.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The value of the first sample whose line starts with `series`, or -1.
double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series, 0) == 0) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

const std::string kLabels =
    "{vrrp_instance=\"vip1\",interface=\"eth0\",vrid=\"51\",family=\"ipv4\"}";

class ExporterTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }
  static SpeakerInstance Inst(int priority) {
    SpeakerInstance i;
    i.priority = priority;
    return i;
  }
  static std::string Metrics(const Lab& lab, int n) {
    return Curl(lab.node(n), "http://127.0.0.1:9687/metrics");
  }
};

TEST_F(ExporterTest, MetricsFollowAFailover) {
  Lab lab(2);
  // n2 master before n1 starts: started together, a loaded machine can
  // delay n2 past n1's Master_Down_Interval, and n1's failover count below
  // would not start at 0.
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({Inst(200)}));
  ASSERT_TRUE(n2->WaitForLog("Backup -> Master", seconds(10))) << n2->Log();
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Sample(Metrics(lab, 2), "vrrp_instance_state" + kLabels) == 2;
      },
      seconds(5)))
      << Metrics(lab, 2);
  // n1 reports n2 once it has heard n2 and republished (every 100 ms).
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Sample(Metrics(lab, 1),
                      "vrrp_instance_master_priority" + kLabels) == 200;
      },
      seconds(5)));
  std::string m1 = Metrics(lab, 1), m2 = Metrics(lab, 2);
  EXPECT_EQ(Sample(m1, "vrrp_instance_state" + kLabels), 1);
  EXPECT_EQ(Sample(m2,
                   "vrrp_instance_address_present{vrrp_instance=\"vip1\","
                   "interface=\"eth0\",vrid=\"51\",family=\"ipv4\","
                   "address=\"192.0.2.200/24\"}"),
            1)
      << m2;
  EXPECT_EQ(Sample(m1,
                   "vrrp_instance_address_present{vrrp_instance=\"vip1\","
                   "interface=\"eth0\",vrid=\"51\",family=\"ipv4\","
                   "address=\"192.0.2.200/24\"}"),
            0);
  EXPECT_EQ(Sample(m1, "vrrp_instance_master_priority" + kLabels), 200);
  EXPECT_EQ(Sample(m1,
                   "keepalived_vrrp_state{iname=\"vip1\",intf=\"eth0\","
                   "vrid=\"51\",ip_address=\"192.0.2.200/24\"}"),
            1);
  EXPECT_EQ(Sample(m1, "keepalived_up"), 1);
  EXPECT_GT(Sample(m1, "vrrp_instance_advertisements_received_total" + kLabels),
            0);
  EXPECT_EQ(Sample(m1, "vrrp_instance_failover_seconds_count" + kLabels), 0);

  // Crash n2: n1 takes over, and its metrics say so, with the reason and
  // the silence it waited.
  n2->process().KillGroup();
  lab.CutLink(2);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Sample(Metrics(lab, 1), "vrrp_instance_state" + kLabels) == 2;
      },
      seconds(5)));
  m1 = Metrics(lab, 1);
  EXPECT_EQ(
      Sample(m1,
             "vrrp_instance_transitions_total{vrrp_instance=\"vip1\","
             "interface=\"eth0\",vrid=\"51\",family=\"ipv4\","
             "from=\"backup\",to=\"master\",reason=\"master-down-timer\"}"),
      1);
  EXPECT_EQ(Sample(m1, "vrrp_instance_failover_seconds_count" + kLabels), 1);
  // Master_Down_Interval at priority 100 and 100 ms: 360.9 ms.
  const double silence =
      Sample(m1, "vrrp_instance_failover_seconds_sum" + kLabels);
  // The upper bound only tells a plausible silence from a wrong unit or
  // clock: how close the timer keeps to the RFC is the benchmark's to
  // measure, and this daemon runs without real-time priority next to
  // other tests.
  EXPECT_GT(silence, 0.35);
  EXPECT_LT(silence, 1.0);
  EXPECT_EQ(Sample(m1,
                   "vrrp_instance_in_state{vrrp_instance=\"vip1\","
                   "interface=\"eth0\",vrid=\"51\",family=\"ipv4\","
                   "state=\"master\"}"),
            1);
  // promtool agrees with the live exposition too.
  const std::string path = lab.dir() + "/n1.prom";
  std::ofstream(path) << m1;
  EXPECT_EQ(Sh("promtool check metrics < " + path), 0);
}

TEST_F(ExporterTest, StatusHealthAndReloadOverHttp) {
  Lab lab(1);
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}), {},
                              {"--web.enable-lifecycle"});
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Curl(lab.node(1), "http://127.0.0.1:9687/api/v1/status")
                   .find("\"state\": \"Master\"") != std::string::npos;
      },
      seconds(5)));
  EXPECT_EQ(Curl(lab.node(1), "http://127.0.0.1:9687/-/healthy"), "OK\n");
  EXPECT_EQ(Curl(lab.node(1), "http://127.0.0.1:9687/-/ready"), "OK\n");
  const std::string landing = Curl(lab.node(1), "http://127.0.0.1:9687/");
  EXPECT_NE(landing.find("vip1"), std::string::npos) << landing;
  EXPECT_NE(landing.find("Master"), std::string::npos) << landing;
  // Reload over HTTP: unchanged, then a broken file (rejected, 500, with
  // file:line), and the speaker keeps running.
  EXPECT_EQ(Curl(lab.node(1),
                 "-X POST -w ' %{http_code}' http://127.0.0.1:9687/-/reload"),
            "reload done: 1 kept, 0 added, 0 re-created, 0 removed\n 200");
  n1->WriteConfig("instances:\n  - name: vip1\n    vrid: 0\n");
  const std::string bad = Curl(
      lab.node(1), "-X POST -w ' %{http_code}' http://127.0.0.1:9687/-/reload");
  EXPECT_NE(bad.find(n1->config_path() + ":3:"), std::string::npos) << bad;
  EXPECT_NE(bad.find(" 500"), std::string::npos) << bad;
  EXPECT_TRUE(HasAddress(lab.node(1), "eth0", "192.0.2.200"));
  // A GET on the reload endpoint is refused.
  EXPECT_EQ(
      Curl(lab.node(1),
           "-o /dev/null -w '%{http_code}' http://127.0.0.1:9687/-/reload"),
      "405");
}

// Without --web.enable-lifecycle, POST /-/reload is refused (403) and
// reloads nothing; SIGHUP still does.
TEST_F(ExporterTest, ReloadOverHttpNeedsTheLifecycleFlag) {
  Lab lab(1, /*with_client=*/false);
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Curl(lab.node(1), "http://127.0.0.1:9687/-/healthy") == "OK\n";
      },
      seconds(5)));
  const std::string refused = Curl(
      lab.node(1), "-X POST -w ' %{http_code}' http://127.0.0.1:9687/-/reload");
  EXPECT_NE(refused.find("--web.enable-lifecycle"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find(" 403"), std::string::npos) << refused;
  EXPECT_EQ(n1->Count("reloading"), 0) << n1->Log();
  n1->process().Signal(SIGHUP);
  EXPECT_TRUE(n1->WaitForLog("reload done: 1 kept", seconds(5))) << n1->Log();
}

}  // namespace
}  // namespace vrrp::testing
