// The router above a fake link layer: demultiplexing, reloads in place and
// by re-creation, leftover and removed addresses, link events, and the
// snapshot, all on the fake clock and without root.

#include "vrrp/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fakes/fake_link_layer.h"
#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

IpPrefix P(const char* text) { return *IpPrefix::Parse(text); }
IpAddress A(const char* text) { return *IpAddress::Parse(text); }

InstanceConfig Instance1(uint8_t priority = 100) {
  InstanceConfig c;
  c.name = "VI_1";
  c.interface = "eth0";
  c.vrid = 1;
  c.priority = priority;
  c.advert_interval = Centiseconds(100);
  c.virtual_addresses = {P("198.51.100.10/24")};
  return c;
}

Config With(std::vector<InstanceConfig> instances) {
  Config c;
  c.instances = std::move(instances);
  return c;
}

class TransitionLog : public InstanceObserver {
 public:
  void OnTransition(const Instance& i, const Transition& t) override {
    lines.push_back(i.name() + " " + std::string(ToString(t.from)) + "->" +
                    std::string(ToString(t.to)) + " " +
                    std::string(ToString(t.reason)));
  }
  std::vector<std::string> lines;
};

// One router on eth0 (192.0.2.1/24) with a fake link layer.
struct Node {
  explicit Node(FakeScheduler& clock, const char* address = "192.0.2.1/24")
      : link(clock),
        router(clock, link,
               {.observer = &transitions,
                .log = {},
                .on_group_transition = {},
                .on_change = [this] { ++changes; },
                .unix_now = [] { return 1.7e9; }}) {
    link.AddInterface("eth0", {address, "fe80::1/64"});
  }
  Snapshot Snap() const {
    Snapshot s;
    router.FillSnapshot(s);
    return s;
  }
  const InstanceSnapshot& Only() {
    snap = Snap();
    EXPECT_EQ(snap.instances.size(), 1u);
    return snap.instances.at(0);
  }
  TransitionLog transitions;
  FakeLinkLayer link;
  Router router;
  Snapshot snap;
  int changes = 0;
};

// A master after Master_Down_Interval, alone on its link.
void BecomeMaster(FakeScheduler& clock, Node& node, const Config& config) {
  node.router.Start(config);
  clock.Advance(seconds(4));
  ASSERT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
}

std::vector<uint8_t> Encode(uint8_t vrid, uint8_t priority,
                            const char* source = "192.0.2.9") {
  Advertisement adv;
  adv.vrid = vrid;
  adv.priority = priority;
  adv.max_adver_interval = Centiseconds(100);
  adv.addresses = {A("198.51.100.10")};
  return EncodeAdvertisement(adv, A(source), A("224.0.0.18"),
                             ChecksumForm::kWithPseudoHeader);
}

DatagramInfo From(const char* source) {
  return {A(source), A("224.0.0.18"), kVrrpTtl};
}

TEST(Router, UnchangedInstanceSurvivesAReloadUntouched) {
  FakeScheduler clock;
  Node node(clock);
  const Config config = With({Instance1()});
  BecomeMaster(clock, node, config);
  const size_t transitions = node.transitions.lines.size();
  const size_t logged = node.link.log.size();

  const ReloadSummary s = node.router.Reload(config);

  EXPECT_EQ(s.kept, 1);
  EXPECT_EQ(s.updated, 0);
  EXPECT_EQ(s.recreated, 0);
  EXPECT_EQ(node.transitions.lines.size(), transitions);
  std::vector<std::string> after(node.link.log.begin() + logged,
                                 node.link.log.end());
  for (const auto& line : after) {
    EXPECT_EQ(line.rfind("announce", 0), std::string::npos) << line;
    EXPECT_EQ(line.rfind("open", 0), std::string::npos) << line;
    EXPECT_EQ(line.rfind("remove", 0), std::string::npos) << line;
  }
}

TEST(Router, AddressAddedToAMasterIsAddedAndAnnouncedAloneWithNoGap) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  const size_t transitions = node.transitions.lines.size();
  node.link.log.clear();
  InstanceConfig next = Instance1();
  next.virtual_addresses.push_back(P("198.51.100.11/24"));

  const ReloadSummary s = node.router.Reload(With({next}));
  clock.RunDue();

  EXPECT_EQ(s.kept, 1);
  EXPECT_EQ(s.updated, 1);
  EXPECT_EQ(node.transitions.lines.size(), transitions);
  EXPECT_EQ(node.link.Count("add eth0 198.51.100.11/24"), 1u);
  EXPECT_EQ(node.link.Count("announce VI_1 198.51.100.11/24"), 1u);
  EXPECT_EQ(node.link.Count("announce VI_1 198.51.100.10/24"), 0u);
  EXPECT_EQ(node.link.Count("remove"), 0u);
  // The cadence goes on: one advertisement a second, none missed.
  node.link.log.clear();
  clock.Advance(milliseconds(5001));
  EXPECT_EQ(node.link.Count("send VI_1 prio=100"), 5u);
  const InstanceSnapshot& i = node.Only();
  ASSERT_EQ(i.vip_present.size(), 2u);
  EXPECT_TRUE(i.vip_present[0].second);
  EXPECT_TRUE(i.vip_present[1].second);
  EXPECT_EQ(i.status.state, State::kMaster);
}

TEST(Router, AddressDroppedByAReloadIsRemovedFromAMaster) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig two = Instance1();
  two.virtual_addresses.push_back(P("198.51.100.11/24"));
  BecomeMaster(clock, node, With({two}));
  node.link.log.clear();

  node.router.Reload(With({Instance1()}));

  EXPECT_EQ(node.link.log,
            (std::vector<std::string>{"reconfigure VI_1",
                                      "remove eth0 198.51.100.11/24"}));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
}

TEST(Router, ABackupTakesANewIntervalAsItsOwnTimer) {
  FakeScheduler clock;
  Node node(clock);
  node.router.Start(With({Instance1()}));
  InstanceConfig slow = Instance1();
  slow.advert_interval = Centiseconds(300);
  clock.Advance(seconds(1));
  node.router.Reload(With({slow}));
  // Master_Down_Interval at 3 s and priority 100: 9 s + 1.828 s, from now.
  clock.Advance(milliseconds(10800));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kBackup);
  clock.Advance(milliseconds(100));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
}

TEST(Router, AMasterAdvertisesANewIntervalAtOnce) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  clock.Advance(milliseconds(300));
  node.link.log.clear();
  InstanceConfig slow = Instance1();
  slow.advert_interval = Centiseconds(500);

  node.router.Reload(With({slow}));

  // A VRRPv3 backup learns the interval only from an advertisement
  // (§6.4.2): it goes now, then every 5 s.
  EXPECT_EQ(node.link.Count("send VI_1"), 1u);
  clock.Advance(milliseconds(4999));
  EXPECT_EQ(node.link.Count("send VI_1"), 1u);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(node.link.Count("send VI_1"), 2u);
}

TEST(Router, AChangedVridIsReleasedBeforeItsSuccessorStarts) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  node.link.log.clear();
  InstanceConfig moved = Instance1();
  moved.vrid = 2;

  const ReloadSummary s = node.router.Reload(With({moved}));
  EXPECT_EQ(s.recreated, 1);
  // Hitless: the old one holds its address until a new master is heard or
  // Skew_Time(1) plus one interval has passed.
  clock.Advance(seconds(3));

  const auto& log = node.link.log;
  auto at = [&](const std::string& line) {
    return std::find(log.begin(), log.end(), line) - log.begin();
  };
  ASSERT_LT(at("send VI_1 prio=0"), static_cast<long>(log.size()));
  EXPECT_LT(at("send VI_1 prio=0"), at("remove eth0 198.51.100.10/24"));
  EXPECT_LT(at("remove eth0 198.51.100.10/24"), at("close VI_1"));
  EXPECT_LT(at("close VI_1"), at("open eth0 VI_1"));
  EXPECT_EQ(node.router.Find("VI_1")->config().vrid, 2);
  EXPECT_EQ(node.router.size(), 1u);
}

TEST(Router, ADecodeErrorIsCountedAgainstTheVridItNames) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig other = Instance1();
  other.name = "VI_2";
  other.vrid = 2;
  node.router.Start(With({Instance1(), other}));
  auto bytes = Encode(2, 100);
  bytes[6] ^= 0xff;  // the checksum

  node.link.Receive("eth0", bytes, From("192.0.2.9"));

  const auto chk = static_cast<size_t>(ReceiveError::kChecksum);
  EXPECT_EQ(node.router.Find("VI_2")->stats().receive_errors[chk], 1u);
  EXPECT_EQ(node.router.Find("VI_1")->stats().receive_errors[chk], 0u);
  EXPECT_EQ(node.router.receive_errors().at("eth0")[chk], 1u);
}

// RFC 5798 §7.1: the VRID must be configured on the receiving interface.
// The router owns that check: the instances never see another VRID's or
// another interface's advertisement, which count as VRID errors of the
// interface they came in on.
TEST(Router, OwnsTheVridCheckPerInterface) {
  FakeScheduler clock;
  Node node(clock);
  node.link.AddInterface("eth1", {"203.0.113.1/24"});
  node.router.Start(With({Instance1()}));
  const auto vrid = static_cast<size_t>(ReceiveError::kVrId);

  node.link.Receive("eth0", Encode(3, 200), From("192.0.2.9"));
  node.link.Receive("eth1", Encode(1, 200, "203.0.113.9"), From("203.0.113.9"));

  EXPECT_EQ(node.router.receive_errors().at("eth0")[vrid], 1u);
  EXPECT_EQ(node.router.receive_errors().at("eth1")[vrid], 1u);
  const InstanceStats stats = node.router.Find("VI_1")->stats();
  EXPECT_EQ(stats.advertisements_received, 0u);
  EXPECT_TRUE(node.Only().status.peers.empty());

  // The configured one reaches it.
  node.link.Receive("eth0", Encode(1, 200), From("192.0.2.9"));
  EXPECT_EQ(node.router.Find("VI_1")->stats().advertisements_received, 1u);
}

TEST(Router, AnAddressDeletedFromAMasterIsPutBackAndAnnounced) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  node.link.log.clear();

  node.link.DeleteKernelAddress("eth0", P("198.51.100.10/24"));

  EXPECT_EQ(node.link.Count("add eth0 198.51.100.10/24"), 1u);
  EXPECT_EQ(node.link.Count("announce VI_1 198.51.100.10/24"), 1u);
  clock.RunDue();
  EXPECT_TRUE(node.Only().vip_present[0].second);
}

TEST(Router, AddressPresenceFollowsAddressEvents) {
  FakeScheduler clock;
  Node node(clock);
  node.router.Start(With({Instance1()}));
  EXPECT_FALSE(node.Only().vip_present[0].second);
  const int changes = node.changes;

  // Someone else puts it on a backup (and takes it away again).
  node.link.AddKernelAddress("eth0", P("198.51.100.10/24"));
  EXPECT_TRUE(node.Only().vip_present[0].second);
  EXPECT_GT(node.changes, changes);
  node.link.DeleteKernelAddress("eth0", P("198.51.100.10/24"));
  EXPECT_FALSE(node.Only().vip_present[0].second);
}

TEST(Router, ALeftoverAddressIsRemovedAtStartButNotTheHostsOwn) {
  FakeScheduler clock;
  Node node(clock);
  node.link.AddKernelAddress("eth0", P("198.51.100.10/24"), /*nodad=*/true);
  InstanceConfig own = Instance1();
  own.name = "VI_2";
  own.vrid = 2;
  own.virtual_addresses = {P("192.0.2.1/24")};  // wrongly, the host's own

  node.router.Start(With({Instance1(), own}));

  EXPECT_EQ(node.link.Lines("stray"),
            (std::vector<std::string>{"stray eth0 198.51.100.10/24"}));
}

TEST(Router, LinkDownFaultsAndLinkUpRecovers) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));

  node.link.SetLinkUp("eth0", false);
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kFault);
  EXPECT_EQ(node.link.Count("remove eth0 198.51.100.10/24"), 1u);
  node.link.SetLinkUp("eth0", true);
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kBackup);
  EXPECT_EQ(node.transitions.lines.back(), "VI_1 Fault->Backup interface-up");
}

TEST(Router, AMissingInterfaceFaultsUntilItAppears) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig on_eth1 = Instance1();
  on_eth1.interface = "eth1";
  node.router.Start(With({on_eth1}));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kFault);
  node.link.AddInterface("eth1", {"203.0.113.1/24"});
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kBackup);
}

TEST(Router, ARemovedInstanceLeavesTheSnapshotAtOnce) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig other = Instance1();
  other.name = "VI_2";
  other.vrid = 2;
  node.router.Start(With({Instance1(), other}));
  node.router.Reload(With({Instance1()}));
  const Snapshot s = node.Snap();
  ASSERT_EQ(s.instances.size(), 1u);
  EXPECT_EQ(s.instances[0].config->name, "VI_1");
  clock.Advance(seconds(1));
  EXPECT_EQ(node.link.Count("close VI_2"), 1u);
}

TEST(Router, AReCreatedInstanceStaysInTheSnapshotWhileItReleases) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  InstanceConfig moved = Instance1();
  moved.vrid = 2;
  node.router.Reload(With({moved}));
  EXPECT_EQ(node.Snap().instances.size(), 1u);
  clock.Advance(seconds(3));
  EXPECT_EQ(node.Snap().instances.size(), 1u);
  EXPECT_EQ(node.Snap().instances[0].config->vrid, 2);
}

TEST(Router, ShutdownReleasesEveryInstanceAndItsVirtualMac) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig vmac = Instance1();
  vmac.virtual_mac = true;
  vmac.virtual_mac_interface = "vrrp.1";
  vmac.shutdown_mode = ShutdownMode::kStrict;
  BecomeMaster(clock, node, With({vmac}));
  EXPECT_EQ(node.link.Count("add vrrp.1 198.51.100.10/24"), 1u);
  bool done = false;

  node.router.Shutdown([&] { done = true; });

  EXPECT_TRUE(done);
  EXPECT_EQ(node.link.Count("send VI_1 prio=0"), 1u);
  EXPECT_EQ(node.link.Count("vmac-release vrrp.1"), 1u);
}

// Two routers on one segment through the real codec: a reload that adds an
// address to the master moves nothing.
TEST(Router, OnAWireAReloadOfTheMasterMovesNothing) {
  FakeScheduler clock;
  FakeWire wire(clock);
  Node high(clock, "192.0.2.1/24");
  Node low(clock, "192.0.2.2/24");
  high.link.Plug("eth0", wire, "lan");
  low.link.Plug("eth0", wire, "lan");
  high.router.Start(With({Instance1(200)}));
  low.router.Start(With({Instance1(100)}));
  clock.Advance(seconds(5));
  ASSERT_EQ(high.router.Find("VI_1")->state(), State::kMaster);
  ASSERT_EQ(low.router.Find("VI_1")->state(), State::kBackup);
  const size_t high_t = high.transitions.lines.size();
  const size_t low_t = low.transitions.lines.size();

  InstanceConfig more = Instance1(200);
  more.virtual_addresses.push_back(P("198.51.100.11/24"));
  high.router.Reload(With({more}));
  InstanceConfig more_low = Instance1(100);
  more_low.virtual_addresses = more.virtual_addresses;
  low.router.Reload(With({more_low}));
  clock.Advance(seconds(10));

  EXPECT_EQ(high.transitions.lines.size(), high_t);
  EXPECT_EQ(low.transitions.lines.size(), low_t);
  EXPECT_EQ(low.Only().status.master_address, A("192.0.2.1"));
}

}  // namespace
}  // namespace vrrp::testing

namespace vrrp::testing {
namespace {
TEST(Router, ARenamedVirtualMacIsReleasedBeforeTheNewOneIsMade) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig vmac = Instance1();
  vmac.version = Version::kV2;
  vmac.virtual_mac = true;
  vmac.virtual_mac_interface = "vrrp.1";
  BecomeMaster(clock, node, With({vmac}));
  InstanceConfig renamed = vmac;
  renamed.virtual_mac_interface = "vm-a";
  node.link.log.clear();

  node.router.Reload(With({renamed}));
  clock.Advance(seconds(3));

  EXPECT_EQ(node.link.Count("vmac-release vrrp.1"), 1u);
  EXPECT_EQ(node.link.Count("vmac-ensure vm-a"), 1u);
}
}  // namespace
}  // namespace vrrp::testing

namespace vrrp::testing {
namespace {
// The snapshot's counters are the instance's own (shared, relaxed atomics):
// a snapshot taken once shows every advertisement sent since, with no
// rebuild; what changes without a transition (a new master heard) asks for
// one through on_change.
TEST(Router, SnapshotCountersAreLiveAndStatusChangesAskForARebuild) {
  FakeScheduler clock;
  Node node(clock);
  BecomeMaster(clock, node, With({Instance1()}));
  const Snapshot snap = node.Snap();
  const uint64_t sent = snap.instances[0].counters().advertisements_sent;
  clock.Advance(seconds(5));
  EXPECT_EQ(snap.instances[0].counters().advertisements_sent, sent + 5);
  EXPECT_EQ(snap.instances[0].lateness().count.get(), 5u + sent - 1);

  InstanceConfig other = Instance1();
  other.name = "VI_2";
  other.vrid = 2;
  Node backup(clock, "192.0.2.2/24");
  backup.router.Start(With({other}));
  const int changes = backup.changes;
  backup.link.Receive("eth0", Encode(2, 200), From("192.0.2.9"));
  EXPECT_GT(backup.changes, changes);  // a master (and a peer) appeared
  const int after = backup.changes;
  backup.link.Receive("eth0", Encode(2, 200), From("192.0.2.9"));
  EXPECT_EQ(backup.changes, after);  // the same again: nothing to show
}
}  // namespace
}  // namespace vrrp::testing

namespace vrrp::testing {
namespace {
// The owner's addresses are its own (priority 255, RFC 5798 §1): none is a
// leftover, even one that is not the interface's primary address.
TEST(Router, TheOwnersAddressesAreNeverLeftovers) {
  FakeScheduler clock;
  Node node(clock);
  node.link.AddKernelAddress("eth0", P("198.51.100.10/24"), /*nodad=*/true);
  node.router.Start(With({Instance1(255)}));
  EXPECT_EQ(node.link.Count("stray"), 0u);
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
}

TEST(Router, AnInterfaceDownAtStartIsAFault) {
  FakeScheduler clock;
  Node node(clock);
  node.link.SetLinkUp("eth0", false);
  node.router.Start(With({Instance1()}));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kFault);
  EXPECT_EQ(node.transitions.lines.back(),
            "VI_1 Initialize->Fault interface-down");
}

// What the trackers say reaches the instances at start and on every
// change: a Fault demand, and a priority delta.
class FakeTracking : public TrackingSource {
 public:
  TrackEffect Evaluate(const std::vector<TrackRef>&) const override {
    return effect;
  }
  std::vector<TrackedStatus> Explain(
      const std::vector<TrackRef>&) const override {
    return {};
  }
  TrackEffect effect;
};

TEST(Router, TrackingReachesTheInstances) {
  FakeScheduler clock;
  Node node(clock);
  FakeTracking tracking;
  tracking.effect.fault = true;
  node.router.SetTracking(&tracking);
  InstanceConfig tracked = Instance1();
  tracked.track = {TrackRef{}};
  node.router.Start(With({tracked}));
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kFault);

  tracking.effect.fault = false;
  tracking.effect.delta = -30;
  node.router.TrackingChanged();
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kBackup);
  EXPECT_EQ(node.router.Find("VI_1")->effective_priority(), 70);
}
}  // namespace
}  // namespace vrrp::testing

namespace vrrp::testing {
namespace {
// An address another running instance holds is no leftover, even if this
// instance lists it too (a reload's predecessor, or a configuration that
// shares an address between two virtual routers).
TEST(Router, AnAddressAnotherInstanceHoldsIsNoLeftover) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig second = Instance1();
  second.name = "VI_2";
  second.vrid = 2;
  node.router.Start(With({Instance1(255), second}));
  clock.RunDue();
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
  EXPECT_EQ(node.link.Count("stray"), 0u);
  EXPECT_TRUE(node.link.Interface("eth0").Has(A("198.51.100.10")));
}
}  // namespace
}  // namespace vrrp::testing

namespace vrrp::testing {
namespace {
// A master's macvlan deleted behind its back took the addresses along: the
// router makes it again, puts the addresses back on it and announces them.
TEST(Router, AMacvlanRemadeUnderAMasterGetsItsAddressesBack) {
  FakeScheduler clock;
  Node node(clock);
  InstanceConfig vmac = Instance1();
  vmac.virtual_mac = true;
  vmac.virtual_mac_interface = "vrrp.1";
  BecomeMaster(clock, node, With({vmac}));
  node.link.log.clear();

  node.link.RemoveInterface("vrrp.1");

  EXPECT_EQ(node.link.Count("vmac-ensure vrrp.1"), 1u);
  EXPECT_EQ(node.link.Count("add vrrp.1 198.51.100.10/24"), 1u);
  EXPECT_EQ(node.link.Count("announce VI_1 198.51.100.10/24"), 1u);
  EXPECT_EQ(node.router.Find("VI_1")->state(), State::kMaster);
}
}  // namespace
}  // namespace vrrp::testing
