#pragma once

// The production Scheduler: one thread, epoll for file descriptors, one
// timerfd (CLOCK_MONOTONIC, absolute deadlines) for every timer, signalfd
// for signals and an eventfd for work posted from other threads.

#include <functional>
#include <memory>
#include <string>

#include "vrrp/result.h"
#include "vrrp/scheduler.h"

namespace vrrp::sys {

class EventLoop : public Scheduler {
 public:
  static Result<std::unique_ptr<EventLoop>, std::string> Create();
  ~EventLoop() override;

  // steady_clock is CLOCK_MONOTONIC on Linux, the timerfd's clock.
  TimePoint Now() const override;
  std::unique_ptr<Timer> CreateTimer(std::function<void()> on_expiry) override;

  // Calls `on_readable` (on the loop thread) while `fd` is readable. The
  // loop does not own the descriptor. Level-triggered.
  Result<Unit, std::string> WatchFd(int fd, std::function<void()> on_readable);
  void UnwatchFd(int fd);

  // Blocks `signo` for the whole process and delivers it through signalfd.
  // Call before starting any other thread.
  Result<Unit, std::string> OnSignal(int signo, std::function<void()> handler);

  // Runs `fn` on the loop thread soon. Thread-safe.
  void Post(std::function<void()> fn);

  // Runs until Stop() (from a callback or another thread).
  void Run();
  void Stop();

  class Impl;

 private:
  explicit EventLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vrrp::sys
