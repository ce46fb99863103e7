#include "vrrp/snapshot.h"

#include <algorithm>

namespace vrrp {

std::string_view ToString(State state) {
  switch (state) {
    case State::kInitialize:
      return "Initialize";
    case State::kBackup:
      return "Backup";
    case State::kMaster:
      return "Master";
    case State::kFault:
      return "Fault";
  }
  return "?";
}

std::string_view ToString(TransitionReason reason) {
  switch (reason) {
    case TransitionReason::kStartup:
      return "startup";
    case TransitionReason::kMasterDownTimer:
      return "master-down-timer";
    case TransitionReason::kPriorityZeroReceived:
      return "priority-zero-received";
    case TransitionReason::kLowerPriorityMaster:
      return "lower-priority-master";
    case TransitionReason::kHigherPriorityMaster:
      return "higher-priority-master";
    case TransitionReason::kTracker:
      return "tracker";
    case TransitionReason::kInterfaceDown:
      return "interface-down";
    case TransitionReason::kInterfaceUp:
      return "interface-up";
    case TransitionReason::kNoSourceAddress:
      return "no-source-address";
    case TransitionReason::kSourceAddress:
      return "source-address";
    case TransitionReason::kShutdown:
      return "shutdown";
    case TransitionReason::kSyncGroup:
      return "sync-group";
  }
  return "?";
}

void Histogram::Observe(double value) {
  if (counts.empty()) counts.resize(bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) {
      ++counts[i];
      break;
    }
  }
  sum.set(sum.get() + value);
  ++count;
}

const InstanceStats& InstanceSnapshot::counters() const {
  static const InstanceStats kNone;
  return stats ? *stats : kNone;
}

std::vector<InstanceSnapshot>& InstanceList::Mutable() {
  // use_count() == 1: no published snapshot holds it, and none can take a
  // reference but through one.
  if (!items_) {
    items_ = std::make_shared<std::vector<InstanceSnapshot>>();
  } else if (items_.use_count() != 1) {
    items_ = std::make_shared<std::vector<InstanceSnapshot>>(*items_);
  }
  return *items_;
}

const std::vector<InstanceSnapshot>& InstanceList::items() const {
  static const std::vector<InstanceSnapshot> kNone;
  return items_ ? *items_ : kNone;
}

std::span<const double> FailoverBuckets() {
  static constexpr double kBounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,  0.1,    0.25,  0.5,  1,
                                       2.5,   5,      10,    30};
  return kBounds;
}

std::span<const double> LatenessBuckets() {
  static constexpr double kBounds[] = {0.00005, 0.0001, 0.00025, 0.0005,
                                       0.001,   0.0025, 0.005,   0.01,
                                       0.025,   0.05,   0.1,     1};
  return kBounds;
}

uint64_t& TransitionCounts::operator[](const TransitionKey& key) {
  auto it = std::lower_bound(
      counts_.begin(), counts_.end(), key,
      [](const value_type& e, const TransitionKey& k) { return e.first < k; });
  if (it == counts_.end() || it->first != key)
    it = counts_.insert(it, {key, 0});
  return it->second;
}

}  // namespace vrrp
