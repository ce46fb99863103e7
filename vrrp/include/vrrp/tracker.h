#pragma once

// Health trackers: checks whose results move an instance's priority or put
// it in Fault (Keepalived's track_script / track_interface / track_file /
// track_process).
//
// The core here is pure: a Tracker runs its Checker on the Scheduler every
// interval, bounds each check by its timeout, and turns results into an
// up/down health with rise/fall hysteresis; CombineTracks turns the health
// of an instance's trackers and their weights into a priority delta and a
// Fault demand. What a check does (fork a script, connect, GET a URL, read
// a file, scan /proc) lives in vrrp/src/sys/, behind Checker, so every rule
// here is tested on the fake clock.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vrrp/config.h"
#include "vrrp/scheduler.h"
#include "vrrp/time.h"

namespace vrrp {

// Why a check failed; one counter per reason in the metrics
// (vrrp_tracker_failures_total{reason}).
enum class CheckFailure : uint8_t {
  kExitStatus,   // exec: the command exited non-zero
  kSignaled,     // exec: killed by a signal we did not send
  kTimeout,      // the check outlived its timeout (exec: process group killed)
  kSpawnFailed,  // exec: could not start (no such file, unknown user, fork)
  kInsecure,     // exec: refused, a non-root user could modify the script
  kConnect,      // tcp/http: connection refused, unreachable, reset
  kHttpStatus,   // http: an unexpected status code
  kHttpBody,     // http: the expected text is not in the body
  kTransport,    // http: TLS, name resolution or protocol error
  kLinkDown,     // interface: down, no carrier, or missing
  kMissing,      // file / process: the file is unreadable, no such process
  kBadValue,     // file: not an integer
};
inline constexpr size_t kCheckFailureCount = 12;
std::string_view ToString(CheckFailure failure);

struct CheckOutcome {
  bool ok = false;
  CheckFailure failure = CheckFailure::kExitStatus;  // when !ok
  Duration duration{0};
  // file trackers: the number read from the file.
  std::optional<int64_t> value;
  // For logs and /api/v1/status: "exit status 2", "HTTP 503", ...
  std::string detail;

  static CheckOutcome Success(std::string detail = {}) {
    CheckOutcome o;
    o.ok = true;
    o.detail = std::move(detail);
    return o;
  }
  static CheckOutcome Failure(CheckFailure why, std::string detail) {
    CheckOutcome o;
    o.failure = why;
    o.detail = std::move(detail);
    return o;
  }
};

// kUnknown until the first result: the first result decides at once (no
// rise/fall), later ones go through the hysteresis.
enum class TrackerHealth : uint8_t { kUnknown, kUp, kDown };
std::string_view ToString(TrackerHealth health);

// Rise/fall hysteresis (Keepalived's rise / fall): `rise` consecutive
// successes bring a down tracker up, `fall` consecutive failures bring an
// up tracker down.
class Hysteresis {
 public:
  Hysteresis(int rise, int fall) : rise_(rise), fall_(fall) {}
  // Returns true when the health changed.
  bool Record(bool ok);
  TrackerHealth health() const { return health_; }
  int consecutive_ok() const { return ok_run_; }
  int consecutive_failures() const { return fail_run_; }

 private:
  int rise_;
  int fall_;
  TrackerHealth health_ = TrackerHealth::kUnknown;
  int ok_run_ = 0;
  int fail_run_ = 0;
};

// One check at a time. Implementations live in vrrp/src/sys/ (and fakes in
// the tests).
class Checker {
 public:
  virtual ~Checker() = default;
  // Starts a check. `done` runs once on the scheduler's thread, possibly
  // before Start returns (a check that needs no waiting).
  virtual void Start(std::function<void(CheckOutcome)> done) = 0;
  // Abandons the running check (its timeout passed, or the tracker goes):
  // `done` is never called for it afterwards, and whatever it started is
  // stopped (exec: the whole process group is killed).
  virtual void Abort() = 0;
};

struct TrackerStatus {
  std::string name;
  TrackerType type = TrackerType::kExec;
  TrackerHealth health = TrackerHealth::kUnknown;
  bool running = false;  // a check is in progress
  uint64_t checks = 0;
  std::array<uint64_t, kCheckFailureCount> failures{};
  std::optional<TimePoint> last_check;  // when the last result came
  bool last_ok = false;
  CheckFailure last_failure = CheckFailure::kExitStatus;
  Duration last_duration{0};
  std::string last_detail;
  std::optional<int64_t> value;  // file trackers: the last value read
  int consecutive_ok = 0;
  int consecutive_failures = 0;
  std::optional<TimePoint> last_change;  // health changed
};

// A tracker: its Checker run every `interval` (polled types) or fed by
// Report() (event types: interface), with timeouts and hysteresis.
class Tracker {
 public:
  using ChangeFn = std::function<void(const Tracker&)>;
  // `on_change` runs after every result that changed the health, or the
  // value of a file tracker.
  Tracker(TrackerConfig config, Scheduler& scheduler,
          std::unique_ptr<Checker> checker, ChangeFn on_change);
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // Polled trackers: the first check at once, then every interval (measured
  // from the start of a check; a check never overlaps the previous one).
  void Start();
  // A result from outside (interface state from netlink events).
  void Report(CheckOutcome outcome);

  const TrackerConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  TrackerHealth health() const { return hysteresis_.health(); }
  const TrackerStatus& status() const { return status_; }

 private:
  void RunCheck();
  void OnDone(uint64_t generation, CheckOutcome outcome);
  void OnTimeout();
  void Record(CheckOutcome outcome);
  void ScheduleNext();

  TrackerConfig config_;
  Scheduler& scheduler_;
  std::unique_ptr<Checker> checker_;
  ChangeFn on_change_;
  Hysteresis hysteresis_;
  TrackerStatus status_;
  uint64_t generation_ = 0;  // of the running check; stale results dropped
  TimePoint check_started_{};
  bool stopped_ = false;
  std::unique_ptr<Timer> next_timer_;
  std::unique_ptr<Timer> timeout_timer_;
};

// One tracker as an instance sees it: its weight for this instance and what
// the tracker says now.
struct TrackInput {
  int weight = 0;
  bool file = false;  // a file tracker: value x weight
  TrackerHealth health = TrackerHealth::kUnknown;
  std::optional<int64_t> value;
};

struct TrackEffect {
  int delta = 0;       // for Instance::SetPriorityDelta
  bool fault = false;  // for Instance::SetTrackerFault
};

// What a tracker contributes (Keepalived's semantics):
// - weight > 0: +weight while up, nothing while down;
// - weight < 0: nothing while up, weight (a subtraction) while down;
// - weight 0: Fault while down.
// - file trackers: while readable, value x weight (weight 0: Fault when the
//   value is not 0); the contribution below -253 means Fault, as in
//   Keepalived; unreadable: nothing, or Fault with weight 0.
// kUnknown (no result yet) counts as up, so a daemon starting does not pass
// through Fault before its first check answers.
TrackEffect TrackContribution(const TrackInput& input);

// What an instance's tracking amounts to, tracker by tracker, for the
// status page and metrics.
struct TrackedStatus {
  std::string tracker;
  int weight = 0;
  TrackerHealth health = TrackerHealth::kUnknown;
  TrackEffect effect;  // this tracker's contribution
};
TrackEffect CombineTracks(std::span<const TrackInput> inputs);

// What trackers say about an instance's track: list (sys::TrackerManager in
// the daemon; a fake in tests), for the Router.
class TrackingSource {
 public:
  virtual ~TrackingSource() = default;
  virtual TrackEffect Evaluate(const std::vector<TrackRef>& track) const = 0;
  virtual std::vector<TrackedStatus> Explain(
      const std::vector<TrackRef>& track) const = 0;
};

}  // namespace vrrp
