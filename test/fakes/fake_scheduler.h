#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "vrrp/scheduler.h"

namespace vrrp::testing {

// A deterministic clock. Advance() moves time forward, firing every timer
// that falls due, one at a time in deadline order (ties in arming order), with
// Now() equal to each timer's deadline while its callback runs.
//
// It can also fire late, as a real event loop does when it wakes up late (a
// busy CPU, a stalled process: Keepalived's "a thread timer expired",
// VRRP-NOTES.md), so that lateness and the no-drift rule are tested with real
// late firings rather than only ever with zero lateness.
class FakeScheduler : public Scheduler {
 public:
  FakeScheduler();
  ~FakeScheduler() override;

  TimePoint Now() const override { return now_; }
  std::unique_ptr<Timer> CreateTimer(std::function<void()> on_expiry) override;

  void Advance(Duration d);
  void AdvanceTo(TimePoint t);
  // Fires everything due now (deadline + lateness <= Now()) without moving
  // time.
  void RunDue() { AdvanceTo(now_); }
  // From now on every timer fires `late` after its deadline: Advance() runs
  // each callback with Now() == deadline + late (still in deadline order).
  // Zero, the default, fires on time.
  void SetLateness(Duration late) { lateness_ = late; }
  Duration lateness() const { return lateness_; }
  // The loop did not run for `d`: time jumps by `d` with nothing firing, then
  // every timer due by then fires at once, in deadline order (ties in arming
  // order) and with Now() the wake-up time: a burst, as one pass of the real
  // loop's FireDueTimers() does after a stall. A timer that a callback
  // re-arms in the past fires in the same burst, after the ones due before
  // it.
  void Stall(Duration d);
  // Time since the fake epoch, for printing.
  Duration Elapsed() const { return now_ - TimePoint{}; }
  // Number of armed timers, for tests that check nothing is left pending.
  size_t ArmedTimers() const;

 private:
  class FakeTimer;
  friend class FakeTimer;
  FakeTimer* NextDue(TimePoint limit) const;

  TimePoint now_{};
  Duration lateness_{0};
  uint64_t next_sequence_ = 0;
  std::vector<FakeTimer*> timers_;  // every live timer, armed or not
};

}  // namespace vrrp::testing
