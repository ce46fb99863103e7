#pragma once

// rtnetlink through libmnl: interface facts, address changes, and events.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/ip_address.h"
#include "vrrp/packet_io.h"
#include "vrrp/result.h"

namespace vrrp::sys {

using MacAddress = std::array<uint8_t, 6>;

struct InterfaceInfo {
  int index = 0;
  std::string name;
  MacAddress mac{};
  bool admin_up = false;  // IFF_UP
  bool oper_up = false;   // IFF_RUNNING / IF_OPER_UP: carrier and up
  uint32_t mtu = 0;
};

struct InterfaceAddress {
  int ifindex = 0;
  IpPrefix prefix;
  bool secondary = false;  // IFA_F_SECONDARY (IPv4)
  bool tentative = false;  // IFA_F_TENTATIVE (IPv6 DAD not finished)
  uint8_t scope = 0;       // RT_SCOPE_*
};

// A request/response rtnetlink socket. Not thread-safe; one per thread.
class Netlink {
 public:
  static Result<std::unique_ptr<Netlink>, std::string> Open();
  ~Netlink();

  Result<InterfaceInfo, std::string> GetInterface(const std::string& name);
  Result<std::vector<InterfaceAddress>, std::string> ListAddresses(
      int ifindex, Family family);
  // IPv6 addresses are added with IFA_F_NODAD: a virtual address must answer
  // at once, and its owner is decided by VRRP, not by DAD.
  // Adding an address that is already there, or removing one that is not,
  // succeeds (EEXIST / EADDRNOTAVAIL are not errors here).
  Result<Unit, std::string> AddAddress(int ifindex, const IpPrefix& address);
  Result<Unit, std::string> RemoveAddress(int ifindex, const IpPrefix& address);

  class Impl;

 private:
  explicit Netlink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The address a VRRP router speaks from on an interface (RFC 5798 §5.1.1.1,
// §5.1.2.1): the primary IPv4 address, or the IPv6 link-local address,
// ignoring the given virtual addresses and tentative ones.
std::optional<IpAddress> PickSourceAddress(
    const std::vector<InterfaceAddress>& addresses, Family family,
    const std::vector<IpPrefix>& virtual_addresses);

// AddressManager over Netlink. Failures are logged through `on_error`
// (interface name, address, message) and never thrown.
class NetlinkAddressManager : public AddressManager {
 public:
  using ErrorHandler =
      std::function<void(const std::string& interface, const IpPrefix& address,
                         const std::string& message)>;
  NetlinkAddressManager(Netlink& netlink, ErrorHandler on_error);
  void AddAddress(const std::string& interface,
                  const IpPrefix& address) override;
  void RemoveAddress(const std::string& interface,
                     const IpPrefix& address) override;

 private:
  Netlink& netlink_;
  ErrorHandler on_error_;
};

// Subscribes to link and address events (RTMGRP_LINK, RTMGRP_IPV4_IFADDR,
// RTMGRP_IPV6_IFADDR). Give fd() to the event loop and call
// ProcessEvents() when it is readable.
class LinkMonitor {
 public:
  struct Callbacks {
    std::function<void(const InterfaceInfo&)> on_link;  // new or changed link
    std::function<void(int ifindex, Family family)> on_address;  // add/del
  };
  static Result<std::unique_ptr<LinkMonitor>, std::string> Open(
      Callbacks callbacks);
  ~LinkMonitor();
  int fd() const;
  // Reads every pending event without blocking. On ENOBUFS (events lost)
  // calls on_link for nothing and returns false: the caller must re-read
  // the state it cares about.
  bool ProcessEvents();

  class Impl;

 private:
  explicit LinkMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vrrp::sys
