// Notifications from real daemons in network namespaces: exec hooks, the
// FIFO and a webhook, through a whole failover. The webhook receiver is a
// small HTTP server in this test process whose listening socket is made
// inside node 1's namespace (a thread enters it with setns(), creates the
// socket, and leaves; the socket stays in that namespace), so the daemon
// reaches it on 127.0.0.1 there.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WebhookReceiver {
 public:
  explicit WebhookReceiver(const NetNs& ns) {
    {
      NetNs::Enter in(ns);
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0) {
      throw std::runtime_error("webhook receiver: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookReceiver() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/vrrp";
  }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard l(mu_);
    return bodies_;
  }

 private:
  void Serve() {
    for (;;) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, n);
        auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          auto cl = req.find("Content-Length: ");
          need =
              end + 4 +
              (cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16)));
        }
      }
      // Stored before the reply: the daemon may exit as soon as it has the
      // reply, and the test reads the bodies right after.
      if (auto end = req.find("\r\n\r\n"); end != std::string::npos) {
        auto body = nlohmann::json::parse(req.substr(end + 4), nullptr, false);
        std::lock_guard l(mu_);
        bodies_.push_back(body);
      }
      const std::string resp =
          "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
      ssize_t n = ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      (void)n;
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<nlohmann::json> bodies_;
  std::thread thread_;
};

std::string WriteScript(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

// Reads what is in the FIFO now and closes our end.
std::string DrainFifo(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  ::close(fd);
  return out;
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }
};

TEST_F(NotifyTest, AFailoverIsReportedByHooksFifoAndWebhook) {
  Lab lab(2);
  WebhookReceiver receiver(lab.node(1));
  const std::string fifo = lab.dir() + "/notify.fifo";
  const std::string hook_log = lab.dir() + "/hooks.log";
  const std::string any =
      WriteScript(lab.dir() + "/any.sh",
                  "echo \"$@ from=$VRRP_FROM_STATE\" >> " + hook_log);
  const std::string master = WriteScript(
      lab.dir() + "/master.sh", "echo \"master-hook $2\" >> " + hook_log);
  SpeakerInstance low;
  low.priority = 100;
  SpeakerInstance high;
  high.priority = 200;
  const std::string n1_yaml =
      "notify_fifo: " + fifo + "\nwebhooks:\n  - url: " + receiver.url() +
      "\n    timeout: 2s\n" + SpeakerConfig({low}) +
      "    notify:\n      master: [" + master + "]\n      any: " + any + "\n";
  // n2 is master before n1 starts, so n1's history is exactly the four
  // transitions below.
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({high}));
  ASSERT_TRUE(n2->WaitForLog("-> Master", seconds(10))) << n2->Log();
  auto n1 = VrrpDaemon::Start(lab, 1, n1_yaml);
  // Our reader keeps the lines: a FIFO's buffer is discarded once nobody
  // has it open, which happens when n1 exits.
  ASSERT_TRUE(
      WaitUntil([&] { return ::access(fifo.c_str(), F_OK) == 0; }, seconds(5)));
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(n1->WaitForLog("vip1: Initialize -> Backup", seconds(5)))
      << n1->Log();
  ASSERT_TRUE(n2->WaitForLog("-> Master", seconds(5))) << n2->Log();
  // A graceful stop of the master: n1 takes over after Skew_Time.
  n2->process().Signal(SIGTERM);
  ASSERT_TRUE(n2->process().Wait(seconds(10)).has_value());
  ASSERT_TRUE(n1->WaitForLog("Backup -> Master", seconds(5))) << n1->Log();
  // It returns and preempts.
  n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({high}));
  ASSERT_TRUE(n1->WaitForLog("Master -> Backup", seconds(10))) << n1->Log();
  // n1 stops: its STOP notifications go out before it exits.
  n1->process().Signal(SIGTERM);
  ASSERT_TRUE(n1->process().Wait(seconds(20)).has_value()) << n1->Log();

  EXPECT_EQ(DrainFifo(reader),
            "INSTANCE \"vip1\" BACKUP 100\n"
            "INSTANCE \"vip1\" MASTER 100\n"
            "INSTANCE \"vip1\" BACKUP 100\n"
            "INSTANCE \"vip1\" STOP 100\n");
  EXPECT_EQ(ReadFile(hook_log),
            "INSTANCE vip1 BACKUP 100 startup from=STOP\n"
            "master-hook vip1\n"
            "INSTANCE vip1 MASTER 100 priority-zero-received from=BACKUP\n"
            "INSTANCE vip1 BACKUP 100 higher-priority-master from=MASTER\n"
            "INSTANCE vip1 STOP 100 shutdown from=BACKUP\n")
      << n1->Log();
  auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 4u) << n1->Log();
  const char* expected[][3] = {{"STOP", "BACKUP", "startup"},
                               {"BACKUP", "MASTER", "priority-zero-received"},
                               {"MASTER", "BACKUP", "higher-priority-master"},
                               {"BACKUP", "STOP", "shutdown"}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(bodies[i]["instance"], "vip1");
    EXPECT_EQ(bodies[i]["vrid"], 51);
    EXPECT_EQ(bodies[i]["interface"], "eth0");
    EXPECT_EQ(bodies[i]["priority"], 100);
    EXPECT_EQ(bodies[i]["from"], expected[i][0]) << bodies[i].dump();
    EXPECT_EQ(bodies[i]["to"], expected[i][1]) << bodies[i].dump();
    EXPECT_EQ(bodies[i]["reason"], expected[i][2]) << bodies[i].dump();
    EXPECT_TRUE(bodies[i].contains("timestamp"));
    EXPECT_TRUE(bodies[i].contains("hostname"));
  }
}

TEST_F(NotifyTest, AHangingHookIsKilledAndAdvertisementsStayOnTime) {
  Lab lab(2);
  const std::string marker = lab.dir() + "/hook-pid";
  // The hook leaves a grandchild behind too: the timeout kills both.
  const std::string hang =
      WriteScript(lab.dir() + "/hang.sh",
                  "sleep 300 & echo $! > " + marker + "; sleep 300");
  SpeakerInstance master;
  master.priority = 200;
  master.interval = "50ms";
  SpeakerInstance backup = master;
  backup.priority = 100;
  // SCHED_RR, as production runs it: at 50 ms the backup takes over after
  // ~170 ms of silence, and on this shared machine a loaded ASan build can
  // be descheduled that long for reasons that have nothing to do with the
  // hook; what is measured is whether the hook holds up our loop.
  const std::vector<std::string> rt = {"chrt", "-r", "10"};
  auto n1 = VrrpDaemon::Start(lab, 1,
                              SpeakerConfig({master}) +
                                  "    notify:\n      master: " + hang +
                                  "\n    notify_timeout: 2s\n",
                              rt);
  ASSERT_TRUE(n1->WaitForLog("-> Master", seconds(5))) << n1->Log();
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({backup}), rt);
  ASSERT_TRUE(n2->WaitForLog("Initialize -> Backup", seconds(5)));
  ASSERT_TRUE(WaitUntil([&] { return !ReadFile(marker).empty(); }, seconds(5)));
  const pid_t grandchild = std::atoi(ReadFile(marker).c_str());
  ASSERT_GT(grandchild, 1);
  ASSERT_TRUE(n1->WaitForLog("notify.master: timed out", seconds(10)))
      << n1->Log();
  // Master_Down_Interval at 50 ms is ~170 ms: had the hook held up the
  // loop for its 2 s, the backup would have taken over.
  EXPECT_EQ(n2->Count("-> Master"), 0) << n2->Log();
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string line;
        if (!std::getline(stat, line)) return true;
        auto p = line.rfind(')');
        return p != std::string::npos && line[p + 2] == 'Z';
      },
      seconds(5)))
      << "the hook's grandchild survived the timeout";
}

TEST_F(NotifyTest, ASyncGroupFollowsAFaultedMember) {
  Lab lab(2);
  // Member "b" lives on a veth pair inside node 1 that the test can take
  // down; "a" is the real VIP on eth0, shared with node 2.
  ASSERT_EQ(lab.node(1).Ip("link add dummy0 type veth peer name dummy1"), 0);
  ASSERT_EQ(lab.node(1).Ip("addr add 198.51.100.1/24 dev dummy0"), 0);
  ASSERT_EQ(lab.node(1).Ip("link set dummy0 up"), 0);
  ASSERT_EQ(lab.node(1).Ip("link set dummy1 up"), 0);
  const std::string fifo = lab.dir() + "/group.fifo";
  SpeakerInstance a;
  a.name = "a";
  a.priority = 200;
  SpeakerInstance b;
  b.name = "b";
  b.interface = "dummy0";
  b.vrid = 52;
  b.priority = 200;
  b.vips = {"198.51.100.200/24"};
  SpeakerInstance a2 = a;
  a2.priority = 100;
  auto n1 = VrrpDaemon::Start(
      lab, 1,
      "notify_fifo: " + fifo + "\n" + SpeakerConfig({a, b}) +
          "sync_groups:\n  - name: g\n    instances: [a, b]\n");
  ASSERT_TRUE(
      WaitUntil([&] { return ::access(fifo.c_str(), F_OK) == 0; }, seconds(5)));
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(n1->WaitForLog("sync group g: Backup -> Master", seconds(10)))
      << n1->Log();
  auto n2 = VrrpDaemon::Start(lab, 2, SpeakerConfig({a2}));
  ASSERT_TRUE(n2->WaitForLog("Initialize -> Backup", seconds(5)));

  // b loses its link: a follows it into Fault and node 2 takes a's VIP.
  ASSERT_EQ(lab.node(1).Ip("link set dummy0 down"), 0);
  EXPECT_TRUE(n1->WaitForLog("a: Master -> Fault (sync-group)", seconds(5)))
      << n1->Log();
  EXPECT_TRUE(
      WaitUntil([&] { return HasAddress(lab.node(2), "eth0", "192.0.2.200"); },
                seconds(5)));
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", "192.0.2.200"));
  // b comes back: both leave Fault and a preempts again.
  ASSERT_EQ(lab.node(1).Ip("link set dummy0 up"), 0);
  ASSERT_EQ(lab.node(1).Ip("link set dummy1 up"), 0);
  EXPECT_TRUE(
      WaitUntil([&] { return HasAddress(lab.node(1), "eth0", "192.0.2.200"); },
                seconds(10)))
      << n1->Log();
  // The second such line (the first was at start-up); the FIFO's GROUP line
  // is written a few loop turns after it, so read until it is there.
  EXPECT_TRUE(WaitUntil(
      [&] { return n1->Count("sync group g: Backup -> Master") >= 2; },
      seconds(5)))
      << n1->Log();
  std::string lines;
  WaitUntil(
      [&] {
        char buf[4096];
        for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;) {
          lines.append(buf, n);
        }
        const auto f = lines.find("GROUP \"g\" FAULT\n");
        return f != std::string::npos &&
               lines.find("GROUP \"g\" MASTER\n", f) != std::string::npos;
      },
      seconds(5));
  ::close(reader);
  const auto fault = lines.find("GROUP \"g\" FAULT\n");
  EXPECT_NE(fault, std::string::npos) << lines;
  EXPECT_NE(lines.find("INSTANCE \"a\" FAULT 200\n"), std::string::npos)
      << lines;
  EXPECT_NE(lines.rfind("GROUP \"g\" MASTER\n"), std::string::npos) << lines;
  EXPECT_GT(lines.rfind("GROUP \"g\" MASTER\n"), fault) << lines;
}

TEST_F(NotifyTest, AnInsecureHookIsRefusedAtLoad) {
  Lab lab(1, /*with_client=*/false);
  const std::string dir = lab.dir() + "/open";
  ::mkdir(dir.c_str(), 0777);
  ::chmod(dir.c_str(), 0777);
  const std::string hook = WriteScript(dir + "/hook.sh", "true");
  SpeakerInstance i;
  auto n1 = VrrpDaemon::Start(
      lab, 1, SpeakerConfig({i}) + "    notify:\n      any: " + hook + "\n");
  auto status = n1->process().Wait(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_EQ(
      n1->Count("instances[0].notify.any: " + dir + ": writable by others"), 1)
      << n1->Log();
}

}  // namespace
}  // namespace vrrp::testing
