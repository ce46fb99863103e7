#pragma once

// The daemon's log of what the instances do (spdlog), and the sink the core
// and the Linux layer log through.

#include <spdlog/spdlog.h>

#include <set>
#include <string>
#include <tuple>

#include "vrrp/instance.h"
#include "vrrp/log.h"
#include "vrrp/rate_limited_log.h"

namespace vrrp::daemon {

void Log(LogLevel level, const std::string& message);

// Logs what the instances do: transitions at info (never rate-limited),
// refused advertisements at debug (they can be a flood), late advertisement
// timers at warn. What a peer or a forger on the link can trigger (refused,
// malformed and mismatched advertisements) goes through a RateLimitedLog
// per reason: any host on the segment can send them at line rate.
class LoggingObserver : public InstanceObserver {
 public:
  LoggingObserver() : limited_({}, &Log) {}

  void OnTransition(const Instance& i, const Transition& t) override {
    std::string extra;
    if (t.master_silence) {
      extra = fmt::format(
          ", master silent for {:.3f} ms",
          std::chrono::duration<double, std::milli>(*t.master_silence).count());
    }
    spdlog::info("instance {}: {} -> {} ({}){}", i.name(), ToString(t.from),
                 ToString(t.to), ToString(t.reason), extra);
  }
  void OnReceiveError(const Instance& i, ReceiveError e,
                      const IpAddress& source,
                      ReceiveErrorAction action) override {
    // A peer on our VRID whose settings disagree with ours is a
    // misconfiguration that usually means two masters (Keepalived's
    // default VRRPv2 against our v3 is the common one): said at warn once
    // per instance, peer and reason, so it is seen without --log.level
    // debug; then at debug like any other refused advertisement.
    const char* what =
        action == ReceiveErrorAction::kFollowed ? "mismatched" : "dropped";
    if (IsPeerMismatch(e) && warned_.size() >= kMaxWarned && !capped_) {
      capped_ = true;
      spdlog::warn(
          "{} peers with settings differing from ours were warned about; "
          "further ones are logged at debug only (a flood of forged "
          "sources?)",
          kMaxWarned);
    }
    if (IsPeerMismatch(e) && warned_.size() < kMaxWarned &&
        !warned_.contains({i.name(), source.ToString(), e})) {
      std::string hint;
      if (e == ReceiveError::kVersionMismatch) {
        hint = fmt::format(
            "; this instance runs VRRPv{}: set the same version on both "
            "(Keepalived defaults to 2) or both will be master",
            i.config().version == Version::kV2 ? 2 : 3);
      }
      // Remembered only once said: a warning the rate limit held back is
      // tried again with the peer's next advertisement.
      if (limited_.Log(
              LogLevel::kWarn, fmt::format("peer mismatch: {}", ToString(e)),
              fmt::format(
                  "instance {}: {} advertisement from {}: {}: the peer's "
                  "settings differ from ours{}; further ones are logged at "
                  "debug",
                  i.name(), what, source.ToString(), ToString(e), hint))) {
        warned_.emplace(i.name(), source.ToString(), e);
      }
      return;
    }
    // Formatting costs the loop time: skipped when debug is off.
    if (!spdlog::should_log(spdlog::level::debug)) return;
    limited_.Log(LogLevel::kDebug, fmt::format("refused: {}", ToString(e)),
                 fmt::format("instance {}: {} advertisement from {}: {}",
                             i.name(), what, source.ToString(), ToString(e)));
  }
  void OnAdvertTimerLateness(const Instance& i, Duration lateness) override {
    // Half an interval late risks a backup's false takeover (the
    // "thread timer expired" class of Keepalived reports).
    if (lateness * 2 > Duration(i.config().advert_interval)) {
      spdlog::warn(
          "instance {}: advertisement timer fired {} us late", i.name(),
          std::chrono::duration_cast<std::chrono::microseconds>(lateness)
              .count());
    }
  }

 private:
  static bool IsPeerMismatch(ReceiveError e) {
    switch (e) {
      case ReceiveError::kAdvInterval:
      case ReceiveError::kAddressList:
      case ReceiveError::kAuthTypeMismatch:
      case ReceiveError::kAuthFailure:
      case ReceiveError::kVersionMismatch:
      case ReceiveError::kUnicastPeer:
      case ReceiveError::kIpTtl:  // unicast to a multicast instance
        return true;
      default:
        return false;
    }
  }
  // Bounded: past this many (instance, peer, reason) triples, a flood of
  // forged sources, new ones go to debug after one line saying so.
  static constexpr size_t kMaxWarned = 1024;
  bool capped_ = false;
  RateLimitedLog limited_;
  std::set<std::tuple<std::string, std::string, ReceiveError>> warned_;
};

}  // namespace vrrp::daemon
