// Our speaker as an AgentX subagent (--snmp.agentx-socket): snmpd as the
// AgentX master and snmptrapd on the node's loopback, our daemon beside
// them, a second daemon as the peer. snmpwalk -On returns the right
// VRRPv3-MIB rows, they change on failover, and snmptrapd receives
// vrrpv3NewMaster. Needs root, snmpd, snmpwalk, snmptrapd.

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "integration/lab.h"
#include "integration/snmp_lab.h"
#include "integration/vrrp_daemon.h"
#include "sys/netns.h"

namespace vrrp::testing {
namespace {

using namespace std::chrono_literals;

std::string Walk(const NetNs& ns, const Snmpd& snmpd, const std::string& oid) {
  return ShOut("ip netns exec " + ns.name() +
               " env MIBS= snmpwalk -v2c -c public -On -t 1 -r 1 " +
               snmpd.target() + " " + oid + " 2>&1");
}

TEST(SnmpAgentXTest, Vrrpv3RowsAndNewMasterTrap) {
  RequireRootAndIproute();
  Lab lab(2, /*with_client=*/false);
  const NetNs& n1 = lab.node(1);
  // snmptrapd on n1's loopback.
  const int trap_port = FreeUdpPort();
  const std::string trap_conf = lab.dir() + "/snmptrapd.conf";
  const std::string trap_log = lab.dir() + "/snmptrapd.log";
  std::ofstream(trap_conf) << "disableAuthorization yes\n";
  auto trapd =
      Process::Start(n1,
                     {"snmptrapd", "-f", "-C", "-c", trap_conf, "-Lf", trap_log,
                      "-On", "udp:127.0.0.1:" + std::to_string(trap_port)},
                     trap_log, {"MIBS=", "SNMP_PERSISTENT_DIR=" + lab.dir()});
  ASSERT_TRUE(WaitUntil(
      [&] { return CountLines(trap_log, "NET-SNMP version") > 0; }, 10s));
  SnmpdOptions o;
  o.ns = &n1;
  o.trap_sink = "127.0.0.1:" + std::to_string(trap_port);
  auto snmpd = Snmpd::Start(lab, "master", o);

  SpeakerInstance low;  // ours, the backup at first
  low.priority = 100;
  SpeakerInstance high = low;  // the peer, master at first
  high.priority = 200;
  auto peer = VrrpDaemon::Start(lab, 2, SpeakerConfig({high}));
  // The peer is master before ours starts, so ours never is before the
  // failover.
  ASSERT_TRUE(WaitUntil(
      [&] { return HasAddress(lab.node(2), "eth0", "192.0.2.200"); }, 10s));
  auto ours =
      VrrpDaemon::Start(lab, 1, SpeakerConfig({low}), {},
                        {"--snmp.agentx-socket", snmpd->agentx_socket()});

  const std::string ifindex =
      ShOut("ip netns exec " + n1.name() + " cat /sys/class/net/eth0/ifindex");
  ASSERT_FALSE(ifindex.empty());
  const std::string idx = ifindex.substr(0, ifindex.find('\n')) + ".51.1";
  const std::string v = ".1.3.6.1.2.1.207";
  std::string oper;
  // Backup(2), the peer (192.0.2.12) as master, priority 100, one address.
  ASSERT_TRUE(WaitUntil(
      [&] {
        oper = Walk(n1, *snmpd, v + ".1.1.1.1");
        return oper.find(v + ".1.1.1.1.6." + idx + " = INTEGER: 2") !=
                   std::string::npos &&
               oper.find(v + ".1.1.1.1.3." + idx +
                         " = Hex-STRING: C0 00 02 0C") != std::string::npos;
      },
      20s, 200ms))
      << oper << "\n"
      << ours->Log();
  EXPECT_NE(oper.find(v + ".1.1.1.1.7." + idx + " = Gauge32: 100"),
            std::string::npos)
      << oper;
  EXPECT_NE(oper.find(v + ".1.1.1.1.8." + idx + " = INTEGER: 1"),
            std::string::npos)
      << oper;
  EXPECT_NE(oper.find(v + ".1.1.1.1.9." + idx + " = INTEGER: 10"),
            std::string::npos)
      << oper;
  // The waits above checked the master's address: the peer's, 192.0.2.12.
  const std::string assoc = Walk(n1, *snmpd, v + ".1.1.2");
  EXPECT_NE(assoc.find(v + ".1.1.2.1.2." + idx + ".4.192.0.2.200 = INTEGER: 1"),
            std::string::npos)
      << assoc;
  const std::string kinst = Walk(n1, *snmpd, ".1.3.6.1.4.1.9586.100.5.2.3.1.2");
  EXPECT_NE(kinst.find(".1.3.6.1.4.1.9586.100.5.2.3.1.2.1 = STRING: \"vip1\""),
            std::string::npos)
      << kinst;
  EXPECT_EQ(CountLines(trap_log, ".1.3.6.1.2.1.207.0.1"), 0);

  // Failover: the peer stops; ours becomes master and says so.
  peer->process().Signal(SIGTERM);
  ASSERT_TRUE(peer->process().Wait(10s).has_value());
  ASSERT_TRUE(WaitUntil(
      [&] {
        oper = Walk(n1, *snmpd, v + ".1.1.1.1.6");
        return oper.find(v + ".1.1.1.1.6." + idx + " = INTEGER: 3") !=
               std::string::npos;
      },
      10s, 100ms))
      << oper;
  const std::string stats = Walk(n1, *snmpd, v + ".1.2.5.1.1");
  EXPECT_NE(stats.find(v + ".1.2.5.1.1." + idx + " = Counter32: 1"),
            std::string::npos)
      << stats;
  ASSERT_TRUE(WaitUntil(
      [&] { return CountLines(trap_log, "OID: .1.3.6.1.2.1.207.0.1") == 1; },
      10s, 100ms))
      << ReadFile(trap_log);
  const std::string traps = ReadFile(trap_log);
  // Its objects: our address (192.0.2.11) as the master's, and the reason
  // (priority-zero from the peer: masterNoResponse(3)).
  EXPECT_NE(traps.find(v + ".1.1.1.1.3." + idx + " = Hex-STRING: C0 00 02 0B"),
            std::string::npos)
      << traps;
  EXPECT_NE(traps.find(v + ".1.2.5.1.2." + idx + " = INTEGER: 3"),
            std::string::npos)
      << traps;
  // Counted on /metrics.
  const std::string metrics = Curl(n1, "http://127.0.0.1:9687/metrics");
  EXPECT_NE(metrics.find("vrrp_exporter_agentx_connects_total 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("vrrp_exporter_agentx_notifications_total 1\n"),
            std::string::npos);
}

// snmpd absent at start, then there: the subagent connects by itself, and
// the speaker never waited for it.
TEST(SnmpAgentXTest, ConnectsWhenSnmpdComesLater) {
  RequireRootAndIproute();
  Lab lab(1, false);
  const NetNs& n1 = lab.node(1);
  const std::string sock = lab.dir() + "/snmpd-late-agentx.sock";
  SpeakerInstance only;
  auto ours = VrrpDaemon::Start(lab, 1, SpeakerConfig({only}), {},
                                {"--snmp.agentx-socket", sock});
  // Master without any snmpd.
  ASSERT_TRUE(
      WaitUntil([&] { return HasAddress(n1, "eth0", "192.0.2.200"); }, 10s));
  SnmpdOptions o;
  o.ns = &n1;
  auto snmpd = Snmpd::Start(lab, "late", o);
  ASSERT_EQ(snmpd->agentx_socket(), sock);
  std::string oper;
  EXPECT_TRUE(WaitUntil(
      [&] {
        oper = Walk(n1, *snmpd, ".1.3.6.1.2.1.207.1.1.1.1.6");
        return oper.find("= INTEGER: 3") != std::string::npos;
      },
      20s, 250ms))
      << oper << "\n"
      << ours->Log();
}

}  // namespace
}  // namespace vrrp::testing
