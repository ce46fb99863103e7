#include "snmp/agentx_model.h"

#include <net/if.h>

#include "snmp/vrrp_mib_view.h"

namespace vrrp::snmp {

uint32_t InterfaceIndex(const std::string& name) {
  return if_nametoindex(name.c_str());
}

AgentXModel::AgentXModel(
    std::function<std::shared_ptr<const Snapshot>()> snapshot,
    std::string version, std::function<uint32_t(const std::string&)> if_index)
    : snapshot_(std::move(snapshot)),
      version_(std::move(version)),
      if_index_(std::move(if_index)) {}

std::shared_ptr<const MibView> AgentXModel::View() {
  auto snapshot = snapshot_ ? snapshot_() : nullptr;
  if (snapshot == nullptr) return std::make_shared<MibView>();
  // One snapshot serves a whole walk; counters are read live, so the view
  // is rebuilt at most every 100 ms for an unchanged snapshot.
  const auto now = std::chrono::steady_clock::now();
  if (view_ == nullptr || snapshot != view_of_ ||
      now - view_at_ > std::chrono::milliseconds(100)) {
    view_ = std::make_shared<MibView>(
        BuildVrrpMibView(*snapshot, if_index_, version_));
    view_of_ = snapshot;
    view_at_ = now;
  }
  return view_;
}

std::vector<Notification> AgentXModel::Poll() {
  std::vector<Notification> out;
  auto snapshot = snapshot_ ? snapshot_() : nullptr;
  if (snapshot == nullptr) return out;
  std::shared_ptr<const MibView> view;
  for (const InstanceSnapshot& i : snapshot->instances) {
    const InstanceConfig& c = *i.config;
    const Seen now{i.counters().become_master,
                   i.counters().errors(ReceiveError::kIpTtl)};
    Seen& before = seen_[c.name];
    const Seen was = before;
    before = now;
    if (!baseline_) continue;
    const bool new_master = now.become_master > was.become_master &&
                            i.status.state == State::kMaster;
    const bool proto_error = now.ttl_errors > was.ttl_errors;
    if (!new_master && !proto_error) continue;
    if (view == nullptr) {
      view = std::make_shared<MibView>(
          BuildVrrpMibView(*snapshot, if_index_, version_));
    }
    const Oid idx = Vrrpv3Index(if_index_(c.interface), c.vrid, c.family);
    auto cell = [&](std::initializer_list<uint32_t> entry_col) {
      Oid o = entry_col;
      o.insert(o.end(), idx.begin(), idx.end());
      return o;
    };
    auto notify = [&](const Oid& trap, std::vector<Oid> objects) {
      Notification n;
      n.trap = trap;
      for (const Oid& o : objects) {
        auto it = view->find(o);
        if (it != view->end()) n.objects.push_back(it->second);
      }
      out.push_back(std::move(n));
    };
    // RFC 6527 vrrpv3NewMaster: OBJECTS { vrrpv3OperationsMasterIpAddr,
    // vrrpv3StatisticsNewMasterReason }.
    if (new_master) {
      notify(kVrrpv3NewMaster, {cell({1, 3, 6, 1, 2, 1, 207, 1, 1, 1, 1, 3}),
                                cell({1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1, 2})});
    }
    // vrrpv3ProtoError: OBJECTS { vrrpv3StatisticsProtoErrReason }.
    if (proto_error) {
      notify(kVrrpv3ProtoError, {cell({1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1, 6})});
    }
  }
  baseline_ = true;
  return out;
}

}  // namespace vrrp::snmp
