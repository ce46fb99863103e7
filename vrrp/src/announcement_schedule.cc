#include "vrrp/announcement_schedule.h"

#include <algorithm>

namespace vrrp {

AnnouncementSchedule::AnnouncementSchedule(Scheduler& scheduler,
                                           AnnounceConfig config,
                                           std::function<void()> send_once)
    : scheduler_(scheduler),
      config_(config),
      send_once_(std::move(send_once)),
      timer_(scheduler.CreateTimer([this] { OnTimer(); })) {
  config_.count = std::max<uint32_t>(config_.count, 1);
}

void AnnouncementSchedule::Start() {
  active_ = true;
  sent_in_burst_ = 1;
  second_burst_done_ = config_.second_burst_after <= Duration::zero();
  send_once_();
  ArmNext();
}

void AnnouncementSchedule::Stop() {
  active_ = false;
  timer_->Cancel();
}

void AnnouncementSchedule::ArmNext() {
  const TimePoint now = scheduler_.Now();
  if (sent_in_burst_ < config_.count) {
    timer_->ArmAt(now + config_.interval);
  } else if (!second_burst_done_) {
    // Measured from the end of the first burst.
    timer_->ArmAt(now + config_.second_burst_after);
  } else if (config_.refresh > Duration::zero()) {
    timer_->ArmAt(now + config_.refresh);
  } else {
    timer_->Cancel();
  }
}

void AnnouncementSchedule::OnTimer() {
  if (!active_) return;
  if (sent_in_burst_ >= config_.count) {
    // A new burst: the second one, or a refresh (a single announcement).
    if (!second_burst_done_) {
      second_burst_done_ = true;
      sent_in_burst_ = 0;
    } else {
      send_once_();
      ArmNext();
      return;
    }
  }
  ++sent_in_burst_;
  send_once_();
  ArmNext();
}

}  // namespace vrrp
