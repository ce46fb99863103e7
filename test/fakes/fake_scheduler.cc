#include "fakes/fake_scheduler.h"

#include <algorithm>

namespace vrrp::testing {

class FakeScheduler::FakeTimer : public Timer {
 public:
  FakeTimer(FakeScheduler* owner, std::function<void()> cb)
      : owner_(owner), callback_(std::move(cb)) {}
  ~FakeTimer() override {
    if (owner_) {
      auto& v = owner_->timers_;
      v.erase(std::remove(v.begin(), v.end(), this), v.end());
    }
  }
  void ArmAt(TimePoint deadline) override {
    deadline_ = deadline;
    armed_ = true;
    sequence_ = owner_ ? owner_->next_sequence_++ : 0;
  }
  void Cancel() override { armed_ = false; }
  bool armed() const override { return armed_; }
  TimePoint deadline() const override { return deadline_; }

  FakeScheduler* owner_;
  std::function<void()> callback_;
  TimePoint deadline_{};
  bool armed_ = false;
  uint64_t sequence_ = 0;
};

FakeScheduler::FakeScheduler() = default;

FakeScheduler::~FakeScheduler() {
  for (FakeTimer* t : timers_) t->owner_ = nullptr;
}

std::unique_ptr<Timer> FakeScheduler::CreateTimer(
    std::function<void()> on_expiry) {
  auto t = std::make_unique<FakeTimer>(this, std::move(on_expiry));
  timers_.push_back(t.get());
  return t;
}

FakeScheduler::FakeTimer* FakeScheduler::NextDue(TimePoint limit) const {
  FakeTimer* best = nullptr;
  for (FakeTimer* t : timers_) {
    if (!t->armed_ || t->deadline_ + lateness_ > limit) continue;
    if (!best || t->deadline_ < best->deadline_ ||
        (t->deadline_ == best->deadline_ && t->sequence_ < best->sequence_)) {
      best = t;
    }
  }
  return best;
}

void FakeScheduler::Advance(Duration d) { AdvanceTo(now_ + d); }

void FakeScheduler::Stall(Duration d) {
  now_ += d;
  RunDue();
}

void FakeScheduler::AdvanceTo(TimePoint target) {
  while (FakeTimer* t = NextDue(target)) {
    now_ = std::max(now_, t->deadline_ + lateness_);
    t->armed_ = false;
    // Copy: the callback may destroy or re-arm its own timer.
    auto cb = t->callback_;
    cb();
  }
  now_ = std::max(now_, target);
}

size_t FakeScheduler::ArmedTimers() const {
  return static_cast<size_t>(std::count_if(
      timers_.begin(), timers_.end(), [](FakeTimer* t) { return t->armed_; }));
}

}  // namespace vrrp::testing
