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
class FakeScheduler : public Scheduler {
 public:
  FakeScheduler();
  ~FakeScheduler() override;

  TimePoint Now() const override { return now_; }
  std::unique_ptr<Timer> CreateTimer(std::function<void()> on_expiry) override;

  void Advance(Duration d);
  void AdvanceTo(TimePoint t);
  // Fires everything due now (deadline <= Now()) without moving time.
  void RunDue() { AdvanceTo(now_); }
  // Time since the fake epoch, for printing.
  Duration Elapsed() const { return now_ - TimePoint{}; }
  // Number of armed timers, for tests that check nothing is left pending.
  size_t ArmedTimers() const;

 private:
  class FakeTimer;
  friend class FakeTimer;
  FakeTimer* NextDue(TimePoint limit) const;

  TimePoint now_{};
  uint64_t next_sequence_ = 0;
  std::vector<FakeTimer*> timers_;  // every live timer, armed or not
};

}  // namespace vrrp::testing
