#include "snmp/oid.h"

#include <algorithm>
#include <charconv>

namespace vrrp::snmp {

Result<Oid, std::string> ParseOid(std::string_view text) {
  if (!text.empty() && text.front() == '.') text.remove_prefix(1);
  Oid out;
  if (text.empty()) return Err(std::string("empty OID"));
  while (!text.empty()) {
    const size_t dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || ptr != part.data() + part.size()) {
      return Err("bad OID component \"" + std::string(part) + "\"");
    }
    out.push_back(v);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return Err(std::string("OID ends with a dot"));
  }
  return out;
}

std::string ToString(const Oid& oid) {
  std::string s;
  for (size_t i = 0; i < oid.size(); ++i) {
    if (i) s += '.';
    s += std::to_string(oid[i]);
  }
  return s;
}

bool HasPrefix(const Oid& oid, const Oid& prefix) {
  return oid.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), oid.begin());
}

Oid Append(Oid base, std::initializer_list<uint32_t> tail) {
  base.insert(base.end(), tail.begin(), tail.end());
  return base;
}

Oid Suffix(const Oid& oid, const Oid& prefix) {
  if (!HasPrefix(oid, prefix)) return {};
  return Oid(oid.begin() + static_cast<std::ptrdiff_t>(prefix.size()),
             oid.end());
}

}  // namespace vrrp::snmp
