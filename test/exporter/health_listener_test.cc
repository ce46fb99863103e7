#include "exporter/health_listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vrrp::exporter {
namespace {

// A blocking connection to 127.0.0.1:port. The receive timeout only keeps
// a broken listener from hanging the test; nothing asserts on time.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[1024];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::string Ask(int port, const std::string& request) {
  const int fd = Connect(port);
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = ReadAll(fd);
  close(fd);
  return out;
}

std::unique_ptr<HealthListener> StartOrFail(HealthListener::Options options) {
  options.listen_address = "127.0.0.1:0";
  auto started = HealthListener::Start(options, [](const Request& r) {
    Response response;
    response.body = "answered " + r.path + "\n";
    return response;
  });
  if (!started.ok()) {
    ADD_FAILURE() << started.error();
    return nullptr;
  }
  return std::move(started.value());
}

TEST(HealthListenerTest, AnswersOnlyTheHealthPaths) {
  auto health = StartOrFail({});
  ASSERT_NE(health, nullptr);
  const std::string ok =
      Ask(health->port(), "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("answered /-/healthy"), std::string::npos);
  EXPECT_EQ(Ask(health->port(), "GET /-/ready?x=1 HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 200", 0),
            0u);
  EXPECT_EQ(Ask(health->port(), "GET /metrics HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 404", 0),
            0u);
  EXPECT_EQ(Ask(health->port(), "POST /-/healthy HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 405", 0),
            0u);
  EXPECT_EQ(Ask(health->port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0),
            0u);
}

// Stalled sockets beyond the per-address cap close the oldest ones, and a
// probe after them is answered.
TEST(HealthListenerTest, StalledClientsAreCappedOldestFirst) {
  HealthListener::Options options;
  options.max_per_address = 3;
  options.header_timeout = std::chrono::seconds(60);  // only the cap acts
  auto health = StartOrFail(options);
  ASSERT_NE(health, nullptr);
  std::vector<int> stalled;
  for (int i = 0; i < 10; ++i) {
    const int fd = Connect(health->port());
    const std::string half = "GET /-/healthy HTTP/1.1\r\nHo";
    send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    stalled.push_back(fd);
  }
  const std::string probe =
      Ask(health->port(), "GET /-/healthy HTTP/1.1\r\n\r\n");
  EXPECT_EQ(probe.rfind("HTTP/1.1 200", 0), 0u) << probe;
  // The probe itself evicted one more: of the 11, the 8 oldest went.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ReadAll(stalled[i]), "") << i;  // EOF, not a timeout
  }
  EXPECT_GE(health->evicted(), 8u);
  for (int fd : stalled) close(fd);
}

TEST(HealthListenerTest, IncompleteRequestsAreClosedAtTheHeaderTimeout) {
  HealthListener::Options options;
  options.header_timeout = std::chrono::milliseconds(50);
  auto health = StartOrFail(options);
  ASSERT_NE(health, nullptr);
  const int fd = Connect(health->port());
  const std::string half = "GET /-/healthy HTTP/1.1\r\n";
  send(fd, half.data(), half.size(), MSG_NOSIGNAL);
  char c;
  // 0: closed by the listener (a timeout of the 10 s guard would be -1).
  EXPECT_EQ(recv(fd, &c, 1, 0), 0);
  close(fd);
}

TEST(HealthListenerTest, BadAddresses) {
  for (const std::string address : {"", "9100", "[::1]:1", "host:1", ":x"}) {
    HealthListener::Options options;
    options.listen_address = address;
    EXPECT_FALSE(HealthListener::Start(
                     options, [](const Request&) { return Response{}; })
                     .ok())
        << address;
  }
}

}  // namespace
}  // namespace vrrp::exporter
