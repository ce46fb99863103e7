#include "vrrp/sys/vrrp_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

namespace vrrp::sys {

namespace {

// The receive buffer: the largest IPv4 datagram (header included) or IPv6
// payload a raw socket can hand us, so nothing legitimate is ever truncated.
constexpr size_t kReceiveBufferSize = 64 * 1024;

// ARP over Ethernet for IPv4 (RFC 826): htype, ptype, hlen, plen, op, then
// sender MAC / IP and target MAC / IP.
constexpr size_t kArpLength = 28;
constexpr uint16_t kArpHardwareEthernet = 1;
constexpr uint16_t kArpOpRequest = 1;

// RFC 4861 §4.4: Neighbor Advertisement (type 136), 24 bytes of header and
// target, then one Target Link-Layer Address option (type 2, length 1 = 8
// bytes) of §4.6.1.
constexpr uint8_t kIcmp6NeighborAdvertisement = 136;
constexpr uint8_t kNdOptTargetLinkLayerAddress = 2;
constexpr uint32_t kNaFlagOverride = 0x20000000;
constexpr size_t kNaLength = 24 + 8;

// Thread-safe strerror (GNU strerror_r, which g++ selects by defining
// _GNU_SOURCE).
std::string ErrnoText(int error) {
  char buf[128];
  return strerror_r(error, buf, sizeof(buf));
}

// "what on interface: strerror(errno)".
std::string SysError(const std::string& what, const std::string& interface) {
  const int error = errno;
  return what + " on " + interface + ": " + ErrnoText(error);
}

// Owns a file descriptor until release(); keeps Open()'s error paths from
// leaking.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

template <typename T>
bool SetOption(int fd, int level, int name, const T& value) {
  return setsockopt(fd, level, name, &value, sizeof(value)) == 0;
}

// SO_BINDTODEVICE: the socket hears only this link and sends only on it, so
// one router's instances on different interfaces never see each other's
// advertisements (§5.1.1.2 / §5.1.2.2: the group is link-local in scope).
bool BindToDevice(int fd, const std::string& interface) {
  return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface.c_str(),
                    static_cast<socklen_t>(interface.size() + 1)) == 0;
}

in_addr ToInAddr(const IpAddress& address) {
  in_addr a{};
  std::memcpy(&a, address.bytes().data(), std::min<size_t>(4, address.size()));
  return a;
}

in6_addr ToIn6Addr(const IpAddress& address) {
  in6_addr a{};
  std::memcpy(&a, address.bytes().data(), std::min<size_t>(16, address.size()));
  return a;
}

IpAddress FromIn6Addr(const in6_addr& a) {
  return IpAddress::FromBytes(
      Family::kIpv6,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&a), 16));
}

// Link-scope destinations need the interface as scope id (RFC 4007 §6).
uint32_t ScopeIdFor(const IpAddress& destination, int ifindex) {
  return destination.is_ipv6_link_local() || destination.is_multicast()
             ? static_cast<uint32_t>(ifindex)
             : 0;
}

// Control-message buffer, aligned for cmsghdr. Room for IPV6_PKTINFO and
// IPV6_HOPLIMIT (or IP_PKTINFO) with headroom for anything else the kernel
// adds.
union ControlBuffer {
  cmsghdr align;
  unsigned char bytes[256];
};

// Built in place: moving a Result that holds an error into the optional
// trips g++ 12's -Wmaybe-uninitialized under the sanitizers (a false
// positive about the other alternative of the variant).
std::optional<Result<ReceivedDatagram, ReceiveError>> ReceiveFailure(
    ReceiveError error) {
  return std::optional<Result<ReceivedDatagram, ReceiveError>>(std::in_place,
                                                               Err(error));
}

Result<Unit, std::string> Open4(int fd, const std::string& interface,
                                int ifindex, bool join_multicast) {
  // §5.1.1.3: TTL 255 on everything sent, multicast (the group) and
  // unicast (RFC 9568 unicast peers) alike; receivers drop anything else,
  // which proves the sender is on the link.
  const int ttl = 255;
  if (!SetOption(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl)) {
    return Err(SysError("setsockopt(IP_MULTICAST_TTL)", interface));
  }
  if (!SetOption(fd, IPPROTO_IP, IP_TTL, ttl)) {
    return Err(SysError("setsockopt(IP_TTL)", interface));
  }
  // Our own advertisements must not come back to us: a router that heard
  // itself would compare against its own priority (§6.4.3) for nothing.
  const int off = 0;
  if (!SetOption(fd, IPPROTO_IP, IP_MULTICAST_LOOP, off)) {
    return Err(SysError("setsockopt(IP_MULTICAST_LOOP)", interface));
  }
  // The receiving interface comes with every datagram (the destination is in
  // the IP header the raw socket delivers).
  const int on = 1;
  if (!SetOption(fd, IPPROTO_IP, IP_PKTINFO, on)) {
    return Err(SysError("setsockopt(IP_PKTINFO)", interface));
  }
  ip_mreqn mreq{};
  mreq.imr_ifindex = ifindex;
  if (join_multicast) {
    // §5.1.1.2: advertisements go to 224.0.0.18, joined on this link only.
    mreq.imr_multiaddr = ToInAddr(VrrpMulticastGroup(Family::kIpv4));
    if (!SetOption(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)) {
      return Err(
          SysError("setsockopt(IP_ADD_MEMBERSHIP 224.0.0.18)", interface));
    }
  }
  mreq.imr_multiaddr = in_addr{};
  if (!SetOption(fd, IPPROTO_IP, IP_MULTICAST_IF, mreq)) {
    return Err(SysError("setsockopt(IP_MULTICAST_IF)", interface));
  }
  return kOk;
}

Result<Unit, std::string> Open6(int fd, const std::string& interface,
                                int ifindex, bool join_multicast) {
  // §5.1.2.3: hop limit 255, multicast and unicast.
  const int hops = 255;
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops)) {
    return Err(SysError("setsockopt(IPV6_MULTICAST_HOPS)", interface));
  }
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops)) {
    return Err(SysError("setsockopt(IPV6_UNICAST_HOPS)", interface));
  }
  const int off = 0;
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off)) {
    return Err(SysError("setsockopt(IPV6_MULTICAST_LOOP)", interface));
  }
  // An IPv6 raw socket delivers only the payload, so the hop limit
  // (§7.1's first check) and the destination (the checksum's pseudo-header,
  // §5.2.8) must come as control messages.
  const int on = 1;
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, on)) {
    return Err(SysError("setsockopt(IPV6_RECVHOPLIMIT)", interface));
  }
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, on)) {
    return Err(SysError("setsockopt(IPV6_RECVPKTINFO)", interface));
  }
  // IPV6_CHECKSUM is deliberately left at its default (-1, off) for
  // protocol 112: the codec computes and verifies the VRRP checksum itself,
  // so a bad one is counted (vrrpv3StatisticsChecksumErrors) rather than
  // silently dropped by the kernel.
  const unsigned int index = static_cast<unsigned int>(ifindex);
  if (!SetOption(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, index)) {
    return Err(SysError("setsockopt(IPV6_MULTICAST_IF)", interface));
  }
  if (join_multicast) {
    // §5.1.2.2: advertisements go to ff02::12, joined on this link only.
    ipv6_mreq mreq{};
    mreq.ipv6mr_multiaddr = ToIn6Addr(VrrpMulticastGroup(Family::kIpv6));
    mreq.ipv6mr_interface = index;
    if (!SetOption(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq)) {
      return Err(SysError("setsockopt(IPV6_JOIN_GROUP ff02::12)", interface));
    }
  }
  return kOk;
}

}  // namespace

// ---------------------------------------------------------------------------
// VrrpSocket

Result<std::unique_ptr<VrrpSocket>, std::string> VrrpSocket::Open(
    const std::string& interface, int ifindex, Family family,
    bool join_multicast) {
  const int domain = family == Family::kIpv4 ? AF_INET : AF_INET6;
  UniqueFd fd(
      socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kIpProtocolVrrp));
  if (fd.get() < 0) {
    return Err(SysError(std::string("socket(") +
                            (family == Family::kIpv4 ? "AF_INET" : "AF_INET6") +
                            ", SOCK_RAW, 112)",
                        interface));
  }
  if (!BindToDevice(fd.get(), interface)) {
    return Err(SysError("setsockopt(SO_BINDTODEVICE)", interface));
  }
  auto configured = family == Family::kIpv4
                        ? Open4(fd.get(), interface, ifindex, join_multicast)
                        : Open6(fd.get(), interface, ifindex, join_multicast);
  if (!configured.ok()) return Err(configured.error());
  auto socket = std::unique_ptr<VrrpSocket>(
      new VrrpSocket(fd.release(), family, ifindex));
  socket->buffer_.resize(kReceiveBufferSize);
  return socket;
}

VrrpSocket::~VrrpSocket() {
  if (fd_ >= 0) close(fd_);
}

Result<Unit, std::string> VrrpSocket::Send(std::span<const uint8_t> message,
                                           const IpAddress& source,
                                           const IpAddress& destination) {
  // The source is fixed per packet: §5.1.1.1 / §5.1.2.1 require the primary
  // IPv4 address or the IPv6 link-local address of the interface, never a
  // virtual address the kernel might otherwise pick once we hold it.
  iovec iov{};
  iov.iov_base = const_cast<uint8_t*>(message.data());
  iov.iov_len = message.size();
  ControlBuffer control{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;

  sockaddr_in to4{};
  sockaddr_in6 to6{};
  if (family_ == Family::kIpv4) {
    if (!source.is_v4() || !destination.is_v4()) {
      return Err(std::string("Send: IPv6 address on an IPv4 VRRP socket"));
    }
    to4.sin_family = AF_INET;
    to4.sin_addr = ToInAddr(destination);
    msg.msg_name = &to4;
    msg.msg_namelen = sizeof(to4);
    msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_ifindex = ifindex_;
    info.ipi_spec_dst = ToInAddr(source);
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  } else {
    if (source.is_v4() || destination.is_v4()) {
      return Err(std::string("Send: IPv4 address on an IPv6 VRRP socket"));
    }
    to6.sin6_family = AF_INET6;
    to6.sin6_addr = ToIn6Addr(destination);
    to6.sin6_scope_id = ScopeIdFor(destination, ifindex_);
    msg.msg_name = &to6;
    msg.msg_namelen = sizeof(to6);
    msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_ifindex = static_cast<unsigned int>(ifindex_);
    info.ipi6_addr = ToIn6Addr(source);
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  }
  // EAGAIN / ENOBUFS are reported like any other error: the caller counts
  // them; an advertisement is never queued for later (the next one is due
  // in one Advertisement_Interval anyway).
  const ssize_t sent = sendmsg(fd_, &msg, MSG_DONTWAIT);
  if (sent < 0) {
    const int error = errno;
    return Err("sendmsg to " + destination.ToString() + " from " +
               source.ToString() + ": " + ErrnoText(error));
  }
  if (static_cast<size_t>(sent) != message.size()) {
    return Err("sendmsg to " + destination.ToString() + ": short write");
  }
  return kOk;
}

std::optional<Result<ReceivedDatagram, ReceiveError>> VrrpSocket::Receive() {
  if (buffer_.size() < kReceiveBufferSize) buffer_.resize(kReceiveBufferSize);
  // Loop only to skip what is not VRRP at all (see below); every other
  // outcome returns.
  for (;;) {
    sockaddr_in6 from{};  // large enough for sockaddr_in too
    iovec iov{};
    iov.iov_base = buffer_.data();
    iov.iov_len = buffer_.size();
    ControlBuffer control{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof(control.bytes);
    const ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      // EINTR too: the event loop calls us again when the fd is readable.
      return std::nullopt;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      return ReceiveFailure(ReceiveError::kPacketLength);
    }
    const std::span<const uint8_t> bytes(buffer_.data(),
                                         static_cast<size_t>(n));

    ReceivedDatagram d;
    // The hop limit is 0 unless the kernel tells us otherwise, so a missing
    // control message fails the §7.1 TTL check instead of passing it.
    d.info.ttl = 0;
    d.info.destination = IpAddress::V6({});
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
         c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
          c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        d.ifindex = info.ipi_ifindex;
      } else if (c->cmsg_level == IPPROTO_IPV6 &&
                 c->cmsg_type == IPV6_PKTINFO &&
                 c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        d.ifindex = static_cast<int>(info.ipi6_ifindex);
        d.info.destination = FromIn6Addr(info.ipi6_addr);
      } else if (c->cmsg_level == IPPROTO_IPV6 &&
                 c->cmsg_type == IPV6_HOPLIMIT &&
                 c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int hops = 0;
        std::memcpy(&hops, CMSG_DATA(c), sizeof(hops));
        d.info.ttl = static_cast<uint8_t>(std::clamp(hops, 0, 255));
      }
    }

    if (family_ == Family::kIpv4) {
      // An IPv4 raw socket delivers the IP header: TTL, source and
      // destination come from it.
      auto parsed = ParseIpv4Datagram(bytes);
      if (!parsed.ok()) {
        return ReceiveFailure(parsed.error());
      }
      // The socket is opened for protocol 112, so this is belt and braces:
      // anything else is not ours to count.
      if (parsed->protocol != kIpProtocolVrrp) continue;
      d.info = parsed->info;
      d.message.assign(parsed->payload.begin(), parsed->payload.end());
    } else {
      if (msg.msg_namelen >= sizeof(sockaddr_in6) &&
          from.sin6_family == AF_INET6) {
        d.info.source = FromIn6Addr(from.sin6_addr);
      } else {
        d.info.source = IpAddress::V6({});
      }
      d.message.assign(bytes.begin(), bytes.end());
    }
    return std::optional<Result<ReceivedDatagram, ReceiveError>>(std::in_place,
                                                                 std::move(d));
  }
}

// ---------------------------------------------------------------------------
// Announcer

Result<std::unique_ptr<Announcer>, std::string> Announcer::Open(
    const std::string& interface, int ifindex) {
  // Protocol 0: the socket sends ARP (the EtherType is given per packet in
  // sll_protocol) but registers no receive hook, so no ARP traffic piles up
  // in a receive queue nobody reads.
  UniqueFd packet(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (packet.get() < 0) {
    return Err(SysError("socket(AF_PACKET, SOCK_DGRAM)", interface));
  }
  sockaddr_ll bind_address{};
  bind_address.sll_family = AF_PACKET;
  bind_address.sll_protocol = 0;
  bind_address.sll_ifindex = ifindex;
  if (bind(packet.get(), reinterpret_cast<const sockaddr*>(&bind_address),
           sizeof(bind_address)) != 0) {
    return Err(SysError(
        "bind(AF_PACKET, ifindex " + std::to_string(ifindex) + ")", interface));
  }

  UniqueFd icmp6(socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        IPPROTO_ICMPV6));
  if (icmp6.get() < 0) {
    return Err(
        SysError("socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", interface));
  }
  if (!BindToDevice(icmp6.get(), interface)) {
    return Err(SysError("setsockopt(SO_BINDTODEVICE)", interface));
  }
  // RFC 4861 §7.1.2: receivers drop Neighbor Advertisements whose hop limit
  // is not 255.
  const int hops = 255;
  if (!SetOption(icmp6.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops)) {
    return Err(SysError("setsockopt(IPV6_MULTICAST_HOPS)", interface));
  }
  if (!SetOption(icmp6.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops)) {
    return Err(SysError("setsockopt(IPV6_UNICAST_HOPS)", interface));
  }
  // Our own stack need not hear the advertisement of its own address.
  const int off = 0;
  if (!SetOption(icmp6.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off)) {
    return Err(SysError("setsockopt(IPV6_MULTICAST_LOOP)", interface));
  }
  // Send-only: block every ICMPv6 type so nothing is ever queued for us.
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  if (!SetOption(icmp6.get(), IPPROTO_ICMPV6, ICMP6_FILTER, filter)) {
    return Err(SysError("setsockopt(ICMP6_FILTER)", interface));
  }
  return std::unique_ptr<Announcer>(
      new Announcer(packet.release(), icmp6.release(), ifindex));
}

Announcer::~Announcer() {
  if (packet_fd_ >= 0) close(packet_fd_);
  if (icmp6_fd_ >= 0) close(icmp6_fd_);
}

Result<Unit, std::string> Announcer::SendGratuitousArp(const IpAddress& vip,
                                                       const MacAddress& mac) {
  if (!vip.is_v4()) {
    return Err("gratuitous ARP for non-IPv4 address " + vip.ToString());
  }
  // RFC 5798 §6.4.2 (and §6.4.1 for the Owner): on becoming Master, a
  // gratuitous ARP for each IPv4 virtual address so hosts and switches move
  // it to us. RFC 5227 §3 recommends the "ARP Announcement" form: a request
  // (not a reply) with sender and target IP both the address and the target
  // hardware address zero, broadcast.
  std::array<uint8_t, kArpLength> arp{};
  arp[0] = kArpHardwareEthernet >> 8;
  arp[1] = kArpHardwareEthernet & 0xff;
  arp[2] = ETH_P_IP >> 8;  // 0x0800
  arp[3] = ETH_P_IP & 0xff;
  arp[4] = ETH_ALEN;  // 6
  arp[5] = 4;
  arp[6] = kArpOpRequest >> 8;
  arp[7] = kArpOpRequest & 0xff;
  std::copy(mac.begin(), mac.end(), arp.begin() + 8);     // sender MAC
  std::copy_n(vip.bytes().begin(), 4, arp.begin() + 14);  // sender IP
  // arp[18..23]: target MAC, all zeros.
  std::copy_n(vip.bytes().begin(), 4, arp.begin() + 24);  // target IP

  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex_;
  to.sll_halen = ETH_ALEN;
  std::fill_n(to.sll_addr, ETH_ALEN, 0xff);  // broadcast
  if (sendto(packet_fd_, arp.data(), arp.size(), MSG_DONTWAIT,
             reinterpret_cast<const sockaddr*>(&to), sizeof(to)) < 0) {
    const int error = errno;
    return Err("gratuitous ARP for " + vip.ToString() +
               ": sendto: " + ErrnoText(error));
  }
  return kOk;
}

Result<Unit, std::string> Announcer::SendUnsolicitedNa(const IpAddress& vip,
                                                       const IpAddress& source,
                                                       const MacAddress& mac) {
  if (vip.is_v4() || source.is_v4()) {
    return Err("unsolicited NA for non-IPv6 address " + vip.ToString());
  }
  // RFC 5798 §6.4.2: on becoming Master, an unsolicited Neighbor
  // Advertisement for each IPv6 virtual address. RFC 4861 §7.2.6: to the
  // all-nodes group ff02::1, Solicited flag clear, Override set (so caches
  // replace the old Master's link-layer address), with the Target
  // Link-Layer Address option. Router is clear: the virtual address is
  // advertised as a neighbor, the router role comes from RAs.
  std::array<uint8_t, kNaLength> na{};
  na[0] = kIcmp6NeighborAdvertisement;
  na[1] = 0;  // code
  // na[2..3]: checksum, filled by the kernel for ICMPv6 raw sockets
  // (RFC 3542 §3.1), pseudo-header included.
  na[4] = static_cast<uint8_t>(kNaFlagOverride >> 24);
  std::copy_n(vip.bytes().begin(), 16, na.begin() + 8);  // target
  na[24] = kNdOptTargetLinkLayerAddress;
  na[25] = 1;  // length in units of 8 bytes
  std::copy(mac.begin(), mac.end(), na.begin() + 26);

  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr.s6_addr[0] = 0xff;  // ff02::1, all nodes
  to.sin6_addr.s6_addr[1] = 0x02;
  to.sin6_addr.s6_addr[15] = 0x01;
  to.sin6_scope_id = static_cast<uint32_t>(ifindex_);

  iovec iov{};
  iov.iov_base = na.data();
  iov.iov_len = na.size();
  ControlBuffer control{};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof(to);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.bytes;
  msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
  // The source is fixed to the interface's link-local address (the caller
  // passes it), the address Neighbor Discovery itself speaks from; without
  // it the kernel could pick the virtual address we are announcing.
  in6_pktinfo info{};
  info.ipi6_ifindex = static_cast<unsigned int>(ifindex_);
  info.ipi6_addr = ToIn6Addr(source);
  std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  if (sendmsg(icmp6_fd_, &msg, MSG_DONTWAIT) < 0) {
    const int error = errno;
    return Err("unsolicited NA for " + vip.ToString() + " from " +
               source.ToString() + ": sendmsg: " + ErrnoText(error));
  }
  return kOk;
}

}  // namespace vrrp::sys
