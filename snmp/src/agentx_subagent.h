#pragma once

// The AgentX subagent's net-snmp side (inside the module): one handler for
// the registered roots that answers from the view the daemon builds
// (agentx_model.h), notifications sent with send_v2trap, and connects /
// disconnects counted through the agent's callbacks. SNMP thread only.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "snmp/engine.h"
#include "snmp/mib_view.h"

namespace vrrp::snmp {

class AgentXSubagent {
 public:
  AgentXSubagent(std::function<std::shared_ptr<const MibView>()> view,
                 std::function<void(const std::string&)> log)
      : view_(std::move(view)), log_(std::move(log)) {}

  // After init_agent() and before init_snmp().
  void Register();
  void Send(const std::vector<Notification>& notifications);

  std::shared_ptr<const MibView> View() {
    return view_ ? view_() : std::make_shared<MibView>();
  }
  AgentXStats& stats() { return stats_; }

 private:
  std::function<std::shared_ptr<const MibView>()> view_;
  std::function<void(const std::string&)> log_;
  AgentXStats stats_;
};

}  // namespace vrrp::snmp
