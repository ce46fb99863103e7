#include "integration/lab.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vrrp::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// ---------------------------------------------------------------------------
// Process-wide cleanup of what the harness started.
//
// Process groups live in a fixed array of atomics so the signal handler can
// walk it without locks or allocation. The handler kills the groups and then
// hands the signal on to whatever handler was installed before ours (the
// namespace cleanup of sys/netns.cc, or the default action).

constexpr int kMaxGroups = 1024;
std::array<std::atomic<pid_t>, kMaxGroups> g_groups{};
struct sigaction g_previous[NSIG];

std::mutex g_dirs_mu;
std::set<std::string>& LabDirs() {
  static auto* dirs = new std::set<std::string>;  // never destroyed: atexit
  return *dirs;
}

bool KeepLab() { return std::getenv("VX_KEEP_LAB") != nullptr; }

void KillAllGroups() {
  for (auto& g : g_groups) {
    pid_t p = g.load();
    if (p > 0) (void)kill(-p, SIGKILL);
  }
}

void RegisterGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = 0;
    if (g.compare_exchange_strong(expected, pgid)) return;
  }
  // Not fatal for the test itself, but it would leak on a crash: say so.
  std::fprintf(stderr, "lab: more than %d live processes; %d not registered\n",
               kMaxGroups, static_cast<int>(pgid));
}

void UnregisterGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = pgid;
    if (g.compare_exchange_strong(expected, 0)) return;
  }
}

void RemoveLabDirs() {
  if (KeepLab()) return;
  for (const auto& d : LabDirs()) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
  }
  LabDirs().clear();
}

void AtExit() {
  KillAllGroups();
  std::lock_guard<std::mutex> l(g_dirs_mu);
  RemoveLabDirs();
}

void OnFatalSignal(int sig) {
  // Killing is async-signal-safe; the rest is not, but it is what the
  // namespace cleanup of sys/netns.cc already does from its handler, and the
  // process is about to die anyway. try_lock: never wait on a lock the
  // interrupted code may hold.
  KillAllGroups();
  if (g_dirs_mu.try_lock()) {
    RemoveLabDirs();
    g_dirs_mu.unlock();
  }
  // SIGPIPE (`test | head`) is not among the signals sys/netns.cc handles.
  if (sig == SIGPIPE) DeleteAllNetNs();
  // Re-raised while blocked in this handler, so it is delivered to the
  // previous handler as soon as we return.
  sigaction(sig, &g_previous[sig], nullptr);
  raise(sig);
}

void InstallCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Daemons fork: when one is killed, its children are re-parented. As a
    // subreaper they come to us, so we can reap them and "gone" means gone,
    // instead of lingering as zombies until the host's init gets to them.
    (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::atexit(AtExit);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGPIPE}) {
      sigaction(sig, nullptr, &g_previous[sig]);
      // Keep an inherited "ignore" (nohup): the test is not meant to die.
      if (g_previous[sig].sa_handler == SIG_IGN) continue;
      struct sigaction sa {};
      sa.sa_handler = OnFatalSignal;
      sigemptyset(&sa.sa_mask);
      sigaction(sig, &sa, nullptr);
    }
  });
}

void Must(int rc, const std::string& what) {
  if (rc != 0) {
    throw std::runtime_error("lab: `" + what + "` failed (" +
                             std::to_string(rc) + ")");
  }
}

std::string IfName(const char* prefix, int i) {
  return prefix + std::to_string(i);
}

// Interface flags of `ifname` in `ns` ("BROADCAST,MULTICAST,UP,LOWER_UP").
std::string LinkFlags(const NetNs& ns, const std::string& ifname) {
  std::string out = ShOut("ip -n " + ns.name() + " -o link show dev " + ifname +
                          " 2>/dev/null");
  size_t open = out.find('<'), close = out.find('>');
  if (open == std::string::npos || close == std::string::npos) return "";
  return "," + out.substr(open + 1, close - open - 1) + ",";
}

bool HasCarrier(const NetNs& ns, const std::string& ifname) {
  return LinkFlags(ns, ifname).find(",LOWER_UP,") != std::string::npos;
}

bool PortForwarding(const NetNs& sw, const std::string& port) {
  std::string out = ShOut("bridge -n " + sw.name() + " link show dev " + port +
                          " 2>/dev/null");
  return out.find("state forwarding") != std::string::npos;
}

// Prints the end of every log in the lab directory: on a failed test this is
// usually where the reason is.
void DumpLogs(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".log") continue;
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(e.path()));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    constexpr size_t kTail = 40;
    size_t from = lines.size() > kTail ? lines.size() - kTail : 0;
    std::fprintf(stderr, "----- %s (last %zu of %zu lines) -----\n",
                 e.path().c_str(), lines.size() - from, lines.size());
    for (size_t i = from; i < lines.size(); ++i) {
      std::fprintf(stderr, "%s\n", lines[i].c_str());
    }
  }
}

// Both sides parsed with inet_pton, so "2001:db8::0200" == "2001:db8::200".
bool SameAddress(const std::string& a, const std::string& b) {
  unsigned char x[16], y[16];
  for (int af : {AF_INET, AF_INET6}) {
    if (inet_pton(af, a.c_str(), x) == 1 && inet_pton(af, b.c_str(), y) == 1) {
      return std::memcmp(x, y, af == AF_INET ? 4 : 16) == 0;
    }
  }
  return a == b;
}

std::string StripPrefixLength(const std::string& s) {
  return s.substr(0, s.find('/'));
}

// The usable (non-tentative) fe80:: address of eth0 in `ns`, "" if none.
std::string LinkLocalOf(const NetNs& ns) {
  std::istringstream in(
      ShOut("ip -n " + ns.name() + " -6 -o addr show dev eth0 scope link"));
  for (std::string line; std::getline(in, line);) {
    if (line.find("tentative") != std::string::npos) continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      if (w == "inet6" && words >> w) return StripPrefixLength(w);
    }
  }
  return "";
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// What the child reports through the close-on-exec pipe when it cannot get
// as far as exec.
struct ChildError {
  int stage;
  int err;
};
constexpr const char* kStages[] = {
    "prctl(PR_SET_PDEATHSIG)",
    "setns(CLONE_NEWNET)",
    "unshare(CLONE_NEWNS)",
    "mount --make-rslave /",
    "umount /sys",
    "mount sysfs on /sys",
    "dup2",
    "execvp",
};

[[noreturn]] void ChildFail(int pipe_fd, int stage) {
  ChildError e{stage, errno};
  (void)!write(pipe_fd, &e, sizeof e);
  _exit(127);
}

// Runs in the forked child of a possibly multi-threaded process: only
// async-signal-safe calls until exec, no allocation.
[[noreturn]] void ChildMain(pid_t parent, int ns_fd, const char* ns_name,
                            int null_fd, int log_fd, int pipe_fd,
                            char* const* argv, char* const* envp) {
  // Own group, so one kill(-pgid) reaches the daemon and what it forks.
  setpgid(0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(pipe_fd, 0);
  if (getppid() != parent) _exit(127);  // The test died before prctl.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);

  if (setns(ns_fd, CLONE_NEWNET) != 0) ChildFail(pipe_fd, 1);
  // As `ip netns exec` does: a private mount namespace whose /sys shows
  // this network namespace's interfaces.
  if (unshare(CLONE_NEWNS) != 0) ChildFail(pipe_fd, 2);
  if (mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0) {
    ChildFail(pipe_fd, 3);
  }
  if (umount2("/sys", MNT_DETACH) != 0) ChildFail(pipe_fd, 4);
  if (mount(ns_name, "/sys", "sysfs", 0, nullptr) != 0) ChildFail(pipe_fd, 5);

  if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
    ChildFail(pipe_fd, 6);
  }
  execvpe(argv[0], argv, envp);
  ChildFail(pipe_fd, 7);
}

struct Member {
  pid_t pid;
  pid_t ppid;
  char state;  // as in /proc/PID/stat: 'Z' for a zombie
};

// Members of process group `pgid`, from /proc.
std::vector<Member> GroupMembers(pid_t pgid) {
  std::vector<Member> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::string stat = ReadFile("/proc/" + std::string(e->d_name) + "/stat");
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses.
    size_t rparen = stat.rfind(')');
    if (rparen == std::string::npos) continue;
    std::istringstream in(stat.substr(rparen + 1));
    char state;
    long ppid, pgrp;
    if (!(in >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'X') {
      out.push_back({static_cast<pid_t>(pid), static_cast<pid_t>(ppid), state});
    }
  }
  closedir(d);
  return out;
}

// Reaps the dead members of `pgid` that were orphaned to us (we are a child
// subreaper) and returns the members still there, except `leader`, whose
// zombie Process keeps on purpose.
std::vector<Member> SweepGroup(pid_t pgid, pid_t leader) {
  std::vector<Member> left;
  for (const Member& m : GroupMembers(pgid)) {
    if (m.pid == leader) continue;
    if (m.state == 'Z' && m.ppid == getpid() &&
        waitpid(m.pid, nullptr, WNOHANG) == m.pid) {
      continue;
    }
    left.push_back(m);
  }
  return left;
}

}  // namespace

// ---------------------------------------------------------------------------
// Lab

Lab::Lab(int nodes, bool with_client) {
  if (geteuid() != 0) {
    throw std::runtime_error("lab: needs root (network namespaces)");
  }
  if (nodes < 1 || nodes > 80) {
    throw std::runtime_error("lab: 1..80 nodes, not " + std::to_string(nodes));
  }
  char tmpl[] = "/tmp/vx-lab-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    throw std::runtime_error(std::string("lab: mkdtemp: ") +
                             std::strerror(errno));
  }
  dir_ = tmpl;
  {
    std::lock_guard<std::mutex> l(g_dirs_mu);
    LabDirs().insert(dir_);
  }
  try {
    sw_ = std::make_unique<NetNs>("sw");
    // After the first NetNs, so our atexit cleanup (kill processes) runs
    // before the namespace cleanup of sys/netns.cc (atexit is LIFO).
    InstallCleanup();
    // No STP, so ports forward as soon as they are up; no multicast
    // snooping, so all multicast (VRRP advertisements, IPv6 neighbour
    // discovery) is flooded to every port whatever IGMP/MLD said or did not.
    Must(sw_->Ip("link add br0 type bridge stp_state 0 mcast_snooping 0"),
         "create br0");
    // The switch takes no part in IPv6: keeps its RS/MLD out of captures.
    sw_->Exec("sysctl -qw net.ipv6.conf.br0.disable_ipv6=1");
    Must(sw_->Ip("link set br0 up"), "br0 up");

    auto attach = [&](NetNs& host, const std::string& port,
                      const std::string& v4, const std::string& v6) {
      Veth(host, "eth0", *sw_, port);
      sw_->Exec("sysctl -qw net.ipv6.conf." + port + ".disable_ipv6=1");
      Must(sw_->Ip("link set " + port + " master br0"), port + " master br0");
      Must(host.Ip("addr add " + v4 + "/24 dev eth0"), v4 + " on eth0");
      Must(host.Ip("addr add " + v6 + "/64 dev eth0 nodad"), v6 + " on eth0");
    };
    for (int i = 1; i <= nodes; ++i) {
      nodes_.push_back(std::make_unique<NetNs>(IfName("n", i)));
      attach(*nodes_.back(), IfName("sw", i), NodeAddress(i, Family::kIpv4),
             NodeAddress(i, Family::kIpv6));
    }
    if (with_client) {
      client_ = std::make_unique<NetNs>("cl");
      attach(*client_, "swc", ClientAddress(Family::kIpv4),
             ClientAddress(Family::kIpv6));
    }

    // Ready means: every port forwards and every host has its link-local
    // (needed for IPv6 VRRP, which advertises from it).
    auto ready_host = [&](const NetNs& host, const std::string& port) {
      return !LinkLocalOf(host).empty() && PortForwarding(*sw_, port);
    };
    bool ready = WaitUntil(
        [&] {
          for (int i = 1; i <= this->nodes(); ++i) {
            if (!ready_host(*nodes_[i - 1], IfName("sw", i))) return false;
          }
          return !client_ || ready_host(*client_, "swc");
        },
        5s, 10ms);
    if (!ready) {
      throw std::runtime_error(
          "lab: ports not forwarding or no IPv6 link-local after 5 s");
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> l(g_dirs_mu);
      LabDirs().erase(dir_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

Lab::~Lab() {
  if (::testing::Test::HasFailure()) DumpLogs(dir_);
  client_.reset();
  nodes_.clear();
  sw_.reset();
  std::lock_guard<std::mutex> l(g_dirs_mu);
  LabDirs().erase(dir_);
  if (KeepLab()) {
    std::fprintf(stderr, "lab: kept %s (VX_KEEP_LAB)\n", dir_.c_str());
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

const NetNs& Lab::node(int i) const {
  if (i < 1 || i > nodes()) {
    throw std::out_of_range("lab: no node " + std::to_string(i));
  }
  return *nodes_[i - 1];
}

const NetNs& Lab::client() const {
  if (!client_) throw std::logic_error("lab: built without a client");
  return *client_;
}

std::string Lab::NodeAddress(int i, Family family) {
  return (family == Family::kIpv4 ? "192.0.2." : "2001:db8::") +
         std::to_string(10 + i);
}

std::string Lab::ClientAddress(Family family) {
  return family == Family::kIpv4 ? "192.0.2.100" : "2001:db8::100";
}

std::string Lab::LinkLocal(int i) const { return LinkLocalOf(node(i)); }

void Lab::CutLink(int i) {
  const std::string port = IfName("sw", i);
  Must(sw_->Ip("link set " + port + " down"), port + " down");
  if (!WaitUntil([&] { return !HasCarrier(node(i), "eth0"); }, 5s, 5ms)) {
    throw std::runtime_error("lab: n" + std::to_string(i) +
                             " still has carrier 5 s after " + port + " down");
  }
}

void Lab::RestoreLink(int i) {
  const std::string port = IfName("sw", i);
  Must(sw_->Ip("link set " + port + " up"), port + " up");
  if (!WaitUntil(
          [&] {
            return HasCarrier(node(i), "eth0") && PortForwarding(*sw_, port);
          },
          5s, 5ms)) {
    throw std::runtime_error("lab: n" + std::to_string(i) +
                             " has no carrier 5 s after " + port + " up");
  }
}

// ---------------------------------------------------------------------------
// Process

std::unique_ptr<Process> Process::Start(const NetNs& ns,
                                        std::vector<std::string> argv,
                                        const std::string& log_path,
                                        std::vector<std::string> extra_env) {
  if (argv.empty()) throw std::invalid_argument("Process::Start: empty argv");
  InstallCleanup();
  const std::string what = "Process::Start(" + argv[0] + " in " + ns.name();

  const std::string ns_path = "/var/run/netns/" + ns.name();
  Fd ns_fd(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns_fd.get() < 0) {
    throw std::runtime_error(what + "): open " + ns_path + ": " +
                             std::strerror(errno));
  }
  Fd log_fd(
      open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0) {
    throw std::runtime_error(what + "): open " + log_path + ": " +
                             std::strerror(errno));
  }
  Fd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int p[2];
  if (null_fd.get() < 0 || pipe2(p, O_CLOEXEC) != 0) {
    throw std::runtime_error(what + "): " + std::strerror(errno));
  }
  Fd pipe_r(p[0]), pipe_w(p[1]);

  // Everything the child needs is built before fork: it must not allocate.
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('=') + 1);
    bool overridden =
        std::any_of(extra_env.begin(), extra_env.end(),
                    [&](const std::string& x) { return x.rfind(key, 0) == 0; });
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error(what + "): fork: " + std::strerror(errno));
  }
  if (pid == 0) {
    ChildMain(parent, ns_fd.get(), ns.name().c_str(), null_fd.get(),
              log_fd.get(), pipe_w.get(), cargv.data(), cenv.data());
  }
  // Also from here, so the group exists before anyone signals it (whichever
  // of the two calls runs first wins; the other fails harmlessly).
  (void)setpgid(pid, pid);
  RegisterGroup(pid);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  std::unique_ptr<Process> proc(new Process(pid, pidfd));

  // EOF means exec succeeded (the pipe is close-on-exec).
  pipe_w.reset();
  ChildError err{};
  ssize_t n;
  do {
    n = read(pipe_r.get(), &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof err) {
    throw std::runtime_error(what + "): " + kStages[err.stage] + ": " +
                             std::strerror(err.err));
  }
  return proc;
}

Process::~Process() {
  // The leader is never reaped before this point (Poll uses WNOWAIT), so
  // pid_ still names our group and cannot have been reused.
  (void)kill(-pid_, SIGKILL);
  if (!WaitUntil([&] { return SweepGroup(pid_, pid_).empty(); }, 5s, 5ms)) {
    std::fprintf(stderr, "lab: process group %d survived SIGKILL for 5 s\n",
                 static_cast<int>(pid_));
  }
  UnregisterGroup(pid_);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (pidfd_ >= 0) close(pidfd_);
}

void Process::Signal(int sig) const { (void)kill(pid_, sig); }

void Process::SignalGroup(int sig) const { (void)kill(-pid_, sig); }

bool Process::Poll() {
  if (status_) return true;
  siginfo_t info{};
  // WNOWAIT: the zombie keeps pid_ (and our process group id) reserved until
  // the destructor, so signals can never hit a recycled PID.
  if (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid_) {
    return false;
  }
  status_ = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  return true;
}

bool Process::Running() { return !Poll(); }

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!Poll()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left <= 0ms) return std::nullopt;
    if (pidfd_ >= 0) {
      // Readable once the process has exited.
      pollfd pfd{pidfd_, POLLIN, 0};
      (void)poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    } else {
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(left, 5ms));
    }
  }
  return status_;
}

void Process::KillGroup() {
  SignalGroup(SIGKILL);
  if (!Wait(5s) ||
      !WaitUntil([&] { return SweepGroup(pid_, pid_).empty(); }, 5s, 5ms)) {
    throw std::runtime_error("lab: process group " + std::to_string(pid_) +
                             " still alive 5 s after SIGKILL");
  }
}

std::vector<pid_t> Process::GroupPids() const {
  std::vector<pid_t> out;
  for (const Member& m : GroupMembers(pid_)) {
    if (m.state != 'Z') out.push_back(m.pid);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Helpers

bool HasAddress(const NetNs& ns, const std::string& ifname,
                const std::string& address) {
  const std::string want = StripPrefixLength(address);
  std::istringstream in(ShOut("ip -n " + ns.name() + " -o addr show dev " +
                              ifname + " 2>/dev/null"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      if ((w == "inet" || w == "inet6") && words >> w) {
        if (SameAddress(StripPrefixLength(w), want)) return true;
        break;
      }
    }
  }
  return false;
}

bool WaitUntil(const std::function<bool()>& cond,
               std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(step);
  }
  return cond();
}

bool Ping(const NetNs& from, const std::string& address,
          std::chrono::milliseconds timeout) {
  const bool v6 = address.find(':') != std::string::npos;
  const std::string cmd = "ip netns exec " + from.name() + " ping " +
                          (v6 ? "-6 " : "") + "-n -q -c 1 -W 1 " + address +
                          " >/dev/null 2>&1";
  return WaitUntil([&] { return Sh(cmd) == 0; }, timeout, 50ms);
}

std::string Curl(const NetNs& ns, const std::string& args) {
  return ShOut("ip netns exec " + ns.name() + " curl -s -m 5 " + args);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int CountLines(const std::string& path, const std::string& substring) {
  std::istringstream in(ReadFile(path));
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(substring) != std::string::npos) ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------
// Keepalived

std::string KeepalivedInstance::Text() const {
  std::ostringstream s;
  s << "vrrp_instance " << name << " {\n"
    << "    state " << state << "\n"
    << "    interface " << interface << "\n"
    << "    virtual_router_id " << vrid << "\n"
    << "    priority " << priority << "\n"
    << "    advert_int " << advert_int << "\n"
    << "    version " << version << "\n";
  if (nopreempt) s << "    nopreempt\n";
  if (!auth_pass.empty()) {
    s << "    authentication {\n"
      << "        auth_type PASS\n"
      << "        auth_pass " << auth_pass << "\n"
      << "    }\n";
  }
  if (!unicast_src.empty()) s << "    unicast_src_ip " << unicast_src << "\n";
  if (!unicast_peers.empty()) {
    s << "    unicast_peer {\n";
    for (const auto& p : unicast_peers) s << "        " << p << "\n";
    s << "    }\n";
  }
  s << "    virtual_ipaddress {\n";
  for (const auto& v : vips) s << "        " << v << "\n";
  s << "    }\n"
    << "}\n";
  return s.str();
}

std::string KeepalivedGlobalDefs(const std::string& router_id,
                                 const std::string& extra) {
  std::string s = "global_defs {\n    router_id " + router_id +
                  "\n"
                  "    enable_script_security\n"
                  "    script_user root\n"
                  "    vrrp_garp_master_delay 0\n";
  if (!extra.empty()) s += extra + (extra.back() == '\n' ? "" : "\n");
  return s + "}\n";
}

std::string KeepalivedConfig(const std::string& router_id,
                             const std::vector<KeepalivedInstance>& instances) {
  std::string s = KeepalivedGlobalDefs(router_id);
  for (const auto& i : instances) s += "\n" + i.Text();
  return s;
}

std::unique_ptr<Keepalived> Keepalived::Start(const Lab& lab, int node,
                                              const std::string& config_text) {
  const NetNs& ns = lab.node(node);
  const std::string base = lab.dir() + "/keepalived-n" + std::to_string(node);
  std::unique_ptr<Keepalived> k(new Keepalived);
  k->config_path_ = base + ".conf";
  k->log_path_ = base + ".log";
  {
    std::ofstream out(k->config_path_);
    out << config_text;
    if (!out.flush()) {
      throw std::runtime_error("keepalived: cannot write " + k->config_path_);
    }
  }
  // A config keepalived rejects would otherwise only show up as "the VIP
  // never came": check it first, inside the node so interfaces resolve.
  const std::string check_log = base + "-check.out";
  if (ns.Exec("keepalived -t -f " + k->config_path_ + " >" + check_log +
              " 2>&1") != 0) {
    throw std::runtime_error("keepalived: " + k->config_path_ +
                             " rejected by `keepalived -t`:\n" +
                             ReadFile(check_log));
  }
  // -n: stay in the foreground, so our PID is keepalived's parent process;
  // -l -D -G: detailed log on stdout/stderr (our log file), none to syslog;
  // per-node PID files, or the second keepalived would find the first.
  k->process_ = Process::Start(
      ns,
      {"keepalived", "-n", "-D", "-l", "-G", "-f", k->config_path_, "-p",
       base + ".pid", "-r", base + "-vrrp.pid", "-c", base + "-checkers.pid"},
      k->log_path_);
  return k;
}

std::optional<int> Keepalived::Stop(std::chrono::milliseconds timeout) {
  process_->Signal(SIGTERM);
  return process_->Wait(timeout);
}

}  // namespace vrrp::testing
