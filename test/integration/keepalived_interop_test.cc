// Mixed pairs of our speaker and Debian's keepalived 2.2.7 on one bridge,
// both ways round, for VRRPv3 over IPv4 and IPv6 and for VRRPv2 with PASS
// authentication: priorities are respected, crash and graceful failover
// work in both directions, and neither side counts a checksum, interval,
// TTL or authentication error.

#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <sstream>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Flavor {
  const char* name;
  int version;
  Family family;
  const char* vip;         // without prefix length
  const char* vip_prefix;  // with
  const char* ours_interval;
  const char* keepalived_interval;
  const char* password;  // VRRPv2 PASS, or ""
  bool unicast = false;  // unicast_peer both ways instead of the group
};

const Flavor kFlavors[] = {
    {"v3_ipv4", 3, Family::kIpv4, "192.0.2.200", "192.0.2.200/24", "100ms",
     "0.1", ""},
    {"v3_ipv6", 3, Family::kIpv6, "2001:db8::200", "2001:db8::200/64", "100ms",
     "0.1", ""},
    {"v2_ipv4_pass", 2, Family::kIpv4, "192.0.2.200", "192.0.2.200/24", "1s",
     "1", "secret1"},
    // Keepalived's unicast_peer mode. Over IPv6 it sends with hop limit 64
    // (its unicast_ttl default): a listed peer's hop limit is not checked,
    // or both sides would be master.
    {"v3_ipv4_unicast", 3, Family::kIpv4, "192.0.2.200", "192.0.2.200/24",
     "100ms", "0.1", "", true},
    {"v3_ipv6_unicast", 3, Family::kIpv6, "2001:db8::200", "2001:db8::200/64",
     "100ms", "0.1", "", true},
};

// Whether a line of Keepalived's log is a complaint about a packet: a
// checksum, interval, TTL / hop limit or authentication problem, or
// something invalid, mismatched or bad. Words, not substrings: an
// address such as fe80::47d:36ff:fea3:4bad is not "bad".
bool KeepalivedComplains(const std::string& line) {
  static const std::regex complaint(
      "\\b(checksum|interval|ttl|hop ?limit|auth|invalid|mismatch|bad\\b)",
      std::regex::icase);
  return std::regex_search(line, complaint);
}

TEST(KeepalivedComplainsTest, WordsNotSubstrings) {
  EXPECT_TRUE(KeepalivedComplains(
      "(vip1) Invalid checksum in advertisement from fe80::1"));
  EXPECT_TRUE(KeepalivedComplains("(vip1) advertisement interval mismatch"));
  EXPECT_TRUE(KeepalivedComplains("(vip1) bad TTL 64"));
  EXPECT_TRUE(KeepalivedComplains("(vip1) received an authentication error"));
  EXPECT_FALSE(KeepalivedComplains(
      "Assigned address fe80::47d:36ff:fea3:4bad for interface eth0"));
  EXPECT_FALSE(KeepalivedComplains("(vip1) Entering MASTER STATE"));
}

class Interop : public ::testing::TestWithParam<Flavor> {
 protected:
  void SetUp() override { RequireRootAndIproute(); }

  SpeakerInstance Ours(int priority) const {
    const Flavor& f = GetParam();
    SpeakerInstance i;
    i.version = f.version;
    i.priority = priority;
    i.interval = f.ours_interval;
    i.vips = {f.vip_prefix};
    i.auth_pass = f.password;
    if (f.unicast) {
      // Ours is always node 1, Keepalived node 2.
      i.unicast_source = Lab::NodeAddress(1, f.family);
      i.unicast_peers = {Lab::NodeAddress(2, f.family)};
    }
    return i;
  }
  std::string Theirs(int priority) const {
    const Flavor& f = GetParam();
    KeepalivedInstance k;
    k.name = "vip1";
    k.vrid = 51;
    k.priority = priority;
    k.advert_int = f.keepalived_interval;
    k.version = f.version;
    k.vips = {f.vip_prefix};
    k.auth_pass = f.password;
    if (f.unicast) {
      k.unicast_src = Lab::NodeAddress(2, f.family);
      k.unicast_peers = {Lab::NodeAddress(1, f.family)};
    }
    return KeepalivedConfig("ka", {k});
  }
  milliseconds Patience() const {
    return GetParam().version == 2 ? seconds(10) : seconds(5);
  }
  bool VipOn(const Lab& lab, int n) const {
    return HasAddress(lab.node(n), "eth0", GetParam().vip);
  }
  void ExpectOnlyOn(const Lab& lab, int n) const {
    EXPECT_TRUE(WaitUntil([&] { return VipOn(lab, n) && !VipOn(lab, 3 - n); },
                          Patience()))
        << GetParam().vip << " not on n" << n << " alone";
    EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  }
  // Neither side complained about the other's packets.
  static void ExpectNoErrors(const VrrpDaemon& ours, const Keepalived& ka) {
    EXPECT_EQ(ours.Count("dropped advertisement") +
                  ours.Count("mismatched advertisement"),
              0)
        << ours.Log();
    std::istringstream in(ka.Log());
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_FALSE(KeepalivedComplains(line)) << "keepalived: " << line;
    }
  }
};

// Ours is the higher priority: Keepalived backs up, takes over on our
// graceful stop and on our crash, and yields when we come back.
TEST_P(Interop, OursMasterKeepalivedBackup) {
  Lab lab(2);
  auto ours = VrrpDaemon::Start(lab, 1, SpeakerConfig({Ours(200)}));
  auto ka = Keepalived::Start(lab, 2, Theirs(100));
  ExpectOnlyOn(lab, 1);
  // Keepalived must hear us: it stays Backup for several intervals.
  EXPECT_FALSE(WaitUntil([&] { return VipOn(lab, 2); }, Patience() / 3));

  ours->process().Signal(SIGTERM);
  ASSERT_TRUE(ours->process().Wait(seconds(10)).has_value());
  ExpectOnlyOn(lab, 2);

  ours = VrrpDaemon::Start(lab, 1, SpeakerConfig({Ours(200)}));
  ExpectOnlyOn(lab, 1);
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (lower-priority-master)", seconds(1)))
      << ours->Log();

  ours->process().KillGroup();
  lab.CutLink(1);
  EXPECT_TRUE(WaitUntil([&] { return VipOn(lab, 2); }, Patience()));
  EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  ExpectNoErrors(*ours, *ka);
}

// Keepalived is the higher priority: we back up, take over on its graceful
// stop (priority 0) and on its crash, and yield when it comes back.
TEST_P(Interop, KeepalivedMasterOursBackup) {
  Lab lab(2);
  auto ka = Keepalived::Start(lab, 2, Theirs(200));
  auto ours = VrrpDaemon::Start(lab, 1, SpeakerConfig({Ours(100)}));
  ExpectOnlyOn(lab, 2);
  EXPECT_FALSE(WaitUntil([&] { return VipOn(lab, 1); }, Patience() / 3));

  ASSERT_TRUE(ka->Stop().has_value());
  ExpectOnlyOn(lab, 1);
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (priority-zero-received)", seconds(1)))
      << ours->Log();

  ka = Keepalived::Start(lab, 2, Theirs(200));
  ExpectOnlyOn(lab, 2);
  EXPECT_TRUE(ours->WaitForLog("Master -> Backup (higher-priority-master)",
                               seconds(1)));

  ka->Crash();
  lab.CutLink(2);
  EXPECT_TRUE(WaitUntil([&] { return VipOn(lab, 1); }, Patience()));
  EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (master-down-timer)", seconds(1)));
  ExpectNoErrors(*ours, *ka);
}

INSTANTIATE_TEST_SUITE_P(Keepalived227, Interop, ::testing::ValuesIn(kFlavors),
                         [](const auto& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace vrrp::testing
