#pragma once

// What the core knows of an interface, and the pure rules over it: which
// address an instance speaks from (RFC 5798 §5.1.1.1, §5.1.2.1) and the
// virtual router MAC (§7.3). No Linux headers: the Linux link layer fills
// these from netlink, tests from a fake.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/ip_address.h"

namespace vrrp {

using MacAddress = std::array<uint8_t, 6>;

// The virtual router MAC address of RFC 5798 §7.3: 00-00-5E-00-01-{VRID}
// for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
MacAddress VirtualRouterMac(Family family, uint8_t vrid);

// "00:00:5e:00:01:33".
std::string MacToString(const MacAddress& mac);

struct InterfaceAddress {
  int ifindex = 0;
  IpPrefix prefix;
  bool secondary = false;  // IFA_F_SECONDARY (IPv4)
  bool tentative = false;  // IFA_F_TENTATIVE (IPv6 DAD not finished)
  bool nodad = false;      // IFA_F_NODAD: how we add IPv6 virtual addresses
  uint8_t scope = 0;       // RT_SCOPE_*
};

// One interface as last read.
struct InterfaceState {
  std::string name;
  int ifindex = 0;  // 0: it does not exist
  MacAddress mac{};
  bool admin_up = false;
  bool up = false;  // administratively and operationally up
  std::vector<InterfaceAddress> addresses[2];  // by FamilyIndex()

  bool exists() const { return ifindex != 0; }
  const std::vector<InterfaceAddress>& of(Family family) const {
    return addresses[family == Family::kIpv4 ? 0 : 1];
  }
  std::vector<InterfaceAddress>& of(Family family) {
    return addresses[family == Family::kIpv4 ? 0 : 1];
  }
  bool Has(const IpAddress& address) const;
};

// The address a VRRP router speaks from on an interface (RFC 5798 §5.1.1.1,
// §5.1.2.1): the primary IPv4 address, or the IPv6 link-local address,
// ignoring the given virtual addresses and tentative ones.
std::optional<IpAddress> PickSourceAddress(
    const std::vector<InterfaceAddress>& addresses, Family family,
    const std::vector<IpPrefix>& virtual_addresses);

// Whether an instance's multicast advertisements leave through its
// virtual-MAC macvlan (RFC 5798 §7.3: their Ethernet source is the virtual
// MAC). Unicast ones stay on the base interface (see sys/link_layer.cc).
inline bool SendsViaVirtualMac(const InstanceConfig& config) {
  return config.virtual_mac && !config.unicast;
}

// The address `config`'s instance advertises from and compares in the
// §6.4.3 tie-break, given its interface and (virtual_mac) its macvlan:
// - IPv6 through a macvlan: the macvlan's link-local address (§5.1.2.1:
//   the sending interface's);
// - a configured unicast source, only while the interface really has it
//   (VRRP-NOTES.md: a missing source is Fault, never a silent fallback);
// - otherwise PickSourceAddress on the interface.
// nullopt puts the instance in Fault.
std::optional<IpAddress> InstanceSourceAddress(const InstanceConfig& config,
                                               const InterfaceState& base,
                                               const InterfaceState* vmac);

}  // namespace vrrp
