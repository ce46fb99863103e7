#include "vrrp/rate_limited_log.h"

#include <utility>
#include <vector>

namespace vrrp {

namespace {
constexpr std::string_view kOtherReason = "other";
}  // namespace

RateLimitedLog::RateLimitedLog(Options options, LogFn sink,
                               std::function<TimePoint()> now)
    : options_(options),
      sink_(std::move(sink)),
      now_(now ? std::move(now) : [] { return Clock::now(); }) {}

std::string RateLimitedLog::Summary(std::string_view reason, uint64_t n) {
  return std::to_string(n) + " more \"" + std::string(reason) +
         "\" lines suppressed";
}

bool RateLimitedLog::Log(LogLevel level, std::string_view reason,
                         const std::string& message) {
  std::string line;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = now_();
    auto it = buckets_.find(reason);
    if (it == buckets_.end()) {
      if (buckets_.size() >= options_.max_reasons) reason = kOtherReason;
      it = buckets_.try_emplace(std::string(reason)).first;
      it->second.window_start = now;
    }
    Bucket& b = it->second;
    std::string carried;
    if (now - b.window_start >= options_.window) {
      if (b.suppressed > 0) {
        carried = " (" + Summary(it->first, b.suppressed) + ")";
      }
      b = Bucket{.window_start = now};
    }
    if (b.emitted >= options_.burst) {
      ++b.suppressed;
      ++suppressed_total_;
      b.level = level;
      return false;
    }
    ++b.emitted;
    line = message + carried;
  }
  // Outside the lock: a slow sink must not serialize every other reason.
  if (sink_) sink_(level, line);
  return true;
}

void RateLimitedLog::Flush() {
  std::vector<std::pair<LogLevel, std::string>> lines;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = now_();
    for (auto& [reason, b] : buckets_) {
      if (now - b.window_start < options_.window || b.suppressed == 0) {
        continue;
      }
      lines.emplace_back(b.level,
                         reason + ": " + Summary(reason, b.suppressed));
      b = Bucket{.window_start = now};
    }
  }
  if (!sink_) return;
  for (const auto& [level, line] : lines) sink_(level, line);
}

uint64_t RateLimitedLog::suppressed_total() const {
  std::lock_guard lock(mu_);
  return suppressed_total_;
}

}  // namespace vrrp
