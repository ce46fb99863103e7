// Mixed pairs of our speaker and FRRouting's vrrpd (Debian's frr 8.4) on
// one bridge, both ways round: priorities are respected, crash and graceful
// failover work in both directions, the client's pings to the virtual
// address resume after each failover, and neither side refuses a packet of
// the other (our receive-error counters stay at zero, vrrpd logs no invalid
// datagram).
//
// FRR keeps the virtual addresses on a macvlan with the virtual MAC and only
// toggles its protodown flag (see integration/frr.h), so our side runs with
// virtual_mac: true as well: both routers answer with the same MAC, as an
// FRR deployment expects.

#include <gtest/gtest.h>

#include <csignal>
#include <ostream>
#include <sstream>

#include "integration/frr.h"
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
  milliseconds frr_interval;
  const char* ours_vmac;  // our daemon's default macvlan name
};

const Flavor kFlavors[] = {
    {"v3_ipv4", 3, Family::kIpv4, "192.0.2.200", "192.0.2.200/24", "100ms",
     milliseconds(100), "vrrp.51"},
    {"v3_ipv6", 3, Family::kIpv6, "2001:db8::200", "2001:db8::200/64", "100ms",
     milliseconds(100), "vrrp6.51"},
    // FRR's VRRPv2 has no authentication (RFC 3768 deprecates it).
    {"v2_ipv4", 2, Family::kIpv4, "192.0.2.200", "192.0.2.200/24", "1s",
     milliseconds(1000), "vrrp.51"},
};

// Names the flavor in test listings instead of its bytes.
void PrintTo(const Flavor& f, std::ostream* os) { *os << f.name; }

// Sum of the samples of metric `name` (any labels) whose label set contains
// `labels_part`; -1 if there is none.
double SumOf(const std::string& exposition, const std::string& name,
             const std::string& labels_part = "") {
  std::istringstream in(exposition);
  double sum = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    if (line.find(labels_part) == std::string::npos) continue;
    sum = (sum < 0 ? 0 : sum) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

class FrrInterop : public ::testing::TestWithParam<Flavor> {
 protected:
  void SetUp() override { RequireRootAndIproute(); }

  static constexpr int kOurs = 1;
  static constexpr int kFrr = 2;

  std::unique_ptr<VrrpDaemon> StartOurs(const Lab& lab, int priority) const {
    const Flavor& f = GetParam();
    SpeakerInstance i;
    i.version = f.version;
    i.priority = priority;
    i.interval = f.ours_interval;
    i.vips = {f.vip_prefix};
    i.virtual_mac = true;
    return VrrpDaemon::Start(lab, kOurs, SpeakerConfig({i}), {},
                             {"--web.listen-address", "127.0.0.1:9687"});
  }
  std::unique_ptr<Frr> StartFrr(const Lab& lab, int priority) const {
    const Flavor& f = GetParam();
    FrrRouter r;
    r.version = f.version;
    r.priority = priority;
    r.interval = f.frr_interval;
    r.family = f.family;
    r.vips = {f.vip_prefix};
    return Frr::Start(lab, kFrr, r);
  }
  milliseconds Patience() const {
    return GetParam().version == 2 ? seconds(10) : seconds(5);
  }
  bool OursHolds(const Lab& lab) const {
    return HasAddress(lab.node(kOurs), GetParam().ours_vmac, GetParam().vip);
  }
  // Exactly one router holds the address, and the client reaches it.
  void ExpectOursAlone(const Lab& lab, const Frr& frr) const {
    EXPECT_TRUE(
        WaitUntil([&] { return OursHolds(lab) && !frr.Active(); }, Patience()))
        << GetParam().vip << " not on our side alone";
    EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  }
  void ExpectFrrAlone(const Lab& lab, const Frr& frr) const {
    EXPECT_TRUE(
        WaitUntil([&] { return frr.Active() && !OursHolds(lab); }, Patience()))
        << GetParam().vip << " not on FRR's side alone";
    EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  }
  // Our daemon refused none of FRR's packets and accepted some: read from
  // its /metrics, so call it while it runs.
  void ExpectOursHappy(const Lab& lab) const {
    const std::string m =
        Curl(lab.node(kOurs), "http://127.0.0.1:9687/metrics");
    EXPECT_EQ(SumOf(m, "vrrp_instance_receive_errors_total"), 0) << m;
    // Interface-level errors (malformed, or another VRID): the series
    // appear once an interface has had any; absent is fine.
    EXPECT_LE(SumOf(m, "vrrp_receive_errors_total"), 0) << m;
    EXPECT_GT(SumOf(m, "vrrp_instance_advertisements_received_total"), 0) << m;
    if (GetParam().version == 3 && GetParam().family == Family::kIpv4) {
      // FRR 8.4 checksums VRRPv3 over IPv4 with the pseudo-header (RFC 5798
      // §5.2.8), like Keepalived.
      EXPECT_GT(SumOf(m, "vrrp_instance_received_checksum_form_total",
                      "form=\"with-pseudo-header\""),
                0)
          << m;
      EXPECT_EQ(SumOf(m, "vrrp_instance_received_checksum_form_total",
                      "form=\"without-pseudo-header\""),
                0)
          << m;
    }
  }
  static void ExpectNoComplaints(const VrrpDaemon& ours, const Frr& frr) {
    EXPECT_EQ(ours.Count("dropped advertisement") +
                  ours.Count("mismatched advertisement"),
              0)
        << ours.Log();
    EXPECT_EQ(frr.CountVrrpd("Datagram invalid"), 0) << frr.VrrpdLog();
  }
};

// Ours is the higher priority: FRR backs up, takes over on our graceful stop
// and on our crash, and yields when we come back.
TEST_P(FrrInterop, OursMasterFrrBackup) {
  Lab lab(2);
  auto ours = StartOurs(lab, 200);
  auto frr = StartFrr(lab, 100);
  ExpectOursAlone(lab, *frr);
  // FRR must hear us: it stays Backup for several intervals.
  EXPECT_FALSE(WaitUntil([&] { return frr->Active(); }, Patience() / 3));
  EXPECT_TRUE(frr->WaitForVrrpdLog("Initialize -> Backup", seconds(1)))
      << frr->VrrpdLog();
  EXPECT_EQ(frr->CountVrrpd("-> Master"), 0) << frr->VrrpdLog();

  ours->process().Signal(SIGTERM);
  ASSERT_TRUE(ours->process().Wait(seconds(10)).has_value());
  ExpectFrrAlone(lab, *frr);

  ours = StartOurs(lab, 200);
  ExpectOursAlone(lab, *frr);
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (lower-priority-master)", seconds(1)))
      << ours->Log();
  ExpectOursHappy(lab);

  ours->process().KillGroup();
  lab.CutLink(kOurs);
  EXPECT_TRUE(WaitUntil([&] { return frr->Active(); }, Patience()));
  EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  ExpectNoComplaints(*ours, *frr);
}

// FRR is the higher priority: we back up, take over on its graceful stop
// (priority 0) and on its crash, and yield when it comes back.
TEST_P(FrrInterop, FrrMasterOursBackup) {
  Lab lab(2);
  auto frr = StartFrr(lab, 200);
  // FRR is Master before we start. Over IPv6 vrrpd 8.4 loses the first
  // advertisement after becoming Master (its macvlan's link-local address is
  // not back yet when protodown ends: "Failed to find address to bind"), so
  // two routers started together may both be Master for one interval; that
  // race is FRR's, not what this test is about.
  ASSERT_TRUE(WaitUntil(
      [&] { return frr->CountVrrpd("Backup -> Master") > 0 && frr->Active(); },
      Patience()))
      << frr->VrrpdLog();
  auto ours = StartOurs(lab, 100);
  ExpectFrrAlone(lab, *frr);
  EXPECT_FALSE(WaitUntil([&] { return OursHolds(lab); }, Patience() / 3));

  ASSERT_TRUE(frr->StopVrrpd().has_value());
  ExpectOursAlone(lab, *frr);
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (priority-zero-received)", seconds(1)))
      << ours->Log();

  frr->RestartVrrpd();
  ExpectFrrAlone(lab, *frr);
  EXPECT_TRUE(ours->WaitForLog("Master -> Backup (higher-priority-master)",
                               seconds(1)));
  ExpectOursHappy(lab);

  frr->Crash();
  lab.CutLink(kFrr);
  EXPECT_TRUE(WaitUntil([&] { return OursHolds(lab); }, Patience()));
  EXPECT_TRUE(Ping(lab.client(), GetParam().vip, seconds(5)));
  EXPECT_TRUE(
      ours->WaitForLog("Backup -> Master (master-down-timer)", seconds(1)));
  ExpectOursHappy(lab);
  ExpectNoComplaints(*ours, *frr);
}

INSTANTIATE_TEST_SUITE_P(Frr84, FrrInterop, ::testing::ValuesIn(kFlavors),
                         [](const auto& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace vrrp::testing
