// /probe against real peers: snmpd as AgentX master on 127.0.0.1 and
// `keepalived -x` in lab namespaces, scraped through our HTTP route and
// net-snmp engine. Needs root, snmpd, snmpget, keepalived and curl; a
// missing one fails the test.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <future>
#include <thread>

#include "integration/lab.h"
#include "integration/snmp_lab.h"
#include "sys/netns.h"

namespace vrrp::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Three instances: VI_1 with a /24 VIP, an excluded VIP and a script that
// succeeds; VI_2 with a host route (written without "/32") and a failing
// script that takes 10 off its priority; VI_3 on IPv6. VI_1 and VI_3 form a
// sync group (whose members may not have weighted scripts).
std::string Config(const std::string& router_id, int priority) {
  std::string s = KeepalivedGlobalDefs(router_id);
  s += R"(
vrrp_script chk_true {
    script "/bin/true"
    interval 1
}
vrrp_script chk_false {
    script "/bin/false"
    interval 1
    weight -10
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_3
    }
}
)";
  const char* vips[] = {"192.0.2.200/24", "192.0.2.201/32", "2001:db8::200/64"};
  for (int k = 1; k <= 3; ++k) {
    s += "vrrp_instance VI_" + std::to_string(k) + " {\n" +
         "    state BACKUP\n    interface eth0\n" + "    virtual_router_id " +
         std::to_string(50 + k) + "\n" + "    priority " +
         std::to_string(priority) + "\n" +
         "    advert_int 0.1\n    version 3\n" +
         (k == 1 ? "    track_script {\n        chk_true\n    }\n" : "") +
         (k == 2 ? "    track_script {\n        chk_false\n    }\n" : "") +
         "    virtual_ipaddress {\n        " + vips[k - 1] + "\n    }\n" +
         (k == 1 ? "    virtual_ipaddress_excluded {\n        192.0.2.210/32\n "
                   "   }\n"
                 : "") +
         "}\n";
  }
  return s;
}

// VX_SNMP_RECORD=DIR: the test also leaves `snmpwalk -On` of both agents'
// subtrees in DIR, the recorded responses of the golden tests
// (test/snmp/data/).
void Record(const Snmpd& snmpd, const std::string& name) {
  const char* dir = std::getenv("VX_SNMP_RECORD");
  if (dir == nullptr) return;
  for (const char* tree : {".1.3.6.1.4.1.9586.100.5.1",
                           ".1.3.6.1.4.1.9586.100.5.2", ".1.3.6.1.2.1.207"}) {
    Sh("MIBS= snmpwalk -v2c -c public -On -Oe -Ot " + snmpd.target() + " " +
       tree + " >>" + std::string(dir) + "/" + name + ".walk");
  }
}

const std::string kVi1 =
    R"(keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="192.0.2.200/24"})";
const std::string kVi3 =
    R"(keepalived_vrrp_state{iname="VI_3",intf="eth0",vrid="53",ip_address="2001:db8::200/64"})";
const std::string kVi2 =
    R"(keepalived_vrrp_state{iname="VI_2",intf="eth0",vrid="52",ip_address="192.0.2.201"})";

class SnmpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }
};

TEST_F(SnmpProbeTest, TwoNodesFailoverAndKeepalivedStopped) {
  Lab lab(2, /*with_client=*/false);
  auto snmpd1 = Snmpd::Start(lab, "n1");
  auto snmpd2 = Snmpd::Start(lab, "n2");
  auto ka1 =
      StartKeepalivedAgentX(lab, 1, Config("n1", 150), snmpd1->agentx_socket());
  auto ka2 =
      StartKeepalivedAgentX(lab, 2, Config("n2", 100), snmpd2->agentx_socket());
  ProbeServer probe;
  std::string b1, b2;
  ASSERT_TRUE(WaitUntil(
      [&] {
        b1 = probe.Probe(snmpd1->target(), "v2c");
        b2 = probe.Probe(snmpd2->target(), "v2c");
        return Sample(b1, kVi1) == 2 && Sample(b1, kVi2) == 2 &&
               Sample(b1, kVi3) == 2 && Sample(b2, kVi1) == 1 &&
               Sample(b2, kVi2) == 1 && Sample(b2, kVi3) == 1;
      },
      20s, 200ms))
      << "n1:\n"
      << b1 << "\nn2:\n"
      << b2;
  EXPECT_EQ(Sample(b1, "keepalived_up"), 1);
  const std::string l1 = R"({iname="VI_1",intf="eth0",vrid="51"})";
  EXPECT_EQ(Sample(b1, "keepalived_vrrp_base_priority" + l1), 150);
  EXPECT_EQ(Sample(b1, "keepalived_vrrp_effective_priority" + l1), 150);
  EXPECT_EQ(Sample(b2, "keepalived_vrrp_base_priority" + l1), 100);
  EXPECT_DOUBLE_EQ(Sample(b1, "keepalived_vrrp_advert_interval_seconds" + l1),
                   0.1);
  EXPECT_EQ(Sample(b1, "keepalived_vrrp_preempt" + l1), 1);
  EXPECT_EQ(Sample(b1, R"(keepalived_script_status{name="chk_true"})"), 1);
  EXPECT_EQ(Sample(b1, R"(keepalived_vrrp_sync_group_state{name="G1"})"), 2);
  EXPECT_EQ(
      Sample(
          b1,
          R"(keepalived_vrrp_address_set{iname="VI_1",intf="eth0",vrid="51",ip_address="192.0.2.200/24"})"),
      1);
  EXPECT_GE(Sample(b1, "keepalived_become_master_total" + l1), 1);
  EXPECT_GT(Sample(b2, "keepalived_advertisements_received_total" + l1), 0);
  EXPECT_EQ(Sample(b1, R"(keepalived_scrape_errors{reason="timeout"})"), 0);
  // The failing script takes its weight off VI_2's effective priority.
  const std::string l2 = R"({iname="VI_2",intf="eth0",vrid="52"})";
  EXPECT_EQ(Sample(b1, "keepalived_vrrp_base_priority" + l2), 150);
  EXPECT_EQ(Sample(b1, "keepalived_vrrp_effective_priority" + l2), 140);
  EXPECT_EQ(Sample(b1, R"(keepalived_script_status{name="chk_false"})"), 0);
  EXPECT_EQ(
      Sample(
          b1,
          R"(keepalived_vrrp_excluded_state{iname="VI_1",intf="eth0",vrid="51",ip_address="192.0.2.210"})"),
      2)
      << b1;
  EXPECT_EQ(Sample(b1, kVi3), 2) << b1;
  Record(*snmpd1, "keepalived-2.2.7-master");
  Record(*snmpd2, "keepalived-2.2.7-backup");

  // Failover: n1's Keepalived stops (priority 0 sent), n2 takes over.
  const double before = Sample(b2, "keepalived_become_master_total" + l1);
  ka1->Signal(SIGTERM);
  ASSERT_TRUE(ka1->Wait(10s).has_value());
  ASSERT_TRUE(WaitUntil(
      [&] {
        b2 = probe.Probe(snmpd2->target(), "v2c");
        return Sample(b2, kVi1) == 2 && Sample(b2, kVi2) == 2 &&
               Sample(b2, kVi3) == 2;
      },
      10s, 100ms))
      << b2;
  EXPECT_EQ(Sample(b2, "keepalived_become_master_total" + l1), before + 1);
  EXPECT_GE(Sample(b2, "keepalived_priority_zero_received_total" + l1), 1);

  // n1's snmpd still answers, but no Keepalived is attached: not up.
  ASSERT_TRUE(WaitUntil(
      [&] {
        b1 = probe.Probe(snmpd1->target(), "v2c");
        return Sample(b1, "keepalived_up") == 0;
      },
      10s, 100ms))
      << b1;
  EXPECT_EQ(Sample(b1, R"(keepalived_scrape_errors{reason="no_such_object"})"),
            1);
  EXPECT_TRUE(std::isnan(Sample(b1, kVi1))) << b1;
}

TEST_F(SnmpProbeTest, SnmpV3RightAndWrongCredentials) {
  Lab lab(1, false);
  auto snmpd = Snmpd::Start(lab, "v3");
  auto ka =
      StartKeepalivedAgentX(lab, 1, Config("n1", 150), snmpd->agentx_socket());
  ProbeServer probe;
  std::string body;
  ASSERT_TRUE(WaitUntil(
      [&] {
        body = probe.Probe(snmpd->target(), "v3");
        return Sample(body, kVi1) == 2;
      },
      20s, 200ms))
      << body;
  EXPECT_EQ(Sample(body, "keepalived_up"), 1);
  body = probe.Probe(snmpd->target(), "v3_wrong");
  EXPECT_EQ(Sample(body, "keepalived_up"), 0) << body;
  EXPECT_GE(
      Sample(body, R"(keepalived_scrape_errors{reason="authentication"})"), 1)
      << body;
  // No secret in the answer.
  EXPECT_EQ(body.find("not-the-password"), std::string::npos);
  EXPECT_EQ(body.find("labprivpass1"), std::string::npos);
  // net-snmp keeps one USM user per engine ID and name: the wrong keys must
  // not stick to the user either.
  body = probe.Probe(snmpd->target(), "v3");
  EXPECT_EQ(Sample(body, "keepalived_up"), 1) << body;
}

TEST_F(SnmpProbeTest, DeadTargetTimesOutWithoutDelayingAHealthyOne) {
  Lab lab(1, false);
  auto snmpd = Snmpd::Start(lab, "live");
  auto ka =
      StartKeepalivedAgentX(lab, 1, Config("n1", 150), snmpd->agentx_socket());
  ProbeServer probe;
  std::string body;
  ASSERT_TRUE(WaitUntil(
      [&] {
        body = probe.Probe(snmpd->target(), "fast");
        return Sample(body, kVi1) == 2;
      },
      20s, 200ms))
      << body;
  // A dead target: a bound UDP socket that never answers.
  const int dead = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(dead, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(dead, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string dead_target =
      "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  const auto start = Clock::now();
  auto dead_probe = std::async(std::launch::async, [&] {
    std::string b = probe.Probe(dead_target, "fast");
    return std::make_pair(b, Clock::now() - start);
  });
  std::this_thread::sleep_for(50ms);  // the dead probe is in flight
  const auto live_start = Clock::now();
  const std::string live = probe.Probe(snmpd->target(), "fast");
  const auto live_took = Clock::now() - live_start;
  auto [dead_body, dead_took] = dead_probe.get();
  close(dead);

  EXPECT_EQ(Sample(live, "keepalived_up"), 1) << live;
  EXPECT_EQ(Sample(live, kVi1), 2);
  // "fast" is 300 ms x 2 tries: the dead one fails after ~600 ms, the live
  // one does not wait for it.
  EXPECT_LT(live_took, 500ms);
  EXPECT_EQ(Sample(dead_body, "keepalived_up"), 0) << dead_body;
  EXPECT_EQ(Sample(dead_body, R"(keepalived_scrape_errors{reason="timeout"})"),
            1)
      << dead_body;
  EXPECT_GE(dead_took, 550ms);
  EXPECT_LT(dead_took, 2s);
}

}  // namespace
}  // namespace vrrp::testing
