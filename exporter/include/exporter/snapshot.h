#pragma once

// What the exporter shows, as one immutable value. The event loop builds a
// Snapshot and publishes it; scrape threads only ever read a published one,
// so a scrape never touches state the advertisement timer uses and never
// waits for the loop.

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
#include "vrrp/config.h"
#include "vrrp/instance.h"
#include "vrrp/notification_stats.h"
#include "vrrp/sync_group.h"
#include "vrrp/tracker.h"

namespace vrrp::exporter {

// A fixed-bucket histogram (Prometheus semantics: `counts[i]` observations
// <= bounds[i], not cumulative; the +Inf bucket is `count`).
//
// Memory: every instance has two, and each lives in the observer and in
// every snapshot alive (two while one is published), so the bounds are a
// view of a static table and the counts are allocated at the first
// observation: an instance that never failed over carries no failover
// buckets (issue 3: under 2 KiB per added instance).
struct Histogram {
  std::span<const double> bounds;  // static storage (FailoverBuckets() ...)
  std::vector<uint64_t> counts;    // empty, or one per bound
  double sum = 0;
  uint64_t count = 0;

  explicit Histogram(std::span<const double> upper_bounds = {})
      : bounds(upper_bounds) {}
  void Observe(double value);
  // Observations <= bounds[i] and > bounds[i-1].
  uint64_t CountAt(size_t i) const { return counts.empty() ? 0 : counts[i]; }
};

using TransitionKey =
    std::tuple<vrrp::State, vrrp::State, vrrp::TransitionReason>;

// Transition counts of one instance, in key order. A sorted vector rather
// than a std::map: an instance has a handful of keys, kept by the observer
// and by both live snapshots, and a map node per key per copy was ~190
// bytes per instance per copy (issue 3: bytes per added instance);
// refilling a reused snapshot copies into the capacity it already has.
class TransitionCounts {
 public:
  using value_type = std::pair<TransitionKey, uint64_t>;
  using const_iterator = std::vector<value_type>::const_iterator;

  // The count of `key`, inserted at 0 in its place if absent.
  uint64_t& operator[](const TransitionKey& key);
  const_iterator begin() const { return counts_.begin(); }
  const_iterator end() const { return counts_.end(); }
  size_t size() const { return counts_.size(); }
  bool empty() const { return counts_.empty(); }
  void clear() { counts_.clear(); }
  bool operator==(const TransitionCounts&) const = default;

 private:
  std::vector<value_type> counts_;
};

struct InstanceSnapshot {
  // Shared, not copied: the daemon keeps one immutable configuration per
  // instance and every snapshot alive (two while the next is published
  // every 100 ms) points at it (issue 3: under 2 KiB per added instance;
  // a copy is ~420 bytes with its strings and address vector). Never null
  // in a published snapshot.
  std::shared_ptr<const vrrp::InstanceConfig> config;
  vrrp::InstanceStatus status;
  // Each virtual address and whether the kernel really has it on the
  // interface (read at snapshot time, not assumed from the state).
  std::vector<std::pair<vrrp::IpPrefix, bool>> vip_present;
  std::optional<double> last_transition_unix_seconds;
  TransitionCounts transitions;
  Histogram failover_seconds;         // master silence before each takeover
  Histogram advert_lateness_seconds;  // how late each Adver_Timer fired
  // The instance's track: list and what each entry contributes now.
  std::vector<vrrp::TrackedStatus> tracking;
};

struct TrackerSnapshot {
  vrrp::TrackerStatus status;
  std::optional<double> last_check_unix_seconds;
};

struct Snapshot {
  double taken_at_unix_seconds = 0;
  std::vector<InstanceSnapshot> instances;
  // Refused before reaching an instance, per interface and reason.
  std::map<std::string, std::array<uint64_t, vrrp::kReceiveErrorCount>>
      interface_receive_errors;
  uint64_t send_errors = 0;
  uint64_t announce_errors = 0;
  uint64_t address_errors = 0;
  std::vector<TrackerSnapshot> trackers;
  std::vector<vrrp::SyncGroupStatus> sync_groups;
  vrrp::NotificationStats notifications;
};

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

// Bucket bounds, in seconds. Failover: from a 10 ms VRRPv3 router's
// Skew_Time (~4 ms) to a 1 s router's Master_Down_Interval (~3.6 s) and
// beyond. Lateness: from 50 us to a whole second.
std::span<const double> FailoverBuckets();
std::span<const double> LatenessBuckets();

// Accumulates, on the loop thread, what InstanceStatus does not carry:
// transitions by (from, to, reason), their wall-clock times, histograms.
// Chain it with other observers through ObserverFanout.
class MetricsObserver : public vrrp::InstanceObserver {
 public:
  struct PerInstance {
    TransitionCounts transitions;
    std::optional<double> last_transition_unix_seconds;
    Histogram failover{FailoverBuckets()};
    Histogram lateness{LatenessBuckets()};
  };
  void OnTransition(const vrrp::Instance& instance,
                    const vrrp::Transition& t) override;
  void OnAdvertTimerLateness(const vrrp::Instance& instance,
                             vrrp::Duration lateness) override;
  const PerInstance* Find(const std::string& name) const;

 private:
  // Hashed: OnAdvertTimerLateness looks an instance up on every
  // advertisement (20 000 a second with 200 instances at 10 ms), where the
  // ordered map's string comparisons showed in the master's profile.
  std::unordered_map<std::string, PerInstance> by_name_;
};

// Passes every event to each observer in turn.
class ObserverFanout : public vrrp::InstanceObserver {
 public:
  explicit ObserverFanout(std::vector<vrrp::InstanceObserver*> to)
      : to_(std::move(to)) {}
  void OnTransition(const vrrp::Instance& i,
                    const vrrp::Transition& t) override {
    for (auto* o : to_) o->OnTransition(i, t);
  }
  void OnAdvertTimerLateness(const vrrp::Instance& i,
                             vrrp::Duration d) override {
    for (auto* o : to_) o->OnAdvertTimerLateness(i, d);
  }
  void OnReceiveError(const vrrp::Instance& i, vrrp::ReceiveError e,
                      const vrrp::IpAddress& s,
                      vrrp::ReceiveErrorAction action) override {
    for (auto* o : to_) o->OnReceiveError(i, e, s, action);
  }

 private:
  std::vector<vrrp::InstanceObserver*> to_;
};

}  // namespace vrrp::exporter
