#pragma once

// Log lines that an outside party can trigger (a TLS handshake that fails, a
// wrong password, a malformed or mismatched advertisement, a rejected
// reload) go through a RateLimitedLog: each reason may log `burst` lines per
// `window`; the rest are counted, and the next line of that reason (or
// Flush()) says how many were suppressed. One client must not be able to
// push the lines an operator needs (transitions, which never go through
// here) out of journald's rate limit or the disk.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "vrrp/log.h"
#include "vrrp/time.h"

namespace vrrp {

class RateLimitedLog {
 public:
  struct Options {
    size_t burst = 5;  // lines per reason per window
    Duration window = std::chrono::minutes(1);
    // Distinct reasons tracked; further ones share one bucket, so reasons
    // built from untrusted text cannot grow the map.
    size_t max_reasons = 64;
  };

  // `now` defaults to the steady clock; tests pass a fake one.
  RateLimitedLog(Options options, LogFn sink,
                 std::function<TimePoint()> now = {});

  // Logs `message` unless `reason` has used its budget in this window. The
  // first line of a reason after a window with suppressed lines carries
  // " (N more \"REASON\" lines suppressed)". True if it was logged.
  // Thread-safe.
  bool Log(LogLevel level, std::string_view reason, const std::string& message);

  // Says "REASON: N more lines suppressed" for each reason whose window has
  // ended with lines suppressed, so a flood that stops is still reported.
  // Call now and then (the daemon does from a timer); optional.
  void Flush();

  // Lines suppressed so far, all reasons (for tests and metrics).
  uint64_t suppressed_total() const;

 private:
  struct Bucket {
    TimePoint window_start{};
    size_t emitted = 0;
    uint64_t suppressed = 0;  // in the current window
    LogLevel level = LogLevel::kWarn;
  };
  static std::string Summary(std::string_view reason, uint64_t n);

  const Options options_;
  const LogFn sink_;
  const std::function<TimePoint()> now_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
  uint64_t suppressed_total_ = 0;
};

}  // namespace vrrp
