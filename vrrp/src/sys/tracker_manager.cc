#include "vrrp/sys/tracker_manager.h"

#include "vrrp/log.h"
#include "vrrp/sys/checkers.h"
#include "vrrp/sys/script_security.h"

namespace vrrp::sys {

namespace {

// A check that cannot run at all (its user does not exist): every run says
// why, so the tracker is down with a reason instead of silently absent.
class FailingChecker : public Checker {
 public:
  FailingChecker(CheckFailure why, std::string detail)
      : why_(why), detail_(std::move(detail)) {}
  void Start(std::function<void(CheckOutcome)> done) override {
    done(CheckOutcome::Failure(why_, detail_));
  }
  void Abort() override {}

 private:
  CheckFailure why_;
  std::string detail_;
};

// Who an exec tracker runs as: its user:, else script_user:, else the
// daemon itself.
std::optional<std::string> RunAsName(const TrackerConfig& t,
                                     const Config& config) {
  if (!t.user.empty()) return t.user;
  return config.script_user;
}

}  // namespace

struct TrackerManager::Entry {
  TrackerConfig config;
  std::string script_user;  // what RunAsName used, to notice a change
  std::unique_ptr<Tracker> tracker;
  bool started = false;
};

TrackerManager::TrackerManager(EventLoop& loop, LogFn log, LinkQuery link)
    // Trackers kill a timed-out check's process group at once: there is
    // nothing a health check must clean up.
    : loop_(loop),
      log_(std::move(log)),
      link_(std::move(link)),
      runner_(loop, Duration::zero()) {}

TrackerManager::~TrackerManager() = default;

void TrackerManager::Log(LogLevel level, const std::string& message) const {
  if (log_) log_(level, message);
}

void TrackerManager::Configure(const Config& config) {
  std::map<std::string, std::unique_ptr<Entry>> next;
  for (const TrackerConfig& t : config.trackers) {
    const std::string user = RunAsName(t, config).value_or("");
    auto it = trackers_.find(t.name);
    if (it != trackers_.end() && it->second->config.SameSettings(t) &&
        it->second->script_user == user) {
      next[t.name] = std::move(it->second);  // state and schedule kept
      trackers_.erase(it);
      continue;
    }
    auto entry = std::make_unique<Entry>();
    entry->config = t;
    entry->script_user = user;
    std::unique_ptr<Checker> checker;
    if (t.type == TrackerType::kExec && !user.empty()) {
      auto resolved = LookupUser(user);
      if (!resolved.ok()) {
        checker = std::make_unique<FailingChecker>(CheckFailure::kSpawnFailed,
                                                   resolved.error());
      } else {
        checker = MakeChecker(t, loop_, runner_, resolved.value());
      }
    } else {
      checker = MakeChecker(t, loop_, runner_, std::nullopt);
    }
    entry->tracker = std::make_unique<Tracker>(
        t, loop_, std::move(checker),
        [this](const Tracker& tr) { OnTrackerChange(tr); });
    next[t.name] = std::move(entry);
  }
  trackers_.clear();  // removed and replaced ones: checks aborted
  trackers_ = std::move(next);
  for (auto& [name, e] : trackers_) {
    if (e->started) continue;  // kept
    e->started = true;
    if (e->config.type == TrackerType::kInterface) {
      ReadLink(*e->tracker);
    } else {
      e->tracker->Start();
    }
  }
}

void TrackerManager::OnLinkEvent() {
  for (auto& [name, e] : trackers_) {
    if (e->config.type == TrackerType::kInterface) ReadLink(*e->tracker);
  }
}

void TrackerManager::ReadLink(Tracker& tracker) {
  const std::string& itf = tracker.config().interface;
  auto info =
      link_
          ? link_(itf)
          : Result<InterfaceInfo, std::string>(Err(std::string("no netlink")));
  CheckOutcome o;
  if (!info.ok()) {
    o = CheckOutcome::Failure(CheckFailure::kLinkDown, itf + ": missing");
  } else if (!info->admin_up) {
    o = CheckOutcome::Failure(CheckFailure::kLinkDown, itf + ": down");
  } else if (!info->oper_up) {
    o = CheckOutcome::Failure(CheckFailure::kLinkDown, itf + ": no carrier");
  } else {
    o = CheckOutcome::Success(itf + ": up");
  }
  // Every link event of the host comes here: only a change of this link's
  // state is a result worth counting.
  const TrackerStatus& s = tracker.status();
  if (s.checks > 0 && s.last_ok == o.ok && s.last_detail == o.detail) return;
  tracker.Report(std::move(o));
}

void TrackerManager::OnTrackerChange(const Tracker& tracker) {
  const TrackerStatus& s = tracker.status();
  const bool up = s.health == TrackerHealth::kUp;
  std::string message =
      "tracker " + tracker.name() + ": " + std::string(ToString(s.health));
  if (tracker.config().type == TrackerType::kFile && s.value) {
    message += ", value " + std::to_string(*s.value);
  }
  if (!s.last_detail.empty()) message += " (" + s.last_detail + ")";
  Log(!up ? (s.last_failure == CheckFailure::kInsecure ? LogLevel::kError
                                                       : LogLevel::kWarn)
          : LogLevel::kInfo,
      message);
  if (on_change) on_change();
}

TrackEffect TrackerManager::Evaluate(const std::vector<TrackRef>& track) const {
  TrackEffect total;
  for (const TrackedStatus& t : Explain(track)) {
    total.delta += t.effect.delta;
    total.fault = total.fault || t.effect.fault;
  }
  return total;
}

std::vector<TrackedStatus> TrackerManager::Explain(
    const std::vector<TrackRef>& track) const {
  std::vector<TrackedStatus> out;
  for (const TrackRef& ref : track) {
    TrackedStatus t;
    t.tracker = ref.tracker;
    t.weight = ref.weight;
    auto it = trackers_.find(ref.tracker);
    if (it != trackers_.end()) {
      const Tracker& tr = *it->second->tracker;
      TrackInput in;
      in.weight = ref.weight;
      in.file = tr.config().type == TrackerType::kFile;
      in.health = tr.health();
      in.value = tr.status().value;
      t.health = in.health;
      t.effect = TrackContribution(in);
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TrackerStatus> TrackerManager::Status() const {
  std::vector<TrackerStatus> out;
  for (const auto& [name, e] : trackers_) out.push_back(e->tracker->status());
  return out;
}

std::vector<ConfigError> CheckTrackerPrograms(const Config& config) {
  std::vector<ConfigError> errors;
  for (const TrackerConfig& t : config.trackers) {
    if (t.type != TrackerType::kExec || t.command.empty()) continue;
    std::optional<ProcessUser> user;
    if (auto name = RunAsName(t, config)) {
      auto resolved = LookupUser(*name);
      if (!resolved.ok()) {
        // An unknown script_user is reported once, by the notifications'
        // check; a tracker's own user: here.
        if (!t.user.empty()) {
          errors.push_back(ConfigError{
              t.location, "trackers." + t.name + ".user", resolved.error()});
        }
        continue;
      }
      user = resolved.value();
    }
    auto checked = CheckScript(t.command[0], DefaultScriptCheckOptions(user));
    if (!checked.ok()) {
      std::string message = checked.error().message;
      if (checked.error().problem == ScriptProblem::kInsecure) {
        message = "refused: " + message +
                  "; a user who can change it would have it run by the "
                  "daemon. Make it and every directory above it owned by "
                  "root and not writable by others";
      }
      errors.push_back(ConfigError{
          t.location, "trackers." + t.name + ".command", std::move(message)});
    }
  }
  return errors;
}

}  // namespace vrrp::sys
