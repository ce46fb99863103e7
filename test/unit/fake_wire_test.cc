// Several virtual routers on one in-process wire: elections, crashes,
// graceful handovers and split brain, all on the fake clock.

#include "fakes/fake_wire.h"

#include <gtest/gtest.h>

#include <memory>

#include "fakes/fake_scheduler.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const IpPrefix kVip = *IpPrefix::Parse("198.51.100.10/24");

InstanceConfig Config(uint8_t priority, Version v = Version::kV3) {
  InstanceConfig c;
  c.name = "vr1";
  c.interface = "eth0";
  c.vrid = 1;
  c.version = v;
  c.priority = priority;
  c.advert_interval = Centiseconds(100);
  c.virtual_addresses = {kVip};
  return c;
}

class Lab {
 public:
  SimRouter& Add(const std::string& name, const char* source,
                 InstanceConfig config) {
    routers_.push_back(std::make_unique<SimRouter>(
        wire, name, "lan", *IpAddress::Parse(source), std::move(config)));
    return *routers_.back();
  }
  void StartAll() {
    for (auto& r : routers_) r->instance->Start();
  }
  std::vector<SimRouter*> Masters() {
    std::vector<SimRouter*> m;
    for (auto& r : routers_) {
      if (r->instance && r->instance->state() == State::kMaster)
        m.push_back(r.get());
    }
    return m;
  }
  int VipHolders() {
    int n = 0;
    for (auto& r : routers_) n += r->addresses.Has(kVip) ? 1 : 0;
    return n;
  }
  FakeScheduler clock;
  FakeWire wire{clock};
  std::vector<std::unique_ptr<SimRouter>> routers_;
};

TEST(FakeWire, ElectsTheHighestPriority) {
  for (Version v : {Version::kV2, Version::kV3}) {
    Lab lab;
    auto& a = lab.Add("a", "192.0.2.1", Config(100, v));
    auto& b = lab.Add("b", "192.0.2.2", Config(200, v));
    auto& c = lab.Add("c", "192.0.2.3", Config(150, v));
    lab.StartAll();
    lab.clock.Advance(seconds(10));
    ASSERT_EQ(lab.Masters().size(), 1u);
    EXPECT_EQ(lab.Masters()[0], &b);
    EXPECT_EQ(lab.VipHolders(), 1);
    EXPECT_TRUE(b.addresses.Has(kVip));
    for (auto* r : {&a, &c}) {
      auto s = r->instance->Status();
      EXPECT_EQ(s.state, State::kBackup);
      EXPECT_EQ(s.master_address, b.port->source());
      EXPECT_EQ(s.master_priority, 200);
      EXPECT_TRUE(r->decode_errors.empty());
      EXPECT_EQ(r->instance->stats().errors(ReceiveError::kAdvInterval), 0u);
    }
  }
}

TEST(FakeWire, EqualPrioritiesBreakTiesOnTheHigherAddress) {
  Lab lab;
  lab.Add("a", "192.0.2.1", Config(100));
  auto& b = lab.Add("b", "192.0.2.20", Config(100));
  lab.Add("c", "192.0.2.3", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(lab.Masters().size(), 1u);
  EXPECT_EQ(lab.Masters()[0], &b);
  EXPECT_EQ(lab.VipHolders(), 1);
}

TEST(FakeWire, CrashOfTheMasterIsDetectedAfterMasterDownInterval) {
  Lab lab;
  auto& a = lab.Add("a", "192.0.2.1", Config(200));
  auto& b = lab.Add("b", "192.0.2.2", Config(150));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(lab.Masters()[0], &a);
  // Crash: the process vanishes and sends nothing more.
  a.port->SetLinkUp(false);
  a.instance.reset();
  const TimePoint last_sent = lab.wire.packets().back().sent_at;
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(b.instance->state(), State::kMaster);
  auto t = b.instance->Status().last_transition;
  ASSERT_TRUE(t);
  EXPECT_EQ(t->reason, TransitionReason::kMasterDownTimer);
  // Heard 100 us after it was sent; fires exactly MDI(150, 1 s) later.
  EXPECT_EQ(t->at - last_sent, std::chrono::microseconds(100) +
                                   MasterDownInterval(150, seconds(1)));
  EXPECT_EQ(t->master_silence, MasterDownInterval(150, seconds(1)));
}

// Steps the clock 1 ms at a time, returning the longest run of milliseconds
// during which no router held the VIP.
Duration LongestVipGap(Lab& lab, Duration total) {
  Duration gap{0}, longest{0};
  for (Duration t{0}; t < total; t += milliseconds(1)) {
    lab.clock.Advance(milliseconds(1));
    gap = lab.VipHolders() == 0 ? gap + milliseconds(1) : Duration{0};
    longest = std::max(longest, gap);
  }
  return longest;
}

TEST(FakeWire, HitlessGracefulStopNeverLeavesTheVipUnserved) {
  Lab lab;
  auto& a = lab.Add("a", "192.0.2.1", Config(200));
  auto& b = lab.Add("b", "192.0.2.2", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(lab.Masters()[0], &a);
  bool released = false;
  a.instance->Shutdown([&] { released = true; });
  EXPECT_FALSE(released);
  EXPECT_TRUE(a.addresses.Has(kVip));
  EXPECT_EQ(LongestVipGap(lab, seconds(3)), Duration{0});
  EXPECT_TRUE(released);
  EXPECT_FALSE(a.addresses.Has(kVip));
  EXPECT_EQ(a.port->stop_announcing_calls(), 1u);
  EXPECT_EQ(b.instance->state(), State::kMaster);
  EXPECT_EQ(b.instance->Status().last_transition->reason,
            TransitionReason::kPriorityZeroReceived);
}

TEST(FakeWire, StrictGracefulStopLosesTheVipForSkewTime) {
  Lab lab;
  auto cfg = Config(200);
  cfg.shutdown_mode = ShutdownMode::kStrict;
  auto& a = lab.Add("a", "192.0.2.1", cfg);
  auto& b = lab.Add("b", "192.0.2.2", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  a.instance->Shutdown();
  // Skew_Time(100) = 609.375 ms, plus 100 us flight: a 609-610 ms hole.
  const Duration gap = LongestVipGap(lab, seconds(3));
  EXPECT_GE(gap, milliseconds(609));
  EXPECT_LE(gap, milliseconds(610));
  EXPECT_EQ(b.instance->state(), State::kMaster);
}

TEST(FakeWire, SplitBrainHealsToOneMaster) {
  Lab lab;
  auto& a = lab.Add("a", "192.0.2.1", Config(200));
  auto& b = lab.Add("b", "192.0.2.2", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(lab.Masters().size(), 1u);
  // Cut b off: it hears nothing and is heard by nobody.
  b.port->SetLinkUp(false);
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.Masters().size(), 2u);
  EXPECT_EQ(lab.VipHolders(), 2);
  const size_t a_announcements = a.instance->stats().announcements;
  const size_t packets_before = lab.wire.packets().size();
  // Heal: within one advertisement interval (+ flight) b hears a and yields.
  b.port->SetLinkUp(true);
  lab.clock.Advance(milliseconds(1001));
  ASSERT_EQ(lab.Masters().size(), 1u);
  EXPECT_EQ(lab.Masters()[0], &a);
  EXPECT_EQ(lab.VipHolders(), 1);
  EXPECT_EQ(b.instance->Status().last_transition->reason,
            TransitionReason::kHigherPriorityMaster);
  // Leaving Master cancels b's pending announcement repeats and refreshes.
  EXPECT_EQ(b.port->stop_announcing_calls(), 1u);
  EXPECT_EQ(a.port->stop_announcing_calls(), 0u);
  // If b advertised (as master) after the heal, a heard a lower-priority
  // master and must have re-announced; if b heard a first it yielded
  // silently, and only the periodic refresh of the I/O layer helps.
  bool b_advertised = false;
  for (size_t i = packets_before; i < lab.wire.packets().size(); ++i) {
    const auto& p = lab.wire.packets()[i];
    b_advertised |= p.from == "b" && p.advertisement.priority == 100;
  }
  EXPECT_EQ(a.instance->stats().announcements > a_announcements, b_advertised);
}

TEST(FakeWire, SplitBrainHealReannouncesWhenTheLowerMasterSpeaksFirst) {
  Lab lab;
  auto& a = lab.Add("a", "192.0.2.1", Config(200));
  auto& b = lab.Add("b", "192.0.2.2", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  b.port->SetLinkUp(false);
  lab.clock.Advance(seconds(10));
  // Reconnect b just before its next advertisement and a's after it.
  a.port->SetLinkUp(false);
  b.port->SetLinkUp(true);
  const size_t before = a.instance->stats().announcements;
  while (lab.wire.packets().back().from != "b") {
    lab.clock.Advance(std::chrono::microseconds(10));
  }
  a.port->SetLinkUp(true);  // b's advertisement is still in flight to a
  lab.clock.Advance(milliseconds(1001));
  EXPECT_EQ(lab.Masters().size(), 1u);
  EXPECT_EQ(lab.Masters()[0], &a);
  EXPECT_EQ(a.instance->stats().announcements, before + 1);
}

TEST(FakeWire, PreemptionAndNopreemptWhenAHigherRouterJoins) {
  for (bool preempt : {true, false}) {
    Lab lab;
    auto& low = lab.Add("low", "192.0.2.1", Config(100));
    auto cfg = Config(200);
    cfg.preempt = preempt;
    auto& high = lab.Add("high", "192.0.2.2", cfg);
    low.instance->Start();
    lab.clock.Advance(seconds(10));
    ASSERT_EQ(lab.Masters()[0], &low);
    high.instance->Start();
    lab.clock.Advance(seconds(10));
    ASSERT_EQ(lab.Masters().size(), 1u);
    EXPECT_EQ(lab.Masters()[0], preempt ? &high : &low) << preempt;
    EXPECT_EQ(lab.VipHolders(), 1);
  }
}

TEST(FakeWire, MixedChecksumFormsInteroperate) {
  Lab lab;
  auto cfg = Config(200);
  cfg.checksum_form = ChecksumForm::kWithoutPseudoHeader;
  auto& a = lab.Add("a", "192.0.2.1", cfg);
  auto& b = lab.Add("b", "192.0.2.2", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.Masters()[0], &a);
  auto s = b.instance->Status();
  EXPECT_GT(b.instance->stats().received_without_pseudo_header, 0u);
  EXPECT_EQ(b.instance->stats().received_with_pseudo_header, 0u);
  EXPECT_EQ(s.peers.at(a.port->source()).checksum_form,
            ChecksumForm::kWithoutPseudoHeader);
  EXPECT_TRUE(b.decode_errors.empty());
}

TEST(FakeWire, ForeignVridIsCountedNotObeyed) {
  Lab lab;
  auto other = Config(250);
  other.vrid = 2;
  lab.Add("foreign", "192.0.2.9", other);
  auto& a = lab.Add("a", "192.0.2.1", Config(100));
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(a.instance->state(), State::kMaster);
  EXPECT_GT(a.decode_errors[ReceiveError::kVrId], 0u);
}

}  // namespace
}  // namespace vrrp::testing
