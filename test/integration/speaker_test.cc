// Our daemon in network namespaces: a bridge, two or three speakers and a
// client. Each test checks where the virtual address is configured and that
// the client reaches it. VRRPv3 at 100 ms keeps them quick; VRRPv2 at 1 s.

#include <gtest/gtest.h>

#include <csignal>
#include <functional>
#include <thread>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kVip[] = "192.0.2.200";
constexpr char kVip6[] = "2001:db8::200";

class SpeakerTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }

  std::unique_ptr<VrrpDaemon> Run(Lab& lab, int node, SpeakerInstance i) {
    return VrrpDaemon::Start(lab, node, SpeakerConfig({i}));
  }
  static SpeakerInstance Inst(int priority) {
    SpeakerInstance i;
    i.priority = priority;
    return i;
  }
  static SpeakerInstance Inst6(int priority) {
    SpeakerInstance i = Inst(priority);
    i.name = "vip6";
    i.vips = {std::string(kVip6) + "/64"};
    return i;
  }
  // SIGKILL leaves the master's address on its interface. The restarted
  // daemon starts as Backup and must not keep answering for it (two hosts
  // with one address): it removes it, as Keepalived does at start.
  void ExpectLeftoverRemovedAfterACrash(
      const std::function<SpeakerInstance(int)>& inst, const std::string& vip,
      const std::string& vip_prefix) {
    Lab lab(2);
    auto n1 = Run(lab, 1, inst(100));
    auto n2 = Run(lab, 2, inst(200));
    ExpectMaster(lab, 2, vip);
    n2->process().KillGroup();
    ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), "eth0", vip); },
                          seconds(5)));
    ASSERT_TRUE(HasAddress(lab.node(2), "eth0", vip));
    // The restarted daemon appends to the same log.
    const int masters = n2->Count("-> Master");
    n2 = Run(lab, 2, inst(50));
    EXPECT_TRUE(n2->WaitForLog(
        "removing " + vip_prefix + " left on eth0 by a previous run",
        seconds(5)))
        << n2->Log();
    ExpectMaster(lab, 1, vip);
    EXPECT_EQ(n2->Count("-> Master"), masters) << n2->Log();
  }
  // The VIP is on exactly node `n` (of `nodes`).
  static bool OnlyOn(const Lab& lab, int n, const std::string& vip = kVip) {
    for (int i = 1; i <= lab.nodes(); ++i) {
      if (HasAddress(lab.node(i), "eth0", vip) != (i == n)) return false;
    }
    return true;
  }
  static void ExpectMaster(const Lab& lab, int n, const std::string& vip = kVip,
                           milliseconds within = milliseconds(5000)) {
    EXPECT_TRUE(WaitUntil([&] { return OnlyOn(lab, n, vip); }, within))
        << "VIP " << vip << " is not on n" << n << " alone";
    EXPECT_TRUE(Ping(lab.client(), vip, seconds(5)))
        << "client cannot reach " << vip;
  }
};

TEST_F(SpeakerTest, ElectsTheHigherPriority) {
  Lab lab(2);
  // Both start as Backup and wait their Master_Down_Interval (§6.4.1): the
  // higher priority one starts first, so that however slowly a loaded
  // machine starts n1, n2's shorter wait ends first and n1 must never have
  // been master (started the other way round, the margin is n1's extra
  // Skew_Time only, ~200 ms at 500 ms adverts).
  SpeakerInstance low = Inst(100), high = Inst(200);
  low.interval = high.interval = "500ms";
  auto n2 = Run(lab, 2, high);
  auto n1 = Run(lab, 1, low);
  ExpectMaster(lab, 2);
  EXPECT_TRUE(
      n1->WaitForLog("vip1: Initialize -> Backup (startup)", seconds(5)));
  EXPECT_EQ(n1->Count("-> Master"), 0) << n1->Log();
  EXPECT_EQ(n1->Count("dropped advertisement") +
                n1->Count("mismatched advertisement"),
            0)
      << n1->Log();
}

TEST_F(SpeakerTest, CrashFailoverAndPreemptionOnReturn) {
  Lab lab(3);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));
  auto n3 = Run(lab, 3, Inst(150));
  ExpectMaster(lab, 2);
  // A crash: the process dies with its addresses still configured, so the
  // host is cut off too (as a dead machine would be).
  n2->process().KillGroup();
  lab.CutLink(2);
  // n3's Master_Down_Interval ends ~20 ms before n1's at 100 ms adverts: a
  // slow n3 lets n1 in first, and n3 then preempts it. Either way the
  // highest remaining priority ends up master, alone.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return HasAddress(lab.node(3), "eth0", kVip) &&
               !HasAddress(lab.node(1), "eth0", kVip);
      },
      seconds(5)));
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_TRUE(n3->WaitForLog("Backup -> Master", seconds(1)));
  // It comes back (addresses flushed as after a reboot) and preempts.
  lab.node(2).Ip("addr del 192.0.2.200/24 dev eth0");
  lab.RestoreLink(2);
  n2 = Run(lab, 2, Inst(200));
  ExpectMaster(lab, 2);
  EXPECT_TRUE(
      n2->WaitForLog("Backup -> Master (lower-priority-master)", seconds(1)));
  EXPECT_TRUE(
      n3->WaitForLog("Master -> Backup (higher-priority-master)", seconds(1)));
}

TEST_F(SpeakerTest, ARestartAfterACrashRemovesTheLeftoverAddress) {
  ExpectLeftoverRemovedAfterACrash(Inst, kVip, "192.0.2.200/24");
}

TEST_F(SpeakerTest, ARestartAfterACrashRemovesTheLeftoverIpv6Address) {
  ExpectLeftoverRemovedAfterACrash(Inst6, kVip6, "2001:db8::200/64");
}

// A virtual address that is the host's own (a configuration mistake: it
// should run as the owner, at 255) is never taken for a crashed run's
// leftover: removing it cut the host off.
TEST_F(SpeakerTest, TheHostsOwnAddressIsNeverRemovedAsALeftover) {
  Lab lab(1, /*with_client=*/false);
  SpeakerInstance v4 = Inst(100);
  v4.vips = {"192.0.2.11/24"};
  SpeakerInstance v6 = Inst(100);
  v6.name = "vip6";
  v6.vrid = 52;
  v6.vips = {"2001:db8::11/64"};
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({v4, v6}));
  EXPECT_TRUE(
      n1->WaitForLog("192.0.2.11/24 is one of this host's own", seconds(5)))
      << n1->Log();
  EXPECT_TRUE(
      n1->WaitForLog("2001:db8::11/64 is one of this host's own", seconds(5)))
      << n1->Log();
  EXPECT_EQ(n1->Count("left on eth0 by a previous run"), 0) << n1->Log();
  EXPECT_TRUE(HasAddress(lab.node(1), "eth0", "192.0.2.11"));
  EXPECT_TRUE(HasAddress(lab.node(1), "eth0", "2001:db8::11"));
}

TEST_F(SpeakerTest, GracefulHandoverOnSigterm) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));
  ExpectMaster(lab, 2);
  n2->process().Signal(SIGTERM);
  auto rc = n2->process().Wait(seconds(10));
  ASSERT_TRUE(rc.has_value()) << "daemon did not exit on SIGTERM";
  EXPECT_EQ(*rc, 0) << n2->Log();
  ExpectMaster(lab, 1);
  EXPECT_TRUE(
      n1->WaitForLog("Backup -> Master (priority-zero-received)", seconds(1)))
      << n1->Log();
  EXPECT_GE(n2->Count("all instances released"), 1) << n2->Log();
}

TEST_F(SpeakerTest, NopreemptKeepsTheCurrentMaster) {
  Lab lab(2);
  auto low = Inst(100);
  auto n1 = Run(lab, 1, low);
  ExpectMaster(lab, 1);
  auto high = Inst(200);
  high.preempt = false;
  auto n2 = Run(lab, 2, high);
  ASSERT_TRUE(n2->WaitForLog("Initialize -> Backup", seconds(5)));
  // Ten master-down intervals: n2 must stay Backup throughout.
  EXPECT_FALSE(WaitUntil([&] { return HasAddress(lab.node(2), "eth0", kVip); },
                         seconds(3)));
  EXPECT_TRUE(OnlyOn(lab, 1));
}

TEST_F(SpeakerTest, PreemptDelayWaitsBeforeTakingOver) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  ExpectMaster(lab, 1);
  auto high = Inst(200);
  high.preempt_delay = "2s";
  auto n2 = Run(lab, 2, high);
  ASSERT_TRUE(n2->WaitForLog("Initialize -> Backup", seconds(5)));
  // Not before about 2 s (we check 1.5 s to leave room for start-up)...
  EXPECT_FALSE(WaitUntil([&] { return HasAddress(lab.node(2), "eth0", kVip); },
                         milliseconds(1500)));
  // ...and soon after.
  ExpectMaster(lab, 2, kVip, seconds(5));
}

TEST_F(SpeakerTest, Ipv6VirtualAddress) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst6(100));
  auto n2 = Run(lab, 2, Inst6(200));
  ExpectMaster(lab, 2, kVip6);
  n2->process().KillGroup();
  lab.CutLink(2);
  EXPECT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), "eth0", kVip6); },
                        seconds(5)));
  EXPECT_TRUE(Ping(lab.client(), kVip6, seconds(5)));
}

TEST_F(SpeakerTest, UnicastPeers) {
  Lab lab(2);
  auto uni = [&](int prio, int peer) {
    SpeakerInstance i = Inst(prio);
    i.unicast_peers = {Lab::NodeAddress(peer, Family::kIpv4)};
    return i;
  };
  auto n1 = Run(lab, 1, uni(100, 2));
  auto n2 = Run(lab, 2, uni(200, 1));
  ExpectMaster(lab, 2);
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());
  ExpectMaster(lab, 1);
  EXPECT_EQ(n1->Count("unicast-peer"), 0) << n1->Log();
}

TEST_F(SpeakerTest, Vrrpv2WithPasswordAuthentication) {
  Lab lab(2);
  auto v2 = [](int prio, const std::string& pw) {
    SpeakerInstance i;
    i.version = 2;
    i.interval = "1s";
    i.priority = prio;
    i.auth_pass = pw;
    return i;
  };
  auto n1 = Run(lab, 1, v2(100, "secret1"));
  auto n2 = Run(lab, 2, v2(200, "secret1"));
  ExpectMaster(lab, 2, kVip, seconds(8));
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());
  ExpectMaster(lab, 1, kVip, seconds(5));
  // A third router with the wrong password is refused, counted and logged.
  auto n2b = Run(lab, 2, v2(250, "wrong"));
  EXPECT_TRUE(n1->WaitForLog("auth-failure", seconds(5))) << n1->Log();
}

// A VRRPv2 peer on a VRRPv3 instance's VRID (a Keepalived translated
// without `version: 2`, its default) means two masters: said at warn, once
// per peer and reason, with what to do; later ones at debug.
TEST_F(SpeakerTest, AVersionMismatchIsWarnedOncePerPeer) {
  Lab lab(2, /*with_client=*/false);
  SpeakerInstance v3 = Inst(100);
  v3.interval = "1s";
  SpeakerInstance v2 = Inst(200);
  v2.version = 2;
  v2.interval = "1s";
  auto n1 = Run(lab, 1, v3);
  auto n2 = Run(lab, 2, v2);
  const std::string dropped =
      "dropped advertisement from 192.0.2.12: version-mismatch";
  ASSERT_TRUE(
      n1->WaitForLog(dropped + ": the peer's settings differ", seconds(10)))
      << n1->Log();
  EXPECT_GE(n1->Count("this instance runs VRRPv3: set the same version"), 1)
      << n1->Log();
  // The next one from the same peer only at debug.
  ASSERT_TRUE(WaitUntil([&] { return n1->Count(dropped) >= 2; }, seconds(5)))
      << n1->Log();
  EXPECT_EQ(n1->Count("settings differ"), 1) << n1->Log();
  EXPECT_EQ(n1->Count(" warning instance vip1: " + dropped), 1) << n1->Log();
}

// VRRPv3 counts an interval mismatch but follows the master (§6.4.2 learns
// its interval): said as "mismatched", not "dropped", and n1 stays Backup.
TEST_F(SpeakerTest, AnIntervalMismatchIsCountedButFollowed) {
  Lab lab(2, /*with_client=*/false);
  SpeakerInstance high = Inst(200);
  high.interval = "200ms";
  auto n2 = Run(lab, 2, high);
  ASSERT_TRUE(n2->WaitForLog("Backup -> Master", seconds(5))) << n2->Log();
  auto n1 = Run(lab, 1, Inst(100));
  EXPECT_TRUE(n1->WaitForLog(
      "mismatched advertisement from 192.0.2.12: advert-interval: the "
      "peer's settings differ",
      seconds(5)))
      << n1->Log();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return n1->Count(
                   "mismatched advertisement from 192.0.2.12: "
                   "advert-interval") >= 2;
      },
      seconds(5)))
      << n1->Log();
  EXPECT_EQ(n1->Count("dropped advertisement"), 0) << n1->Log();
  EXPECT_EQ(n1->Count("-> Master"), 0) << n1->Log();
}

// Issue 11, as a user tried it: adding an address to a running master's
// instance re-created it (Master -> Initialize -> Backup -> Master) and the
// address already there was unserved for 5.4 s. Now the reload adds the new
// address in place: a client pinging the old one every 10 ms loses nothing.
TEST_F(SpeakerTest, AnAddressAddedByAReloadCostsTheOthersNoReply) {
  Lab lab(2);
  auto a = Inst(200);
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({a}));
  auto n2 = Run(lab, 2, Inst(100));
  ExpectMaster(lab, 1);
  ASSERT_TRUE(n1->WaitForLog("vip1: Backup -> Master", seconds(1)));
  const int transitions = n1->Count(" -> ") + n2->Count(" -> ");
  const std::string ping_log = lab.dir() + "/ping.log";
  auto ping = Process::Start(
      lab.client(),
      {"ping", "-n", "-q", "-i", "0.01", "-c", "300", "-W", "1", "192.0.2.200"},
      ping_log);
  std::this_thread::sleep_for(milliseconds(500));  // a real client, real time

  a.vips.push_back("192.0.2.202/24");
  n1->WriteConfig(SpeakerConfig({a}));
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(n1->WaitForLog(
      "1 kept, 0 added, 0 re-created, 0 removed; 1 of the kept changed in "
      "place",
      seconds(5)))
      << n1->Log();
  EXPECT_TRUE(
      WaitUntil([&] { return HasAddress(lab.node(1), "eth0", "192.0.2.202"); },
                seconds(2)));
  EXPECT_TRUE(Ping(lab.client(), "192.0.2.202", seconds(2)));

  auto rc = ping->Wait(seconds(10));
  ASSERT_TRUE(rc.has_value()) << ReadFile(ping_log);
  EXPECT_NE(ReadFile(ping_log).find("300 packets transmitted, 300 received"),
            std::string::npos)
      << ReadFile(ping_log) << n1->Log();
  EXPECT_EQ(n1->Count(" -> ") + n2->Count(" -> "), transitions)
      << n1->Log() << n2->Log();
  EXPECT_EQ(n1->Count("vip1: Master -> Initialize"), 0) << n1->Log();
}

TEST_F(SpeakerTest, ReloadKeepsUnchangedInstancesAndRejectsBadFiles) {
  Lab lab(2);
  auto a = Inst(200);
  auto b = Inst(100);
  b.name = "vip2";
  b.vrid = 52;
  b.vips = {"192.0.2.201/24"};
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({a, b}));
  auto n2 = Run(lab, 2, Inst(100));
  ExpectMaster(lab, 1);
  ASSERT_TRUE(
      WaitUntil([&] { return HasAddress(lab.node(1), "eth0", "192.0.2.201"); },
                seconds(5)));
  // Each logs its takeover after adding its address (instance.cc).
  ASSERT_TRUE(n1->WaitForLog("vip1: Backup -> Master", seconds(1)));
  ASSERT_TRUE(n1->WaitForLog("vip2: Backup -> Master", seconds(1)));
  const int transitions = n1->Count(" -> ");
  // Unchanged: nothing moves, nothing is announced again.
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(n1->WaitForLog("reload done: 2 kept", seconds(5))) << n1->Log();
  EXPECT_EQ(n1->Count(" -> "), transitions);
  // A broken file is rejected with file:line and the running config stays.
  n1->WriteConfig("instances:\n  - name: vip1\n    vrid: 300\n");
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(n1->WaitForLog("reload rejected; the running configuration stays",
                             seconds(5)));
  EXPECT_GE(n1->Count(n1->config_path() + ":3:"), 1) << n1->Log();
  EXPECT_EQ(n1->Count(" -> "), transitions);
  EXPECT_TRUE(OnlyOn(lab, 1));
  // Removing vip2 releases its address; lowering vip1 hands it over, in
  // place: vip1 keeps its state and only its priority changes, so n2
  // preempts it as it would a tracker's lowered priority.
  a.priority = 50;
  n1->WriteConfig(SpeakerConfig({a}));
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(
      n1->WaitForLog("1 kept, 0 added, 0 re-created, 1 removed", seconds(5)))
      << n1->Log();
  EXPECT_GE(n1->Count("vip1 keeps its state; priority 200 -> 50"), 1)
      << n1->Log();
  ExpectMaster(lab, 2);
  EXPECT_TRUE(n1->WaitForLog("vip1: Master -> Backup (higher-priority-master)",
                             seconds(1)))
      << n1->Log();
  EXPECT_EQ(n1->Count("vip1: Master -> Initialize"), 0) << n1->Log();
  // vip2 was a lone master: hitless release lets go after Skew_Time(1) plus
  // one interval (about 200 ms here).
  EXPECT_TRUE(
      WaitUntil([&] { return !HasAddress(lab.node(1), "eth0", "192.0.2.201"); },
                seconds(2)));
  EXPECT_TRUE(n1->WaitForLog("instance vip2: Master -> Initialize (shutdown)",
                             seconds(1)));
}

// The file is parsed off the event loop: a reload of a large (valid) file
// does not hold the master's advertisements, so the backup never takes
// over. Parsed on the loop, these 8 MB took ~0.6 s, past n2's 361 ms
// Master_Down_Interval.
TEST_F(SpeakerTest, AReloadOfALargeFileDoesNotDelayAdvertisements) {
  Lab lab(2, /*with_client=*/false);
  const std::vector<std::string> rt = {"chrt", "-r", "10"};
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(200)}), rt);
  ASSERT_TRUE(n1->WaitForLog("Backup -> Master", seconds(5))) << n1->Log();
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({Inst(100)}), rt);
  ASSERT_TRUE(n2->WaitForLog("Initialize -> Backup", seconds(5)));
  std::string padding;
  const std::string line = "# " + std::string(998, 'x') + "\n";
  for (int i = 0; i < 8000; ++i) padding += line;
  n1->WriteConfig(padding + SpeakerConfig({Inst(200)}));
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(n1->WaitForLog("reload done: 1 kept", seconds(30))) << n1->Log();
  EXPECT_EQ(n2->Count("-> Master"), 0) << n2->Log();
  EXPECT_EQ(n1->Count(" us late"), 0) << n1->Log();
}

// An address removed by hand from the master: it would go on advertising
// (no backup takes over) with nobody answering for the address. It is put
// back and announced.
TEST_F(SpeakerTest, AnAddressRemovedFromTheMasterIsPutBack) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));
  ExpectMaster(lab, 2);
  ASSERT_EQ(lab.node(2).Ip("addr del 192.0.2.200/24 dev eth0"), 0);
  EXPECT_TRUE(
      n2->WaitForLog("192.0.2.200/24 was removed from eth0 while "
                     "master; adding it back",
                     seconds(5)))
      << n2->Log();
  ExpectMaster(lab, 2);
  // Its own removal when it stops being master is not "someone else's".
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());
  EXPECT_EQ(n2->Count("adding it back"), 1) << n2->Log();
  ExpectMaster(lab, 1);
}

// A typo in `interface:` is said in words, not only as a Fault; the
// instance starts once the interface appears.
TEST_F(SpeakerTest, AMissingInterfaceIsSaidAndAwaited) {
  Lab lab(1, /*with_client=*/false);
  SpeakerInstance i = Inst(100);
  i.interface = "late0";
  auto n1 = Run(lab, 1, i);
  EXPECT_TRUE(n1->WaitForLog(
      "interface late0 does not exist; the instance stays in Fault",
      seconds(5)))
      << n1->Log();
  ASSERT_EQ(lab.node(1).Ip("link add late0 type veth peer name late1"), 0);
  ASSERT_EQ(lab.node(1).Ip("addr add 198.51.100.1/24 dev late0"), 0);
  ASSERT_EQ(lab.node(1).Ip("link set late1 up"), 0);
  ASSERT_EQ(lab.node(1).Ip("link set late0 up"), 0);
  EXPECT_TRUE(n1->WaitForLog("Fault -> Backup", seconds(5))) << n1->Log();
}

TEST_F(SpeakerTest, InterfaceDownIsFaultAndUpRecovers) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));
  ExpectMaster(lab, 2);
  lab.node(2).Ip("link set eth0 down");
  ASSERT_TRUE(n2->WaitForLog("Master -> Fault (interface-down)", seconds(5)))
      << n2->Log();
  ExpectMaster(lab, 1);
  lab.node(2).Ip("link set eth0 up");
  ASSERT_TRUE(n2->WaitForLog("Fault -> Backup (interface-up)", seconds(5)))
      << n2->Log();
  ExpectMaster(lab, 2);
}

TEST_F(SpeakerTest, RunsAsNonRootWithOnlyNetAdminAndNetRaw) {
  Lab lab(2);
  // nobody, no supplementary groups, and exactly these two capabilities.
  const std::vector<std::string> drop = {
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all,+net_admin,+net_raw",
      "--ambient-caps=-all,+net_admin,+net_raw",
      "--bounding-set=-all,+net_admin,+net_raw",
      "--"};
  // The log and config live in the lab directory, readable by nobody.
  Sh("chmod 755 " + lab.dir());
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}), drop);
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({Inst(200)}), drop);
  ExpectMaster(lab, 2);
  const std::string status =
      ReadFile("/proc/" + std::to_string(n2->process().pid()) + "/status");
  EXPECT_NE(status.find("Uid:\t65534"), std::string::npos) << status;
  EXPECT_NE(status.find("CapEff:\t0000000000003000"), std::string::npos)
      << status;
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());
  ExpectMaster(lab, 1);
}

}  // namespace
}  // namespace vrrp::testing
