// Proves the integration harness (lab.h) with two real Keepalived 2.2.7
// nodes: VIP ownership, client reachability, failover after a crash, and
// that nothing the harness creates outlives it on any exit path.

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/lab.h"
#include "sys/netns.h"

namespace vrrp::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

class KeepalivedLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
    ASSERT_EQ(Sh("command -v keepalived >/dev/null"), 0)
        << "keepalived is not installed";
  }
};

// n1 (priority 100) and n2 (priority 200) share one VRRPv3 instance with a
// 1 s interval. n2 must own the VIP alone; after it crashes and loses its
// link, n1 must take the VIP over and the client must reach it there.
void FailoverScenario(const std::string& vip, int prefix_length) {
  Lab lab(2);
  KeepalivedInstance vi;
  vi.vrid = 51;
  vi.version = 3;
  vi.advert_int = "1";
  vi.vips = {vip + "/" + std::to_string(prefix_length)};
  // n2 first: both start as Backup and the first whose Master_Down_Interval
  // ends takes over; started the other way round, n1 would have only ~390 ms
  // (its longer Skew_Time) to spare for n2's config check and start-up.
  vi.priority = 200;
  auto k2 = Keepalived::Start(lab, 2, KeepalivedConfig("n2", {vi}));
  vi.priority = 100;
  auto k1 = Keepalived::Start(lab, 1, KeepalivedConfig("n1", {vi}));

  // Master_Down_Interval for priority 200 at 1 s is about 3.2 s.
  auto start = Clock::now();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return HasAddress(lab.node(2), "eth0", vip) &&
               !HasAddress(lab.node(1), "eth0", vip);
      },
      10s))
      << vip << " not on n2 alone within 10 s (n1 has it: "
      << HasAddress(lab.node(1), "eth0", vip)
      << ", n2 has it: " << HasAddress(lab.node(2), "eth0", vip) << ")";
  std::printf("  %s on n2 after %.2f s\n", vip.c_str(), Seconds(start));
  ASSERT_TRUE(Ping(lab.client(), vip, 5s))
      << "client cannot ping " << vip << " on n2";
  EXPECT_GE(CountLines(k2->log_path(), "Entering MASTER STATE"), 1);
  EXPECT_EQ(CountLines(k1->log_path(), "Entering MASTER STATE"), 0);
  EXPECT_TRUE(k1->process().Running());

  // A crash: keepalived and its VRRP child die at once and nobody removes
  // the VIP from n2, so n2 is also cut off, as a dead host would be.
  k2->Crash();
  EXPECT_TRUE(HasAddress(lab.node(2), "eth0", vip))
      << "expected keepalived to leave " << vip << " behind on SIGKILL";
  lab.CutLink(2);

  start = Clock::now();
  ASSERT_TRUE(
      WaitUntil([&] { return HasAddress(lab.node(1), "eth0", vip); }, 10s))
      << vip << " did not move to n1 within 10 s";
  std::printf("  %s on n1 %.2f s after the crash\n", vip.c_str(),
              Seconds(start));
  ASSERT_TRUE(Ping(lab.client(), vip, 5s))
      << "client cannot ping " << vip << " on n1";
  EXPECT_EQ(CountLines(k1->log_path(), "Entering MASTER STATE"), 1);

  // The link comes back (RestoreLink waits for carrier). Checked from the
  // client: n2 still holds the stale VIP, and for IPv6 it would pick it as
  // the source address of its own pings to n1, whose replies then stay on n1.
  lab.RestoreLink(2);
  const Family family =
      vip.find(':') == std::string::npos ? Family::kIpv4 : Family::kIpv6;
  EXPECT_TRUE(Ping(lab.client(), Lab::NodeAddress(2, family), 5s))
      << "client cannot reach n2 after RestoreLink";

  // A graceful stop: keepalived exits 0 and takes its VIPs with it.
  EXPECT_EQ(k1->Stop(), 0);
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", vip));
}

TEST_F(KeepalivedLabTest, Ipv4FailoverToLowerPriorityAfterCrash) {
  FailoverScenario("192.0.2.200", 24);
}

TEST_F(KeepalivedLabTest, Ipv6FailoverToLowerPriorityAfterCrash) {
  FailoverScenario("2001:db8::200", 64);
}

// Small checks of the helpers themselves, on a lab without daemons.
TEST_F(KeepalivedLabTest, HelpersOnABareLab) {
  Lab lab(2);
  EXPECT_EQ(Lab::NodeAddress(1, Family::kIpv4), "192.0.2.11");
  EXPECT_EQ(Lab::NodeAddress(2, Family::kIpv6), "2001:db8::12");
  EXPECT_TRUE(HasAddress(lab.node(1), "eth0", "192.0.2.11"));
  EXPECT_TRUE(HasAddress(lab.node(1), "eth0", "2001:db8:0::0011"));
  EXPECT_TRUE(HasAddress(lab.client(), "eth0", "192.0.2.100"));
  // Exact match, not substring: 192.0.2.1 is a prefix of 192.0.2.11.
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", "192.0.2.1"));
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", "2001:db8::1"));
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", "192.0.2.12"));
  EXPECT_FALSE(HasAddress(lab.node(1), "nonexistent0", "192.0.2.11"));
  const std::string ll = lab.LinkLocal(1);
  EXPECT_EQ(ll.rfind("fe80::", 0), 0u) << ll;
  EXPECT_NE(ll, lab.LinkLocal(2));

  EXPECT_TRUE(Ping(lab.client(), Lab::NodeAddress(2, Family::kIpv4), 3s));
  EXPECT_TRUE(Ping(lab.client(), Lab::NodeAddress(2, Family::kIpv6), 3s));
  EXPECT_TRUE(Ping(lab.node(2), ll + "%eth0", 3s));
  lab.CutLink(2);
  EXPECT_FALSE(Ping(lab.client(), Lab::NodeAddress(2, Family::kIpv4), 1500ms));
  lab.RestoreLink(2);
  EXPECT_TRUE(Ping(lab.client(), Lab::NodeAddress(2, Family::kIpv4), 3s));

  // Process: exit statuses, signals, extra environment, exec failure.
  const std::string log = lab.dir() + "/sh.log";
  auto p = Process::Start(lab.node(1), {"sh", "-c", "echo \"$VX_T\"; exit 7"},
                          log, {"VX_T=hello"});
  EXPECT_EQ(p->Wait(5s), 7);
  EXPECT_FALSE(p->Running());
  EXPECT_EQ(CountLines(log, "hello"), 1);
  // The child sees the node's interfaces (network namespace and /sys).
  auto q = Process::Start(lab.node(1),
                          {"sh", "-c", "ls /sys/class/net; ip -o addr"}, log);
  EXPECT_EQ(q->Wait(5s), 0);
  EXPECT_EQ(CountLines(log, "192.0.2.11/24"), 1);
  EXPECT_EQ(CountLines(log, "192.0.2.12/24"), 0);
  auto s = Process::Start(lab.node(1), {"sleep", "60"}, log);
  EXPECT_TRUE(s->Running());
  EXPECT_EQ(s->Wait(50ms), std::nullopt);
  s->Signal(SIGTERM);
  EXPECT_EQ(s->Wait(5s), 128 + SIGTERM);
  EXPECT_THROW(Process::Start(lab.node(1), {"/nonexistent/vx"}, log),
               std::runtime_error);

  // A config keepalived rejects fails at Start, with keepalived's reason.
  KeepalivedInstance bad;
  bad.vips = {"192.0.2.200/24"};
  bad.advert_int = "0";
  try {
    Keepalived::Start(lab, 1, KeepalivedConfig("n1", {bad}));
    ADD_FAILURE() << "advert_int 0 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("outside range"), std::string::npos)
        << e.what();
  }
}

// --- Cleanup -----------------------------------------------------------------

// Identifies a process across PID reuse: its start time in /proc/PID/stat.
struct ProcessId {
  pid_t pid;
  std::string start_time;
};

// Field 22 of /proc/PID/stat, "" if there is no such process (a zombie still
// counts: it has not been reaped).
std::string StartTime(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t rparen = stat.rfind(')');
  if (rparen == std::string::npos) return "";
  std::istringstream in(stat.substr(rparen + 1));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i) {
  }
  return field;
}

bool Exists(const ProcessId& p) {
  std::string t = StartTime(p.pid);
  return !t.empty() && t == p.start_time;
}

std::vector<std::string> LabNamespaces(const Lab& lab) {
  std::vector<std::string> names = {lab.sw().name()};
  for (int i = 1; i <= lab.nodes(); ++i) names.push_back(lab.node(i).name());
  return names;
}

bool NamespaceExists(const std::string& name) {
  std::istringstream in(ShOut("ip netns list"));
  for (std::string line; std::getline(in, line);) {
    if (line.substr(0, line.find(' ')) == name) return true;
  }
  return false;
}

void ExpectAllGone(const std::vector<std::string>& namespaces,
                   const std::vector<ProcessId>& processes) {
  for (const auto& n : namespaces) {
    EXPECT_FALSE(NamespaceExists(n)) << "namespace " << n << " left behind";
  }
  for (const auto& p : processes) {
    EXPECT_FALSE(Exists(p)) << "process " << p.pid << " left behind";
  }
}

// Keepalived on n1 of a one-node lab, and its process group once both the
// parent and the VRRP child are running.
std::vector<ProcessId> StartKeepalived(const Lab& lab,
                                       std::unique_ptr<Keepalived>& k) {
  KeepalivedInstance vi;
  vi.vips = {"192.0.2.200/24"};
  k = Keepalived::Start(lab, 1, KeepalivedConfig("n1", {vi}));
  std::vector<pid_t> group;
  if (!WaitUntil(
          [&] {
            group = k->process().GroupPids();
            return group.size() >= 2;
          },
          5s)) {
    ADD_FAILURE() << "keepalived's VRRP child did not start:\n" << k->Log();
  }
  std::vector<ProcessId> out;
  for (pid_t p : group) out.push_back({p, StartTime(p)});
  return out;
}

TEST_F(KeepalivedLabTest, DestructorsRemoveNamespacesAndProcesses) {
  std::vector<std::string> namespaces;
  std::vector<ProcessId> processes;
  std::string dir;
  {
    Lab lab(2);
    namespaces = LabNamespaces(lab);
    namespaces.push_back(lab.client().name());
    dir = lab.dir();
    std::unique_ptr<Keepalived> k;
    processes = StartKeepalived(lab, k);
    ASSERT_GE(processes.size(), 2u);
    for (const auto& n : namespaces) ASSERT_TRUE(NamespaceExists(n)) << n;
    for (const auto& p : processes) ASSERT_TRUE(Exists(p)) << p.pid;
  }
  ExpectAllGone(namespaces, processes);
  if (!std::getenv("VX_KEEP_LAB")) {
    EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " left behind";
  }
}

// The same without destructors: the process exits, or dies of a signal, with
// the lab and keepalived still up. Runs in a death-test child (a fresh
// re-executed process, so it has its own namespace prefix) that reports what
// it created through a file.
struct ExitPath {
  const char* name;
  int signal;  // 0: std::exit(0)
};
void PrintTo(const ExitPath& p, std::ostream* os) { *os << p.name; }

// Never destroyed, and reachable from here so LeakSanitizer does not count
// them as leaks when std::exit() runs its checks.
Lab* volatile g_leaked_lab;  // volatile: the stores must stay
std::unique_ptr<Keepalived>* volatile g_leaked_keepalived;

[[noreturn]] void BuildLabAndLeave(const std::string& report, int signal) {
  auto* lab = new Lab(1, /*with_client=*/false);
  auto* k = new std::unique_ptr<Keepalived>;
  g_leaked_lab = lab;
  g_leaked_keepalived = k;
  std::vector<ProcessId> processes = StartKeepalived(*lab, *k);
  {
    std::ofstream out(report);
    for (const auto& n : LabNamespaces(*lab)) out << "ns " << n << "\n";
    for (const auto& p : processes) {
      out << "pid " << p.pid << " " << p.start_time << "\n";
    }
    out << "dir " << lab->dir() << "\n";
  }
  if (signal == 0) std::exit(0);
  raise(signal);
  std::abort();  // Not reached: none of the signals is ignored.
}

class LabExitPathTest : public KeepalivedLabTest,
                        public ::testing::WithParamInterface<ExitPath> {};

TEST_P(LabExitPathTest, NothingOutlivesTheTestProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The re-executed child runs this body again: it must find the parent's
  // report path, not make its own.
  if (!std::getenv("VX_LAB_REPORT")) {
    char tmpl[] = "/tmp/vx-lab-report-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    setenv("VX_LAB_REPORT", tmpl, 1);
  }
  const std::string report = std::getenv("VX_LAB_REPORT");
  // Whatever the child's daemons leave behind is re-parented to us, not to
  // the host's init, so this test can reap it and see it gone.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const int sig = GetParam().signal;
  EXPECT_EXIT(
      BuildLabAndLeave(report, sig),
      [sig](int status) {
        return sig == 0 ? WIFEXITED(status) && WEXITSTATUS(status) == 0
                        : WIFSIGNALED(status) && WTERMSIG(status) == sig;
      },
      "");
  unsetenv("VX_LAB_REPORT");

  std::vector<std::string> namespaces;
  std::vector<ProcessId> processes;
  std::string dir;
  std::istringstream in(ReadFile(report));
  std::remove(report.c_str());
  for (std::string kind; in >> kind;) {
    if (kind == "ns") {
      namespaces.emplace_back();
      in >> namespaces.back();
    } else if (kind == "pid") {
      ProcessId p;
      in >> p.pid >> p.start_time;
      processes.push_back(p);
    } else if (kind == "dir") {
      in >> dir;
    }
  }
  ASSERT_EQ(namespaces.size(), 2u) << "child report incomplete";
  ASSERT_GE(processes.size(), 2u) << "child report incomplete";

  // Once the child is gone, its daemons' orphans come to us (see the
  // subreaper above): reap them, then they must disappear.
  for (const auto& p : processes) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          (void)waitpid(p.pid, nullptr, WNOHANG);
          return !Exists(p);
        },
        5s))
        << "process " << p.pid << " outlived the test process";
  }
  if (sig == SIGKILL) {
    // Nothing runs in a SIGKILLed process: PR_SET_PDEATHSIG took the daemons
    // down, but the namespaces (bind mounts) and the directory stay. Remove
    // them here, by the exact names the child reported.
    for (const auto& n : namespaces) Sh("ip netns del " + n + " 2>/dev/null");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ExpectAllGone(namespaces, processes);
  if (!std::getenv("VX_KEEP_LAB")) {
    EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " left behind";
  }
}

INSTANTIATE_TEST_SUITE_P(ExitPaths, LabExitPathTest,
                         ::testing::Values(ExitPath{"Exit", 0},
                                           ExitPath{"Sigint", SIGINT},
                                           ExitPath{"Sigterm", SIGTERM},
                                           ExitPath{"Sigpipe", SIGPIPE},
                                           ExitPath{"Sigkill", SIGKILL}),
                         [](const ::testing::TestParamInfo<ExitPath>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace vrrp::testing
