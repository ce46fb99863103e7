#pragma once

// Every configured tracker of the daemon, on the event loop: creates the
// checkers, feeds interface trackers from netlink, keeps unchanged trackers
// (and their state) across a reload, and turns an instance's track: list
// into its priority delta and Fault demand.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/config_loader.h"
#include "vrrp/log.h"
#include "vrrp/result.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/netlink.h"
#include "vrrp/sys/process_runner.h"
#include "vrrp/tracker.h"

namespace vrrp::sys {

class TrackerManager : public TrackingSource {
 public:
  // The current state of a link by name; an error when it does not exist.
  using LinkQuery =
      std::function<Result<InterfaceInfo, std::string>(const std::string&)>;

  TrackerManager(EventLoop& loop, LogFn log, LinkQuery link);
  ~TrackerManager() override;

  // Creates new trackers, keeps those whose settings are unchanged (their
  // state and schedule too), replaces changed ones, removes the rest.
  void Configure(const Config& config);
  // A link changed somewhere: re-reads every interface tracker's link.
  void OnLinkEvent();

  TrackEffect Evaluate(const std::vector<TrackRef>& track) const override;
  std::vector<TrackedStatus> Explain(
      const std::vector<TrackRef>& track) const override;
  std::vector<TrackerStatus> Status() const;

  // Runs after any tracker changed health (or a file tracker its value).
  std::function<void()> on_change;

 private:
  struct Entry;
  void OnTrackerChange(const Tracker& tracker);
  void ReadLink(Tracker& tracker);
  void Log(LogLevel level, const std::string& message) const;

  EventLoop& loop_;
  LogFn log_;
  LinkQuery link_;
  ProcessRunner runner_;
  std::map<std::string, std::unique_ptr<Entry>> trackers_;
};

// At load (start, reload, --config.check): the user of every exec tracker
// exists, and its program passes script security (when root, nobody but
// root and the run-as user can modify it or a directory above it). Errors
// name the tracker's line and the file at fault.
std::vector<ConfigError> CheckTrackerPrograms(const Config& config);

}  // namespace vrrp::sys
