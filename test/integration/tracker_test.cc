// Trackers in the lab: our daemon with health checks, in namespaces of its
// own. An HTTP check on the master fails and the virtual address moves; it
// comes back with preemption (or stays, nopreempt). A hanging script is
// killed at its timeout while the advertisements keep their cadence. A
// script another user can modify is refused.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kVip[] = "192.0.2.200";

// A minimal HTTP server on 127.0.0.1:<any port> inside a lab node: 200 "ok"
// while healthy, 503 otherwise. The listening socket is made inside the
// namespace (a socket belongs to the namespace it was created in) and served
// from a thread of the test.
class HealthServer {
 public:
  explicit HealthServer(const NetNs& ns) {
    {
      NetNs::Enter in(ns);
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
      throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HealthServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  void SetHealthy(bool healthy) { healthy_ = healthy; }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      char buf[2048];
      // The request fits one read (curl sends it in one segment).
      (void)::recv(c, buf, sizeof buf, 0);
      ++requests_;
      const std::string reply =
          healthy_ ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: "
                     "close\r\n\r\nok"
                   : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                     "4\r\nConnection: close\r\n\r\ndown";
      (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> healthy_{true};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class TrackerLabTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }

  static SpeakerInstance Inst(int priority, bool preempt = true) {
    SpeakerInstance i;
    i.priority = priority;
    i.preempt = preempt;
    return i;
  }
  static bool OnlyOn(const Lab& lab, int n) {
    for (int i = 1; i <= lab.nodes(); ++i) {
      if (HasAddress(lab.node(i), "eth0", kVip) != (i == n)) return false;
    }
    return true;
  }
  // An instance tracking `tracker` with `weight`, and the trackers: text.
  static std::string Config(const SpeakerInstance& i,
                            const std::string& track_line,
                            const std::string& trackers) {
    return "instances:\n" + i.Yaml() + "    track:\n      - " + track_line +
           "\n" + "trackers:\n" + trackers;
  }
  static std::string HttpTracker(int port) {
    return "  web:\n"
           "    type: http\n"
           "    url: http://127.0.0.1:" +
           std::to_string(port) +
           "/health\n"
           "    expect_body: ok\n"
           "    interval: 100ms\n"
           "    timeout: 100ms\n"
           "    fall: 2\n"
           "    rise: 2\n";
  }
};

TEST_F(TrackerLabTest, FailingHttpCheckMovesTheVipAndPreemptionBringsItBack) {
  Lab lab(2);
  HealthServer health(lab.node(2));
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}));
  // 200 - 150 = 50: below n1's 100 while the check fails.
  auto n2 = VrrpDaemon::Start(lab, 2,
                              Config(Inst(200), "{name: web, weight: -150}",
                                     HttpTracker(health.port())));
  ASSERT_TRUE(WaitUntil([&] { return OnlyOn(lab, 2); }, seconds(5)))
      << n2->Log();
  ASSERT_TRUE(n2->WaitForLog("tracker web: up (HTTP 200)", seconds(2)))
      << n2->Log();

  health.SetHealthy(false);
  EXPECT_TRUE(WaitUntil([&] { return OnlyOn(lab, 1); }, seconds(5)))
      << n2->Log();
  EXPECT_TRUE(
      n2->WaitForLog("tracker web: down (HTTP 503 (expected 200))", seconds(1)))
      << n2->Log();
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));

  health.SetHealthy(true);
  EXPECT_TRUE(WaitUntil([&] { return OnlyOn(lab, 2); }, seconds(5)))
      << n2->Log();
  EXPECT_TRUE(
      n2->WaitForLog("Backup -> Master (lower-priority-master)", seconds(1)))
      << n2->Log();
  EXPECT_GT(health.requests(), 10);
}

TEST_F(TrackerLabTest, RecoveredCheckWithNopreemptLeavesTheVipWhereItIs) {
  Lab lab(2);
  HealthServer health(lab.node(2));
  // n2 first, so it is master before n1 exists.
  auto n2 = VrrpDaemon::Start(
      lab, 2,
      Config(Inst(200, /*preempt=*/false), "{name: web, weight: -150}",
             HttpTracker(health.port())));
  ASSERT_TRUE(WaitUntil([&] { return OnlyOn(lab, 2); }, seconds(5)))
      << n2->Log();
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}));
  ASSERT_TRUE(n1->WaitForLog("Initialize -> Backup", seconds(2)));

  health.SetHealthy(false);
  ASSERT_TRUE(WaitUntil([&] { return OnlyOn(lab, 1); }, seconds(5)))
      << n2->Log();
  health.SetHealthy(true);
  ASSERT_TRUE(n2->WaitForLog("tracker web: up", seconds(2)));
  // Healthy again at 200, but nopreempt: ten Master_Down_Intervals later
  // the address is still on n1.
  EXPECT_FALSE(WaitUntil([&] { return HasAddress(lab.node(2), "eth0", kVip); },
                         seconds(3)));
  EXPECT_TRUE(OnlyOn(lab, 1));
}

TEST_F(TrackerLabTest, WeightZeroPutsTheInstanceInFault) {
  Lab lab(2);
  HealthServer health(lab.node(2));
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(100)}));
  auto n2 = VrrpDaemon::Start(
      lab, 2, Config(Inst(200), "web", HttpTracker(health.port())));
  ASSERT_TRUE(WaitUntil([&] { return OnlyOn(lab, 2); }, seconds(5)));
  health.SetHealthy(false);
  EXPECT_TRUE(WaitUntil([&] { return OnlyOn(lab, 1); }, seconds(5)));
  EXPECT_TRUE(n2->WaitForLog("Master -> Fault (tracker)", seconds(1)))
      << n2->Log();
  health.SetHealthy(true);
  EXPECT_TRUE(WaitUntil([&] { return OnlyOn(lab, 2); }, seconds(5)));
}

}  // namespace
}  // namespace vrrp::testing
