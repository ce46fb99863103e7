#include "vrrp/sys/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

// These tests use real time only to make things happen (deadlines a few ms
// away) and assert order and occurrence, never durations. Every Run() is
// bounded by a safety net that stops the loop and fails the test, so a bug
// fails the test instead of hanging CI. The timer-queue tests further down
// use deadlines in the past instead (Past()), all due at once, so what fires
// and in which order does not depend on timing at all.

namespace vrrp::sys {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Generous: only reached when the loop is broken.
constexpr auto kSafetyTimer = seconds(10);
// Backs up the safety timer in case the timers themselves are what broke.
constexpr auto kWatchdog = seconds(30);

class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    CloseRead();
    if (w >= 0) ::close(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  void Write(const std::string& s) {
    ASSERT_EQ(::write(w, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  // One byte, or -1 if none.
  int ReadByte() {
    char c;
    return ::read(r, &c, 1) == 1 ? static_cast<unsigned char>(c) : -1;
  }
  void CloseRead() {
    if (r >= 0) ::close(r);
    r = -1;
  }

  int r = -1;
  int w = -1;
};

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.error();
    loop_ = std::move(loop).value();
  }

  TimePoint In(Duration d) const { return loop_->Now() + d; }

  // Runs the loop until the test's callbacks Stop() it. Fails the test if
  // the safety net has to stop it instead.
  void RunLoop() {
    bool safety_fired = false;
    auto safety = loop_->CreateTimer([&] {
      safety_fired = true;
      loop_->Stop();
    });
    safety->ArmAt(In(kSafetyTimer));

    std::atomic<bool> watchdog_fired{false};
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, kWatchdog, [&] { return done; })) {
        watchdog_fired = true;
        loop_->Stop();
      }
    });

    loop_->Run();

    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_one();
    watchdog.join();
    EXPECT_FALSE(safety_fired) << "the loop was stopped by the safety timer";
    EXPECT_FALSE(watchdog_fired) << "the loop was stopped by the watchdog";
  }

  // Stops the loop after `n` more loop iterations, each a trip through the
  // eventfd. Lets the test see that something does NOT happen on the next
  // iterations without waiting for any amount of time.
  void StopAfterIterations(int n) {
    loop_->Post([this, n] {
      if (n <= 0) {
        loop_->Stop();
      } else {
        StopAfterIterations(n - 1);
      }
    });
  }

  // A deadline long past (steady_clock's epoch is the boot), so due on the
  // loop's next iteration; `ns` orders deadlines among themselves.
  static TimePoint Past(int64_t ns) { return TimePoint{} + nanoseconds(ns); }

  // `count` timers; timer i appends i to `fired` when it expires.
  std::vector<std::unique_ptr<Timer>> RecordingTimers(int count,
                                                      std::vector<int>& fired) {
    std::vector<std::unique_ptr<Timer>> timers;
    for (int i = 0; i < count; ++i) {
      timers.push_back(loop_->CreateTimer([&fired, i] { fired.push_back(i); }));
    }
    return timers;
  }

  // 0..count-1 in an order fixed by `seed`: arming timers in it gives the
  // heap a layout other than the deadlines' order.
  static std::vector<int> ShuffledIndices(int count, unsigned seed) {
    std::vector<int> order(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) order[static_cast<size_t>(i)] = i;
    std::mt19937 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    return order;
  }

  // Runs the loop until every timer armed with a Past() deadline has fired,
  // including those that their callbacks arm in the past meanwhile: a timer
  // due now sorts after all of them, and stops the loop.
  void RunUntilPastTimersFired() {
    auto stop = loop_->CreateTimer([this] { loop_->Stop(); });
    stop->ArmAt(loop_->Now());
    RunLoop();
  }

  std::unique_ptr<EventLoop> loop_;
};

TEST_F(EventLoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  const int offsets_ms[] = {5, 1, 4, 2, 3};
  for (int ms : offsets_ms) {
    timers.push_back(loop_->CreateTimer([&, ms] {
      fired.push_back(ms);
      if (fired.size() == std::size(offsets_ms)) loop_->Stop();
    }));
  }
  const TimePoint base = loop_->Now();
  for (size_t i = 0; i < timers.size(); ++i) {
    timers[i]->ArmAt(base + milliseconds(offsets_ms[i]));
  }
  RunLoop();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3, 4, 5}));
  for (auto& t : timers) EXPECT_FALSE(t->armed());
}

TEST_F(EventLoopTest, EqualDeadlinesFireInArmingOrder) {
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 5; ++i) {
    timers.push_back(loop_->CreateTimer([&, i] {
      fired.push_back(i);
      if (fired.size() == 5) loop_->Stop();
    }));
  }
  const TimePoint deadline = In(milliseconds(2));
  for (int i : {3, 1, 4, 0, 2}) timers[i]->ArmAt(deadline);
  RunLoop();
  EXPECT_EQ(fired, (std::vector<int>{3, 1, 4, 0, 2}));
}

TEST_F(EventLoopTest, RearmingAtTheSameDeadlineMovesBehindTheOthers) {
  std::vector<char> fired;
  auto a = loop_->CreateTimer([&] { fired.push_back('a'); });
  auto b = loop_->CreateTimer([&] {
    fired.push_back('b');
    loop_->Stop();
  });
  const TimePoint deadline = In(milliseconds(2));
  a->ArmAt(deadline);
  b->ArmAt(deadline);
  a->ArmAt(deadline);
  // b stops the loop; a, if still due in the same pass, must not fire
  // before it.
  RunLoop();
  ASSERT_FALSE(fired.empty());
  EXPECT_EQ(fired.front(), 'b');
}

TEST_F(EventLoopTest, CancelPreventsFiring) {
  bool a_fired = false;
  auto a = loop_->CreateTimer([&] { a_fired = true; });
  auto b = loop_->CreateTimer([&] { loop_->Stop(); });
  a->ArmAt(In(milliseconds(1)));
  b->ArmAt(In(milliseconds(5)));
  EXPECT_TRUE(a->armed());
  a->Cancel();
  EXPECT_FALSE(a->armed());
  a->Cancel();  // idle: a no-op
  RunLoop();
  EXPECT_FALSE(a_fired);
}

TEST_F(EventLoopTest, CancelInsideAnotherCallbackOfTheSamePass) {
  bool b_fired = false;
  std::unique_ptr<Timer> b;
  auto a = loop_->CreateTimer([&] {
    b->Cancel();
    StopAfterIterations(2);
  });
  b = loop_->CreateTimer([&] { b_fired = true; });
  const TimePoint deadline = In(milliseconds(1));
  a->ArmAt(deadline);
  b->ArmAt(deadline);  // due in the same pass, after a
  RunLoop();
  EXPECT_FALSE(b_fired);
}

TEST_F(EventLoopTest, RearmReplacesTheDeadline) {
  std::vector<char> fired;
  auto later = loop_->CreateTimer([&] { fired.push_back('L'); });
  auto earlier = loop_->CreateTimer([&] { fired.push_back('E'); });
  auto middle = loop_->CreateTimer([&] { fired.push_back('M'); });
  auto stop = loop_->CreateTimer([&] { loop_->Stop(); });

  const TimePoint base = loop_->Now();
  // Moved much earlier: fires at the new deadline, long before the old one
  // (an hour away, past the safety timer). Armed first, so nothing else has
  // made the loop wake up early.
  earlier->ArmAt(base + hours(1));
  earlier->ArmAt(base + milliseconds(2));
  EXPECT_EQ(earlier->deadline(), base + milliseconds(2));
  // Moved later: fires once, at the new deadline.
  later->ArmAt(base + milliseconds(1));
  later->ArmAt(base + milliseconds(20));
  EXPECT_EQ(later->deadline(), base + milliseconds(20));
  EXPECT_TRUE(later->armed());
  middle->ArmAt(base + milliseconds(10));
  stop->ArmAt(base + milliseconds(30));

  RunLoop();
  EXPECT_EQ(fired, (std::vector<char>{'E', 'M', 'L'}));
}

TEST_F(EventLoopTest, TimerDestroyedInsideItsOwnCallback) {
  int fired = 0;
  std::unique_ptr<Timer> t;
  t = loop_->CreateTimer([&] {
    ++fired;
    t.reset();
    StopAfterIterations(2);
  });
  t->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(t, nullptr);
}

TEST_F(EventLoopTest, TimerDestroyedInsideAnotherTimersCallback) {
  bool b_fired = false;
  bool c_fired = false;
  std::unique_ptr<Timer> b, c;
  auto a = loop_->CreateTimer([&] {
    b.reset();  // due in this same pass
    c.reset();  // due later
    StopAfterIterations(2);
  });
  b = loop_->CreateTimer([&] { b_fired = true; });
  c = loop_->CreateTimer([&] { c_fired = true; });
  const TimePoint deadline = In(milliseconds(1));
  a->ArmAt(deadline);
  b->ArmAt(deadline);
  c->ArmAt(deadline + milliseconds(2));
  RunLoop();
  EXPECT_FALSE(b_fired);
  EXPECT_FALSE(c_fired);
}

TEST_F(EventLoopTest, ArmAtFromInsideCallbacks) {
  std::vector<std::string> log;
  std::unique_ptr<Timer> self, other;
  self = loop_->CreateTimer([&] {
    EXPECT_FALSE(self->armed()) << "a firing timer is no longer armed";
    log.push_back("self");
    if (log.size() < 3) {
      self->ArmAt(In(milliseconds(1)));
      EXPECT_TRUE(self->armed());
    } else {
      other->ArmAt(In(milliseconds(1)));
    }
  });
  other = loop_->CreateTimer([&] {
    log.push_back("other");
    loop_->Stop();
  });
  self->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_EQ(log, (std::vector<std::string>{"self", "self", "self", "other"}));
}

TEST_F(EventLoopTest, PastDeadlineFiresFromTheLoopNotFromArmAt) {
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int i = 0; i < 3; ++i) {
    timers.push_back(loop_->CreateTimer([&, i] {
      fired.push_back(i);
      if (fired.size() == 3) loop_->Stop();
    }));
  }
  // The clock's epoch and earlier are past deadlines too (and an all-zero
  // timerfd value would disarm the timerfd instead of firing it).
  timers[0]->ArmAt(TimePoint::min());
  timers[1]->ArmAt(TimePoint{});
  timers[2]->ArmAt(loop_->Now() - seconds(1));
  EXPECT_TRUE(fired.empty()) << "ArmAt must not fire re-entrantly";
  RunLoop();
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2}));
}

TEST_F(EventLoopTest, PastDeadlineArmedInACallbackFiresAfterItReturns) {
  bool in_a = false;
  bool b_fired = false;
  std::unique_ptr<Timer> b = loop_->CreateTimer([&] {
    EXPECT_FALSE(in_a) << "fired re-entrantly from ArmAt";
    b_fired = true;
    loop_->Stop();
  });
  auto a = loop_->CreateTimer([&] {
    in_a = true;
    b->ArmAt(loop_->Now() - milliseconds(1));
    EXPECT_FALSE(b_fired);
    in_a = false;
  });
  a->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_TRUE(b_fired);
}

TEST_F(EventLoopTest, TimerRearmingItselfInThePastDoesNotStarveDescriptors) {
  // The timer makes the pipe readable on its first run, then keeps re-arming
  // itself in the past: every re-arm is due at once, but must wait for the
  // next iteration, where the pipe gets its turn. Bounded, so that a loop
  // which does starve descriptors still ends the test.
  constexpr int kGiveUpAfter = 100000;
  Pipe p;
  int spins = 0;
  int spins_when_read = -1;
  std::unique_ptr<Timer> busy;
  busy = loop_->CreateTimer([&] {
    if (spins == 0) p.Write("x");
    if (++spins < kGiveUpAfter) busy->ArmAt(TimePoint{});
  });
  ASSERT_TRUE(loop_
                  ->WatchFd(p.r,
                            [&] {
                              p.ReadByte();
                              spins_when_read = spins;
                              loop_->UnwatchFd(p.r);
                              busy->Cancel();
                              loop_->Stop();
                            })
                  .ok());
  busy->ArmAt(TimePoint{});
  RunLoop();
  EXPECT_GE(spins_when_read, 1) << "the pipe was never serviced";
  EXPECT_LT(spins_when_read, kGiveUpAfter) << "the pipe waited for the timer";
}

TEST_F(EventLoopTest, WatchFdCallsBackAndUnwatchFromTheCallbackStopsIt) {
  Pipe p;
  std::vector<int> read_bytes;
  ASSERT_TRUE(loop_
                  ->WatchFd(p.r,
                            [&] {
                              read_bytes.push_back(p.ReadByte());
                              // One byte stays in the pipe, so a level-
                              // triggered watch would call again on the
                              // next iteration unless unwatched.
                              loop_->UnwatchFd(p.r);
                              StopAfterIterations(3);
                            })
                  .ok());
  // Written from the loop, so the callback runs only once Run() is going.
  auto writer = loop_->CreateTimer([&] { p.Write("ab"); });
  writer->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_EQ(read_bytes, (std::vector<int>{'a'}));
  EXPECT_EQ(p.ReadByte(), 'b');
}

TEST_F(EventLoopTest, WatchFdIsLevelTriggeredAndCanBeWatchedAgain) {
  Pipe p;
  std::vector<int> read_bytes;
  std::function<void()> reader = [&] {
    read_bytes.push_back(p.ReadByte());
    if (read_bytes.size() == 2) {
      loop_->UnwatchFd(p.r);
      // Same descriptor, new watch: works and sees the remaining byte.
      ASSERT_TRUE(loop_
                      ->WatchFd(p.r,
                                [&] {
                                  read_bytes.push_back(100 + p.ReadByte());
                                  loop_->UnwatchFd(p.r);
                                  loop_->Stop();
                                })
                      .ok());
    }
  };
  ASSERT_TRUE(loop_->WatchFd(p.r, reader).ok());
  p.Write("abc");  // one write, three callbacks: level-triggered
  RunLoop();
  EXPECT_EQ(read_bytes, (std::vector<int>{'a', 'b', 100 + 'c'}));
}

TEST_F(EventLoopTest, UnwatchAndCloseAnotherFdInTheSameBatch) {
  // Both pipes are readable before Run(), so the first epoll_wait() reports
  // both. Whichever callback runs first unwatches and closes the other one
  // and watches a fresh, empty pipe that will likely reuse the closed
  // descriptor number: the stale event must reach neither callback.
  Pipe a, b;
  std::unique_ptr<Pipe> fresh;
  int a_calls = 0, b_calls = 0, fresh_calls = 0;
  auto take_over = [&](Pipe& self, Pipe& other, int& calls) {
    ++calls;
    self.ReadByte();
    loop_->UnwatchFd(self.r);
    loop_->UnwatchFd(other.r);
    other.CloseRead();
    fresh = std::make_unique<Pipe>();
    ASSERT_TRUE(loop_->WatchFd(fresh->r, [&] { ++fresh_calls; }).ok());
    StopAfterIterations(2);
  };
  ASSERT_TRUE(loop_->WatchFd(a.r, [&] { take_over(a, b, a_calls); }).ok());
  ASSERT_TRUE(loop_->WatchFd(b.r, [&] { take_over(b, a, b_calls); }).ok());
  a.Write("x");
  b.Write("x");
  RunLoop();
  EXPECT_EQ(a_calls + b_calls, 1);
  EXPECT_EQ(fresh_calls, 0);
  if (fresh) loop_->UnwatchFd(fresh->r);
}

TEST_F(EventLoopTest, WatchFdErrors) {
  Pipe p;
  ASSERT_TRUE(loop_->WatchFd(p.r, [] {}).ok());
  auto again = loop_->WatchFd(p.r, [] {});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already watched"), std::string::npos)
      << again.error();
  loop_->UnwatchFd(p.r);
  loop_->UnwatchFd(p.r);  // not watched: a no-op

  // epoll(7) refuses regular files (EPERM).
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto file = loop_->WatchFd(fileno(f), [] {});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find("epoll_ctl"), std::string::npos) << file.error();
  std::fclose(f);
}

TEST_F(EventLoopTest, PostFromAnotherThreadRunsOnTheLoopThreadInOrder) {
  constexpr int kPosts = 100;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  std::promise<void> running;
  loop_->Post([&] { running.set_value(); });
  std::thread poster([&] {
    running.get_future().wait();
    for (int i = 0; i < kPosts; ++i) {
      loop_->Post([&, i] {
        order.push_back(i);
        ran_on.push_back(std::this_thread::get_id());
        if (i == kPosts - 1) loop_->Stop();
      });
    }
  });
  RunLoop();
  poster.join();
  ASSERT_EQ(order.size(), static_cast<size_t>(kPosts));
  for (int i = 0; i < kPosts; ++i) {
    EXPECT_EQ(order[i], i);
    EXPECT_EQ(ran_on[i], loop_thread);
  }
}

TEST_F(EventLoopTest, StopFromAnotherThreadEndsRun) {
  std::promise<void> running;
  loop_->Post([&] { running.set_value(); });
  std::thread stopper([&] {
    running.get_future().wait();
    loop_->Stop();
  });
  RunLoop();  // fails the test if only the safety net stopped it
  stopper.join();
}

TEST_F(EventLoopTest, StopBeforeRunIsNotLostAndRunCanBeCalledAgain) {
  loop_->Stop();
  RunLoop();
  bool fired = false;
  auto t = loop_->CreateTimer([&] {
    fired = true;
    loop_->Stop();
  });
  t->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_TRUE(fired);
}

TEST_F(EventLoopTest, OnSignalRunsTheHandlerOnTheLoop) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  int calls = 0;
  bool in_raise = false;
  std::thread::id handler_thread;
  ASSERT_TRUE(loop_
                  ->OnSignal(SIGUSR1,
                             [&] {
                               EXPECT_FALSE(in_raise);
                               ++calls;
                               handler_thread = std::this_thread::get_id();
                               loop_->Stop();
                             })
                  .ok());
  // Raised from a loop callback: the handler must run later, from the
  // signalfd, not inside raise() (and the default action, terminating the
  // process, must not happen).
  auto t = loop_->CreateTimer([&] {
    in_raise = true;
    ASSERT_EQ(::raise(SIGUSR1), 0);
    in_raise = false;
  });
  t->ArmAt(In(milliseconds(1)));
  RunLoop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(handler_thread, loop_thread);
}

// --- The timer queue, with deadlines in the past: deterministic ---------

TEST_F(EventLoopTest, TimersDestroyedByACallbackOfTheSamePass) {
  std::vector<char> fired;
  std::unique_ptr<Timer> a, b, c, d, e;
  a = loop_->CreateTimer([&] { fired.push_back('a'); });
  b = loop_->CreateTimer([&] {
    fired.push_back('b');
    a.reset();  // fired earlier in this pass: idle
    c.reset();  // next in this pass: at the top of the queue
    e.reset();  // later in this pass: deeper in the queue
  });
  c = loop_->CreateTimer([&] { fired.push_back('c'); });
  d = loop_->CreateTimer([&] { fired.push_back('d'); });
  e = loop_->CreateTimer([&] { fired.push_back('e'); });
  e->ArmAt(Past(5));
  d->ArmAt(Past(4));
  c->ArmAt(Past(3));
  b->ArmAt(Past(2));
  a->ArmAt(Past(1));
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, (std::vector<char>{'a', 'b', 'd'}));
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(e, nullptr);
}

TEST_F(EventLoopTest, FiringTimerDestroyedAndReplacedInItsOwnCallback) {
  // The callback destroys its own timer, then creates and arms another one
  // (which malloc will likely place at the freed timer's address), then
  // still uses its captures: they must stay alive until it returns, be
  // destroyed then, and not end up in the new timer.
  auto token = std::make_shared<int>(0);
  const std::string big(100, 'x');  // a capture the std::function allocates
  std::vector<std::string> log;
  std::unique_ptr<Timer> t;
  t = loop_->CreateTimer([&, token, big] {
    t.reset();
    t = loop_->CreateTimer([&] { log.push_back("new"); });
    t->ArmAt(Past(1));  // due, but fires on the next pass
    log.push_back("old " + std::to_string(big.size()) + " " +
                  std::to_string(*token));
  });
  t->ArmAt(Past(1));
  EXPECT_EQ(token.use_count(), 2);
  RunUntilPastTimersFired();
  EXPECT_EQ(log, (std::vector<std::string>{"old 100 0", "new"}));
  EXPECT_EQ(token.use_count(), 1) << "the destroyed timer's callback lives on";
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->armed());
  // The new timer kept its own callback.
  t->ArmAt(Past(1));
  RunUntilPastTimersFired();
  EXPECT_EQ(log, (std::vector<std::string>{"old 100 0", "new", "new"}));
}

TEST_F(EventLoopTest, FiringTimerKeepsItsCallbackForTheNextExpiry) {
  int fired = 0;
  std::unique_ptr<Timer> t;
  t = loop_->CreateTimer([&] {
    ++fired;
    if (fired < 3) t->ArmAt(Past(fired));
  });
  t->ArmAt(Past(0));
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, 3);
  t->ArmAt(Past(0));
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, 4);
}

TEST_F(EventLoopTest, ManyEqualDeadlinesFireInArmingOrder) {
  constexpr int kTimers = 1000;
  std::vector<int> fired;
  auto timers = RecordingTimers(kTimers, fired);
  const std::vector<int> order = ShuffledIndices(kTimers, 7);
  for (int i : order) timers[i]->ArmAt(Past(10));
  // Re-arming at the same deadline moves a timer behind all the others.
  std::vector<int> expected;
  std::vector<int> rearmed;
  for (int i : order) (i % 7 == 0 ? rearmed : expected).push_back(i);
  std::reverse(rearmed.begin(), rearmed.end());
  for (int i : rearmed) timers[i]->ArmAt(Past(10));
  expected.insert(expected.end(), rearmed.begin(), rearmed.end());
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, expected);
}

TEST_F(EventLoopTest, CancelRearmAndDestroyInTheMiddleOfTheQueue) {
  constexpr int kTimers = 200;
  std::vector<int> fired;
  auto timers = RecordingTimers(kTimers, fired);
  // Timer i's deadline is Past(10 * i), armed in a shuffled order.
  for (int i : ShuffledIndices(kTimers, 11)) timers[i]->ArmAt(Past(10 * i));

  std::vector<std::pair<int64_t, int>> expected;  // (deadline, timer)
  for (int i = 0; i < kTimers; ++i) {
    if (i % 5 == 1) {
      timers[i]->Cancel();
      EXPECT_FALSE(timers[i]->armed());
      timers[i]->Cancel();  // idle: a no-op
    } else if (i % 5 == 2) {
      timers[i].reset();
    } else if (i % 5 == 3) {
      // Later and earlier moves from wherever it is now.
      const int64_t at = i % 2 ? 10 * i + 555 : 10 * i - 555;
      timers[i]->ArmAt(Past(at));
      EXPECT_EQ(timers[i]->deadline(), Past(at));
      expected.push_back({at, i});
    } else {
      expected.push_back({10 * i, i});
    }
  }
  std::sort(expected.begin(), expected.end());
  std::vector<int> expected_order;
  for (auto [at, i] : expected) expected_order.push_back(i);
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, expected_order);
  for (auto& t : timers) {
    if (t) {
      EXPECT_FALSE(t->armed());
    }
  }
}

TEST_F(EventLoopTest, RemovalFromTheMiddleWhoseReplacementMovesUp) {
  // Armed in this order, each deadline later than its parent's, a binary
  // heap holds them as armed: 1, 10 2, 11 12 3 4. Cancelling 11 moves the
  // last one, 4, under 10, where it must move up; a queue that only moved
  // it down would fire 10 before 4.
  std::vector<int> fired;
  std::vector<std::unique_ptr<Timer>> timers;
  for (int at : {1, 10, 2, 11, 12, 3, 4}) {
    timers.push_back(loop_->CreateTimer([&, at] { fired.push_back(at); }));
    timers.back()->ArmAt(Past(at));
  }
  timers[3]->Cancel();
  RunUntilPastTimersFired();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3, 4, 10, 12}));
}

// Random ArmAt/Cancel/create/destroy, from the test and from inside the
// callbacks, against a model of the queue: every expiry must be the model's
// earliest armed timer by (deadline, arming order), and armed()/deadline()
// must agree with the model at every check. Deterministic: a fixed seed, and
// every deadline in the past.
class TimerModel {
 public:
  static constexpr int kSlots = 48;
  static constexpr int kOperations = 10000;

  explicit TimerModel(EventLoop& loop) : loop_(loop), rng_(20261124) {}

  int operations() const { return operations_; }
  int expiries() const { return expiries_; }

  // Some operations on random slots.
  void RandomOperations(int n) {
    for (int k = 0; k < n && operations_ < kOperations; ++k) RandomOperation();
  }

  // After a run: everything armed has fired.
  void ExpectAllIdle() {
    for (int i = 0; i < kSlots; ++i) {
      EXPECT_FALSE(slots_[i].armed) << "slot " << i;
      if (timers_[i]) {
        EXPECT_FALSE(timers_[i]->armed()) << "slot " << i;
      }
    }
  }

 private:
  struct Slot {
    uint64_t generation = 0;  // which timer of this slot
    bool armed = false;
    TimePoint deadline{};
    uint64_t seq = 0;
  };

  uint32_t Random(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }

  void RandomOperation() {
    ++operations_;
    const int i = static_cast<int>(Random(kSlots));
    Slot& s = slots_[i];
    switch (Random(10)) {
      case 0:  // destroy (the firing timer's own slot included)
        timers_[i].reset();
        s.armed = false;
        break;
      case 1:
      case 2:  // cancel, idle or not
        if (timers_[i]) {
          timers_[i]->Cancel();
          s.armed = false;
        }
        break;
      default: {  // arm or re-arm, creating the timer if there is none
        if (!timers_[i]) Create(i);
        // Few distinct deadlines: many ties, broken by arming order.
        const TimePoint at = Random(16) == 0
                                 ? TimePoint::min()
                                 : TimePoint{} + nanoseconds(Random(8));
        timers_[i]->ArmAt(at);
        s.armed = true;
        s.deadline = at;
        s.seq = next_seq_++;
        break;
      }
    }
    // Check a random slot against the model.
    const int j = static_cast<int>(Random(kSlots));
    if (timers_[j]) {
      EXPECT_EQ(timers_[j]->armed(), slots_[j].armed) << "slot " << j;
      EXPECT_EQ(timers_[j]->deadline(), slots_[j].deadline) << "slot " << j;
    }
  }

  void Create(int i) {
    Slot& s = slots_[i];
    s = Slot{s.generation + 1};
    const uint64_t generation = s.generation;
    if (generation % 2 == 0) {
      timers_[i] =
          loop_.CreateTimer([this, i, generation] { OnExpiry(i, generation); });
    } else {
      // A capture too large for std::function's inline buffer.
      timers_[i] = loop_.CreateTimer(
          [this, i, generation, tag = std::string(40, 'a' + i % 26)] {
            OnExpiry(i, generation);
            // Still alive even if OnExpiry() destroyed this timer.
            EXPECT_EQ(tag, std::string(40, 'a' + i % 26));
          });
    }
  }

  void OnExpiry(int i, uint64_t generation) {
    ++expiries_;
    // The model's earliest armed timer.
    int want = -1;
    for (int k = 0; k < kSlots; ++k) {
      const Slot& s = slots_[k];
      if (!s.armed) continue;
      if (want < 0 || s.deadline < slots_[want].deadline ||
          (s.deadline == slots_[want].deadline && s.seq < slots_[want].seq)) {
        want = k;
      }
    }
    ASSERT_EQ(i, want) << "after " << operations_ << " operations";
    ASSERT_EQ(generation, slots_[i].generation) << "a destroyed timer fired";
    slots_[i].armed = false;
    EXPECT_FALSE(timers_[i]->armed());
    // Up to two operations from inside: on average fewer than one arm per
    // expiry, so every run ends.
    RandomOperations(static_cast<int>(Random(3)));
  }

  EventLoop& loop_;
  std::mt19937 rng_;
  Slot slots_[kSlots];
  std::unique_ptr<Timer> timers_[kSlots];
  uint64_t next_seq_ = 0;
  int operations_ = 0;
  int expiries_ = 0;
};

TEST_F(EventLoopTest, RandomTimerOperationsMatchAReferenceModel) {
  TimerModel model(*loop_);
  while (model.operations() < TimerModel::kOperations) {
    model.RandomOperations(40);
    RunUntilPastTimersFired();
    model.ExpectAllIdle();
    if (HasFatalFailure()) return;
  }
  // Enough expiries that callbacks did operations of their own.
  EXPECT_GT(model.expiries(), 1000);
}

TEST(EventLoop, TimersDestroyedWhileTheLoopIsDestroyed) {
  // Timers held by callbacks that the loop owns die inside the loop's
  // destructor, after it detached them: armed or idle, they must not reach
  // back into it.
  auto created = EventLoop::Create();
  ASSERT_TRUE(created.ok()) << created.error();
  std::unique_ptr<EventLoop> loop = std::move(created).value();
  std::shared_ptr<Timer> armed = loop->CreateTimer([] {});
  std::shared_ptr<Timer> idle = loop->CreateTimer([] {});
  armed->ArmAt(loop->Now() + hours(1));
  loop->Post([armed, idle] {});
  ASSERT_TRUE(loop->OnSignal(SIGUSR2, [armed] {}).ok());
  std::weak_ptr<Timer> watch = armed;
  armed.reset();
  idle.reset();
  // One that outlives the loop, armed when it dies.
  auto survivor = loop->CreateTimer([] { ADD_FAILURE() << "fired"; });
  survivor->ArmAt(TimePoint{});
  loop.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(survivor->armed());
  EXPECT_EQ(survivor->deadline(), TimePoint{});
}

TEST(EventLoop, TimerMayOutliveItsLoop) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.error();
  auto t = loop.value()->CreateTimer([] { ADD_FAILURE() << "fired"; });
  t->ArmAt(loop.value()->Now() + milliseconds(1));
  loop.value().reset();
  EXPECT_FALSE(t->armed());
  t->ArmAt(TimePoint{});
  t->Cancel();
  EXPECT_FALSE(t->armed());
  t.reset();
}

}  // namespace
}  // namespace vrrp::sys
