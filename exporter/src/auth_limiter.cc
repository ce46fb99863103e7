#include "exporter/auth_limiter.h"

#include <algorithm>
#include <utility>

namespace vrrp::exporter {

AuthFailureLimiter::AuthFailureLimiter(Options options,
                                       std::function<Clock::time_point()> now)
    : options_(options),
      now_(now ? std::move(now) : [] { return Clock::now(); }) {}

std::chrono::seconds AuthFailureLimiter::Blocked(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::chrono::seconds(0);
  const Clock::time_point end = it->second.window_start + options_.window;
  const Clock::time_point now = now_();
  if (now >= end) {
    entries_.erase(it);
    return std::chrono::seconds(0);
  }
  if (it->second.failures < options_.max_failures) {
    return std::chrono::seconds(0);
  }
  // Rounded up: "Retry-After: 0" would invite an immediate retry.
  return std::chrono::ceil<std::chrono::seconds>(end - now);
}

void AuthFailureLimiter::RecordFailure(const std::string& address) {
  std::lock_guard lock(mu_);
  const Clock::time_point now = now_();
  auto it = entries_.find(address);
  if (it != entries_.end() &&
      now >= it->second.window_start + options_.window) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_addresses) MakeRoom(now);
    it = entries_.emplace(address, Entry{.window_start = now}).first;
  }
  ++it->second.failures;
}

void AuthFailureLimiter::RecordSuccess(const std::string& address) {
  std::lock_guard lock(mu_);
  entries_.erase(address);
}

size_t AuthFailureLimiter::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void AuthFailureLimiter::MakeRoom(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& e) {
    return now >= e.second.window_start + options_.window;
  });
  if (entries_.size() < options_.max_addresses) return;
  entries_.erase(std::min_element(
      entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start < b.second.window_start;
      }));
}

}  // namespace vrrp::exporter
