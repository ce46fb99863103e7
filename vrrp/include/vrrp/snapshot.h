#pragma once

// What a router shows the outside (the exporter, the SNMP subagent), as
// plain values: the states and counters of each instance, the trackers,
// sync groups and notifications. The router fills a Snapshot from the
// state it holds; readers on other threads only ever see a published,
// immutable one and never the live instances (exporter/ and snmp/ include
// this header, never instance.h).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/ip_address.h"
#include "vrrp/notification_stats.h"
#include "vrrp/packet.h"
#include "vrrp/time.h"
#include "vrrp/tracker.h"

namespace vrrp {

// Numbered as Keepalived and keepalived-exporter do (INIT=0 BACKUP=1
// MASTER=2 FAULT=3), so the exporter can publish the value as it is.
enum class State : uint8_t {
  kInitialize = 0,
  kBackup = 1,
  kMaster = 2,
  kFault = 3
};

enum class TransitionReason : uint8_t {
  kStartup,          // §6.4.1: Initialize -> Backup, or -> Master as owner
  kMasterDownTimer,  // §6.4.2: the master went silent
  kPriorityZeroReceived,  // §6.4.2: the master left gracefully (after
                          // Skew_Time)
  kLowerPriorityMaster,   // §6.4.2: preempted a lower-priority master
  kHigherPriorityMaster,  // §6.4.3: preempted by a higher priority (or address)
  kTracker,               // a tracker demanded Fault, or stopped demanding it
  kInterfaceDown,
  kInterfaceUp,
  kNoSourceAddress,  // no primary / link-local / unicast source address
  kSourceAddress,    // the source address came back
  kShutdown,         // §6.4.2 / §6.4.3 Shutdown event
  kSyncGroup,        // another member of its sync group entered / left Fault
};

std::string_view ToString(State state);
std::string_view ToString(TransitionReason reason);

struct Transition {
  State from = State::kInitialize;
  State to = State::kInitialize;
  TransitionReason reason = TransitionReason::kStartup;
  TimePoint at{};
  // Backup -> Master only: time since the last advertisement heard from the
  // previous master (its priority-0 one, on a graceful handover).
  std::optional<Duration> master_silence;
};

// The most a peer's last advertisement told us.
struct PeerInfo {
  uint8_t priority = 0;
  Centiseconds advert_interval{0};
  ChecksumForm checksum_form = ChecksumForm::kWithPseudoHeader;
  TimePoint last_seen{};
  uint64_t advertisements = 0;
};

// A value that one thread (the event loop) writes and any thread reads at
// any time: a relaxed atomic. A scrape reading it takes nothing the
// advertisement path waits on, and the single writer pays a plain load and
// store (no locked instruction). Copies read it once.
template <typename T>
class LiveValue {
 public:
  constexpr LiveValue(T v = T{}) noexcept : v_(v) {}  // NOLINT: implicit
  LiveValue(const LiveValue& o) noexcept : v_(o.get()) {}
  LiveValue& operator=(const LiveValue& o) noexcept {
    set(o.get());
    return *this;
  }
  LiveValue& operator=(T v) noexcept {
    set(v);
    return *this;
  }
  T get() const noexcept { return v_.load(std::memory_order_relaxed); }
  void set(T v) noexcept { v_.store(v, std::memory_order_relaxed); }
  operator T() const noexcept { return get(); }  // NOLINT: implicit
  // Compared as the value (templates such as duration's operator== take no
  // implicit conversion).
  template <typename U>
  requires(!std::is_base_of_v<LiveValue, U>) friend bool operator==(
      const LiveValue& a, const U& b) {
    return a.get() == b;
  }

 private:
  std::atomic<T> v_;
};

// A counter of the loop's (see LiveValue): ++ is a load and a store.
class LiveCounter : public LiveValue<uint64_t> {
 public:
  using LiveValue::LiveValue;
  using LiveValue::operator=;
  LiveCounter& operator++() noexcept {
    set(get() + 1);
    return *this;
  }
};

// A fixed-bucket histogram (Prometheus semantics: `counts[i]` observations
// <= bounds[i], not cumulative; the +Inf bucket is `count`).
//
// Memory: the bounds are a view of a static table and the counts are
// allocated at the first observation, so an instance that never failed
// over carries no failover buckets. One written on every advertisement
// (lateness) is shared live with scrapes instead of copied: it is made
// `preallocated`, since growing the counts under a reader would be a race;
// its values are LiveValues, written by the loop alone.
struct Histogram {
  std::span<const double> bounds;   // static storage (FailoverBuckets() ...)
  std::vector<LiveCounter> counts;  // empty, or one per bound
  LiveValue<double> sum{0.0};
  LiveCounter count;

  explicit Histogram(std::span<const double> upper_bounds = {},
                     bool preallocated = false)
      : bounds(upper_bounds) {
    if (preallocated) counts.resize(bounds.size());
  }
  void Observe(double value);
  // Observations <= bounds[i] and > bounds[i-1].
  uint64_t CountAt(size_t i) const {
    return counts.empty() ? 0 : counts[i].get();
  }
};

// Bucket bounds, in seconds. Failover: from a 10 ms VRRPv3 router's
// Skew_Time (~4 ms) to a 1 s router's Master_Down_Interval (~3.6 s) and
// beyond. Lateness: from 50 us to a whole second.
std::span<const double> FailoverBuckets();
std::span<const double> LatenessBuckets();

// An instance's counters. The instance shares them (InstanceSnapshot::live)
// so that scrapes read them as they are now, without the snapshot being
// rebuilt for every advertisement.
struct InstanceStats {
  LiveCounter advertisements_sent;
  LiveCounter advertisements_received;  // accepted by the §7.1 checks
  LiveCounter priority_zero_sent;
  LiveCounter priority_zero_received;
  LiveCounter become_master;  // vrrpv3StatisticsMasterTransitions
  LiveCounter release_master;
  LiveCounter announcements;  // Announce() calls
  std::array<LiveCounter, kReceiveErrorCount> receive_errors{};
  LiveCounter received_with_pseudo_header;
  LiveCounter received_without_pseudo_header;
  LiveValue<Duration> max_advert_timer_lateness{Duration{0}};
  // How late each Adver_Timer fired, in seconds.
  Histogram advert_lateness{LatenessBuckets(), /*preallocated=*/true};

  uint64_t errors(ReceiveError e) const {
    return receive_errors[static_cast<size_t>(e)];
  }
};

// A consistent copy of everything the exporter shows about an instance.
struct InstanceStatus {
  std::string name;
  State state = State::kInitialize;
  uint8_t base_priority = 0;
  uint8_t effective_priority = 0;
  std::optional<IpAddress> master_address;  // ourselves when Master
  uint8_t master_priority = 0;
  Centiseconds advert_interval{0};         // configured
  Centiseconds master_advert_interval{0};  // learned (§6.1)
  Duration skew_time{0};
  Duration master_down_interval{0};
  bool releasing = false;  // hitless shutdown: VIPs still held after prio 0
  bool tracker_fault = false;
  bool link_up = true;
  std::optional<Transition> last_transition;
  std::map<IpAddress, PeerInfo> peers;
};

struct GroupTransition {
  State from = State::kInitialize;
  State to = State::kInitialize;
  // What set it off: "<member>: <instance reason>".
  std::string reason;
  TimePoint at{};
};

struct SyncGroupStatus {
  std::string name;
  State state = State::kInitialize;
  std::vector<std::string> members;
  // Members with a fault of their own, holding the others in Fault.
  std::vector<std::string> faulted_members;
  uint64_t transitions = 0;
};

using TransitionKey = std::tuple<State, State, TransitionReason>;

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
  std::shared_ptr<const InstanceConfig> config;
  InstanceStatus status;
  // Each virtual address and whether the kernel really has it on the
  // interface (read at snapshot time, not assumed from the state).
  std::vector<std::pair<IpPrefix, bool>> vip_present;
  std::optional<double> last_transition_unix_seconds;
  TransitionCounts transitions;
  Histogram failover_seconds;  // master silence before each takeover
  // The instance's track: list and what each entry contributes now.
  std::vector<TrackedStatus> tracking;
  // The instance's own counters and lateness histogram, shared: read as
  // they are now (LiveValue), since the snapshot is republished on events
  // and not for every advertisement. Null only in a snapshot built without
  // an instance: counters() then reads zeros.
  std::shared_ptr<const InstanceStats> stats;

  const InstanceStats& counters() const;
  const Histogram& lateness() const { return counters().advert_lateness; }
};

// The instances of a snapshot. Shared between snapshots until one of the
// instances changes: the loop republishes the small, fast-changing rest
// (trackers, notifications, I/O errors) without copying every instance, and
// rebuilds this list only on an instance's event (transition, reload, link,
// address or peer change). Writing through a shared list copies it first.
class InstanceList {
 public:
  using value_type = InstanceSnapshot;
  using const_iterator = std::vector<InstanceSnapshot>::const_iterator;

  const_iterator begin() const { return items().begin(); }
  const_iterator end() const { return items().end(); }
  size_t size() const { return items().size(); }
  bool empty() const { return items().empty(); }
  const InstanceSnapshot& operator[](size_t i) const { return items()[i]; }
  const InstanceSnapshot& at(size_t i) const { return items().at(i); }
  const InstanceSnapshot& back() const { return items().back(); }

  // The writable vector, copied first if another snapshot shares it.
  std::vector<InstanceSnapshot>& Mutable();
  InstanceSnapshot& operator[](size_t i) { return Mutable()[i]; }
  void push_back(InstanceSnapshot i) { Mutable().push_back(std::move(i)); }
  InstanceSnapshot& emplace_back() { return Mutable().emplace_back(); }
  void clear() { items_.reset(); }

 private:
  const std::vector<InstanceSnapshot>& items() const;
  std::shared_ptr<std::vector<InstanceSnapshot>> items_;
};

struct TrackerSnapshot {
  TrackerStatus status;
  std::optional<double> last_check_unix_seconds;
};

struct Snapshot {
  double taken_at_unix_seconds = 0;
  InstanceList instances;
  // Refused before reaching an instance, per interface and reason.
  std::map<std::string, std::array<uint64_t, kReceiveErrorCount>>
      interface_receive_errors;
  uint64_t send_errors = 0;
  uint64_t announce_errors = 0;
  uint64_t address_errors = 0;
  std::vector<TrackerSnapshot> trackers;
  std::vector<SyncGroupStatus> sync_groups;
  NotificationStats notifications;
};

}  // namespace vrrp
