#include "snmp/agentx_subagent.h"

// net-snmp's headers define many macros; they stay in this file.
// net-snmp-config.h must come first.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
// clang-format on
#include <net/if.h>

namespace vrrp::snmp {
namespace {

// snmpTrapOID.0 (SNMPv2-MIB): the first varbind of every notification.
const oid kSnmpTrapOid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

uint32_t IfIndex(const std::string& name) {
  return if_nametoindex(name.c_str());
}

void SetValue(netsnmp_variable_list* vb, const VarBind& b) {
  switch (b.type) {
    case VarType::kInteger: {
      long v = static_cast<long>(b.number);
      snmp_set_var_typed_value(vb, ASN_INTEGER, &v, sizeof v);
      break;
    }
    case VarType::kGauge32:
    case VarType::kCounter32:
    case VarType::kTimeTicks: {
      u_long v = static_cast<u_long>(b.number);
      snmp_set_var_typed_value(vb,
                               b.type == VarType::kGauge32     ? ASN_GAUGE
                               : b.type == VarType::kCounter32 ? ASN_COUNTER
                                                               : ASN_TIMETICKS,
                               &v, sizeof v);
      break;
    }
    case VarType::kCounter64: {
      counter64 c;
      const auto v = static_cast<uint64_t>(b.number);
      c.high = v >> 32;
      c.low = v & 0xffffffffu;
      snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof c);
      break;
    }
    default:
      snmp_set_var_typed_value(vb, ASN_OCTET_STR, b.bytes.data(),
                               b.bytes.size());
  }
}

// One handler for every registered root: GET is a lookup in the view,
// GETNEXT an upper_bound within the registration (GETBULK arrives as
// GETNEXTs: netsnmp_register_handler adds the bulk_to_next helper).
int Handle(netsnmp_mib_handler* handler, netsnmp_handler_registration* reg,
           netsnmp_agent_request_info* reqinfo,
           netsnmp_request_info* requests) {
  auto* self = static_cast<AgentXSubagent*>(handler->myvoid);
  ++self->mutable_stats().requests;
  const MibView& view = self->View();
  const Oid root(reg->rootoid, reg->rootoid + reg->rootoid_len);
  for (netsnmp_request_info* r = requests; r; r = r->next) {
    if (r->processed) continue;
    const Oid asked(r->requestvb->name,
                    r->requestvb->name + r->requestvb->name_length);
    if (reqinfo->mode == MODE_GET) {
      auto it = view.find(asked);
      if (it == view.end()) {
        netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
      } else {
        SetValue(r->requestvb, it->second);
      }
    } else if (reqinfo->mode == MODE_GETNEXT) {
      auto it = view.upper_bound(asked);
      if (it != view.end() && HasPrefix(it->first, root)) {
        std::vector<oid> name(it->first.begin(), it->first.end());
        snmp_set_var_objid(r->requestvb, name.data(), name.size());
        SetValue(r->requestvb, it->second);
      }
      // Else left alone: the agent goes on to the next registration.
    } else {
      netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
    }
  }
  return SNMP_ERR_NOERROR;
}

int OnConnect(int, int minor, void*, void* client) {
  auto* self = static_cast<AgentXSubagent*>(client);
  if (minor == SNMPD_CALLBACK_INDEX_START) {
    ++self->mutable_stats().connects;
  } else if (minor == SNMPD_CALLBACK_INDEX_STOP) {
    ++self->mutable_stats().disconnects;
  }
  return 0;
}

void AddVar(netsnmp_variable_list** vars, const Oid& o, const VarBind& b) {
  std::vector<oid> name(o.begin(), o.end());
  netsnmp_variable_list* v = snmp_varlist_add_variable(
      vars, name.data(), name.size(), ASN_NULL, nullptr, 0);
  if (v != nullptr) SetValue(v, b);
}

}  // namespace

void AgentXSubagent::Register() {
  for (const Oid* root :
       {&kVrrpv3MibObjects, &kKeepalivedVersion, &kKeepalivedInstanceTable}) {
    std::vector<oid> r(root->begin(), root->end());
    netsnmp_mib_handler* h = netsnmp_create_handler("vrrp_exporter", Handle);
    h->myvoid = this;
    netsnmp_handler_registration* reg = netsnmp_handler_registration_create(
        "vrrp_exporter", h, r.data(), r.size(), HANDLER_CAN_RONLY);
    if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK && options_.log) {
      options_.log("snmp: cannot register " + ToString(*root));
    }
  }
  snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
                         OnConnect, this);
  snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
                         OnConnect, this);
}

const MibView& AgentXSubagent::View() {
  auto snapshot = options_.snapshot ? options_.snapshot() : nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (snapshot == nullptr) {
    view_.clear();
    view_of_ = nullptr;
    return view_;
  }
  // One snapshot serves a whole walk; counters are read live, so the view
  // is rebuilt at most every 100 ms for an unchanged snapshot.
  if (snapshot.get() != view_of_ ||
      now - view_at_ > std::chrono::milliseconds(100)) {
    view_ = BuildVrrpMibView(*snapshot, IfIndex, options_.version);
    view_of_ = snapshot.get();
    view_at_ = now;
  }
  return view_;
}

void AgentXSubagent::Tick() {
  auto snapshot = options_.snapshot ? options_.snapshot() : nullptr;
  if (snapshot == nullptr) return;
  const MibView view = BuildVrrpMibView(*snapshot, IfIndex, options_.version);
  for (const InstanceSnapshot& i : snapshot->instances) {
    const InstanceConfig& c = *i.config;
    Seen now{i.counters().become_master,
             i.counters().errors(ReceiveError::kIpTtl)};
    Seen& before = seen_[c.name];
    const Seen was = before;
    before = now;
    if (!baseline_) continue;
    const Oid idx = Vrrpv3Index(IfIndex(c.interface), c.vrid, c.family);
    auto cell = [&](const Oid& entry, uint32_t col) {
      Oid o = entry;
      o.push_back(col);
      o.insert(o.end(), idx.begin(), idx.end());
      return o;
    };
    const Oid oper = {1, 3, 6, 1, 2, 1, 207, 1, 1, 1, 1};
    const Oid stats = {1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1};
    auto send = [&](const Oid& trap, std::vector<Oid> objects) {
      netsnmp_variable_list* vars = nullptr;
      std::vector<oid> t(trap.begin(), trap.end());
      snmp_varlist_add_variable(&vars, kSnmpTrapOid, OID_LENGTH(kSnmpTrapOid),
                                ASN_OBJECT_ID, t.data(),
                                t.size() * sizeof(oid));
      for (const Oid& o : objects) {
        auto it = view.find(o);
        if (it != view.end()) AddVar(&vars, o, it->second);
      }
      // send_v2trap clones the list (agent_trap.c); ours is freed here.
      send_v2trap(vars);
      snmp_free_varbind(vars);
      ++stats_.notifications;
    };
    // RFC 6527 vrrpv3NewMaster: OBJECTS { vrrpv3OperationsMasterIpAddr,
    // vrrpv3StatisticsNewMasterReason }.
    if (now.become_master > was.become_master &&
        i.status.state == State::kMaster) {
      send(kVrrpv3NewMaster, {cell(oper, 3), cell(stats, 2)});
    }
    // vrrpv3ProtoError: OBJECTS { vrrpv3StatisticsProtoErrReason }.
    if (now.ttl_errors > was.ttl_errors) {
      send(kVrrpv3ProtoError, {cell(stats, 6)});
    }
  }
  baseline_ = true;
}

}  // namespace vrrp::snmp
