#include "vrrp/sys/event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vrrp::sys {
namespace {

// epoll_event.data.u64 tags. The loop's own descriptors use small constants;
// every WatchFd() registration gets a fresh id from kFirstWatchId upwards, so
// an event queued for a descriptor that was unwatched (and maybe closed and
// its number reused) earlier in the same epoll_wait() batch finds no entry
// and is dropped instead of reaching the wrong callback.
constexpr uint64_t kTimerTag = 0;
constexpr uint64_t kSignalTag = 1;
constexpr uint64_t kWakeTag = 2;
constexpr uint64_t kFirstWatchId = 16;

constexpr int kMaxEvents = 64;

std::string SyscallError(const char* what) {
  const int e = errno;
  return std::string(what) + ": " + std::strerror(e);
}

// For failures that only a corrupted loop can produce (EBADF/EINVAL on our
// own descriptors): there is no caller to report to from Run(), and
// continuing would spin or silently stop every timer.
[[noreturn]] void Die(const char* what) {
  const int e = errno;
  std::fprintf(stderr, "vrrp::sys::EventLoop: %s: %s\n", what,
               std::strerror(e));
  std::abort();
}

// Owns one descriptor, so a partially built loop closes what it opened.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// TimePoint (steady_clock, i.e. CLOCK_MONOTONIC) to an absolute timerfd
// value. timerfd_settime(2): an all-zero it_value disarms the timer, so a
// deadline at or before the clock's epoch becomes 1 ns, which is in the past
// and therefore expires immediately, as a past deadline should.
itimerspec ToAbsoluteItimerspec(TimePoint deadline) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   deadline.time_since_epoch())
                   .count();
  if (ns <= 0) ns = 1;
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return spec;  // it_interval stays zero: one-shot.
}

// LoopTimer::heap_index_ of a timer that is not armed.
constexpr uint32_t kNotInHeap = std::numeric_limits<uint32_t>::max();

// What a loop's timers hold instead of a pointer to the loop: the loop can
// die before its timers (they then do nothing), and detaching them this way
// costs one allocation per loop rather than a registry entry, or two list
// pointers, per timer. Freed by the last of the loop and its timers to go.
// The count is atomic only so that timers outliving the loop may still be
// destroyed on different threads, as they could before.
class TimerAnchor {
 public:
  explicit TimerAnchor(EventLoop::Impl* loop) : loop_(loop) {}
  TimerAnchor(const TimerAnchor&) = delete;
  TimerAnchor& operator=(const TimerAnchor&) = delete;

  EventLoop::Impl* loop() const { return loop_; }
  void Detach() { loop_ = nullptr; }

  void Acquire() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  EventLoop::Impl* loop_;        // null once the loop is gone
  std::atomic<size_t> refs_{1};  // the loop's, plus one per live timer
};

// One timer, all of its state inline: one allocation per timer (this object,
// plus whatever the std::function needs for a large capture), none per
// ArmAt(), Cancel() or expiry. The loop keeps the armed ones in a binary
// min-heap of pointers and each knows its place there, so Cancel() and a
// re-arm move it in O(log n) without searching. 72 bytes with libstdc++:
// glibc's 80-byte chunk.
class LoopTimer final : public Timer {
 public:
  LoopTimer(TimerAnchor* anchor, std::function<void()> on_expiry);
  ~LoopTimer() override;
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  void ArmAt(TimePoint deadline) override;
  void Cancel() override;
  bool armed() const override { return heap_index_ != kNotInHeap; }
  TimePoint deadline() const override { return deadline_; }

 private:
  friend class EventLoop::Impl;

  TimerAnchor* const anchor_;
  std::function<void()> on_expiry_;
  TimePoint deadline_{};
  uint64_t seq_ = 0;  // arming sequence: the tie-break for equal deadlines
  uint32_t heap_index_ = kNotInHeap;  // its slot in Impl::heap_ while armed
};

}  // namespace

class EventLoop::Impl {
 public:
  Impl(int epfd, int timerfd, int sigfd, int wakefd)
      : epfd_(epfd),
        timerfd_(timerfd),
        sigfd_(sigfd),
        wakefd_(wakefd),
        anchor_(new TimerAnchor(this)) {
    sigemptyset(&sigmask_);
  }

  ~Impl() {
    // Detach every timer first: destroying the posted functions and
    // callbacks below may destroy Timer handles, which must then not
    // reach back into a half-destroyed loop.
    for (LoopTimer* t : heap_) t->heap_index_ = kNotInHeap;
    heap_.clear();
    anchor_->Detach();
    // Destroy the callbacks while the loop is still whole, in case one
    // captured an object whose destructor calls back (say, UnwatchFd()).
    {
      auto watches = std::move(watches_);
      auto handlers = std::move(signal_handlers_);
      std::vector<std::function<void()>> posted;
      {
        std::lock_guard lock(posted_mu_);
        posted.swap(posted_);
      }
    }
    // The signals stay blocked: unblocking one that is pending would run
    // its default action (usually killing the process).
    anchor_->Release();  // last: the callbacks above may hold timers
  }

  static Result<std::unique_ptr<Impl>, std::string> Create() {
    // epoll_create1(2): EPOLL_CLOEXEC so children of the daemon (e.g.
    // notify scripts) do not inherit the loop's descriptors.
    Fd epfd(::epoll_create1(EPOLL_CLOEXEC));
    if (epfd.get() < 0) return Err(SyscallError("epoll_create1"));
    // timerfd_create(2): CLOCK_MONOTONIC is what steady_clock reads, and it
    // does not jump when the wall clock is set.
    Fd timerfd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (timerfd.get() < 0) return Err(SyscallError("timerfd_create"));
    // signalfd(2) with an empty mask for now; OnSignal() widens it.
    sigset_t empty;
    sigemptyset(&empty);
    Fd sigfd(::signalfd(-1, &empty, SFD_NONBLOCK | SFD_CLOEXEC));
    if (sigfd.get() < 0) return Err(SyscallError("signalfd"));
    // eventfd(2): a counter that Post() and Stop() bump from any thread to
    // wake epoll_wait(); not EFD_SEMAPHORE, so one read() drains it.
    Fd wakefd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (wakefd.get() < 0) return Err(SyscallError("eventfd"));

    for (auto [fd, tag] : {std::pair{timerfd.get(), kTimerTag},
                           std::pair{sigfd.get(), kSignalTag},
                           std::pair{wakefd.get(), kWakeTag}}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = tag;
      if (::epoll_ctl(epfd.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
        return Err(SyscallError("epoll_ctl(EPOLL_CTL_ADD)"));
      }
    }
    return std::unique_ptr<Impl>(new Impl(epfd.release(), timerfd.release(),
                                          sigfd.release(), wakefd.release()));
  }

  // --- Timers -------------------------------------------------------------

  TimerAnchor* anchor() const { return anchor_; }

  void AddTimer() {
    // Room in the heap for every live timer, so that ArmAt() never
    // allocates (or throws) however many are armed at once: the growth
    // happens here, where creating the timer allocates anyway. Geometric,
    // like push_back(), so creating n timers costs O(n).
    if (heap_.capacity() <= timer_count_) {
      heap_.reserve(std::max<size_t>(16, 2 * heap_.capacity()));
    }
    ++timer_count_;
  }

  void RemoveTimer(LoopTimer* t) {
    Cancel(t);
    // A timer destroyed by its own callback: FireDueTimers() must not
    // hand the callback back to it (or to whatever is allocated at its
    // address meanwhile).
    if (firing_ == t) firing_ = nullptr;
    --timer_count_;
  }

  void ArmAt(LoopTimer* t, TimePoint deadline) {
    t->deadline_ = deadline;
    // A fresh sequence number even on re-arm: ties fire in the order of
    // the latest ArmAt(), like the FakeScheduler.
    t->seq_ = next_seq_++;
    if (t->heap_index_ == kNotInHeap) {
      // Never grows the vector: AddTimer() made room for every timer.
      heap_.push_back(t);
      SiftUp(heap_.size() - 1);
    } else {
      Reposition(t->heap_index_);  // earlier or later: either way
    }
    // Never fire here: a due timer fires from the next loop iteration,
    // through the timerfd, so callbacks are never re-entrant.
    ProgramTimerFd();
  }

  void Cancel(LoopTimer* t) {
    if (t->heap_index_ == kNotInHeap) return;
    RemoveFromHeap(t->heap_index_);
    // The timerfd is left as is: if this was the earliest timer it causes
    // one wake-up that fires nothing and re-programs the next deadline.
    // That is cheaper than a timerfd_settime() per Cancel() for timers
    // (like the Master_Down_Timer) that are cancelled far more often than
    // they expire.
  }

  // --- Descriptors ----------------------------------------------------------

  Result<Unit, std::string> WatchFd(int fd, std::function<void()> cb) {
    if (watch_ids_.contains(fd)) {
      return Err("WatchFd: fd " + std::to_string(fd) + " is already watched");
    }
    const uint64_t id = next_watch_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: the default without EPOLLET
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
      return Err(SyscallError(
          ("epoll_ctl(EPOLL_CTL_ADD, fd " + std::to_string(fd) + ")").c_str()));
    }
    watch_ids_.emplace(fd, id);
    watches_.emplace(id,
                     std::make_shared<std::function<void()>>(std::move(cb)));
    return kOk;
  }

  void UnwatchFd(int fd) {
    auto it = watch_ids_.find(fd);
    if (it == watch_ids_.end()) return;
    // Errors are ignored: if the caller already closed the descriptor, DEL
    // can only report EBADF, and the kernel drops the registration once no
    // descriptor refers to the open file description (epoll(7), Q6). Any
    // event for it still queued in this batch carries the old id, which no
    // longer maps to a callback.
    ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    watches_.erase(it->second);
    watch_ids_.erase(it);
  }

  // --- Signals --------------------------------------------------------------

  Result<Unit, std::string> OnSignal(int signo, std::function<void()> cb) {
    sigset_t one;
    sigemptyset(&one);
    if (sigaddset(&one, signo) < 0) return Err(SyscallError("sigaddset"));
    sigset_t wanted = sigmask_;
    sigaddset(&wanted, signo);
    // signalfd(2): the signals must be blocked, or they are delivered the
    // normal way and never reach the descriptor. pthread_sigmask(3) blocks
    // them for this thread and, since threads inherit the mask, for every
    // thread started afterwards (sigprocmask(2) is unspecified in a
    // multithreaded process).
    if (int e = ::pthread_sigmask(SIG_BLOCK, &one, nullptr); e != 0) {
      errno = e;
      return Err(SyscallError("pthread_sigmask"));
    }
    // Passing the existing descriptor replaces its mask.
    if (::signalfd(sigfd_.get(), &wanted, 0) < 0) {
      return Err(SyscallError("signalfd"));
    }
    sigmask_ = wanted;
    signal_handlers_[signo] =
        std::make_shared<std::function<void()>>(std::move(cb));
    return kOk;
  }

  // --- Cross-thread ---------------------------------------------------------

  void Post(std::function<void()> fn) {
    {
      std::lock_guard lock(posted_mu_);
      posted_.push_back(std::move(fn));
    }
    Wake();
  }

  void Stop() {
    stop_.store(true, std::memory_order_release);
    Wake();
  }

  // --- The loop -------------------------------------------------------------

  void Run() {
    // A Stop() that arrives before Run() (e.g. from a thread racing with
    // startup) is not lost: Run() then returns at once.
    while (!stop_.load(std::memory_order_acquire)) RunOnce();
    stop_.store(false, std::memory_order_relaxed);  // Run() may be re-entered
  }

 private:
  // Firing order: deadline, then arming order.
  static bool Before(const LoopTimer* a, const LoopTimer* b) {
    return a->deadline_ != b->deadline_ ? a->deadline_ < b->deadline_
                                        : a->seq_ < b->seq_;
  }

  void Place(LoopTimer* t, size_t i) {
    heap_[i] = t;
    t->heap_index_ = static_cast<uint32_t>(i);
  }

  // Moves the timer at `i` towards the root while it fires before its
  // parent. Returns whether it moved.
  bool SiftUp(size_t i) {
    LoopTimer* const t = heap_[i];
    const size_t start = i;
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!Before(t, heap_[parent])) break;
      Place(heap_[parent], i);
      i = parent;
    }
    Place(t, i);
    return i != start;
  }

  // Moves the timer at `i` towards the leaves while a child fires first.
  void SiftDown(size_t i) {
    LoopTimer* const t = heap_[i];
    const size_t n = heap_.size();
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], t)) break;
      Place(heap_[child], i);
      i = child;
    }
    Place(t, i);
  }

  // After the key of the timer at `i` changed, in either direction.
  void Reposition(size_t i) {
    if (!SiftUp(i)) SiftDown(i);
  }

  // Takes the timer at `i` out, from the root or the middle: the last leaf
  // fills the hole and moves up or down from there.
  void RemoveFromHeap(size_t i) {
    heap_[i]->heap_index_ = kNotInHeap;
    LoopTimer* const last = heap_.back();
    heap_.pop_back();
    if (i < heap_.size()) {
      Place(last, i);
      Reposition(i);
    }
  }

  bool stopping() const { return stop_.load(std::memory_order_acquire); }

  void Wake() {
    const uint64_t one = 1;
    // EAGAIN means the counter is about to overflow, i.e. the loop has a
    // wake-up pending anyway.
    ssize_t n = ::write(wakefd_.get(), &one, sizeof one);
    (void)n;
  }

  void RunOnce() {
    epoll_event events[kMaxEvents];
    int n = ::epoll_wait(epfd_.get(), events, kMaxEvents, -1);
    if (n < 0) {
      // epoll_wait(2): EINTR when a signal handler (not one of ours, which
      // are blocked) interrupted the wait; just wait again.
      if (errno == EINTR) return;
      Die("epoll_wait");
    }
    for (int i = 0; i < n && !stopping(); ++i) {
      switch (const uint64_t tag = events[i].data.u64) {
        case kTimerTag:
          OnTimerFd();
          break;
        case kSignalTag:
          OnSignalFd();
          break;
        case kWakeTag:
          OnWakeFd();
          break;
        default:
          OnWatchedFd(tag);
          break;
      }
    }
  }

  void OnWatchedFd(uint64_t id) {
    auto it = watches_.find(id);
    // Unwatched earlier in this batch: drop the stale event.
    if (it == watches_.end()) return;
    // Holds the callback alive if it unwatches its own descriptor.
    // EPOLLHUP/EPOLLERR also land here; read() then reports EOF or the error.
    std::shared_ptr<std::function<void()>> cb = it->second;
    (*cb)();
  }

  void OnTimerFd() {
    uint64_t expirations;
    // EAGAIN is possible: ArmAt() earlier in this batch may have re-armed
    // the timerfd, which resets its expiration count (timerfd_create(2)).
    if (::read(timerfd_.get(), &expirations, sizeof expirations) < 0 &&
        errno != EAGAIN) {
      Die("read(timerfd)");
    }
    programmed_.reset();
    FireDueTimers();
  }

  // Fires, one at a time in (deadline, arming order), every timer that was
  // due when the pass began and was armed before it. A timer (re-)armed by
  // a callback during the pass waits for the next iteration even if its
  // deadline has passed: that is what keeps callbacks from running
  // re-entrantly, and a timer that keeps re-arming itself in the past from
  // starving the descriptors. The pass stops at the first such timer rather
  // than skipping it, so firing order stays deadline order.
  void FireDueTimers() {
    in_pass_ = true;
    const TimePoint now = Clock::now();
    const uint64_t pass_seq = next_seq_;
    while (!heap_.empty() && !stopping()) {
      LoopTimer* const t = heap_.front();
      if (t->deadline_ > now || t->seq_ >= pass_seq) break;
      RemoveFromHeap(0);
      // The callback may destroy its own handle, others', arm or cancel.
      // It runs from a local copy (a move: no allocation), so destroying
      // the handle does not destroy the std::function that is executing;
      // it goes back into the timer afterwards unless RemoveTimer() said
      // the timer is gone.
      std::function<void()> on_expiry = std::move(t->on_expiry_);
      firing_ = t;
      on_expiry();
      if (firing_ == t) t->on_expiry_ = std::move(on_expiry);
      firing_ = nullptr;
    }
    in_pass_ = false;
    ProgramTimerFd();
  }

  // Points the timerfd at the earliest deadline if it would not otherwise
  // wake the loop in time. Deadlines that moved later are left alone: the
  // early wake-up fires nothing and re-programs (see Cancel()).
  void ProgramTimerFd() {
    if (in_pass_ || heap_.empty()) return;  // FireDueTimers() re-programs.
    const TimePoint next = heap_.front()->deadline_;
    if (programmed_ && *programmed_ <= next) return;
    // TFD_TIMER_ABSTIME: an absolute CLOCK_MONOTONIC deadline, so no
    // drift from converting to a relative delay; one already past expires
    // immediately (timerfd_create(2)).
    const itimerspec spec = ToAbsoluteItimerspec(next);
    if (::timerfd_settime(timerfd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) <
        0) {
      Die("timerfd_settime");
    }
    programmed_ = next;
  }

  void OnSignalFd() {
    signalfd_siginfo info;
    // Drain: several signals may be pending. A short read cannot happen
    // with a buffer of one whole signalfd_siginfo (signalfd(2)).
    while (::read(sigfd_.get(), &info, sizeof info) ==
           static_cast<ssize_t>(sizeof info)) {
      auto it = signal_handlers_.find(static_cast<int>(info.ssi_signo));
      if (it == signal_handlers_.end()) continue;
      std::shared_ptr<std::function<void()>> cb = it->second;
      (*cb)();
    }
  }

  void OnWakeFd() {
    uint64_t count;
    if (::read(wakefd_.get(), &count, sizeof count) < 0 && errno != EAGAIN) {
      Die("read(eventfd)");
    }
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(posted_mu_);
      batch.swap(posted_);
    }
    // Everything taken runs, even after a Stop() from one of them: the
    // functions are no longer queued anywhere else. Functions posted from
    // these ones re-signal the eventfd and run on the next iteration.
    for (auto& fn : batch) fn();
  }

  Fd epfd_;
  Fd timerfd_;
  Fd sigfd_;
  Fd wakefd_;

  std::atomic<bool> stop_{false};

  // Timers, loop thread only.
  TimerAnchor* const anchor_;     // shared with the timers, see TimerAnchor
  std::vector<LoopTimer*> heap_;  // the armed ones, a min-heap by Before()
  size_t timer_count_ = 0;        // live timers: heap_'s reserved capacity
  uint64_t next_seq_ = 0;
  std::optional<TimePoint> programmed_;  // what the timerfd is armed to
  bool in_pass_ = false;                 // in FireDueTimers()
  LoopTimer* firing_ = nullptr;  // whose callback runs, until it is destroyed

  // Watched descriptors, loop thread only.
  std::unordered_map<int, uint64_t> watch_ids_;
  std::unordered_map<uint64_t, std::shared_ptr<std::function<void()>>> watches_;
  uint64_t next_watch_id_ = kFirstWatchId;

  // Signals, loop thread only.
  sigset_t sigmask_;
  std::unordered_map<int, std::shared_ptr<std::function<void()>>>
      signal_handlers_;

  // Posted work, any thread.
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;
};

namespace {

LoopTimer::LoopTimer(TimerAnchor* anchor, std::function<void()> on_expiry)
    : anchor_(anchor), on_expiry_(std::move(on_expiry)) {
  anchor_->loop()->AddTimer();
  anchor_->Acquire();
}

LoopTimer::~LoopTimer() {
  if (EventLoop::Impl* loop = anchor_->loop()) loop->RemoveTimer(this);
  anchor_->Release();
}

void LoopTimer::ArmAt(TimePoint deadline) {
  if (EventLoop::Impl* loop = anchor_->loop()) {
    loop->ArmAt(this, deadline);
  } else {
    // The loop is gone; there is nothing left to fire the timer.
    deadline_ = deadline;
  }
}

void LoopTimer::Cancel() {
  if (EventLoop::Impl* loop = anchor_->loop()) loop->Cancel(this);
}

}  // namespace

Result<std::unique_ptr<EventLoop>, std::string> EventLoop::Create() {
  auto impl = Impl::Create();
  if (!impl.ok()) return Err(std::move(impl.error()));
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(impl).value()));
}

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventLoop::~EventLoop() = default;

TimePoint EventLoop::Now() const { return Clock::now(); }

std::unique_ptr<Timer> EventLoop::CreateTimer(std::function<void()> on_expiry) {
  return std::make_unique<LoopTimer>(impl_->anchor(), std::move(on_expiry));
}

Result<Unit, std::string> EventLoop::WatchFd(
    int fd, std::function<void()> on_readable) {
  return impl_->WatchFd(fd, std::move(on_readable));
}

void EventLoop::UnwatchFd(int fd) { impl_->UnwatchFd(fd); }

Result<Unit, std::string> EventLoop::OnSignal(int signo,
                                              std::function<void()> handler) {
  return impl_->OnSignal(signo, std::move(handler));
}

void EventLoop::Post(std::function<void()> fn) { impl_->Post(std::move(fn)); }
void EventLoop::Run() { impl_->Run(); }
void EventLoop::Stop() { impl_->Stop(); }

}  // namespace vrrp::sys
