#pragma once

// A mutex with priority inheritance, for the one lock the event loop shares
// with scrape threads (SnapshotStore's pointer swap). With
// --vrrp.realtime-priority the loop runs SCHED_RR and HTTP threads run
// SCHED_OTHER; with std::mutex a scrape thread preempted while holding the
// lock would keep the loop, and with it the advertisement timer, waiting
// until the scheduler ran that thread again (priority inversion). With
// PTHREAD_PRIO_INHERIT the holder runs at the waiter's priority until it
// unlocks, which takes a pointer copy. Meets the Lockable requirements, so
// std::lock_guard works with it.

#include <pthread.h>

namespace vrrp::exporter {

class PiMutex {
 public:
  PiMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    // Cannot fail on Linux (glibc supports PI futexes since 2.5); a plain
    // mutex would still be correct, only without the inheritance.
    pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~PiMutex() { pthread_mutex_destroy(&mu_); }
  PiMutex(const PiMutex&) = delete;
  PiMutex& operator=(const PiMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_;
};

}  // namespace vrrp::exporter
