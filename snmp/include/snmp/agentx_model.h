#pragma once

// What the AgentX subagent serves and sends, computed from the published
// snapshots the exporter reads (never the live instances): the MIB view
// (vrrp_mib_view.h) and, by comparing snapshots, vrrpv3NewMaster (an
// instance's become-master counter moved and it is Master) and
// vrrpv3ProtoError (its TTL errors moved). Called on the SNMP thread through
// EngineOptions::agentx_view / agentx_notifications.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "snmp/mib_view.h"
#include "vrrp/snapshot.h"

namespace vrrp::snmp {

class AgentXModel {
 public:
  AgentXModel(std::function<std::shared_ptr<const Snapshot>()> snapshot,
              std::string version,
              std::function<uint32_t(const std::string&)> if_index);

  // The view of the newest snapshot: rebuilt when it changes, or 100 ms
  // after the last build, since counters are read live.
  std::shared_ptr<const MibView> View();
  // Notifications for what changed since the last call (none on the first:
  // it takes the baseline).
  std::vector<Notification> Poll();

 private:
  struct Seen {
    uint64_t become_master = 0;
    uint64_t ttl_errors = 0;
  };
  std::function<std::shared_ptr<const Snapshot>()> snapshot_;
  std::string version_;
  std::function<uint32_t(const std::string&)> if_index_;
  std::shared_ptr<const MibView> view_;
  // Held, so that a new snapshot cannot reuse its address unnoticed.
  std::shared_ptr<const Snapshot> view_of_;
  std::chrono::steady_clock::time_point view_at_{};
  std::map<std::string, Seen> seen_;
  bool baseline_ = false;
};

// if_nametoindex(), for AgentXModel.
uint32_t InterfaceIndex(const std::string& name);

}  // namespace vrrp::snmp
