#include "vrrp/interface_state.h"

#include <algorithm>
#include <cstdio>

namespace vrrp {

MacAddress VirtualRouterMac(Family family, uint8_t vrid) {
  // RFC 5798 §7.3: the IANA OUI 00-00-5E, then 00-01 (IPv4) or 00-02
  // (IPv6), then the VRID.
  return MacAddress{0x00,
                    0x00,
                    0x5e,
                    0x00,
                    static_cast<uint8_t>(family == Family::kIpv4 ? 0x01 : 0x02),
                    vrid};
}

std::string MacToString(const MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

bool InterfaceState::Has(const IpAddress& address) const {
  const auto& list = of(address.family());
  return std::any_of(list.begin(), list.end(), [&](const InterfaceAddress& a) {
    return a.prefix.address == address;
  });
}

std::optional<IpAddress> PickSourceAddress(
    const std::vector<InterfaceAddress>& addresses, Family family,
    const std::vector<IpPrefix>& virtual_addresses) {
  const auto is_virtual = [&](const IpAddress& a) {
    return std::any_of(virtual_addresses.begin(), virtual_addresses.end(),
                       [&](const IpPrefix& v) { return v.address == a; });
  };
  for (const auto& entry : addresses) {
    const IpAddress& a = entry.prefix.address;
    if (a.family() != family || entry.tentative || is_virtual(a)) continue;
    if (family == Family::kIpv4) {
      // §5.1.1.1: "the primary IPv4 address of the interface". A
      // virtual address in a subnet of its own is primary too; excluded
      // above.
      if (!entry.secondary) return a;
    } else if (a.is_ipv6_link_local()) {
      // §5.1.2.1: "the IPv6 link-local address of the interface".
      return a;
    }
  }
  return std::nullopt;
}

std::optional<IpAddress> InstanceSourceAddress(const InstanceConfig& config,
                                               const InterfaceState& base,
                                               const InterfaceState* vmac) {
  if (SendsViaVirtualMac(config) && config.family == Family::kIpv6) {
    if (vmac == nullptr || !vmac->exists()) return std::nullopt;
    return PickSourceAddress(vmac->of(Family::kIpv6), Family::kIpv6,
                             config.virtual_addresses);
  }
  const auto& addrs = base.of(config.family);
  if (config.unicast && config.unicast->source) {
    const IpAddress want = *config.unicast->source;
    for (const auto& a : addrs) {
      if (a.prefix.address == want && !a.tentative) return want;
    }
    return std::nullopt;
  }
  return PickSourceAddress(addrs, config.family, config.virtual_addresses);
}

}  // namespace vrrp
