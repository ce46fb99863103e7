// The checks the trackers run, against real files, processes and sockets
// (127.0.0.1, port 0), and one through the event loop's worker path.

#include "vrrp/sys/checkers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "vrrp/sys/event_loop.h"

namespace vrrp::sys {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vx-checkers-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TrackerConfig File(const std::string& path) {
  TrackerConfig c;
  c.type = TrackerType::kFile;
  c.path = path;
  return c;
}

TEST(FileCheck, ReadsASignedInteger) {
  TempDir dir;
  auto o = RunFileCheck(File(dir.Write("v", "  -17\n")));
  ASSERT_TRUE(o.ok) << o.detail;
  EXPECT_EQ(o.value, -17);
  EXPECT_EQ(RunFileCheck(File(dir.Write("w", "+5"))).value, 5);
}

TEST(FileCheck, MissingAndGarbageAreNamedFailures) {
  TempDir dir;
  auto missing = RunFileCheck(File(dir.path() + "/nope"));
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.failure, CheckFailure::kMissing);
  auto garbage = RunFileCheck(File(dir.Write("g", "12abc")));
  EXPECT_FALSE(garbage.ok);
  EXPECT_EQ(garbage.failure, CheckFailure::kBadValue);
  EXPECT_FALSE(RunFileCheck(File(dir.Write("e", ""))).ok);
}

TEST(ProcessCheck, FindsAProcessByNameAndByPidfile) {
  TempDir dir;
  TrackerConfig by_name;
  by_name.type = TrackerType::kProcess;
  by_name.process = "checkers_test";  // this test binary
  auto o = RunProcessCheck(by_name);
  EXPECT_TRUE(o.ok) << o.detail;
  by_name.process = "no-such-process-vx";
  EXPECT_EQ(RunProcessCheck(by_name).failure, CheckFailure::kMissing);

  TrackerConfig pidfile;
  pidfile.type = TrackerType::kProcess;
  pidfile.pidfile = dir.Write("self.pid", std::to_string(::getpid()) + "\n");
  EXPECT_TRUE(RunProcessCheck(pidfile).ok);
}

TEST(ProcessCheck, ZombieAndGoneProcessesAreNotRunning) {
  TempDir dir;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  // Exited but not reaped: a zombie (WNOWAIT waits without reaping).
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT),
            0);
  TrackerConfig c;
  c.type = TrackerType::kProcess;
  c.pidfile = dir.Write("z.pid", std::to_string(child));
  EXPECT_EQ(RunProcessCheck(c).failure, CheckFailure::kMissing);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(RunProcessCheck(c).failure, CheckFailure::kMissing);
}

// A listening socket on 127.0.0.1 that answers HTTP requests with `reply`.
class Server {
 public:
  explicit Server(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        char buf[2048];
        (void)::recv(c, buf, sizeof buf, 0);
        (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~Server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ::close(fd);
  return ntohs(sin.sin_port);
}

TrackerConfig Tcp(uint16_t port) {
  TrackerConfig c;
  c.type = TrackerType::kTcp;
  c.address = IpAddress::Parse("127.0.0.1");
  c.port = port;
  c.timeout = 1s;
  return c;
}

TEST(TcpCheck, ConnectsOrSaysWhyNot) {
  Server s("");
  EXPECT_TRUE(RunTcpCheck(Tcp(s.port())).ok);
  auto refused = RunTcpCheck(Tcp(ClosedPort()));
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.failure, CheckFailure::kConnect);
  EXPECT_NE(refused.detail.find("Connection refused"), std::string::npos)
      << refused.detail;
}

TrackerConfig Http(uint16_t port, std::string body = "") {
  TrackerConfig c;
  c.type = TrackerType::kHttp;
  c.url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  c.timeout = 2s;
  c.expect_body = std::move(body);
  return c;
}

TEST(HttpCheck, StatusAndBody) {
  Server ok(
      "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nall "
      "ok!");
  EXPECT_TRUE(RunHttpCheck(Http(ok.port(), "ok")).ok);
  auto no_body = RunHttpCheck(Http(ok.port(), "healthy"));
  EXPECT_EQ(no_body.failure, CheckFailure::kHttpBody) << no_body.detail;

  Server bad(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: "
      "close\r\n\r\n");
  auto status = RunHttpCheck(Http(bad.port()));
  EXPECT_EQ(status.failure, CheckFailure::kHttpStatus);
  EXPECT_EQ(status.detail, "HTTP 503 (expected 200)");

  auto refused = RunHttpCheck(Http(ClosedPort()));
  EXPECT_EQ(refused.failure, CheckFailure::kConnect) << refused.detail;
}

TEST(HttpCheck, SilentServerTimesOut) {
  // Accepts (the kernel does, from the backlog) but never answers.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  TrackerConfig c = Http(ntohs(sin.sin_port));
  c.timeout = 200ms;
  EXPECT_EQ(RunHttpCheck(c).failure, CheckFailure::kTimeout);
  ::close(fd);
}

// Through the Tracker on a real loop: the worker thread's result arrives on
// the loop thread.
TEST(WorkerChecker, ResultsArriveOnTheLoopThread) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  TempDir dir;
  TrackerConfig c = File(dir.Write("v", "3"));
  c.name = "f";
  c.interval = 50ms;
  c.timeout = 50ms;
  ProcessRunner runner(**loop);
  const std::thread::id loop_thread = std::this_thread::get_id();
  bool on_loop = false;
  Tracker t(c, **loop, MakeChecker(c, **loop, runner, std::nullopt),
            [&](const Tracker& tr) {
              on_loop = std::this_thread::get_id() == loop_thread;
              if (tr.status().value == 3) (*loop)->Stop();
            });
  t.Start();
  auto guard = (*loop)->CreateTimer([&] { (*loop)->Stop(); });
  guard->ArmAt((*loop)->Now() + 5s);
  (*loop)->Run();
  EXPECT_TRUE(on_loop);
  EXPECT_EQ(t.status().value, 3);
  EXPECT_EQ(t.health(), TrackerHealth::kUp);
}

// A daemon under --vrrp.realtime-priority (SCHED_RR) runs its checks at
// normal priority: a busy script must not share the CPU round-robin with
// the advertisement timer.
TEST(ExecCheck, ScriptsDoNotInheritRealTimeScheduling) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (SCHED_RR)";
  sched_param rt{};
  rt.sched_priority = 1;
  ASSERT_EQ(pthread_setschedparam(pthread_self(), SCHED_RR, &rt), 0);
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  TrackerConfig c;
  c.name = "policy";
  c.type = TrackerType::kExec;
  // Field 41 of /proc/PID/stat is the scheduling policy (0: SCHED_OTHER).
  c.command = {"/usr/bin/awk", "{ exit ($41 != 0) }", "/proc/self/stat"};
  c.interval = 5s;
  c.timeout = 5s;
  ProcessRunner runner(**loop, Duration::zero());
  Tracker t(c, **loop, MakeChecker(c, **loop, runner, std::nullopt),
            [&](const Tracker&) { (*loop)->Stop(); });
  t.Start();
  auto guard = (*loop)->CreateTimer([&] { (*loop)->Stop(); });
  guard->ArmAt((*loop)->Now() + 5s);
  (*loop)->Run();
  sched_param normal{};
  pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
  EXPECT_EQ(t.health(), TrackerHealth::kUp) << t.status().last_detail;
}

TEST(ExecCheck, RunsAsTheConfiguredUser) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (to switch users)";
  auto nobody = LookupUser("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error();
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  TrackerConfig c;
  c.name = "whoami";
  c.type = TrackerType::kExec;
  // Succeeds only when the real, effective, saved and fs uids are nobody's.
  c.command = {"/usr/bin/awk",
               "/^Uid:/ { exit !($2 == " + std::to_string(nobody->uid) +
                   " && $3 == $2 && $4 == $2 && $5 == $2) }",
               "/proc/self/status"};
  c.interval = 5s;
  c.timeout = 5s;
  ProcessRunner runner(**loop, Duration::zero());
  Tracker t(c, **loop, MakeChecker(c, **loop, runner, nobody.value()),
            [&](const Tracker&) { (*loop)->Stop(); });
  t.Start();
  auto guard = (*loop)->CreateTimer([&] { (*loop)->Stop(); });
  guard->ArmAt((*loop)->Now() + 5s);
  (*loop)->Run();
  EXPECT_EQ(t.health(), TrackerHealth::kUp) << t.status().last_detail;
  // And as root (no user) the same check fails: the test can fail.
  Tracker as_root(c, **loop, MakeChecker(c, **loop, runner, std::nullopt),
                  [&](const Tracker&) { (*loop)->Stop(); });
  as_root.Start();
  guard->ArmAt((*loop)->Now() + 5s);
  (*loop)->Run();
  EXPECT_EQ(as_root.health(), TrackerHealth::kDown);
  EXPECT_EQ(as_root.status().last_failure, CheckFailure::kExitStatus);
}

}  // namespace
}  // namespace vrrp::sys
