#include "vrrp/tracker.h"

#include <algorithm>
#include <utility>

namespace vrrp {

std::string_view ToString(CheckFailure failure) {
  switch (failure) {
    case CheckFailure::kExitStatus:
      return "exit-status";
    case CheckFailure::kSignaled:
      return "signaled";
    case CheckFailure::kTimeout:
      return "timeout";
    case CheckFailure::kSpawnFailed:
      return "spawn-failed";
    case CheckFailure::kInsecure:
      return "insecure";
    case CheckFailure::kConnect:
      return "connect";
    case CheckFailure::kHttpStatus:
      return "http-status";
    case CheckFailure::kHttpBody:
      return "http-body";
    case CheckFailure::kTransport:
      return "transport";
    case CheckFailure::kLinkDown:
      return "link-down";
    case CheckFailure::kMissing:
      return "missing";
    case CheckFailure::kBadValue:
      return "bad-value";
  }
  return "unknown";
}

std::string_view ToString(TrackerHealth health) {
  switch (health) {
    case TrackerHealth::kUnknown:
      return "unknown";
    case TrackerHealth::kUp:
      return "up";
    case TrackerHealth::kDown:
      return "down";
  }
  return "unknown";
}

bool Hysteresis::Record(bool ok) {
  const TrackerHealth before = health_;
  if (ok) {
    ++ok_run_;
    fail_run_ = 0;
  } else {
    ++fail_run_;
    ok_run_ = 0;
  }
  if (health_ == TrackerHealth::kUnknown) {
    // The first result decides at once: waiting `fall` checks at startup
    // would leave a broken node master (or a good one backup) for that long.
    health_ = ok ? TrackerHealth::kUp : TrackerHealth::kDown;
  } else if (health_ == TrackerHealth::kUp && fail_run_ >= fall_) {
    health_ = TrackerHealth::kDown;
  } else if (health_ == TrackerHealth::kDown && ok_run_ >= rise_) {
    health_ = TrackerHealth::kUp;
  }
  return health_ != before;
}

Tracker::Tracker(TrackerConfig config, Scheduler& scheduler,
                 std::unique_ptr<Checker> checker, ChangeFn on_change)
    : config_(std::move(config)),
      scheduler_(scheduler),
      checker_(std::move(checker)),
      on_change_(std::move(on_change)),
      hysteresis_(config_.rise, config_.fall) {
  status_.name = config_.name;
  status_.type = config_.type;
  next_timer_ = scheduler_.CreateTimer([this] { RunCheck(); });
  timeout_timer_ = scheduler_.CreateTimer([this] { OnTimeout(); });
}

Tracker::~Tracker() {
  stopped_ = true;
  next_timer_->Cancel();
  timeout_timer_->Cancel();
  if (status_.running && checker_) checker_->Abort();
}

void Tracker::Start() {
  if (!checker_) return;  // event-fed (Report)
  RunCheck();
}

void Tracker::RunCheck() {
  if (stopped_ || status_.running) return;
  status_.running = true;
  check_started_ = scheduler_.Now();
  const uint64_t generation = ++generation_;
  // Armed first: a checker that answers inside Start() cancels it again.
  timeout_timer_->ArmAt(check_started_ + config_.timeout);
  checker_->Start([this, generation](CheckOutcome outcome) {
    OnDone(generation, std::move(outcome));
  });
}

void Tracker::OnDone(uint64_t generation, CheckOutcome outcome) {
  // A result for a check we gave up on (timed out) is dropped.
  if (stopped_ || !status_.running || generation != generation_) return;
  timeout_timer_->Cancel();
  status_.running = false;
  outcome.duration = scheduler_.Now() - check_started_;
  Record(std::move(outcome));
  ScheduleNext();
}

void Tracker::OnTimeout() {
  if (!status_.running) return;
  ++generation_;
  status_.running = false;
  checker_->Abort();
  CheckOutcome outcome = CheckOutcome::Failure(
      CheckFailure::kTimeout,
      "no answer within " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                             config_.timeout)
                             .count()) +
          " ms");
  outcome.duration = scheduler_.Now() - check_started_;
  Record(std::move(outcome));
  ScheduleNext();
}

void Tracker::ScheduleNext() {
  if (stopped_) return;
  // From the start of the check, so the rate is the interval whatever the
  // check takes; never sooner than now (a check longer than the interval).
  next_timer_->ArmAt(
      std::max(check_started_ + config_.interval, scheduler_.Now()));
}

void Tracker::Report(CheckOutcome outcome) { Record(std::move(outcome)); }

void Tracker::Record(CheckOutcome outcome) {
  ++status_.checks;
  if (!outcome.ok) ++status_.failures[static_cast<size_t>(outcome.failure)];
  const std::optional<int64_t> old_value = status_.value;
  status_.last_check = scheduler_.Now();
  status_.last_ok = outcome.ok;
  status_.last_failure = outcome.failure;
  status_.last_duration = outcome.duration;
  status_.last_detail = std::move(outcome.detail);
  // A failed read keeps the last value: whether it still counts is the
  // hysteresis' call (fall), not one unlucky read's.
  if (config_.type == TrackerType::kFile && outcome.value) {
    status_.value = outcome.value;
  }
  const bool changed = hysteresis_.Record(outcome.ok);
  status_.health = hysteresis_.health();
  status_.consecutive_ok = hysteresis_.consecutive_ok();
  status_.consecutive_failures = hysteresis_.consecutive_failures();
  if (changed) status_.last_change = scheduler_.Now();
  if ((changed || status_.value != old_value) && on_change_) on_change_(*this);
}

TrackEffect TrackContribution(const TrackInput& in) {
  // Keepalived's limit: a file contribution below -253 faults the instance.
  constexpr int64_t kFileFaultBelow = -253;
  TrackEffect e;
  const bool down = in.health == TrackerHealth::kDown;
  if (in.file) {
    if (down || !in.value) {
      e.fault = down && in.weight == 0;
      return e;
    }
    if (in.weight == 0) {
      e.fault = *in.value != 0;
      return e;
    }
    // Clamped before the multiplication can overflow; anything past
    // +-254 x 254 saturates the priority anyway.
    const int64_t value = std::clamp<int64_t>(*in.value, -65536, 65536);
    const int64_t delta = value * in.weight;
    if (delta < kFileFaultBelow) {
      e.fault = true;
      return e;
    }
    e.delta = static_cast<int>(std::min<int64_t>(delta, 65536));
    return e;
  }
  if (in.weight == 0) {
    e.fault = down;
  } else if (in.weight > 0) {
    e.delta = down ? 0 : in.weight;
  } else {
    e.delta = down ? in.weight : 0;
  }
  return e;
}

TrackEffect CombineTracks(std::span<const TrackInput> inputs) {
  TrackEffect total;
  for (const TrackInput& in : inputs) {
    const TrackEffect e = TrackContribution(in);
    total.delta += e.delta;
    total.fault = total.fault || e.fault;
  }
  return total;
}

}  // namespace vrrp
