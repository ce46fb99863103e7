#pragma once

// The Linux side of the trackers: one Checker per tracker type (see
// vrrp/tracker.h). None of them blocks the event loop:
// - exec runs through ProcessRunner (fork/exec, own process group, pidfd);
// - http (libcurl, loaded by the first check: sys/curl_library.h), tcp
//   (connect), file and process (/proc) run on a worker thread of their
//   own and post the result to the loop; the Tracker's timeout on the loop
//   bounds them whatever the worker does.
// - interface trackers have no checker: netlink link events feed them.

#include <memory>
#include <optional>
#include <string>

#include "vrrp/config.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/process_runner.h"
#include "vrrp/sys/script_security.h"
#include "vrrp/tracker.h"

namespace vrrp::sys {

// The check a tracker's worker thread runs, exposed for tests.
CheckOutcome RunHttpCheck(const TrackerConfig& config);
CheckOutcome RunTcpCheck(const TrackerConfig& config);
CheckOutcome RunFileCheck(const TrackerConfig& config);
CheckOutcome RunProcessCheck(const TrackerConfig& config);

// A checker for `config` (exec, http, tcp, file, process); nullptr for
// interface trackers. `user` is who exec checks run as (nullopt: the
// daemon's own identity), resolved by the caller.
std::unique_ptr<Checker> MakeChecker(const TrackerConfig& config,
                                     EventLoop& loop, ProcessRunner& runner,
                                     std::optional<ProcessUser> user);

}  // namespace vrrp::sys
