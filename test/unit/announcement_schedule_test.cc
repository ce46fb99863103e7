#include "vrrp/announcement_schedule.h"

#include <gtest/gtest.h>

#include "fakes/fake_scheduler.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Recorder {
  FakeScheduler clock;
  std::vector<Duration> at;
  std::function<void()> Fn() {
    return [this] { at.push_back(clock.Elapsed()); };
  }
};

TEST(AnnouncementSchedule, BurstSecondBurstThenRefresh) {
  Recorder r;
  AnnouncementSchedule s(r.clock,
                         {.count = 3,
                          .interval = milliseconds(100),
                          .second_burst_after = seconds(5),
                          .refresh = seconds(60)},
                         r.Fn());
  s.Start();
  r.clock.Advance(seconds(130));
  const std::vector<Duration> want = {
      milliseconds(0),     milliseconds(100),   milliseconds(200),
      milliseconds(5200),  milliseconds(5300),  milliseconds(5400),
      milliseconds(65400), milliseconds(125400)};
  EXPECT_EQ(r.at, want);
}

TEST(AnnouncementSchedule, StopEndsEverything) {
  Recorder r;
  AnnouncementSchedule s(r.clock, {}, r.Fn());
  s.Start();
  r.clock.Advance(milliseconds(150));
  s.Stop();
  r.clock.Advance(seconds(600));
  EXPECT_EQ(r.at.size(), 2u);
  EXPECT_FALSE(s.active());
  EXPECT_EQ(r.clock.ArmedTimers(), 0u);
}

TEST(AnnouncementSchedule, RestartBeginsANewBurst) {
  Recorder r;
  AnnouncementSchedule s(r.clock,
                         {.count = 2,
                          .interval = milliseconds(10),
                          .second_burst_after = {},
                          .refresh = {}},
                         r.Fn());
  s.Start();
  r.clock.Advance(milliseconds(5));
  s.Start();
  r.clock.Advance(seconds(10));
  const std::vector<Duration> want = {milliseconds(0), milliseconds(5),
                                      milliseconds(15)};
  EXPECT_EQ(r.at, want);
  EXPECT_EQ(r.clock.ArmedTimers(), 0u);
}

TEST(AnnouncementSchedule, CountZeroStillAnnouncesOnce) {
  Recorder r;
  AnnouncementSchedule s(
      r.clock,
      {.count = 0, .interval = {}, .second_burst_after = {}, .refresh = {}},
      r.Fn());
  s.Start();
  r.clock.Advance(seconds(1));
  EXPECT_EQ(r.at.size(), 1u);
}

}  // namespace
}  // namespace vrrp::testing
