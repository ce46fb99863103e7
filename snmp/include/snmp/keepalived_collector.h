#pragma once

// Reads one Keepalived daemon through its SNMP agent (`keepalived -x`, an
// AgentX subagent of snmpd): every needed column walked at once, then joined
// by index into instances keyed by name, as keepalived-exporter shows them.
// Runs on whatever thread the session calls back on (the SNMP thread in
// production; the test's own with FakeSnmpSession).

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session.h"

namespace vrrp::snmp {

struct KeepalivedAddress {
  // As Keepalived writes it (ipaddresstos): no "/32" or "/128", else
  // "192.0.2.100/24".
  std::string address;
  std::string ifname;
  bool set = false;  // vrrpAddressStatus: installed on the interface
};

// Counters of VRRPv3-MIB's vrrpv3StatisticsTable, when the row was found.
struct KeepalivedInstanceStats {
  uint64_t master_transitions = 0;
  uint64_t advertisements_received = 0;
  uint64_t interval_errors = 0;
  uint64_t ttl_errors = 0;
  uint64_t priority_zero_received = 0;
  uint64_t priority_zero_sent = 0;
  uint64_t invalid_type_received = 0;
  uint64_t address_list_errors = 0;
  uint64_t packet_length_errors = 0;
};

struct KeepalivedInstance {
  uint32_t index = 0;  // the row (for tests; never a label)
  std::string name;
  uint32_t vrid = 0;
  // Keepalived's VrrpState: 0 init 1 backup 2 master 3 fault; 2.2.7 sends
  // 4 for every state above fault.
  int state = 4;
  int base_priority = 0;
  int effective_priority = 0;
  std::string interface;
  std::optional<double> advert_interval_seconds;
  std::optional<bool> preempt;
  std::string sync_group;
  int version = 0;
  std::vector<KeepalivedAddress> vips;
  std::vector<KeepalivedAddress> excluded_vips;
  std::optional<KeepalivedInstanceStats> stats;
};

struct KeepalivedScript {
  std::string name;
  int result = 0;  // 1 init, 2 bad, 3 good, 5 initfailed
};

struct KeepalivedSyncGroup {
  std::string name;
  int state = 4;
};

struct KeepalivedScrape {
  // Keepalived's own subtree answered: snmpd up with no Keepalived attached
  // is not up.
  bool up = false;
  std::string version;
  // Failed requests and unusable rows, by reason.
  std::array<int, kErrorReasonCount> errors{};
  std::string first_error;  // for logs; carries no secret
  std::vector<KeepalivedInstance> instances;
  std::vector<KeepalivedScript> scripts;
  std::vector<KeepalivedSyncGroup> sync_groups;
  int walks = 0;
  int varbinds = 0;
};

// Reads Keepalived in two rounds and calls `done` once all requests have
// answered (or failed); the session is kept alive until then.
//  1. GET version.0, and walk (GETBULK) one column of each table, only to
//     learn its row indexes: instance names, address values, script and
//     sync group names, VRRPv3 address counts.
//  2. GET every other needed cell by index, at most `get_batch` varbinds a
//     request, all requests at once, each table as soon as its walk is in.
// Why not walk every column: Keepalived's AgentX agent answers a GETBULK
// one repetition at a time (snmpd sends its subagent a GETNEXT per
// repetition), so a walk costs per varbind, overshoot past the column
// included, while a GET of many varbinds is one AgentX round trip. Measured
// on 50 instances: 29 walked columns 35 ms, the same cells by GET 2 ms.
void CollectKeepalived(std::shared_ptr<Session> session, int get_batch,
                       std::function<void(KeepalivedScrape)> done);

// The join, apart from the I/O, for the golden tests: the rows of every
// column (by its column OID; exceptions such as noSuchInstance already left
// out) and the version GET's reply.
struct KeepalivedWalks {
  std::optional<Reply> version;
  std::vector<std::pair<Oid, Reply>> columns;
};
KeepalivedScrape JoinKeepalived(const KeepalivedWalks& walks);
// The columns round 1 walks, in the order it starts them.
std::vector<Oid> KeepalivedIndexColumns();

}  // namespace vrrp::snmp
