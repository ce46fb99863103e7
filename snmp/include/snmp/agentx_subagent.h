#pragma once

// Our speaker as an AgentX subagent (RFC 2741) of the host's snmpd
// (--snmp.agentx-socket): VRRPv3-MIB and KEEPALIVED-MIB's polled columns
// (vrrp_mib_view.h), and the vrrpv3NewMaster / vrrpv3ProtoError
// notifications. Everything runs on the SNMP thread (NetSnmpEngine): the
// objects are built from the published snapshot the exporter reads, never
// from the live instances, so a stuck or absent snmpd can delay SNMP
// answers but never the VRRP event loop. net-snmp reconnects by itself
// every ping interval; connects and disconnects are counted.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "snmp/vrrp_mib_view.h"
#include "vrrp/snapshot.h"

namespace vrrp::snmp {

struct AgentXStats {
  std::atomic<uint64_t> connects{0};
  std::atomic<uint64_t> disconnects{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> notifications{0};
};

class AgentXSubagent {
 public:
  struct Options {
    std::function<std::shared_ptr<const Snapshot>()> snapshot;
    std::string version;  // KEEPALIVED-MIB version.0
    std::function<void(const std::string&)> log;
  };
  explicit AgentXSubagent(Options options) : options_(std::move(options)) {}

  // SNMP thread, after init_agent() and before init_snmp()
  // (NetSnmpEngine's agent_setup).
  void Register();
  // SNMP thread, every tick: notifications for what changed since the
  // last one (transitions to Master, new TTL errors).
  void Tick();

  const AgentXStats& stats() const { return stats_; }

  // For the handler: the view of the newest snapshot (rebuilt when the
  // snapshot changes, or after 100 ms since counters are read live).
  const MibView& View();
  AgentXStats& mutable_stats() { return stats_; }

 private:
  struct Seen {
    uint64_t become_master = 0;
    uint64_t ttl_errors = 0;
  };

  Options options_;
  AgentXStats stats_;
  MibView view_;
  const Snapshot* view_of_ = nullptr;
  std::chrono::steady_clock::time_point view_at_{};
  std::map<std::string, Seen> seen_;
  bool baseline_ = false;
};

}  // namespace vrrp::snmp
