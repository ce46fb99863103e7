#include "snapshot_publisher.h"

#include <algorithm>
#include <chrono>

#include "vrrp/redact.h"

namespace vrrp::daemon {

SnapshotPublisher::SnapshotPublisher(sys::EventLoop& loop, const Router& router,
                                     const sys::LinuxLinkLayer& links,
                                     const sys::TrackerManager& trackers,
                                     const sys::Notifier& notifier,
                                     exporter::SnapshotStore& store)
    : loop_(loop),
      router_(router),
      links_(links),
      trackers_(trackers),
      notifier_(notifier),
      store_(store) {}

void SnapshotPublisher::Publish() {
  // Refilled in place when the store has one back (see SnapshotStore):
  // every field below is assigned, so nothing of the previous contents
  // survives, and the assignments reuse its allocations.
  auto snap = store_.TakeReusable();
  if (!snap) snap = std::make_shared<Snapshot>();
  const auto wall_now = std::chrono::system_clock::now();
  snap->taken_at_unix_seconds =
      std::chrono::duration<double>(wall_now.time_since_epoch()).count();
  if (dirty_) {
    router_.FillInstances(instances_);
    dirty_ = false;
    last_rebuild_ = loop_.Now();
  }
  snap->instances = instances_;  // shared, not copied
  router_.FillSharedState(*snap);
  const auto& io = links_.stats();
  snap->send_errors = io.send_errors;
  snap->announce_errors = io.announce_errors;
  snap->address_errors = io.address_errors;
  snap->trackers.clear();
  // The trackers' clock is monotonic; the metric is a Unix time.
  const auto mono_now = Clock::now();
  for (auto& st : trackers_.Status()) {
    TrackerSnapshot t;
    if (st.last_check) {
      t.last_check_unix_seconds =
          std::chrono::duration<double>(
              (wall_now - (mono_now - *st.last_check)).time_since_epoch())
              .count();
    }
    // A check's error text can quote its URL, credentials included
    // (curl's messages do); the status page and the landing page show it.
    if (!st.last_detail.empty()) st.last_detail = RedactSecrets(st.last_detail);
    t.status = std::move(st);
    snap->trackers.push_back(std::move(t));
  }
  snap->notifications = notifier_.stats();
  store_.PublishReusable(std::move(snap));
}

void SnapshotPublisher::Request() {
  dirty_ = true;
  if (pending_) return;
  pending_ = true;
  if (!rebuild_timer_) {
    rebuild_timer_ = loop_.CreateTimer([this] {
      pending_ = false;
      Publish();
    });
  }
  rebuild_timer_->ArmAt(std::max(loop_.Now(), last_rebuild_ + kMinRebuildGap));
}

void SnapshotPublisher::PublishEvery(Duration period) {
  period_ = period;
  if (!timer_) {
    timer_ = loop_.CreateTimer([this] {
      Publish();
      timer_->ArmAt(loop_.Now() + period_);
    });
  }
  timer_->ArmAt(loop_.Now() + period_);
}

}  // namespace vrrp::daemon
