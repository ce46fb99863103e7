#pragma once

// Raw IP protocol-112 sockets and the announcement (GARP / unsolicited NA)
// socket of one interface.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vrrp/ip_address.h"
#include "vrrp/packet.h"
#include "vrrp/result.h"
#include "vrrp/sys/netlink.h"

namespace vrrp::sys {

// One received VRRP datagram, ready for DecodeAdvertisement.
struct ReceivedDatagram {
  DatagramInfo info;             // source, destination, TTL / hop limit
  std::vector<uint8_t> message;  // the VRRP message (IP payload)
  int ifindex = 0;
};

// A raw socket for VRRP on one interface and family:
// - bound to the interface (SO_BINDTODEVICE), so it hears only that link;
// - joined to 224.0.0.18 / ff02::12 on it when `join_multicast`;
// - TTL / hop limit 255 on everything it sends (§5.1.1.3, §5.1.2.3), and
//   multicast loopback off;
// - receives TTL / hop limit and the destination with every datagram
//   (IPv4: from the IP header the raw socket delivers; IPv6: IPV6_RECVHOPLIMIT
//   and IPV6_RECVPKTINFO).
class VrrpSocket {
 public:
  static Result<std::unique_ptr<VrrpSocket>, std::string> Open(
      const std::string& interface, int ifindex, Family family,
      bool join_multicast);
  ~VrrpSocket();
  int fd() const { return fd_; }
  Family family() const { return family_; }

  // Sends `message` from `source` (set per packet with IP_PKTINFO /
  // IPV6_PKTINFO so the kernel never picks a virtual address) to
  // `destination`: the group, or a unicast peer.
  Result<Unit, std::string> Send(std::span<const uint8_t> message,
                                 const IpAddress& source,
                                 const IpAddress& destination);

  // Reads one pending datagram without blocking: nullopt when there is
  // none; an error for what cannot even be parsed as IP (counted by the
  // caller under that reason).
  std::optional<Result<ReceivedDatagram, ReceiveError>> Receive();

 private:
  VrrpSocket(int fd, Family family, int ifindex)
      : fd_(fd), family_(family), ifindex_(ifindex) {}
  int fd_;
  Family family_;
  int ifindex_;
  std::vector<uint8_t> buffer_;
};

// Sends gratuitous ARP (RFC 5798 §6.4.2, RFC 5227 announcement form: an ARP
// request with sender and target IP both the virtual address, broadcast) on
// an AF_PACKET socket, and unsolicited Neighbor Advertisements (RFC 4861
// §7.2.6: to ff02::1, Override flag set, target link-layer address option,
// hop limit 255) on an ICMPv6 raw socket.
class Announcer {
 public:
  static Result<std::unique_ptr<Announcer>, std::string> Open(
      const std::string& interface, int ifindex);
  ~Announcer();
  // `mac` is the address that answers for the VIP: the interface's, or the
  // virtual MAC 00-00-5e-00-01-VRID when one is in use.
  Result<Unit, std::string> SendGratuitousArp(const IpAddress& vip,
                                              const MacAddress& mac);
  Result<Unit, std::string> SendUnsolicitedNa(const IpAddress& vip,
                                              const IpAddress& source,
                                              const MacAddress& mac);

 private:
  Announcer(int packet_fd, int icmp6_fd, int ifindex)
      : packet_fd_(packet_fd), icmp6_fd_(icmp6_fd), ifindex_(ifindex) {}
  int packet_fd_;
  int icmp6_fd_;
  int ifindex_;
};

}  // namespace vrrp::sys
