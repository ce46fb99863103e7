#pragma once

// What a hostile (or merely busy) client does to the exporter's port, for
// the lab tests (abuse_test.cc) and the benchmark (bench/abuse): wrong
// passwords, stalled connections, plain requests.

#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "integration/lab.h"

namespace vrrp::testing::abuse {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kPort = 9687;
constexpr milliseconds kFloodPeriod{5};

inline std::string Bcrypt(const std::string& password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') {
    throw std::runtime_error("crypt_r failed");
  }
  return hash;
}

inline std::string Base64(const std::string& in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// One GET from inside `ns`; the HTTP status, 0 if there was no answer in
// `timeout`.
inline int Get(const NetNs& ns, const std::string& address,
               const std::string& path, const std::string& user_password,
               milliseconds timeout, int port = kPort) {
  int fd;
  {
    NetNs::Enter enter(ns);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return 0;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + address +
                        "\r\nConnection: close\r\n";
  if (!user_password.empty()) {
    request += "Authorization: Basic " + Base64(user_password) + "\r\n";
  }
  request += "\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while (response.size() < 12 &&
         (n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// A flood from `threads` client threads for `duration`; counts answers.
struct Flood {
  std::atomic<int> answered{0}, unauthorized{0}, limited{0}, none{0};
  void Reset() { answered = unauthorized = limited = none = 0; }
  void Run(const NetNs& ns, int threads, std::chrono::nanoseconds duration,
           const std::function<std::string(int, int)>& credentials) {
    const auto end = steady_clock::now() + duration;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        auto next = steady_clock::now();
        for (int i = 0; steady_clock::now() < end; ++i) {
          // Paced: the attacker shares this host's 2 CPUs with the daemons,
          // and an unpaced loop of connects measures the test's own CPU
          // use, not the daemon (scrape_isolation_test.cc says the same).
          // 16 x 200/s is still ten times the rate the flood
          // reached (each attempt then cost a ~54 ms hash).
          next += kFloodPeriod;
          std::this_thread::sleep_until(next);
          const int status = Get(ns, Lab::NodeAddress(1, Family::kIpv4),
                                 "/metrics", credentials(t, i), seconds(2));
          ++answered;
          if (status == 401) ++unauthorized;
          if (status == 429) ++limited;
          if (status == 0) ++none;
        }
      });
    }
    for (auto& th : pool) th.join();
  }
};

// Connections from `ns` to address:port that send half a request header
// and say nothing more; re-opened when the server closes them, for as long
// as Run() runs.
class Stallers {
 public:
  Stallers(const NetNs& ns, std::string address, int port, int count)
      : ns_(ns), address_(std::move(address)), port_(port) {
    fds_.assign(static_cast<size_t>(count), -1);
  }
  ~Stallers() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  // Until `end`: opens every missing connection, then polls for closed
  // ones. Returns how many times the server closed one.
  int Run(steady_clock::time_point end) {
    int reopened = 0;
    while (steady_clock::now() < end) {
      for (int& fd : fds_) {
        if (fd >= 0) continue;
        if (steady_clock::now() >= end) break;
        // Re-opens paced at 1 per ms per group: unpaced, the attacker's
        // own connect loop (tens of thousands a second once the health
        // listener evicts) loads this host's 2 CPUs, and the measurement
        // would be of the test client, not of the daemon.
        if (opened_ >= static_cast<int>(fds_.size())) {
          next_open_ =
              std::max(next_open_, steady_clock::now()) + milliseconds(1);
          std::this_thread::sleep_until(next_open_);
        }
        fd = Open();
        ++opened_;
      }
      std::vector<pollfd> p;
      for (int fd : fds_) p.push_back({fd, POLLIN, 0});
      if (poll(p.data(), p.size(), 50) <= 0) continue;
      for (size_t i = 0; i < p.size(); ++i) {
        if (p[i].revents == 0 || fds_[i] < 0) continue;
        char c[256];
        if (recv(fds_[i], c, sizeof(c), MSG_DONTWAIT) <= 0 ||
            (p[i].revents & (POLLHUP | POLLERR)) != 0) {
          close(fds_[i]);
          fds_[i] = -1;
          ++reopened;
        }
      }
    }
    return reopened;
  }

 private:
  int Open() {
    int fd;
    {
      NetNs::Enter enter(ns_);
      fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, address_.c_str(), &addr.sin_addr);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    // A server whose backlog is full does not complete the handshake:
    // give up on this one soon, so Run() keeps to its end time.
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 100) != 1) {
      close(fd);
      return -1;
    }
    const std::string half = "GET /metrics HTTP/1.1\r\nHost: 192.0";
    send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    return fd;
  }

  const NetNs& ns_;
  const std::string address_;
  const int port_;
  std::vector<int> fds_;
  int opened_ = 0;
  steady_clock::time_point next_open_{};
};

}  // namespace vrrp::testing::abuse
