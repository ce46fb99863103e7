#pragma once

// The numeric OIDs we read from Keepalived's agent (no MIB files on
// Debian). KEEPALIVED-MIB is Keepalived's doc/KEEPALIVED-MIB.txt; VRRPv3-MIB
// is RFC 6527. Only the columns the collector emits are walked: Keepalived's
// AgentX agent answers slowly and its cost follows the number of varbinds.

#include <cstdint>

#include "snmp/oid.h"

namespace vrrp::snmp::mib {

// KEEPALIVED-MIB::keepalived = 1.3.6.1.4.1.9586.100.5
inline const Oid kKeepalived = {1, 3, 6, 1, 4, 1, 9586, 100, 5};
// version.0 (K.1.1.0): answered only while Keepalived is attached to snmpd
// (noSuchObject otherwise), so it is what keepalived_up means.
inline const Oid kVersion = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 1, 0};

// vrrpSyncGroupEntry K.2.1.1.C.idx
inline const Oid kSyncGroupEntry = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 1, 1};
enum SyncGroupColumn : uint32_t { kSyncGroupName = 2, kSyncGroupState = 3 };

// vrrpInstanceEntry K.2.3.1.C.idx; idx is the position in the config file
// (it changes on reload, so series are keyed by name, never by index).
inline const Oid kInstanceEntry = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1};
enum InstanceColumn : uint32_t {
  kInstanceName = 2,
  kInstanceVrid = 3,
  kInstanceState = 4,  // VrrpState: 0 init 1 backup 2 master 3 fault 4 ...
  kInstanceBasePriority = 7,
  kInstanceEffectivePriority = 8,
  kInstancePrimaryInterface = 10,
  kInstanceAdvertInterval = 12,  // s for VRRPv2, cs for VRRPv3
  kInstancePreempt = 13,         // 1 preempt, 2 noPreempt
  kInstanceSyncGroup = 18,
  kInstanceVersion = 30,
};

// vrrpAddressEntry K.2.6.1.C.inst.n; inst 0 holds static addresses.
inline const Oid kAddressEntry = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 6, 1};
enum AddressColumn : uint32_t {
  kAddressValue = 3,  // InetAddress: raw octets
  kAddressMask = 5,   // prefix length
  kAddressIfIndex = 7,
  kAddressIfName = 8,
  kAddressStatus = 10,  // 1 set, 2 unset
};

// vrrpScriptEntry K.2.9.1.C.idx
inline const Oid kScriptEntry = {1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 9, 1};
enum ScriptColumn : uint32_t { kScriptName = 2, kScriptResult = 6 };

// VRRPv3-MIB (RFC 6527), V = 1.3.6.1.2.1.207
// vrrpv3OperationsEntry V.1.1.1.1.C.ifIndex.vrid.addrType
inline const Oid kV3OperationsEntry = {1, 3, 6, 1, 2, 1, 207, 1, 1, 1, 1};
enum V3OperationsColumn : uint32_t { kV3AddrCount = 8 };
// vrrpv3StatisticsEntry V.1.2.5.1.C.ifIndex.vrid.addrType
inline const Oid kV3StatisticsEntry = {1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1};
enum V3StatisticsColumn : uint32_t {
  kV3MasterTransitions = 1,
  kV3RcvdAdvertisements = 3,
  kV3AdvIntervalErrors = 4,
  kV3IpTtlErrors = 5,
  kV3RcvdPriZeroPackets = 7,
  kV3SentPriZeroPackets = 8,
  kV3RcvdInvalidTypePackets = 9,
  kV3AddressListErrors = 10,
  kV3PacketLengthErrors = 11,
};

}  // namespace vrrp::snmp::mib
