#include "exporter/snapshot.h"

#include <algorithm>

namespace vrrp::exporter {

void Histogram::Observe(double value) {
  if (counts.empty()) counts.assign(bounds.size(), 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) {
      ++counts[i];
      break;
    }
  }
  sum += value;
  ++count;
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

void MetricsObserver::OnTransition(const vrrp::Instance& instance,
                                   const vrrp::Transition& t) {
  PerInstance& p = by_name_[instance.name()];
  ++p.transitions[{t.from, t.to, t.reason}];
  // The core's clock is monotonic; the metric is a Unix time.
  const auto age = vrrp::Clock::now() - t.at;
  p.last_transition_unix_seconds =
      std::chrono::duration<double>(
          (std::chrono::system_clock::now() - age).time_since_epoch())
          .count();
  if (t.master_silence) {
    p.failover.Observe(
        std::chrono::duration<double>(*t.master_silence).count());
  }
}

void MetricsObserver::OnAdvertTimerLateness(const vrrp::Instance& instance,
                                            vrrp::Duration lateness) {
  by_name_[instance.name()].lateness.Observe(
      std::chrono::duration<double>(lateness).count());
}

const MetricsObserver::PerInstance* MetricsObserver::Find(
    const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace vrrp::exporter
