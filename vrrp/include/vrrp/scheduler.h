#pragma once

#include <functional>
#include <memory>

#include "vrrp/time.h"

namespace vrrp {

// A one-shot timer. Re-arming replaces the deadline; cancelling an idle timer
// is a no-op. Callbacks run on the scheduler's thread, never re-entrantly
// from ArmAt()/Cancel().
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void ArmAt(TimePoint deadline) = 0;
  virtual void Cancel() = 0;
  virtual bool armed() const = 0;
  virtual TimePoint deadline() const = 0;
};

// The clock and timers of one event loop. Production: epoll + timerfd.
// Tests: FakeScheduler, whose Advance() fires due timers in deadline order.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual TimePoint Now() const = 0;
  virtual std::unique_ptr<Timer> CreateTimer(
      std::function<void()> on_expiry) = 0;
};

}  // namespace vrrp
