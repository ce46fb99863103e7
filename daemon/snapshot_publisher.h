#pragma once

// Fills the snapshot scrapes read, from the router and what sits beside it
// (trackers, notifications, the link layer's I/O errors), and publishes it.

#include <memory>

#include "exporter/snapshot.h"
#include "vrrp/router.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/link_layer.h"
#include "vrrp/sys/notifier.h"
#include "vrrp/sys/tracker_manager.h"

namespace vrrp::daemon {

class SnapshotPublisher {
 public:
  SnapshotPublisher(sys::EventLoop& loop, const Router& router,
                    const sys::LinuxLinkLayer& links,
                    const sys::TrackerManager& trackers,
                    const sys::Notifier& notifier,
                    exporter::SnapshotStore& store);
  // Rebuilds the instance list if an instance changed, and publishes now.
  void Publish();
  // An instance changed (the router's on_change): its list is rebuilt and
  // published from the loop, at once after a quiet spell, else at most once
  // per kMinRebuildGap however often it is asked (a flood of forged peers
  // must not cost a rebuild per packet).
  void Request();
  // Publishes every `period` from now on what is not per instance
  // (trackers, notifications, I/O errors: small, and their own clocks),
  // sharing the instance list: nothing periodic grows with the number of
  // instances. It also keeps the snapshot's age the age of the loop's last
  // turn, which is what VRRPSnapshotStale watches.
  void PublishEvery(Duration period);

  static constexpr Duration kMinRebuildGap = std::chrono::milliseconds(100);

 private:
  sys::EventLoop& loop_;
  const Router& router_;
  const sys::LinuxLinkLayer& links_;
  const sys::TrackerManager& trackers_;
  const sys::Notifier& notifier_;
  exporter::SnapshotStore& store_;
  InstanceList instances_;
  bool dirty_ = true;
  bool pending_ = false;
  TimePoint last_rebuild_{};
  std::unique_ptr<Timer> rebuild_timer_;
  Duration period_{0};
  std::unique_ptr<Timer> timer_;
};

}  // namespace vrrp::daemon
