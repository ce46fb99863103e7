#pragma once

// A second, tiny HTTP listener for /-/healthy and /-/ready only, on a thread
// of its own, so liveness and readiness probes are answered while every
// CivetWeb worker is held by stalled or slow clients.
//
// Why not CivetWeb: 1.15 serves one connection per worker thread from the
// moment it is accepted, so N stalled sockets hold N workers until the
// request timeout, and a probe queued behind them waits (500 half-sent
// headers made every probe time out). Here one poll() loop holds every
// connection without a thread each; a request must be complete within
// header_timeout; each client address may hold max_per_address connections
// and all of them max_connections, and when either is reached the *oldest*
// connection is closed, not the new one: a probe (done in a millisecond)
// always gets its turn, whatever a flood of stalled sockets does.
//
// Plain HTTP, GET only, no authentication: it tells only whether the daemon
// is alive and ready, which is what a kubelet or a load balancer may ask
// without credentials. Bind it where only they reach it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "exporter/http_server.h"
#include "vrrp/result.h"

namespace vrrp::exporter {

class HealthListener {
 public:
  struct Options {
    std::string listen_address;  // "HOST:PORT" or ":PORT", IPv4; port 0: any
    std::vector<std::string> paths = {"/-/healthy", "/-/ready"};
    std::chrono::milliseconds header_timeout{1000};
    size_t max_connections = 128;
    size_t max_per_address = 8;
  };

  // `answer` produces the response for a GET of one of `paths` (the daemon
  // passes HttpServer::Dispatch, so the main port's handlers answer).
  static Result<std::unique_ptr<HealthListener>, std::string> Start(
      Options options, std::function<Response(const Request&)> answer);
  ~HealthListener();
  HealthListener(const HealthListener&) = delete;
  HealthListener& operator=(const HealthListener&) = delete;

  int port() const { return port_; }
  // Connections closed to make room (oldest first); for tests and logs.
  uint64_t evicted() const;

 private:
  HealthListener(Options options,
                 std::function<Response(const Request&)> answer, int listen_fd,
                 int wake_fd, int port);
  void Run();

  const Options options_;
  const std::function<Response(const Request&)> answer_;
  const int listen_fd_;
  const int wake_fd_;
  const int port_;
  std::atomic<uint64_t> evicted_{0};
  std::thread thread_;
};

}  // namespace vrrp::exporter
