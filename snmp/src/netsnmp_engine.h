#pragma once

// The net-snmp implementation of SnmpEngine (engine.h), inside the module
// libvrrp_snmp_netsnmp.so: one thread, sessions of the single-session API
// (snmp_sess_*), many at once, their sockets polled together with the
// wake-up eventfd, requests sent with snmp_sess_async_send so that one slow
// target never holds up another; and, with AgentX, the subagent's session
// and net-snmp's alarms in the same poll loop.

#include <memory>
#include <string>
#include <thread>

#include "snmp/engine.h"

namespace vrrp::snmp {

class AgentXSubagent;

class NetSnmpEngine : public SnmpEngine {
 public:
  static Result<std::unique_ptr<NetSnmpEngine>, std::string> Start(
      EngineOptions options);
  ~NetSnmpEngine() override;
  NetSnmpEngine(const NetSnmpEngine&) = delete;
  NetSnmpEngine& operator=(const NetSnmpEngine&) = delete;

  void Post(std::function<void()> task) override;
  Result<std::shared_ptr<Session>, SnmpError> Open(
      const std::string& target, const Module& module) override;
  const EngineStats& stats() const override { return stats_; }
  const AgentXStats* agentx_stats() const override;

  struct Impl;

 private:
  NetSnmpEngine();
  void Loop();

  std::unique_ptr<Impl> impl_;
  EngineStats stats_;
  std::unique_ptr<AgentXSubagent> agentx_;
  std::thread thread_;
};

}  // namespace vrrp::snmp
