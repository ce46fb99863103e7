#pragma once

// Object identifiers as plain numbers: Debian ships no IETF MIB files, so the
// code never resolves names (MIBS="" everywhere).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vrrp/result.h"

namespace vrrp::snmp {

using Oid = std::vector<uint32_t>;

// "1.3.6.1.4.1.9586" (a leading dot is allowed).
Result<Oid, std::string> ParseOid(std::string_view text);
// "1.3.6.1.4.1.9586", no leading dot (as `snmpwalk -On` prints it, minus the
// dot).
std::string ToString(const Oid& oid);
bool HasPrefix(const Oid& oid, const Oid& prefix);
// `base` followed by `tail`.
Oid Append(Oid base, std::initializer_list<uint32_t> tail);
// What follows `prefix` in `oid` (empty if it is not under it).
Oid Suffix(const Oid& oid, const Oid& prefix);

}  // namespace vrrp::snmp
