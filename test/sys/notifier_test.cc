// The notification side on a real event loop: line formats, the FIFO and
// socket streams with their bounds, webhooks against an HTTP server in this
// process, and the Notifier driven by a real Instance (owner, so it becomes
// Master at Start()). Assertions are on content and order, not durations;
// every loop run has a safety timer.

#include "vrrp/sys/notifier.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_wire.h"
#include "vrrp/sys/event_loop.h"

namespace vrrp::sys {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kSafety = seconds(30);

Notification Example() {
  Notification n;
  n.name = "web";
  n.from = State::kBackup;
  n.to = State::kMaster;
  n.reason = "master-down-timer";
  n.priority = 150;
  n.vrid = 51;
  n.interface = "eth0";
  n.wall_time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1700000000123));
  n.sequence = 7;
  return n;
}

TEST(NotificationFormat, FifoLineIsKeepalivedsFormat) {
  EXPECT_EQ(FifoLine(Example()), "INSTANCE \"web\" MASTER 150\n");
  Notification g = Example();
  g.subject = NotificationSubject::kGroup;
  g.name = "pair";
  g.to = State::kFault;
  EXPECT_EQ(FifoLine(g), "GROUP \"pair\" FAULT\n");
  g.to = State::kInitialize;
  EXPECT_EQ(FifoLine(g), "GROUP \"pair\" STOP\n");
}

TEST(NotificationFormat, JsonCarriesEveryField) {
  auto j = nlohmann::json::parse(NotificationJson(Example(), "host1"));
  EXPECT_EQ(j["type"], "instance");
  EXPECT_EQ(j["instance"], "web");
  EXPECT_EQ(j["vrid"], 51);
  EXPECT_EQ(j["interface"], "eth0");
  EXPECT_EQ(j["from"], "BACKUP");
  EXPECT_EQ(j["to"], "MASTER");
  EXPECT_EQ(j["reason"], "master-down-timer");
  EXPECT_EQ(j["priority"], 150);
  EXPECT_EQ(j["timestamp"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["hostname"], "host1");
  EXPECT_EQ(j["sequence"], 7);
}

TEST(NotificationFormat, HookArgumentsStartLikeKeepalivedsNotify) {
  EXPECT_EQ(HookArguments(Example()),
            (std::vector<std::string>{"INSTANCE", "web", "MASTER", "150",
                                      "master-down-timer"}));
}

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.error();
    loop_ = std::move(loop).value();
    char tmpl[] = "/tmp/vrrp-notify-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    loop_.reset();
    fs::remove_all(dir_);
  }

  // Runs the loop until `done()` holds (checked every 10 ms) or the safety
  // timer fires.
  void RunUntil(const std::function<bool()>& done) {
    bool timed_out = false;
    auto safety = loop_->CreateTimer([&] {
      timed_out = true;
      loop_->Stop();
    });
    safety->ArmAt(loop_->Now() + kSafety);
    std::unique_ptr<Timer> poll;
    poll = loop_->CreateTimer([&] {
      if (done()) {
        loop_->Stop();
      } else {
        poll->ArmAt(loop_->Now() + milliseconds(10));
      }
    });
    poll->ArmAt(loop_->Now());
    loop_->Run();
    EXPECT_FALSE(timed_out) << "safety timer fired";
  }

  std::unique_ptr<EventLoop> loop_;
  std::string dir_;
};

// --- Streams -----------------------------------------------------------------

TEST_F(LoopTest, FifoDeliversLinesInOrder) {
  const std::string path = dir_ + "/notify.fifo";
  auto fifo = FifoStream::Open(*loop_, path, 16);
  ASSERT_TRUE(fifo.ok()) << fifo.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  for (int i = 0; i < 5; ++i) {
    (*fifo)->Send("line " + std::to_string(i) + "\n");
  }
  char buf[256] = {};
  ssize_t n = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0),
            "line 0\nline 1\nline 2\nline 3\nline 4\n");
  EXPECT_EQ((*fifo)->written(), 5u);
  EXPECT_EQ((*fifo)->dropped(), 0u);
}

TEST_F(LoopTest, FifoWithoutAReaderIsBoundedAndCountsDrops) {
  // Nobody reads: the pipe (64 KiB) fills, then our queue of 10, then the
  // oldest queued lines are dropped. Memory stays bounded however many
  // lines come.
  auto fifo = FifoStream::Open(*loop_, dir_ + "/stalled.fifo", 10);
  ASSERT_TRUE(fifo.ok()) << fifo.error();
  const std::string line(99, 'x');
  constexpr int kLines = 5000;  // 500 KB, far more than the pipe holds
  for (int i = 0; i < kLines; ++i) (*fifo)->Send(line + "\n");
  EXPECT_GT((*fifo)->dropped(), 0u);
  EXPECT_EQ((*fifo)->written() + (*fifo)->dropped() + 10u,
            static_cast<uint64_t>(kLines));
}

TEST_F(LoopTest, FifoRefusesSomethingElseAtThePath) {
  const std::string path = dir_ + "/regular";
  std::ofstream(path) << "x";
  auto fifo = FifoStream::Open(*loop_, path, 10);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().find("not a FIFO"), std::string::npos);
}

int Connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string ReadAvailable(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    out.append(buf, n);
  }
  return out;
}

TEST_F(LoopTest, SocketSendsEveryLineToEveryClient) {
  const std::string path = dir_ + "/notify.sock";
  auto sock = SocketStream::Listen(*loop_, path, 16);
  ASSERT_TRUE(sock.ok()) << sock.error();
  const int a = Connect(path);
  const int b = Connect(path);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  RunUntil([&] { return (*sock)->clients() == 2; });
  (*sock)->Send("one\n");
  (*sock)->Send("two\n");
  EXPECT_EQ(ReadAvailable(a), "one\ntwo\n");
  EXPECT_EQ(ReadAvailable(b), "one\ntwo\n");
  ::close(a);
  RunUntil([&] { return (*sock)->clients() == 1; });
  (*sock)->Send("three\n");
  EXPECT_EQ(ReadAvailable(b), "three\n");
  // A client that leaves with lines pending must not SIGPIPE us (this test
  // process does not ignore SIGPIPE): the write fails, the client is gone.
  ::close(b);
  (*sock)->Send(std::string(1000, 'x') + "\n");
  (*sock)->Send("after\n");
  RunUntil([&] { return (*sock)->clients() == 0; });
  sock->reset();
  EXPECT_FALSE(fs::exists(path));  // removed on close
}

// --- Webhooks ----------------------------------------------------------------

// A one-thread HTTP/1.1 server on 127.0.0.1, port 0: records each request
// body and answers `status` (or never answers, when `hang`).
class TinyHttpServer {
 public:
  explicit TinyHttpServer(int status = 200, bool hang = false)
      : status_(status), hang_(hang) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }
  std::vector<std::string> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      // Headers, then Content-Length bytes of body.
      size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, n);
        auto end = req.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          auto cl = req.find("Content-Length: ");
          size_t body =
              cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
          need = end + 4 + body;
        }
      }
      {
        std::lock_guard l(mu_);
        requests_.push_back(req);
      }
      if (hang_) {
        // Hold the connection until the client gives up.
        while (::recv(c, buf, sizeof buf, 0) > 0) {
        }
      } else {
        const std::string resp = "HTTP/1.1 " + std::to_string(status_) +
                                 " X\r\nContent-Length: 0\r\nConnection: "
                                 "close\r\n\r\n";
        ssize_t n = ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
        (void)n;
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  int status_;
  bool hang_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string Body(const std::string& request) {
  auto end = request.find("\r\n\r\n");
  return end == std::string::npos ? "" : request.substr(end + 4);
}

TEST_F(LoopTest, WebhookPostsJsonInOrderWithHeaders) {
  TinyHttpServer server;
  WebhookConfig config;
  config.url = server.url();
  config.headers = {{"Authorization", "Bearer s3cret"}};
  std::vector<WebhookResult> results;
  Webhook hook(*loop_, config, 16,
               [&](const WebhookResult& r) { results.push_back(r); });
  for (int i = 1; i <= 3; ++i) hook.Send("{\"n\":" + std::to_string(i) + "}");
  RunUntil([&] { return results.size() == 3; });
  for (const auto& r : results) {
    EXPECT_EQ(r.outcome, WebhookOutcome::kSuccess) << r.error;
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Body(requests[i]), "{\"n\":" + std::to_string(i + 1) + "}");
    EXPECT_NE(requests[i].find("POST /hook HTTP/1.1"), std::string::npos);
    EXPECT_NE(requests[i].find("Content-Type: application/json"),
              std::string::npos);
    EXPECT_NE(requests[i].find("Authorization: Bearer s3cret"),
              std::string::npos);
  }
}

TEST_F(LoopTest, WebhookReportsHttpErrorsRefusalsAndTimeouts) {
  {
    TinyHttpServer server(500);
    WebhookConfig config;
    config.url = server.url();
    std::vector<WebhookResult> results;
    Webhook hook(*loop_, config, 16,
                 [&](const WebhookResult& r) { results.push_back(r); });
    hook.Send("{}");
    RunUntil([&] { return !results.empty(); });
    EXPECT_EQ(results.at(0).outcome, WebhookOutcome::kHttpError);
    EXPECT_EQ(results.at(0).status, 500);
  }
  {
    TinyHttpServer server(200, /*hang=*/true);
    WebhookConfig config;
    config.url = server.url();
    config.timeout = milliseconds(200);
    std::vector<WebhookResult> results;
    Webhook hook(*loop_, config, 16,
                 [&](const WebhookResult& r) { results.push_back(r); });
    hook.Send("{}");
    RunUntil([&] { return !results.empty(); });
    EXPECT_EQ(results.at(0).outcome, WebhookOutcome::kTimeout);
  }
  {
    WebhookConfig config;
    config.url = "http://127.0.0.1:1/";  // nothing listens on port 1
    std::vector<WebhookResult> results;
    Webhook hook(*loop_, config, 16,
                 [&](const WebhookResult& r) { results.push_back(r); });
    hook.Send("{}");
    RunUntil([&] { return !results.empty(); });
    EXPECT_EQ(results.at(0).outcome, WebhookOutcome::kFailure);
  }
}

TEST_F(LoopTest, ABlockedWebhookReceiverDoesNotGrowTheQueue) {
  TinyHttpServer server(200, /*hang=*/true);
  WebhookConfig config;
  config.url = server.url();
  config.timeout = seconds(30);
  Webhook hook(*loop_, config, 4, [](const WebhookResult&) {});
  int dropped = 0;
  for (int i = 0; i < 100; ++i) dropped += hook.Send("{}") ? 0 : 1;
  // At most 4 queued plus the one in flight; the rest were dropped.
  EXPECT_GE(dropped, 95);
  // Destruction aborts the hanging request rather than waiting 30 s (the
  // safety net here is the test's own timeout).
}

// --- The Notifier with a real instance
// ----------------------------------------

struct NullIo : PacketIo {
  std::optional<IpAddress> SourceAddress() const override {
    return *IpAddress::Parse("192.0.2.1");
  }
  void SendAdvertisement(const Advertisement&) override { ++sent; }
  void Announce(std::span<const IpPrefix>) override {}
  int sent = 0;
};

std::string WriteScript(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(LoopTest, NotifierRunsHooksWritesTheFifoAndPostsTheWebhook) {
  TinyHttpServer server;
  const std::string log = dir_ + "/hooks.log";
  Config config;
  config.notifications.fifo = dir_ + "/notify.fifo";
  WebhookConfig w;
  w.url = server.url();
  config.notifications.webhooks.push_back(w);
  InstanceConfig ic;
  ic.name = "web";
  ic.interface = "eth0";
  ic.vrid = 51;
  ic.priority = 255;  // owner: Master at Start()
  ic.advert_interval = Centiseconds(10);
  ic.virtual_addresses = {*IpPrefix::Parse("198.51.100.10/24")};
  NotifyHooks hooks;
  hooks.master = Command{
      {WriteScript(dir_ + "/master.sh", "echo \"master $*\" >> " + log)}, {}};
  hooks.stop =
      Command{{WriteScript(dir_ + "/stop.sh",
                           "echo \"stop $* $VRRP_FROM_STATE\" >> " + log)},
              {}};
  hooks.any = Command{
      {WriteScript(dir_ + "/any.sh", "echo \"any $1 $2 $3\" >> " + log)}, {}};
  ic.notify = hooks;
  config.instances.push_back(ic);
  ASSERT_TRUE(CheckNotificationPrograms(config).ok());

  Notifier notifier(*loop_, [](LogLevel, const std::string&) {});
  ASSERT_TRUE(notifier.Configure(config, std::nullopt).ok());
  const int reader =
      ::open(config.notifications.fifo->c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  NullIo io;
  testing::FakeAddressManager addresses;
  auto instance =
      std::make_unique<Instance>(ic, *loop_, io, addresses, &notifier);
  instance->Start();
  RunUntil([&] {
    return notifier.stats().runs[{kNotifyExec, "success"}] == 2;
  });
  instance->Shutdown();
  bool drained = false;
  notifier.Drain([&] { drained = true; });
  RunUntil([&] { return drained; });

  // Hooks: each subject's in order, with Keepalived's arguments plus the
  // reason, and the environment.
  EXPECT_EQ(Slurp(log),
            "master INSTANCE web MASTER 255 startup\n"
            "any INSTANCE web MASTER\n"
            "stop INSTANCE web STOP 255 shutdown MASTER\n"
            "any INSTANCE web STOP\n");
  char buf[256] = {};
  ssize_t n = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0),
            "INSTANCE \"web\" MASTER 255\nINSTANCE \"web\" STOP 255\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  auto first = nlohmann::json::parse(Body(requests[0]));
  EXPECT_EQ(first["from"], "STOP");
  EXPECT_EQ(first["to"], "MASTER");
  EXPECT_EQ(first["instance"], "web");
  EXPECT_EQ(first["reason"], "startup");
  EXPECT_EQ(nlohmann::json::parse(Body(requests[1]))["to"], "STOP");
  const NotificationStats stats = notifier.stats();
  EXPECT_EQ((stats.runs.at({kNotifyExec, "success"})), 4u);
  EXPECT_EQ((stats.runs.at({kNotifyWebhook, "success"})), 2u);
  EXPECT_EQ((stats.runs.at({kNotifyFifo, "written"})), 2u);
}

TEST_F(LoopTest, AHangingHookIsKilledWhileAdvertisementsContinue) {
  Config config;
  InstanceConfig ic;
  ic.name = "web";
  ic.interface = "eth0";
  ic.vrid = 51;
  ic.priority = 255;
  ic.advert_interval = Centiseconds(2);  // 20 ms
  ic.virtual_addresses = {*IpPrefix::Parse("198.51.100.10/24")};
  const std::string marker = dir_ + "/started";
  NotifyHooks hooks;
  hooks.master = Command{
      {WriteScript(dir_ + "/hang.sh", "touch " + marker + "; sleep 100")}, {}};
  hooks.timeout = milliseconds(500);
  ic.notify = hooks;
  config.instances.push_back(ic);
  Notifier notifier(*loop_, [](LogLevel, const std::string&) {});
  ASSERT_TRUE(notifier.Configure(config, std::nullopt).ok());
  NullIo io;
  testing::FakeAddressManager addresses;
  Instance instance(ic, *loop_, io, addresses, &notifier);
  instance.Start();
  RunUntil([&] { return fs::exists(marker); });
  const int sent_when_hook_started = io.sent;
  RunUntil([&] {
    return notifier.stats().runs[{kNotifyExec, "timeout"}] == 1;
  });
  // The loop kept sending while the hook hung; how evenly is the failover
  // benchmark's business (no timed assertion here).
  EXPECT_GT(io.sent, sent_when_hook_started);
  std::printf(
      "advertisements while the hook hung: %d, max timer lateness "
      "%.3f ms\n",
      io.sent - sent_when_hook_started,
      std::chrono::duration<double, std::milli>(
          instance.stats().max_advert_timer_lateness.get())
          .count());
}

}  // namespace
}  // namespace vrrp::sys
