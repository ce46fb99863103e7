#pragma once

// The SNMP thread, as the rest of the daemon sees it. Its implementation
// (net-snmp: netsnmp_engine.cc, agentx_subagent.cc) is a module of its own,
// lib/vrrp_exporter/libvrrp_snmp_netsnmp.so, loaded only when SNMP is used
// (/probe or the AgentX subagent): libnetsnmp brings OpenSSL and the agent
// library brings perl and libwrap, which a daemon without SNMP must not map
// (issue 3's memory; the install layout check asserts that OpenSSL is no
// link dependency).
//
// Debian builds net-snmp without NETSNMP_REENTRANT (README.thread: "no
// resource locks are applied"), so every net-snmp call of the process
// happens on this thread: the HTTP threads and the VRRP event loop only
// Post() work and wait on its result, bounded by the module's timeout.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "snmp/mib_view.h"
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

struct AgentXStats {
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> disconnects{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> notifications{0};
};

struct EngineOptions {
  std::function<void(const std::string&)> log;
  // Non-empty: the process is also an AgentX subagent (RFC 2741) on this
  // socket ("/path", "unix:/path", "tcp:HOST:PORT").
  std::string agentx_socket;
  // How often net-snmp retries a lost AgentX connection (it pings the
  // master at this period and reopens the session when that fails).
  std::chrono::seconds agentx_ping_interval{5};
  // AgentX, on the SNMP thread: the objects to serve (asked for each
  // request the master forwards), and every tick_period the notifications
  // to send.
  std::function<std::shared_ptr<const MibView>()> agentx_view;
  std::function<std::vector<Notification>()> agentx_notifications;
  std::chrono::milliseconds tick_period{100};
  // The module's path; empty: lib/vrrp_exporter/ beside the executable's
  // directory, else the bare name (RUNPATH, LD_LIBRARY_PATH).
  std::string module_path;
};

class SnmpEngine {
 public:
  virtual ~SnmpEngine() = default;  // stops the thread; drops callbacks

  // Runs `task` on the SNMP thread. Thread-safe.
  virtual void Post(std::function<void()> task) = 0;

  // SNMP thread only (inside a posted task or a callback). The session
  // lives as long as the returned pointer; closing it drops its pending
  // callbacks. An SNMPv3 session learns the agent's engine ID first (RFC
  // 3414 §4): net-snmp does that synchronously, so the ID is kept per peer
  // and user (it identifies the agent, it is not scrape data), and a peer
  // whose discovery failed is not probed again for 30 s, so that a dead v3
  // target cannot hold the thread up on every scrape.
  virtual Result<std::shared_ptr<Session>, SnmpError> Open(
      const std::string& target, const Module& module) = 0;

  virtual const EngineStats& stats() const = 0;
  // Null without AgentX.
  virtual const AgentXStats* agentx_stats() const = 0;
};

// Loads the net-snmp module and starts the thread (net-snmp initialised
// once per process: no MIB files, no configuration files, no persistent
// state, no SIGALRM). One engine at a time.
Result<std::unique_ptr<SnmpEngine>, std::string> StartSnmpEngine(
    EngineOptions options);

// The module's entry point (extern "C", looked up by name).
using StartEngineFn = SnmpEngine* (*)(EngineOptions* options,
                                      std::string* error);
inline constexpr const char* kStartEngineSymbol = "vrrp_snmp_start_engine";
inline constexpr const char* kModuleName = "libvrrp_snmp_netsnmp.so";

}  // namespace vrrp::snmp
