#pragma once

// Publication of the router's snapshots (vrrp/snapshot.h) to scrape
// threads. The event loop builds a Snapshot and publishes it; scrape
// threads only ever read a published one, so a scrape never touches state
// the advertisement timer uses and never waits for the loop.

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exporter/pi_mutex.h"
#include "vrrp/snapshot.h"

namespace vrrp::exporter {

// The snapshot types are the core's (vrrp/snapshot.h); these names keep
// the exporter's code short.
using vrrp::FailoverBuckets;
using vrrp::Histogram;
using vrrp::InstanceSnapshot;
using vrrp::LatenessBuckets;
using vrrp::Snapshot;
using vrrp::TrackerSnapshot;
using vrrp::TransitionCounts;
using vrrp::TransitionKey;

// The latest published snapshot. The lock guards a pointer copy only, and
// inherits priority (pi_mutex.h): a preempted scrape cannot hold the loop.
//
// Snapshots are also freed on the publishing thread, never by a scrape.
// The loop allocates them, so their memory belongs to glibc's main arena,
// and free() takes that arena's lock, which does not inherit priority: a
// scrape or render thread (nice 10) dropping the last reference, preempted
// on a busy host while inside free(), held the real-time loop for ~10 ms
// (scrape_isolation_test saw 20 ms advertisement gaps at a 10 ms interval).
// So a replaced snapshot waits in `retired_` until no one else holds it and
// a later Publish frees it.
//
// The event loop publishes with PublishReusable and builds the next
// snapshot in TakeReusable()'s: the one it replaced, once no scrape holds
// it, is overwritten in place instead of freed (issue 3's memory per
// instance: building a new snapshot of every instance every 100 ms and
// freeing the old one left ~2 KB of fragmented free heap per instance that
// RSS kept; refilling the same maps, vectors and strings allocates nothing
// while the instances stay the same).
class SnapshotStore {
 public:
  // From one thread (the event loop) only.
  void Publish(std::shared_ptr<const Snapshot> snapshot) {
    Replace(std::move(snapshot), false);
  }
  // Like Publish, and the snapshot may come back from TakeReusable() once
  // it has been replaced and no one else holds it.
  void PublishReusable(std::shared_ptr<Snapshot> snapshot) {
    Replace(std::move(snapshot), true);
  }
  // A snapshot published with PublishReusable, replaced since and held by
  // no one else, to overwrite and publish again; null if there is none.
  std::shared_ptr<Snapshot> TakeReusable() { return std::move(spare_); }

  std::shared_ptr<const Snapshot> Latest() const {
    std::lock_guard<PiMutex> l(mu_);
    return latest_;
  }
  size_t RetiredForTest() const { return retired_.size(); }

 private:
  struct Retired {
    std::shared_ptr<const Snapshot> snapshot;
    bool reusable;  // passed to us as a mutable Snapshot
  };
  void Replace(std::shared_ptr<const Snapshot> snapshot, bool reusable) {
    std::shared_ptr<const Snapshot> previous;
    {
      std::lock_guard<PiMutex> l(mu_);
      previous = std::exchange(latest_, std::move(snapshot));
    }
    if (previous) {
      retired_.push_back({std::move(previous), latest_reusable_});
    }
    latest_reusable_ = reusable;
    // use_count() == 1: only `retired_` holds it, and since it is no longer
    // `latest_` nobody can take a new reference.
    std::erase_if(retired_, [&](Retired& r) {
      if (r.snapshot.use_count() != 1) return false;
      // The scrape's last reads of it happen before our writes or free:
      // its reference count decrement releases, this fence acquires.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (r.reusable && !spare_) {
        // Created mutable (PublishReusable), so writing through it is
        // defined.
        spare_ = std::const_pointer_cast<Snapshot>(std::move(r.snapshot));
      }
      return true;
    });
  }

  mutable PiMutex mu_;
  std::shared_ptr<const Snapshot> latest_;
  bool latest_reusable_ = false;     // publisher's only
  std::vector<Retired> retired_;     // publisher's only
  std::shared_ptr<Snapshot> spare_;  // publisher's only
};

}  // namespace vrrp::exporter
