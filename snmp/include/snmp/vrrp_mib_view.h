#pragma once

// Our speaker as SNMP objects, built from a published Snapshot (never the
// live instances) for the AgentX subagent: VRRPv3-MIB (RFC 6527)
// vrrpv3OperationsTable, vrrpv3AssociatedIpAddrTable, the global counters
// and vrrpv3StatisticsTable, and the columns of KEEPALIVED-MIB's
// vrrpInstanceTable that monitoring systems poll (with version.0, so that
// our own /probe sees this agent as a Keepalived). A sorted map: GET is a
// lookup, GETNEXT an upper_bound. No net-snmp here, so it is unit-tested
// as plain data.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "snmp/mib_view.h"
#include "snmp/oid.h"
#include "vrrp/snapshot.h"

namespace vrrp::snmp {

// `if_index` maps an interface name to its ifIndex (0 if unknown);
// `version` is what KEEPALIVED-MIB version.0 answers.
MibView BuildVrrpMibView(
    const Snapshot& snapshot,
    const std::function<uint32_t(const std::string&)>& if_index,
    const std::string& version);

// The index of an instance's VRRPv3 rows: ifIndex.vrid.addrType.
Oid Vrrpv3Index(uint32_t if_index, uint8_t vrid, Family family);

}  // namespace vrrp::snmp
