// Instance behaviour that scenario files do not express well: the §6.1
// formulas themselves, timer lateness, the bounded peer table.

#include "vrrp/instance.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Timers, SkewAndMasterDownIntervalFollowSection61) {
  EXPECT_EQ(SkewTime(100, seconds(1)), std::chrono::microseconds(609375));
  EXPECT_EQ(MasterDownInterval(100, seconds(1)),
            std::chrono::microseconds(3609375));
  EXPECT_EQ(SkewTime(255, seconds(1)), std::chrono::nanoseconds(3906250));
  EXPECT_EQ(SkewTime(1, seconds(1)), std::chrono::nanoseconds(996093750));
  // 10 ms VRRPv3, priority 150 (the numbers of the failover benchmark).
  EXPECT_EQ(MasterDownInterval(150, milliseconds(10)),
            std::chrono::nanoseconds(34140625));
}

struct Harness : PacketIo, InstanceObserver {
  std::optional<IpAddress> SourceAddress() const override {
    return *IpAddress::Parse("192.0.2.2");
  }
  void SendAdvertisement(const Advertisement& a) override { sent.push_back(a); }
  void Announce(std::span<const IpPrefix>) override {}
  void OnAdvertTimerLateness(const Instance&, Duration d) override {
    lateness.push_back(d);
  }
  std::vector<Advertisement> sent;
  std::vector<Duration> lateness;
};

InstanceConfig Cfg() {
  InstanceConfig c;
  c.name = "vr";
  c.interface = "eth0";
  c.vrid = 5;
  c.priority = 255;
  c.virtual_addresses = {*IpPrefix::Parse("198.51.100.5/24")};
  return c;
}

TEST(Instance, AdvertisementsCarryTheConfiguredFields) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  auto cfg = Cfg();
  cfg.version = Version::kV2;
  cfg.auth_type = AuthType::kSimplePassword;
  cfg.auth_password = "pw";
  Instance i(cfg, clock, h, addrs, &h);
  i.Start();
  ASSERT_EQ(h.sent.size(), 1u);
  const auto& a = h.sent[0];
  EXPECT_EQ(a.version, Version::kV2);
  EXPECT_EQ(a.vrid, 5);
  EXPECT_EQ(a.priority, 255);
  EXPECT_EQ(a.auth_type, AuthType::kSimplePassword);
  // RFC 3768 §5.3.10: zero-padded to 8 octets.
  EXPECT_EQ(a.auth_data, (std::array<uint8_t, 8>{'p', 'w', 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(a.addresses,
            std::vector<IpAddress>{*IpAddress::Parse("198.51.100.5")});
}

// Harness for the Adver_Timer: what was sent, when.
struct TimedHarness : Harness {
  explicit TimedHarness(FakeScheduler& c) : clock(c) {}
  void SendAdvertisement(const Advertisement& a) override {
    Harness::SendAdvertisement(a);
    sent_at.push_back(clock.Elapsed());
  }
  FakeScheduler& clock;
  std::vector<Duration> sent_at;
};

TEST(Instance, AdvertTimerOnTimeReportsZeroLateness) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  Instance i(Cfg(), clock, h, addrs, &h);
  i.Start();  // owner: Master at 0, next advertisement due at 1 s
  clock.Advance(seconds(1) - milliseconds(1));
  EXPECT_EQ(h.sent.size(), 1u);
  clock.Advance(milliseconds(1));
  ASSERT_EQ(h.lateness.size(), 1u);
  EXPECT_EQ(h.lateness[0], Duration::zero());
  EXPECT_EQ(i.stats().max_advert_timer_lateness, Duration::zero());
}

// A loop that wakes up 300 us late every time: each firing reports 300 us,
// and the cadence stays on the deadlines (1 s, 2 s, 3 s: RFC 5798 §6.4.3's
// Adver_Timer is reset to Advertisement_Interval, not to the wake-up plus
// it), so lateness never accumulates.
TEST(Instance, LateAdvertTimerIsReportedAndDoesNotDrift) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  TimedHarness h(clock);
  Instance i(Cfg(), clock, h, addrs, &h);
  i.Start();
  const auto late = std::chrono::microseconds(300);
  clock.SetLateness(late);
  clock.Advance(seconds(3) + late);
  EXPECT_EQ(h.sent_at,
            (std::vector<Duration>{Duration::zero(), seconds(1) + late,
                                   seconds(2) + late, seconds(3) + late}));
  EXPECT_EQ(h.lateness, (std::vector<Duration>{late, late, late}));
  EXPECT_EQ(i.stats().max_advert_timer_lateness, late);
  // On time again: the next one is at 4 s exactly, with no lateness, and
  // the maximum is kept.
  clock.SetLateness(Duration::zero());
  clock.Advance(seconds(1) - late);
  EXPECT_EQ(h.sent_at.back(), seconds(4));
  EXPECT_EQ(h.lateness.back(), Duration::zero());
  EXPECT_EQ(i.stats().max_advert_timer_lateness, late);
}

// One wake-up a whole interval late (the loop stalled from 0.5 s to 2 s):
// one advertisement, not a catch-up burst of the missed ones, and the next
// deadline is one interval after the wake-up, because the one after the
// missed deadline (2 s) is already due.
TEST(Instance, AdvertTimerLateByAWholeIntervalSendsOnceAndRestarts) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  TimedHarness h(clock);
  Instance i(Cfg(), clock, h, addrs, &h);
  i.Start();
  clock.Advance(milliseconds(500));
  clock.Stall(milliseconds(1500));  // the 1 s deadline fires at 2 s
  EXPECT_EQ(h.sent_at, (std::vector<Duration>{Duration::zero(), seconds(2)}));
  EXPECT_EQ(h.lateness, std::vector<Duration>{seconds(1)});
  clock.Advance(seconds(1) - milliseconds(1));
  EXPECT_EQ(h.sent.size(), 2u);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(h.sent_at.back(), seconds(3));
  EXPECT_EQ(h.lateness.back(), Duration::zero());
  // Stalled across several deadlines (3.5 s to 6.25 s): still one.
  clock.Advance(milliseconds(500));
  clock.Stall(milliseconds(2750));
  EXPECT_EQ(h.sent_at.back(), milliseconds(6250));
  EXPECT_EQ(h.sent.size(), 4u);
  EXPECT_EQ(h.lateness.back(), milliseconds(2250));
  EXPECT_EQ(i.stats().max_advert_timer_lateness, milliseconds(2250));
  clock.Advance(seconds(1));
  EXPECT_EQ(h.sent_at.back(), milliseconds(7250));
}

TEST(Instance, PeerTableIsBounded) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  auto cfg = Cfg();
  cfg.priority = 100;
  Instance i(cfg, clock, h, addrs, &h);
  i.Start();
  for (int n = 0; n < 500; ++n) {
    DecodedAdvertisement d;
    d.advertisement.vrid = 5;
    d.advertisement.priority = 200;
    d.advertisement.addresses = {*IpAddress::Parse("198.51.100.5")};
    const auto src =
        IpAddress::V4({203, 0, 113, static_cast<uint8_t>(n % 250)});
    auto src2 =
        IpAddress::V4({198, 51, 100, static_cast<uint8_t>(n / 250 + 100)});
    i.OnAdvertisement(d, n < 250 ? src : src2);
    clock.Advance(milliseconds(1));
  }
  EXPECT_LE(i.Status().peers.size(), 64u);
  EXPECT_EQ(i.stats().advertisements_received, 500u);
}

TEST(Instance, ShutdownBeforeStartReleasesAtOnce) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  Instance i(Cfg(), clock, h, addrs, &h);
  bool released = false;
  i.Shutdown([&] { released = true; });
  EXPECT_TRUE(released);
  i.Start();  // ignored after shutdown
  EXPECT_EQ(i.state(), State::kInitialize);
  EXPECT_TRUE(h.sent.empty());
  EXPECT_EQ(clock.ArmedTimers(), 0u);
}

// A reload that changes only the priority (or preempt, preempt_delay)
// keeps the instance: no Initialize, no address change; the next
// advertisement carries the new priority and §6.4.3 does the rest.
TEST(Instance, ReloadedPriorityIsTakenInPlace) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  auto cfg = Cfg();
  cfg.priority = 200;
  cfg.advert_interval = Centiseconds(100);
  Instance i(cfg, clock, h, addrs, &h);
  i.Start();
  clock.Advance(seconds(4));  // Master_Down_Interval at 200: ~3.2 s
  ASSERT_EQ(i.state(), State::kMaster);
  ASSERT_EQ(h.sent.back().priority, 200);

  // Another virtual router is refused and changes nothing.
  auto moved = std::make_shared<InstanceConfig>(cfg);
  moved->priority = 50;
  moved->vrid = 6;
  EXPECT_FALSE(i.Reconfigure(moved));
  auto owner = std::make_shared<InstanceConfig>(cfg);
  owner->priority = 255;
  EXPECT_FALSE(i.Reconfigure(owner));
  EXPECT_EQ(i.Status().effective_priority, 200);

  auto lower = std::make_shared<InstanceConfig>(cfg);
  lower->priority = 50;
  ASSERT_TRUE(i.Reconfigure(lower));
  EXPECT_EQ(i.state(), State::kMaster);
  EXPECT_EQ(i.Status().base_priority, 50);
  const size_t sent = h.sent.size();
  clock.Advance(seconds(1));
  ASSERT_EQ(h.sent.size(), sent + 1);
  EXPECT_EQ(h.sent.back().priority, 50);
  // A peer at 100 is now the higher priority: §6.4.3 Master -> Backup.
  DecodedAdvertisement d;
  d.advertisement.vrid = 5;
  d.advertisement.priority = 100;
  d.advertisement.max_adver_interval = Centiseconds(100);
  d.advertisement.addresses = {*IpAddress::Parse("198.51.100.5")};
  i.OnAdvertisement(d, *IpAddress::Parse("203.0.113.9"));
  EXPECT_EQ(i.state(), State::kBackup);
  EXPECT_EQ(i.Status().last_transition->reason,
            TransitionReason::kHigherPriorityMaster);
}

TEST(InstanceConfig, OnlyAnotherRouterOwnerOrVirtualMacIsRecreated) {
  auto cfg = Cfg();
  cfg.priority = 100;
  auto next = cfg;
  EXPECT_FALSE(cfg.RecreatedBy(next));
  next.priority = 150;
  next.preempt = false;
  next.preempt_delay = seconds(30);
  next.advert_interval = Centiseconds(200);
  next.virtual_addresses.push_back(*IpPrefix::Parse("198.51.100.6/24"));
  next.accept = true;
  next.checksum_form = ChecksumForm::kWithoutPseudoHeader;
  next.shutdown_mode = ShutdownMode::kStrict;
  EXPECT_FALSE(cfg.RecreatedBy(next));
  for (auto change : std::vector<std::function<void(InstanceConfig&)>>{
           [](InstanceConfig& c) { c.interface = "eth9"; },
           [](InstanceConfig& c) { c.vrid = 9; },
           [](InstanceConfig& c) { c.version = Version::kV2; },
           [](InstanceConfig& c) { c.family = Family::kIpv6; },
           [](InstanceConfig& c) { c.name = "other"; },
           [](InstanceConfig& c) {
             c.virtual_mac = true;
             c.virtual_mac_interface = "vrrp.5";
           },
       }) {
    next = cfg;
    change(next);
    EXPECT_TRUE(cfg.RecreatedBy(next));
  }
  // A changed priority is a changed setting (the reload takes it in place),
  // and so is each of the others.
  next = cfg;
  EXPECT_TRUE(cfg.SameSettings(next));
  next.priority = 150;
  EXPECT_FALSE(cfg.SameSettings(next));
  next = cfg;
  next.priority = 255;  // becoming the address owner
  EXPECT_TRUE(cfg.RecreatedBy(next));
  EXPECT_TRUE(next.RecreatedBy(cfg));
}

// The exporter refills one status in place every publish: nothing of what
// it held before (another instance's master, peers, counters) may survive.
TEST(Instance, StatusIntoOverwritesEverything) {
  FakeScheduler clock;
  FakeAddressManager addrs;
  Harness h;
  auto backup_cfg = Cfg();
  backup_cfg.priority = 100;
  Instance backup(backup_cfg, clock, h, addrs, &h);
  backup.Start();
  DecodedAdvertisement d;
  d.advertisement.vrid = 5;
  d.advertisement.priority = 200;
  d.advertisement.addresses = {*IpAddress::Parse("198.51.100.5")};
  backup.OnAdvertisement(d, *IpAddress::Parse("203.0.113.9"));
  InstanceStatus status;
  backup.StatusInto(status);
  ASSERT_EQ(status.state, State::kBackup);
  ASSERT_TRUE(status.master_address.has_value());
  ASSERT_EQ(status.peers.size(), 1u);

  auto idle_cfg = Cfg();
  idle_cfg.name = "idle";
  Instance idle(idle_cfg, clock, h, addrs, &h);  // never started
  idle.StatusInto(status);
  const InstanceStatus fresh = idle.Status();
  EXPECT_EQ(status.name, "idle");
  EXPECT_EQ(status.state, State::kInitialize);
  EXPECT_FALSE(status.master_address.has_value());
  EXPECT_EQ(status.master_priority, 0);
  EXPECT_TRUE(status.peers.empty());
  EXPECT_EQ(status.base_priority, fresh.base_priority);
  EXPECT_EQ(status.effective_priority, fresh.effective_priority);
  EXPECT_EQ(status.master_down_interval, fresh.master_down_interval);
  EXPECT_EQ(status.last_transition.has_value(),
            fresh.last_transition.has_value());
}

}  // namespace
}  // namespace vrrp::testing
