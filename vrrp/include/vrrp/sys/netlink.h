#pragma once

// rtnetlink through libmnl: interface facts, address changes, and events.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/interface_state.h"
#include "vrrp/ip_address.h"
#include "vrrp/packet_io.h"
#include "vrrp/result.h"

namespace vrrp::sys {

struct InterfaceInfo {
  int index = 0;
  std::string name;
  MacAddress mac{};
  bool admin_up = false;  // IFF_UP
  bool oper_up = false;   // IFF_RUNNING / IF_OPER_UP: carrier and up
  uint32_t mtu = 0;
  // IFLA_INFO_KIND of IFLA_LINKINFO ("macvlan", "veth", "bridge", ...);
  // empty for links without one (physical NICs, loopback).
  std::string kind;
  // IFLA_LINK: the link below a stacked one (a macvlan's base interface, a
  // veth's peer); 0 when there is none.
  int link_index = 0;
  // IFLA_MACVLAN_MODE (MACVLAN_MODE_*) of a macvlan; 0 otherwise.
  uint32_t macvlan_mode = 0;
};

// A macvlan made or adopted by Netlink::CreateMacvlan.
struct Macvlan {
  InterfaceInfo info;
  bool created = false;  // false: an existing one was adopted
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

  // The interface of a virtual MAC: a macvlan `name` in bridge mode on
  // `base_ifindex` with MAC `mac`, left administratively down, with IPv6
  // address generation mode "random" (RFC 5798 §7.4: the virtual MAC must
  // not become an EUI-64 interface identifier, or two routers' macvlans
  // would derive the same link-local address). If `name` already exists and
  // is a macvlan on that base with that MAC (left by a previous run that
  // crashed), it is adopted as it is; any other interface of that name is
  // an error and is left untouched.
  Result<Macvlan, std::string> CreateMacvlan(const std::string& name,
                                             int base_ifindex,
                                             const MacAddress& mac);
  // Sets or clears IFF_UP.
  Result<Unit, std::string> SetLinkUp(int ifindex, bool up);
  // Deletes `name` if it is a macvlan with MAC `mac`: what CreateMacvlan
  // made, never anything else of the same name. An interface that is
  // already gone is success.
  Result<Unit, std::string> DeleteMacvlan(const std::string& name,
                                          const MacAddress& mac);

  class Impl;

 private:
  explicit Netlink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Per-interface kernel settings under /proc/sys/net/{ipv4,ipv6}/conf/
// INTERFACE/NAME (ip-sysctl.rst), for those with no netlink equivalent
// (IPv6's disable_ipv6, accept_ra, accept_dad) and the ARP ones. The files
// are those of the calling thread's network namespace. Values are integers;
// `interface` must be a valid interface name and `name` a plain word.
Result<int, std::string> ReadInterfaceSysctl(Family family,
                                             const std::string& interface,
                                             const std::string& name);
Result<Unit, std::string> WriteInterfaceSysctl(Family family,
                                               const std::string& interface,
                                               const std::string& name,
                                               int value);

// AddressManager over Netlink. Failures are logged through `on_error`
// (interface name, address, message) and never thrown.
class NetlinkAddressManager : public AddressManager {
 public:
  using ErrorHandler =
      std::function<void(const std::string& interface, const IpPrefix& address,
                         const std::string& message)>;
  // The kernel acknowledged a change: `added` or removed.
  using DoneHandler = std::function<void(const std::string& interface,
                                         const IpPrefix& address, bool added)>;
  NetlinkAddressManager(Netlink& netlink, ErrorHandler on_error,
                        DoneHandler on_done = {});
  void AddAddress(const std::string& interface,
                  const IpPrefix& address) override;
  void RemoveAddress(const std::string& interface,
                     const IpPrefix& address) override;

 private:
  Netlink& netlink_;
  ErrorHandler on_error_;
  DoneHandler on_done_;
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
