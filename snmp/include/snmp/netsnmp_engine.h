#pragma once

// The one thread that talks SNMP. Debian builds net-snmp without
// NETSNMP_REENTRANT (README.thread: "no resource locks are applied"), so
// every net-snmp call of the process happens here: the HTTP threads and the
// VRRP event loop only Post() work and wait on its result, bounded by the
// module's timeout. Sessions use the single-session API (snmp_sess_*), many
// at once, their sockets polled together with the wake-up eventfd; requests
// go out with snmp_sess_async_send, so one slow target never holds up
// another.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "snmp/module.h"
#include "snmp/session.h"
#include "vrrp/result.h"

namespace vrrp::snmp {

struct EngineStats {
  std::atomic<uint64_t> requests_sent{0};
  std::atomic<uint64_t> requests_retried{0};
  std::atomic<uint64_t> sessions_opened{0};
  std::atomic<uint64_t> open_sessions{0};
};

struct EngineOptions {
  std::function<void(const std::string&)> log;
  // Non-empty: the process is also an AgentX subagent on this socket
  // ("/path", "unix:/path", "tcp:HOST:PORT"), for agentx_subagent.h.
  std::string agentx_socket;
  // SNMP thread, after init_agent() and before init_snmp(): register MIB
  // handlers here.
  std::function<void()> agent_setup;
  // SNMP thread, every tick_period (notifications).
  std::function<void()> tick;
  std::chrono::milliseconds tick_period{100};
  // How often net-snmp retries a lost AgentX connection (it pings the
  // master at this period, and reopens the session when it fails).
  std::chrono::seconds agentx_ping_interval{5};
};

class NetSnmpEngine {
 public:
  // Initialises net-snmp (no MIB files, no config files, no persistent
  // state, no SIGALRM, logging into `log`) and starts the thread.
  static Result<std::unique_ptr<NetSnmpEngine>, std::string> Start(
      EngineOptions options);
  static Result<std::unique_ptr<NetSnmpEngine>, std::string> Start(
      std::function<void(const std::string&)> log = nullptr) {
    EngineOptions o;
    o.log = std::move(log);
    return Start(std::move(o));
  }
  ~NetSnmpEngine();  // stops the thread; pending callbacks are dropped
  NetSnmpEngine(const NetSnmpEngine&) = delete;
  NetSnmpEngine& operator=(const NetSnmpEngine&) = delete;

  // Runs `task` on the SNMP thread. Thread-safe.
  void Post(std::function<void()> task);

  // SNMP thread only (inside a posted task or a callback). The session lives
  // as long as the returned pointer; closing it drops its pending callbacks.
  // An SNMPv3 session learns the agent's engine ID first (RFC 3414 §4):
  // net-snmp does that synchronously, so the ID is cached per peer and user
  // (it identifies the agent and is not scrape data), and a peer whose
  // discovery failed is not probed again for a while, so that a dead v3
  // target cannot hold the thread up on every scrape.
  Result<std::shared_ptr<Session>, SnmpError> Open(const std::string& target,
                                                   const Module& module);

  const EngineStats& stats() const { return stats_; }

  struct Impl;

 private:
  NetSnmpEngine();
  void Loop();

  std::unique_ptr<Impl> impl_;
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace vrrp::snmp
