#pragma once

#include <optional>
#include <span>
#include <string>

#include "vrrp/ip_address.h"
#include "vrrp/packet.h"

namespace vrrp {

// What one virtual router sends, bound to its interface and family. The
// implementation encodes (with the instance's checksum form), addresses and
// transmits; the state machine only decides what and when.
class PacketIo {
 public:
  virtual ~PacketIo() = default;
  // The address advertisements are sent from and compared in the tie-break
  // of §6.4.3: the interface's primary IPv4 address, its IPv6 link-local
  // address, or the configured unicast source. nullopt puts the instance in
  // Fault: without it we can neither advertise nor break ties.
  virtual std::optional<IpAddress> SourceAddress() const = 0;
  virtual void SendAdvertisement(const Advertisement& advertisement) = 0;
  // Gratuitous ARP (IPv4) or unsolicited Neighbor Advertisements (IPv6) for
  // the virtual addresses (§6.4.1, §6.4.2). Repeats are the I/O layer's job.
  virtual void Announce(std::span<const IpPrefix> addresses) = 0;
  // We are no longer Master: cancel repeats and refreshes still pending.
  virtual void StopAnnouncing() {}
};

// Adds and removes the virtual addresses on the interface (netlink in
// production, a recorder in tests).
class AddressManager {
 public:
  virtual ~AddressManager() = default;
  virtual void AddAddress(const std::string& interface,
                          const IpPrefix& address) = 0;
  virtual void RemoveAddress(const std::string& interface,
                             const IpPrefix& address) = 0;
};

}  // namespace vrrp
