#include "vrrp/tracker.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <vector>

#include "fakes/fake_scheduler.h"

namespace vrrp {
namespace {

using namespace std::chrono_literals;
using testing::FakeScheduler;

// A checker whose checks the test answers (or never answers).
class FakeChecker : public Checker {
 public:
  struct Shared {
    std::function<void(CheckOutcome)> pending;
    int started = 0;
    int aborted = 0;
    // Answer at once, inside Start(), with this outcome.
    std::optional<CheckOutcome> immediate;
  };
  explicit FakeChecker(Shared& s) : s_(s) {}
  void Start(std::function<void(CheckOutcome)> done) override {
    ++s_.started;
    if (s_.immediate) {
      done(*s_.immediate);
      return;
    }
    s_.pending = std::move(done);
  }
  void Abort() override {
    ++s_.aborted;
    s_.pending = nullptr;
  }

 private:
  Shared& s_;
};

TrackerConfig Config(int rise, int fall) {
  TrackerConfig c;
  c.name = "t";
  c.type = TrackerType::kExec;
  c.interval = 1s;
  c.timeout = 300ms;
  c.rise = rise;
  c.fall = fall;
  return c;
}

struct Harness {
  FakeScheduler clock;
  FakeChecker::Shared shared;
  std::vector<TrackerHealth> changes;
  std::unique_ptr<Tracker> tracker;

  explicit Harness(TrackerConfig config) {
    tracker = std::make_unique<Tracker>(
        std::move(config), clock, std::make_unique<FakeChecker>(shared),
        [this](const Tracker& t) { changes.push_back(t.health()); });
  }
  // Answers the pending check after `after`.
  void Answer(bool ok, Duration after = 10ms) {
    clock.Advance(after);
    ASSERT_TRUE(shared.pending) << "no check running";
    auto done = std::move(shared.pending);
    shared.pending = nullptr;
    done(ok ? CheckOutcome::Success()
            : CheckOutcome::Failure(CheckFailure::kExitStatus, "exit 1"));
  }
  // Moves to the start of the next check, after an answer that took 10 ms:
  // checks start `interval` after the previous start.
  void NextCheck() {
    const int before = shared.started;
    clock.Advance(tracker->config().interval - 10ms - 1ns);
    ASSERT_EQ(shared.started, before);
    clock.Advance(1ns);
    ASSERT_EQ(shared.started, before + 1);
  }
};

TEST(Hysteresis, FirstResultDecidesAtOnce) {
  Hysteresis up(3, 3);
  EXPECT_EQ(up.health(), TrackerHealth::kUnknown);
  EXPECT_TRUE(up.Record(true));
  EXPECT_EQ(up.health(), TrackerHealth::kUp);
  Hysteresis down(3, 3);
  EXPECT_TRUE(down.Record(false));
  EXPECT_EQ(down.health(), TrackerHealth::kDown);
}

TEST(Hysteresis, FallNeedsConsecutiveFailuresAndRiseConsecutiveSuccesses) {
  Hysteresis h(/*rise=*/2, /*fall=*/3);
  h.Record(true);
  EXPECT_FALSE(h.Record(false));
  EXPECT_FALSE(h.Record(false));
  EXPECT_FALSE(h.Record(true));  // the run of failures is broken
  EXPECT_FALSE(h.Record(false));
  EXPECT_FALSE(h.Record(false));
  EXPECT_EQ(h.health(), TrackerHealth::kUp);
  EXPECT_TRUE(h.Record(false));  // third in a row
  EXPECT_EQ(h.health(), TrackerHealth::kDown);
  EXPECT_FALSE(h.Record(true));
  EXPECT_FALSE(h.Record(false));
  EXPECT_FALSE(h.Record(true));
  EXPECT_EQ(h.health(), TrackerHealth::kDown);
  EXPECT_TRUE(h.Record(true));  // second in a row
  EXPECT_EQ(h.health(), TrackerHealth::kUp);
}

TEST(Tracker, ChecksEveryIntervalAndAppliesRiseFall) {
  Harness h(Config(/*rise=*/2, /*fall=*/2));
  h.tracker->Start();
  EXPECT_EQ(h.shared.started, 1);  // at once
  h.Answer(true);
  EXPECT_EQ(h.changes, std::vector<TrackerHealth>{TrackerHealth::kUp});
  h.NextCheck();
  h.Answer(false);
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kUp);
  h.NextCheck();
  h.Answer(false);
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kDown);
  EXPECT_EQ(h.tracker->status().last_change, h.clock.Now());
  h.NextCheck();
  h.Answer(true);
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kDown);
  h.NextCheck();
  h.Answer(true);
  EXPECT_EQ(h.changes,
            (std::vector<TrackerHealth>{
                TrackerHealth::kUp, TrackerHealth::kDown, TrackerHealth::kUp}));
  const TrackerStatus& s = h.tracker->status();
  EXPECT_EQ(s.checks, 5u);
  EXPECT_EQ(s.failures[static_cast<size_t>(CheckFailure::kExitStatus)], 2u);
  EXPECT_EQ(s.last_duration, 10ms);
}

TEST(Tracker, HangingCheckIsAbortedAtItsTimeoutAndCountsAsFailure) {
  Harness h(Config(1, 1));
  h.tracker->Start();
  h.clock.Advance(299ms);
  EXPECT_EQ(h.shared.aborted, 0);
  EXPECT_TRUE(h.tracker->status().running);
  h.clock.Advance(1ms);
  EXPECT_EQ(h.shared.aborted, 1);
  EXPECT_FALSE(h.tracker->status().running);
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kDown);
  const TrackerStatus& s = h.tracker->status();
  EXPECT_EQ(s.last_failure, CheckFailure::kTimeout);
  EXPECT_EQ(s.failures[static_cast<size_t>(CheckFailure::kTimeout)], 1u);
  EXPECT_EQ(s.last_duration, 300ms);
  // The next check still starts on the interval from the previous start.
  h.clock.Advance(699ms);
  EXPECT_EQ(h.shared.started, 1);
  h.clock.Advance(1ms);
  EXPECT_EQ(h.shared.started, 2);
}

TEST(Tracker, LateAnswerAfterTimeoutIsDropped) {
  Harness h(Config(1, 1));
  h.tracker->Start();
  auto stale = h.shared.pending;  // a checker that ignores Abort
  h.clock.Advance(300ms);
  ASSERT_EQ(h.tracker->health(), TrackerHealth::kDown);
  stale(CheckOutcome::Success());
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kDown);
  EXPECT_EQ(h.tracker->status().checks, 1u);
}

TEST(Tracker, ChecksNeverOverlapWhenOneOutlastsTheInterval) {
  TrackerConfig c = Config(1, 1);
  c.timeout = 5s;  // longer than the 1 s interval
  Harness h(c);
  h.tracker->Start();
  h.clock.Advance(2500ms);
  EXPECT_EQ(h.shared.started, 1);
  h.Answer(true, 0ms);
  // The interval has passed: the next check starts now, not in a burst.
  h.clock.RunDue();
  EXPECT_EQ(h.shared.started, 2);
}

TEST(Tracker, ImmediateAnswerInsideStartWorks) {
  Harness h(Config(1, 1));
  h.shared.immediate = CheckOutcome::Success();
  h.tracker->Start();
  EXPECT_EQ(h.tracker->health(), TrackerHealth::kUp);
  EXPECT_FALSE(h.tracker->status().running);
  h.clock.Advance(1s);
  EXPECT_EQ(h.shared.started, 2);
  EXPECT_EQ(h.shared.aborted, 0);  // the timeout was cancelled
}

TEST(Tracker, DestroyingARunningTrackerAbortsItsCheck) {
  Harness h(Config(1, 1));
  h.tracker->Start();
  h.tracker.reset();
  EXPECT_EQ(h.shared.aborted, 1);
  EXPECT_EQ(h.clock.ArmedTimers(), 0u);
}

TEST(Tracker, ReportedResultsGoThroughTheHysteresis) {
  FakeScheduler clock;
  TrackerConfig c = Config(1, 2);
  c.type = TrackerType::kInterface;
  int changes = 0;
  Tracker t(c, clock, nullptr, [&](const Tracker&) { ++changes; });
  t.Start();  // no checker: nothing to poll
  EXPECT_EQ(clock.ArmedTimers(), 0u);
  t.Report(CheckOutcome::Success());
  t.Report(CheckOutcome::Failure(CheckFailure::kLinkDown, "down"));
  EXPECT_EQ(t.health(), TrackerHealth::kUp);
  t.Report(CheckOutcome::Failure(CheckFailure::kLinkDown, "down"));
  EXPECT_EQ(t.health(), TrackerHealth::kDown);
  EXPECT_EQ(changes, 2);
}

TEST(Tracker, FileValueChangeIsReportedWithoutAHealthChange) {
  FakeScheduler clock;
  TrackerConfig c = Config(1, 1);
  c.type = TrackerType::kFile;
  int changes = 0;
  Tracker t(c, clock, nullptr, [&](const Tracker&) { ++changes; });
  CheckOutcome o = CheckOutcome::Success();
  o.value = 5;
  t.Report(o);
  t.Report(o);
  EXPECT_EQ(changes, 1);
  o.value = -3;
  t.Report(o);
  EXPECT_EQ(changes, 2);
  EXPECT_EQ(t.status().value, -3);
}

TEST(Tracker, UnreadableFileKeepsItsValueUntilTheTrackerFalls) {
  FakeScheduler clock;
  TrackerConfig c = Config(1, /*fall=*/2);
  c.type = TrackerType::kFile;
  Tracker t(c, clock, nullptr, nullptr);
  CheckOutcome o = CheckOutcome::Success();
  o.value = -40;
  t.Report(o);
  const auto unreadable =
      CheckOutcome::Failure(CheckFailure::kMissing, "/run/x: gone");
  t.Report(unreadable);
  // One failed read of two allowed: still up, still -40 x weight.
  EXPECT_EQ(t.health(), TrackerHealth::kUp);
  EXPECT_EQ(t.status().value, -40);
  TrackInput in{/*weight=*/1, /*file=*/true, t.health(), t.status().value};
  EXPECT_EQ(TrackContribution(in).delta, -40);
  t.Report(unreadable);
  EXPECT_EQ(t.health(), TrackerHealth::kDown);
  in.health = t.health();
  EXPECT_EQ(TrackContribution(in).delta, 0);
}

// --- weights ---------------------------------------------------------------

TrackInput Input(int weight, TrackerHealth health) {
  TrackInput in;
  in.weight = weight;
  in.health = health;
  return in;
}

TEST(CombineTracks, PositiveWeightAddsWhileUp) {
  EXPECT_EQ(TrackContribution(Input(20, TrackerHealth::kUp)).delta, 20);
  EXPECT_EQ(TrackContribution(Input(20, TrackerHealth::kDown)).delta, 0);
  EXPECT_FALSE(TrackContribution(Input(20, TrackerHealth::kDown)).fault);
}

TEST(CombineTracks, NegativeWeightSubtractsWhileDown) {
  EXPECT_EQ(TrackContribution(Input(-30, TrackerHealth::kUp)).delta, 0);
  EXPECT_EQ(TrackContribution(Input(-30, TrackerHealth::kDown)).delta, -30);
  EXPECT_FALSE(TrackContribution(Input(-30, TrackerHealth::kDown)).fault);
}

TEST(CombineTracks, WeightZeroFaultsWhileDown) {
  EXPECT_TRUE(TrackContribution(Input(0, TrackerHealth::kDown)).fault);
  EXPECT_FALSE(TrackContribution(Input(0, TrackerHealth::kUp)).fault);
  EXPECT_EQ(TrackContribution(Input(0, TrackerHealth::kDown)).delta, 0);
}

TEST(CombineTracks, UnknownCountsAsUp) {
  EXPECT_FALSE(TrackContribution(Input(0, TrackerHealth::kUnknown)).fault);
  EXPECT_EQ(TrackContribution(Input(-30, TrackerHealth::kUnknown)).delta, 0);
  EXPECT_EQ(TrackContribution(Input(10, TrackerHealth::kUnknown)).delta, 10);
}

TEST(CombineTracks, SumsDeltasAndAnyFaultWins) {
  const TrackInput inputs[] = {Input(20, TrackerHealth::kUp),
                               Input(-50, TrackerHealth::kDown),
                               Input(5, TrackerHealth::kUp)};
  const TrackEffect e = CombineTracks(inputs);
  EXPECT_EQ(e.delta, -25);
  EXPECT_FALSE(e.fault);
  const TrackInput with_fault[] = {Input(20, TrackerHealth::kUp),
                                   Input(0, TrackerHealth::kDown)};
  EXPECT_TRUE(CombineTracks(with_fault).fault);
}

TrackInput File(int weight, std::optional<int64_t> value,
                TrackerHealth health = TrackerHealth::kUp) {
  TrackInput in;
  in.file = true;
  in.weight = weight;
  in.value = value;
  in.health = health;
  return in;
}

TEST(CombineTracks, FileValueTimesWeight) {
  EXPECT_EQ(TrackContribution(File(2, 10)).delta, 20);
  EXPECT_EQ(TrackContribution(File(-1, 10)).delta, -10);
  EXPECT_EQ(TrackContribution(File(1, -40)).delta, -40);
  EXPECT_FALSE(TrackContribution(File(1, -253)).fault);
  // Keepalived: below -253 the instance goes to Fault.
  EXPECT_TRUE(TrackContribution(File(1, -254)).fault);
  EXPECT_TRUE(TrackContribution(File(254, -2)).fault);
}

TEST(CombineTracks, FileWithWeightZeroFaultsOnNonZeroValue) {
  EXPECT_FALSE(TrackContribution(File(0, 0)).fault);
  EXPECT_TRUE(TrackContribution(File(0, 3)).fault);
  EXPECT_TRUE(TrackContribution(File(0, -3)).fault);
}

TEST(CombineTracks, UnreadableFileContributesNothingOrFaultsWithWeightZero) {
  EXPECT_EQ(
      TrackContribution(File(5, std::nullopt, TrackerHealth::kDown)).delta, 0);
  EXPECT_FALSE(
      TrackContribution(File(5, std::nullopt, TrackerHealth::kDown)).fault);
  EXPECT_TRUE(
      TrackContribution(File(0, std::nullopt, TrackerHealth::kDown)).fault);
}

TEST(CombineTracks, HugeFileValuesDoNotOverflow) {
  EXPECT_EQ(TrackContribution(File(254, INT64_MAX)).delta, 65536);
  EXPECT_TRUE(TrackContribution(File(254, INT64_MIN)).fault);
}

}  // namespace
}  // namespace vrrp
