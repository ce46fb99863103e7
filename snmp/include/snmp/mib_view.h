#pragma once

// Objects an SNMP agent serves, as a sorted map (GET: a lookup, GETNEXT: an
// upper_bound), and the notifications it sends. Plain data: built on the
// daemon's side (agentx_model.h) and served by the net-snmp module.

#include <map>
#include <vector>

#include "snmp/oid.h"
#include "snmp/session.h"

namespace vrrp::snmp {

using MibView = std::map<Oid, VarBind>;

struct Notification {
  Oid trap;                      // snmpTrapOID.0's value
  std::vector<VarBind> objects;  // the notification's OBJECTS, in order
};

// The roots the subagent registers: VRRPv3-MIB's objects, KEEPALIVED-MIB's
// version.0 and vrrpInstanceTable.
inline const Oid kVrrpv3MibObjects = {1, 3, 6, 1, 2, 1, 207, 1};
inline const Oid kKeepalivedVersion = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 1};
inline const Oid kKeepalivedInstanceTable = {1,    3,   6, 1, 4, 1,
                                             9586, 100, 5, 2, 3};
// Notifications (RFC 6527 §5): vrrpv3NewMaster, vrrpv3ProtoError.
inline const Oid kVrrpv3NewMaster = {1, 3, 6, 1, 2, 1, 207, 0, 1};
inline const Oid kVrrpv3ProtoError = {1, 3, 6, 1, 2, 1, 207, 0, 2};

}  // namespace vrrp::snmp
