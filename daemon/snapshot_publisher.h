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
  // Builds and publishes now.
  void Publish();
  // Publishes once from the loop, however often it is asked before then.
  void Request();
  // And every `period` from now on: the counters move without an event.
  void PublishEvery(Duration period);

 private:
  sys::EventLoop& loop_;
  const Router& router_;
  const sys::LinuxLinkLayer& links_;
  const sys::TrackerManager& trackers_;
  const sys::Notifier& notifier_;
  exporter::SnapshotStore& store_;
  bool pending_ = false;
  Duration period_{0};
  std::unique_ptr<Timer> timer_;
};

}  // namespace vrrp::daemon
