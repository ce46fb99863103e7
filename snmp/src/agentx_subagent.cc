#include "agentx_subagent.h"

// net-snmp's headers define many macros; they stay in this file.
// net-snmp-config.h must come first.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
// clang-format on

namespace vrrp::snmp {
namespace {

// snmpTrapOID.0 (SNMPv2-MIB): the first varbind of every notification.
const oid kSnmpTrapOid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

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
  ++self->stats().requests;
  const std::shared_ptr<const MibView> held = self->View();
  const MibView& view = *held;
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
    ++self->stats().connects;
  } else if (minor == SNMPD_CALLBACK_INDEX_STOP) {
    ++self->stats().disconnects;
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
    if (netsnmp_register_handler(reg) != MIB_REGISTERED_OK && log_) {
      log_("snmp: cannot register " + ToString(*root));
    }
  }
  snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
                         OnConnect, this);
  snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
                         OnConnect, this);
}

void AgentXSubagent::Send(const std::vector<Notification>& notifications) {
  for (const Notification& n : notifications) {
    netsnmp_variable_list* vars = nullptr;
    std::vector<oid> t(n.trap.begin(), n.trap.end());
    snmp_varlist_add_variable(&vars, kSnmpTrapOid, OID_LENGTH(kSnmpTrapOid),
                              ASN_OBJECT_ID, t.data(), t.size() * sizeof(oid));
    for (const VarBind& b : n.objects) AddVar(&vars, b.oid, b);
    // send_v2trap clones the list (agent_trap.c); ours is freed here.
    send_v2trap(vars);
    snmp_free_varbind(vars);
    ++stats_.notifications;
  }
}

}  // namespace vrrp::snmp
