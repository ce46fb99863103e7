#include "exporter/pi_mutex.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace vrrp::exporter {
namespace {

// The calling thread's effective priority as the kernel reports it (field
// 18 of /proc/thread-self/stat): 20 for nice 0, -1 - N while it runs at
// (or is boosted to) real-time priority N.
int EffectivePriority() {
  std::ifstream file("/proc/thread-self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), {});
  // The command name may hold spaces and parentheses: fields after the last
  // ')' start with field 3 (state).
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 18; ++i) fields >> field;
  return std::stoi(field);
}

// The point of PiMutex: while a real-time thread (the event loop) waits for
// it, the normal-priority holder (a scrape thread) runs at the waiter's
// priority. Needs root (SCHED_RR). With std::mutex the holder stays at 20
// and the wait below gives up.
TEST(PiMutexTest, HolderInheritsTheWaitersRealTimePriority) {
  ASSERT_EQ(EffectivePriority(), 20) << "the test thread must start normal";
  PiMutex mu;
  mu.lock();
  std::atomic<int> setsched_error{-1};
  std::thread waiter([&] {
    sched_param rt{};
    rt.sched_priority = 10;
    setsched_error = pthread_setschedparam(pthread_self(), SCHED_RR, &rt);
    std::lock_guard<PiMutex> l(mu);
  });
  // Until the waiter blocks on the mutex, which happens at once; the bound
  // only keeps a broken mutex from hanging the test.
  int priority = EffectivePriority();
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (priority >= 0 && setsched_error <= 0 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    priority = EffectivePriority();
  }
  mu.unlock();
  waiter.join();
  ASSERT_EQ(setsched_error, 0) << "needs root (CAP_SYS_NICE) for SCHED_RR";
  EXPECT_EQ(priority, -1 - 10);
  // And back to normal once unlocked.
  EXPECT_EQ(EffectivePriority(), 20);
}

TEST(PiMutexTest, ExcludesLikeAMutex) {
  PiMutex mu;
  int counter = 0;
  std::thread a([&] {
    for (int i = 0; i < 100000; ++i) {
      std::lock_guard<PiMutex> l(mu);
      ++counter;
    }
  });
  for (int i = 0; i < 100000; ++i) {
    std::lock_guard<PiMutex> l(mu);
    ++counter;
  }
  a.join();
  EXPECT_EQ(counter, 200000);
  EXPECT_TRUE(mu.try_lock());
  std::thread b([&] { EXPECT_FALSE(mu.try_lock()); });
  b.join();
  mu.unlock();
}

}  // namespace
}  // namespace vrrp::exporter
