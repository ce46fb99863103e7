#pragma once

// Runs external programs (notify hooks, tracker checks) from the event loop
// without ever blocking it: fork + execve of an argv (no shell), each child
// in a session and process group of its own, reaped through a pidfd
// (pidfd_open(2), Linux 5.3+) that the loop watches, bounded by a timeout
// that signals the whole process group.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrp/result.h"
#include "vrrp/time.h"

namespace vrrp::sys {

class EventLoop;

// Who a program runs as. Resolved once (configuration load) so the child
// only makes system calls: initgroups(3) reads /etc/group and is not
// async-signal-safe, so the supplementary groups are looked up here with
// getgrouplist(3) and set in the child with setgroups(2).
struct ProcessUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, including gid
};

// getpwnam_r + getgrouplist. Errors name the user.
Result<ProcessUser, std::string> LookupUser(const std::string& name);

enum class ProcessOutcome : uint8_t {
  kExited,       // exit_code is set
  kSignaled,     // signal is set; not by us
  kTimedOut,     // we signalled its group at the timeout; signal is set
  kSpawnFailed,  // spawn_errno is set; nothing ran (or exec failed)
};
std::string_view ToString(ProcessOutcome outcome);

struct ProcessResult {
  ProcessOutcome outcome = ProcessOutcome::kSpawnFailed;
  int exit_code = 0;
  int signal = 0;
  int spawn_errno = 0;
  Duration duration{0};  // spawn to reaping, on the loop's clock
  // stdout and stderr, interleaved as written, up to ProcessSpec::max_output.
  std::string output;
  bool output_truncated = false;

  bool succeeded() const {
    return outcome == ProcessOutcome::kExited && exit_code == 0;
  }
  // "exited 0", "killed by signal 9", "timed out", "spawn failed: ...".
  std::string Describe() const;
};

struct ProcessSpec {
  // argv[0] is the program's path, executed as is (execve(2): no PATH
  // search and no shell, so arguments are never re-split or expanded).
  std::vector<std::string> argv;
  // Extra "NAME=value" entries on top of a minimal fixed environment
  // (PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin): the
  // daemon's own environment is not passed on.
  std::vector<std::string> env;
  std::optional<ProcessUser> user;  // nullopt: the daemon's own identity
  Duration timeout = std::chrono::seconds(10);
  // How much of stdout+stderr to keep; the rest is read and discarded so
  // a chatty child never blocks on a full pipe. 0: both go to /dev/null.
  size_t max_output = 4096;
};

class ProcessRunner {
 public:
  using Done = std::function<void(const ProcessResult&)>;
  using Id = uint64_t;

  // `kill_grace`: at the timeout the child's process group gets SIGTERM, and
  // SIGKILL `kill_grace` later (or as soon as the child itself exits, so
  // nothing it started outlives the report). Zero: SIGKILL at once.
  explicit ProcessRunner(EventLoop& loop,
                         Duration kill_grace = std::chrono::seconds(1));
  // SIGKILLs the process group of every child still running and reaps the
  // children (no callbacks run).
  ~ProcessRunner();
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  // Starts `spec`. `done` runs exactly once, on the loop thread, never from
  // inside Run() (a spawn failure is posted), unless the runner is
  // destroyed first or Cancel() is called.
  Id Run(ProcessSpec spec, Done done);

  // Kills the process group of `id` now (SIGKILL) and drops its callback.
  void Cancel(Id id);

  size_t running() const;
  // The child's PID (its process group too) while it runs, for logs/tests.
  std::optional<pid_t> pid(Id id) const;

  class Child;

 private:
  void Finish(Id id);

  EventLoop& loop_;
  Duration kill_grace_;
  Id next_id_ = 1;
  std::vector<std::unique_ptr<Child>> children_;
  // Shared with posted spawn failures, which must not run after we are gone.
  std::shared_ptr<bool> alive_;
};

}  // namespace vrrp::sys
