// The fake clock itself: on-time firing, late firing and bursts after a
// stall. Timer-lateness tests of the core are only as good as these.

#include "fakes/fake_scheduler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;

struct Log {
  FakeScheduler& clock;
  std::vector<std::string> lines;
  void Fire(const std::string& name) {
    lines.push_back(
        name + "@" +
        std::to_string(
            std::chrono::duration_cast<milliseconds>(clock.Elapsed()).count()));
  }
};

TEST(FakeScheduler, FiresOnTimeByDefault) {
  FakeScheduler clock;
  Log log{clock, {}};
  auto a = clock.CreateTimer([&] { log.Fire("a"); });
  a->ArmAt(TimePoint{} + milliseconds(10));
  clock.Advance(milliseconds(9));
  EXPECT_TRUE(log.lines.empty());
  clock.Advance(milliseconds(1));
  EXPECT_EQ(log.lines, std::vector<std::string>{"a@10"});
}

TEST(FakeScheduler, LateTimersFireLateInDeadlineOrder) {
  FakeScheduler clock;
  Log log{clock, {}};
  clock.SetLateness(milliseconds(3));
  auto a = clock.CreateTimer([&] { log.Fire("a"); });
  auto b = clock.CreateTimer([&] { log.Fire("b"); });
  b->ArmAt(TimePoint{} + milliseconds(20));
  a->ArmAt(TimePoint{} + milliseconds(10));
  // Due at 10 ms, but not fired until 13 ms.
  clock.Advance(milliseconds(12));
  EXPECT_TRUE(log.lines.empty());
  clock.Advance(milliseconds(1));
  EXPECT_EQ(log.lines, std::vector<std::string>{"a@13"});
  clock.Advance(milliseconds(20));
  EXPECT_EQ(log.lines, (std::vector<std::string>{"a@13", "b@23"}));
  EXPECT_EQ(clock.Elapsed(), milliseconds(33));
  // Back on time.
  clock.SetLateness(Duration::zero());
  a->ArmAt(TimePoint{} + milliseconds(40));
  clock.Advance(milliseconds(7));
  EXPECT_EQ(log.lines.back(), "a@40");
}

TEST(FakeScheduler, StallFiresABurstInDeadlineOrderAtTheWakeUp) {
  FakeScheduler clock;
  Log log{clock, {}};
  auto a = clock.CreateTimer([&] { log.Fire("a"); });
  auto b = clock.CreateTimer([&] { log.Fire("b"); });
  auto c = clock.CreateTimer([&] { log.Fire("c"); });
  auto d = clock.CreateTimer([&] { log.Fire("d"); });
  c->ArmAt(TimePoint{} + milliseconds(30));
  a->ArmAt(TimePoint{} + milliseconds(10));
  b->ArmAt(TimePoint{} + milliseconds(10));  // tie: armed after a
  d->ArmAt(TimePoint{} + milliseconds(60));  // not due at the wake-up
  clock.Stall(milliseconds(50));
  EXPECT_EQ(log.lines, (std::vector<std::string>{"a@50", "b@50", "c@50"}));
  EXPECT_EQ(clock.Elapsed(), milliseconds(50));
  clock.Advance(milliseconds(10));
  EXPECT_EQ(log.lines.back(), "d@60");
}

TEST(FakeScheduler, TimerReArmedInThePastFiresInTheSameBurst) {
  FakeScheduler clock;
  Log log{clock, {}};
  int fired = 0;
  std::unique_ptr<Timer> t;
  t = clock.CreateTimer([&] {
    log.Fire("t");
    // A periodic timer that keeps its cadence from deadlines.
    if (++fired < 3) t->ArmAt(t->deadline() + milliseconds(10));
  });
  t->ArmAt(TimePoint{} + milliseconds(10));
  clock.Stall(milliseconds(35));
  EXPECT_EQ(log.lines, (std::vector<std::string>{"t@35", "t@35", "t@35"}));
}

}  // namespace
}  // namespace vrrp::testing
