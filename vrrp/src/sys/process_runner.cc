#include "vrrp/sys/process_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "vrrp/sys/event_loop.h"

namespace vrrp::sys {
namespace {

// waitid(2) idtype for a pidfd (Linux 5.4); glibc 2.36's idtype_t does not
// name it yet.
constexpr idtype_t kPidfdIdType = static_cast<idtype_t>(3);  // P_PIDFD

constexpr const char* kBasePath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string Errno(const char* what, int e) {
  return std::string(what) + ": " + std::strerror(e);
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Everything the child does between fork() and execve(): system calls only
// (async-signal-safe), because the daemon has other threads (HTTP server,
// webhook worker) whose locks may be held at the moment of fork(). Failure
// is reported through `err_fd` (close-on-exec, so a successful execve
// closes it and the parent reads EOF).
[[noreturn]] void ChildMain(char* const* argv, char* const* envp, int devnull,
                            int out_w, int err_fd, const ProcessUser* user) {
  auto fail = [err_fd](int e) {
    ssize_t n = ::write(err_fd, &e, sizeof e);
    (void)n;
    ::_exit(127);
  };
  // The daemon blocks the signals it reads through signalfd, and the mask
  // survives execve(2); so do ignored dispositions (e.g. SIGPIPE). A hook
  // must start with the defaults, or it could not be stopped by SIGTERM.
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  // Under --vrrp.realtime-priority the daemon is SCHED_RR and fork()
  // passes that on: a script that spins would share the CPU round-robin
  // with the advertisement timer. Scripts run at normal priority.
  struct sched_param normal {};
  ::sched_setscheduler(0, SCHED_OTHER, &normal);
  // A session (and so a process group) of its own: the timeout signals the
  // whole group, grandchildren included, and a terminal's signals for the
  // daemon never reach it.
  if (::setsid() < 0) fail(errno);
  if (::dup2(devnull, 0) < 0) fail(errno);
  const int out = out_w >= 0 ? out_w : devnull;
  if (::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) fail(errno);
  // Descriptors the daemon opened without O_CLOEXEC (a library's) must not
  // leak into the hook. CLOSE_RANGE_CLOEXEC (Linux 5.11) keeps err_fd
  // working until execve.
  ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  if (user != nullptr) {
    // Order matters: groups and gid while still privileged, uid last.
    if (::setgroups(user->groups.size(), user->groups.data()) < 0 ||
        ::setgid(user->gid) < 0 || ::setuid(user->uid) < 0) {
      fail(errno);
    }
  }
  if (::chdir("/") < 0) fail(errno);
  ::execve(argv[0], argv, envp);
  fail(errno);
  ::_exit(127);  // not reached
}

}  // namespace

std::string_view ToString(ProcessOutcome outcome) {
  switch (outcome) {
    case ProcessOutcome::kExited:
      return "exited";
    case ProcessOutcome::kSignaled:
      return "signaled";
    case ProcessOutcome::kTimedOut:
      return "timeout";
    case ProcessOutcome::kSpawnFailed:
      return "spawn_failed";
  }
  return "unknown";
}

std::string ProcessResult::Describe() const {
  switch (outcome) {
    case ProcessOutcome::kExited:
      return "exited " + std::to_string(exit_code);
    case ProcessOutcome::kSignaled:
      return "killed by signal " + std::to_string(signal) + " (" +
             ::strsignal(signal) + ")";
    case ProcessOutcome::kTimedOut:
      return "timed out (process group killed)";
    case ProcessOutcome::kSpawnFailed:
      return "spawn failed: " + std::string(std::strerror(spawn_errno));
  }
  return "unknown";
}

Result<ProcessUser, std::string> LookupUser(const std::string& name) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pwd{};
  passwd* found = nullptr;
  int e;
  while ((e = ::getpwnam_r(name.c_str(), &pwd, buf.data(), buf.size(),
                           &found)) == ERANGE) {
    buf.resize(buf.size() * 2);
  }
  if (e != 0) return Err(Errno(("user \"" + name + "\"").c_str(), e));
  if (found == nullptr) return Err("no such user \"" + name + "\"");
  ProcessUser user;
  user.name = name;
  user.uid = pwd.pw_uid;
  user.gid = pwd.pw_gid;
  // getgrouplist(3): returns -1 and the needed count when `n` is too small.
  int n = 32;
  user.groups.resize(n);
  while (::getgrouplist(name.c_str(), pwd.pw_gid, user.groups.data(), &n) < 0) {
    user.groups.resize(static_cast<size_t>(n) + 1);
    n = static_cast<int>(user.groups.size());
  }
  user.groups.resize(n);
  return user;
}

class ProcessRunner::Child {
 public:
  Id id = 0;
  pid_t pid = -1;
  int pidfd = -1;
  int out_fd = -1;  // read end of stdout/stderr, -1 when not captured
  int err_fd = -1;  // read end of the exec-error pipe
  TimePoint started{};
  size_t max_output = 0;
  bool timed_out = false;
  bool grace_pending = false;
  ProcessResult result;
  Done done;
  std::unique_ptr<Timer> timeout;
  std::unique_ptr<Timer> grace;

  void DrainOutput(EventLoop& loop) {
    if (out_fd < 0) return;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(out_fd, buf, sizeof buf);
      if (n > 0) {
        const size_t room =
            max_output - std::min(max_output, result.output.size());
        const size_t keep = std::min(room, static_cast<size_t>(n));
        result.output.append(buf, keep);
        if (keep < static_cast<size_t>(n)) result.output_truncated = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || errno != EAGAIN) {
        // EOF (every writer gone) or an error: stop watching.
        loop.UnwatchFd(out_fd);
        CloseFd(out_fd);
      }
      return;
    }
  }

  void KillGroup(int sig) const {
    // kill(2) with -pgid: the child is the leader of its own group (setsid),
    // and the kernel does not reuse a PID while it names a live group, so
    // this reaches the right processes even after the leader was reaped.
    ::kill(-pid, sig);
    // Right after fork() the child may not have called setsid() yet, and
    // then its group does not exist; the child itself is still reachable.
    ::kill(pid, sig);
  }

  void CloseAll(EventLoop& loop) {
    if (pidfd >= 0) loop.UnwatchFd(pidfd);
    if (out_fd >= 0) loop.UnwatchFd(out_fd);
    CloseFd(pidfd);
    CloseFd(out_fd);
    CloseFd(err_fd);
    timeout.reset();
    grace.reset();
  }
};

ProcessRunner::ProcessRunner(EventLoop& loop, Duration kill_grace)
    : loop_(loop),
      kill_grace_(kill_grace),
      alive_(std::make_shared<bool>(true)) {}

ProcessRunner::~ProcessRunner() {
  *alive_ = false;
  for (auto& child : children_) {
    child->KillGroup(SIGKILL);
    siginfo_t info{};
    // Blocking, but only for a process that has just been sent SIGKILL.
    while (::waitid(kPidfdIdType, static_cast<id_t>(child->pidfd), &info,
                    WEXITED) < 0 &&
           errno == EINTR) {
    }
    child->CloseAll(loop_);
  }
}

size_t ProcessRunner::running() const { return children_.size(); }

std::optional<pid_t> ProcessRunner::pid(Id id) const {
  for (const auto& c : children_) {
    if (c->id == id) return c->pid;
  }
  return std::nullopt;
}

ProcessRunner::Id ProcessRunner::Run(ProcessSpec spec, Done done) {
  const Id id = next_id_++;
  const TimePoint started = loop_.Now();
  auto fail_async = [this, id, &done](int e) {
    ProcessResult r;
    r.outcome = ProcessOutcome::kSpawnFailed;
    r.spawn_errno = e;
    loop_.Post([alive = alive_, done = std::move(done), r]() mutable {
      if (*alive && done) done(r);
    });
    return id;
  };
  if (spec.argv.empty() || spec.argv[0].empty()) return fail_async(ENOENT);

  // execve(2) takes NULL-terminated arrays of C strings; `spec` owns them.
  std::vector<char*> argv;
  for (auto& a : spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string base_path = kBasePath;
  std::vector<char*> envp{base_path.data()};
  for (auto& e : spec.env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return fail_async(errno);
  int err_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  auto close_pipes = [&] {
    CloseFd(devnull);
    CloseFd(err_pipe[0]);
    CloseFd(err_pipe[1]);
    CloseFd(out_pipe[0]);
    CloseFd(out_pipe[1]);
  };
  if (::pipe2(err_pipe, O_CLOEXEC) < 0 ||
      (spec.max_output > 0 && ::pipe2(out_pipe, O_CLOEXEC) < 0)) {
    const int e = errno;
    close_pipes();
    return fail_async(e);
  }

  const ProcessUser* user = spec.user ? &*spec.user : nullptr;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    close_pipes();
    return fail_async(e);
  }
  if (pid == 0) {
    ChildMain(argv.data(), envp.data(), devnull, out_pipe[1], err_pipe[1],
              user);
  }
  CloseFd(devnull);
  CloseFd(err_pipe[1]);
  CloseFd(out_pipe[1]);

  auto child = std::make_unique<Child>();
  child->id = id;
  child->pid = pid;
  child->started = started;
  child->max_output = spec.max_output;
  child->done = std::move(done);
  child->err_fd = err_pipe[0];
  child->out_fd = out_pipe[0];
  // Nobody else reaps our children (the daemon never ignores SIGCHLD), so
  // `pid` still names this child here and the pidfd cannot race.
  child->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (child->pidfd < 0) {
    const int e = errno;
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
    child->CloseAll(loop_);
    return fail_async(e);
  }
  ::fcntl(child->err_fd, F_SETFL, O_NONBLOCK);
  if (child->out_fd >= 0) {
    ::fcntl(child->out_fd, F_SETFL, O_NONBLOCK);
    Child* c = child.get();
    if (!loop_.WatchFd(c->out_fd, [this, c] { c->DrainOutput(loop_); }).ok()) {
      CloseFd(c->out_fd);
    }
  }
  // A pidfd is readable once the process has exited (pidfd_open(2)).
  if (auto w = loop_.WatchFd(child->pidfd, [this, id] { Finish(id); });
      !w.ok()) {
    child->KillGroup(SIGKILL);
    siginfo_t info{};
    ::waitid(kPidfdIdType, static_cast<id_t>(child->pidfd), &info, WEXITED);
    child->CloseAll(loop_);
    return fail_async(EMFILE);
  }
  Child* c = child.get();
  c->timeout = loop_.CreateTimer([this, c] {
    c->timed_out = true;
    if (kill_grace_ <= Duration::zero()) {
      c->KillGroup(SIGKILL);
      return;
    }
    c->KillGroup(SIGTERM);
    c->grace_pending = true;
    c->grace->ArmAt(loop_.Now() + kill_grace_);
  });
  c->grace = loop_.CreateTimer([c] {
    c->grace_pending = false;
    c->KillGroup(SIGKILL);
  });
  c->timeout->ArmAt(started + spec.timeout);
  children_.push_back(std::move(child));
  return id;
}

void ProcessRunner::Finish(Id id) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [id](const auto& c) { return c->id == id; });
  if (it == children_.end()) return;
  Child& c = **it;
  siginfo_t info{};
  if (::waitid(kPidfdIdType, static_cast<id_t>(c.pidfd), &info,
               WEXITED | WNOHANG) < 0 ||
      info.si_pid == 0) {
    return;  // not exited after all (spurious wake-up)
  }
  // A timed-out child that exited within the grace period may have left
  // members of its group behind; they had their SIGTERM.
  if (c.timed_out) c.KillGroup(SIGKILL);
  c.DrainOutput(loop_);
  ProcessResult& r = c.result;
  r.duration = loop_.Now() - c.started;
  int exec_errno = 0;
  if (::read(c.err_fd, &exec_errno, sizeof exec_errno) ==
      static_cast<ssize_t>(sizeof exec_errno)) {
    r.outcome = ProcessOutcome::kSpawnFailed;
    r.spawn_errno = exec_errno;
  } else if (c.timed_out) {
    r.outcome = ProcessOutcome::kTimedOut;
    r.signal = info.si_code == CLD_EXITED ? 0 : info.si_status;
    r.exit_code = info.si_code == CLD_EXITED ? info.si_status : 0;
  } else if (info.si_code == CLD_EXITED) {
    r.outcome = ProcessOutcome::kExited;
    r.exit_code = info.si_status;
  } else {
    r.outcome = ProcessOutcome::kSignaled;
    r.signal = info.si_status;
  }
  c.CloseAll(loop_);
  Done done = std::move(c.done);
  ProcessResult result = std::move(c.result);
  children_.erase(it);  // before `done`, which may Run() again
  if (done) done(result);
}

void ProcessRunner::Cancel(Id id) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [id](const auto& c) { return c->id == id; });
  if (it == children_.end()) return;
  Child& c = **it;
  c.KillGroup(SIGKILL);
  siginfo_t info{};
  while (::waitid(kPidfdIdType, static_cast<id_t>(c.pidfd), &info, WEXITED) <
             0 &&
         errno == EINTR) {
  }
  c.CloseAll(loop_);
  children_.erase(it);
}

}  // namespace vrrp::sys
