// The advertisement-timer lateness histogram fed by real late firings of
// the fake clock (issue 12: with a clock that was never late, a core that
// always reported zero lateness passed every test).

#include <gtest/gtest.h>

#include "fakes/fake_link_layer.h"
#include "fakes/fake_scheduler.h"
#include "vrrp/router.h"

namespace vrrp::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatenessHistogram, LateFiringsLandInTheirBuckets) {
  FakeScheduler clock;
  FakeLinkLayer link(clock);
  link.AddInterface("eth0", {"192.0.2.2/24"});
  Router router(clock, link, {});
  vrrp::InstanceConfig cfg;
  cfg.name = "web";
  cfg.interface = "eth0";
  cfg.vrid = 5;
  cfg.priority = 255;  // owner: Master at once
  cfg.advert_interval = vrrp::Centiseconds(100);
  cfg.virtual_addresses = {*vrrp::IpPrefix::Parse("198.51.100.5/24")};
  Config config;
  config.instances = {cfg};
  router.Start(config);
  const Instance& instance = *router.Find("web");

  // Three firings 300 us late (bucket le=0.0005), two on time (le=5e-05),
  // one after a stall that makes it 1 s late (le=1).
  clock.SetLateness(microseconds(300));
  clock.Advance(std::chrono::seconds(3) + microseconds(300));
  clock.SetLateness(vrrp::Duration::zero());
  clock.Advance(std::chrono::seconds(2) - microseconds(300));
  clock.Advance(milliseconds(500));
  clock.Stall(milliseconds(1500));  // the 6 s deadline fires at 7 s
  ASSERT_EQ(link.Count("send web"), 7u);

  Snapshot snap;
  router.FillSnapshot(snap);
  ASSERT_EQ(snap.instances.size(), 1u);
  // Shared live with the router: what a scrape reads now.
  const Histogram& h = snap.instances[0].lateness();
  ASSERT_EQ(h.bounds.size(), 12u);
  EXPECT_EQ(h.count, 6u);
  std::vector<uint64_t> want(h.bounds.size(), 0);
  want[0] = 2;   // 0 <= 50 us
  want[3] = 3;   // 250 us < 300 us <= 500 us
  want[11] = 1;  // 100 ms < 1 s <= 1 s
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    EXPECT_EQ(h.CountAt(i), want[i]) << "le=" << h.bounds[i];
  }
  EXPECT_NEAR(h.sum, 3 * 300e-6 + 1.0, 1e-9);
  EXPECT_EQ(instance.stats().max_advert_timer_lateness,
            std::chrono::seconds(1));
}

}  // namespace
}  // namespace vrrp::testing
