// VrrpSocket and Announcer against the real kernel: two network namespaces
// joined by a veth pair, one socket in each.

#include "vrrp/sys/vrrp_socket.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "sys/netns.h"
#include "vrrp/packet.h"

namespace vrrp::sys {
namespace {

using ::testing::HasSubstr;
using vrrp::testing::NetNs;
using vrrp::testing::RequireRootAndIproute;
using vrrp::testing::ShOut;
using vrrp::testing::Veth;

// How long to wait for a packet (or the link) before failing the test. Only
// an upper bound: a healthy run never waits for it.
constexpr std::chrono::milliseconds kWait{5000};

// Closes a test-owned descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is readable; false when `deadline` passes first.
bool WaitReadable(int fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// The first VRRP datagram on `socket` within kWait, or nullopt.
std::optional<Result<ReceivedDatagram, ReceiveError>> ReceiveWithin(
    VrrpSocket& socket) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    if (auto r = socket.Receive()) return r;
    if (!WaitReadable(socket.fd(), deadline)) return std::nullopt;
  }
}

std::string EthAddress(const NetNs& ns) {
  // "2: eth0@if3: <...> ... link/ether 02:aa:bb:cc:dd:ee brd ..."
  const std::string out =
      ShOut("ip -n " + ns.name() + " -o link show dev eth0");
  const auto pos = out.find("link/ether ");
  return pos == std::string::npos ? "" : out.substr(pos + 11, 17);
}

std::optional<MacAddress> ParseMac(const std::string& text) {
  MacAddress mac{};
  unsigned int b[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
                  &b[4], &b[5]) != 6) {
    return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(b[i]);
  return mac;
}

// The (non-tentative) link-local address of eth0 in `ns`, if it has one yet.
std::optional<IpAddress> LinkLocal(const NetNs& ns) {
  const std::string out =
      ShOut("ip -n " + ns.name() + " -6 -o addr show dev eth0 scope link");
  if (out.find("tentative") != std::string::npos) return std::nullopt;
  const auto pos = out.find("inet6 ");
  if (pos == std::string::npos) return std::nullopt;
  const auto slash = out.find('/', pos);
  if (slash == std::string::npos) return std::nullopt;
  return IpAddress::Parse(out.substr(pos + 6, slash - pos - 6));
}

// The kernel brings the veth carrier up asynchronously (linkwatch), and only
// then gives the link its link-local address and starts transmitting on it.
// Waits for that event on an rtnetlink socket (no sleeping).
std::optional<IpAddress> WaitForLinkLocal(const NetNs& ns) {
  int raw;
  {
    NetNs::Enter enter(ns);
    raw = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 NETLINK_ROUTE);
  }
  Fd fd(raw);
  if (fd.get() < 0) return std::nullopt;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    if (auto ll = LinkLocal(ns)) return ll;
    if (!WaitReadable(fd.get(), deadline)) return std::nullopt;
    char buf[8192];
    while (recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
  }
}

int IfIndex(const NetNs& ns, const char* name) {
  NetNs::Enter enter(ns);
  return static_cast<int>(if_nametoindex(name));
}

// Two namespaces `a` and `b`, eth0 in each, on one veth link, both ends up
// and ready to send; IPv4 192.0.2.1/.2 and IPv6 2001:db8::1/::2.
struct Link {
  NetNs a{"sa"};
  NetNs b{"sb"};
  int a_ifindex = 0;
  int b_ifindex = 0;
  MacAddress a_mac{};
  IpAddress a_link_local;
  IpAddress b_link_local;

  // Fails the current test (fatally) when the link cannot be set up.
  void SetUp() {
    Veth(a, "eth0", b, "eth0");
    auto a_ll = WaitForLinkLocal(a);
    auto b_ll = WaitForLinkLocal(b);
    ASSERT_TRUE(a_ll.has_value()) << "no link-local address on a/eth0";
    ASSERT_TRUE(b_ll.has_value()) << "no link-local address on b/eth0";
    a_link_local = *a_ll;
    b_link_local = *b_ll;
    ASSERT_EQ(a.Ip("addr add 192.0.2.1/24 dev eth0"), 0);
    ASSERT_EQ(b.Ip("addr add 192.0.2.2/24 dev eth0"), 0);
    ASSERT_EQ(a.Ip("-6 addr add 2001:db8::1/64 dev eth0 nodad"), 0);
    ASSERT_EQ(b.Ip("-6 addr add 2001:db8::2/64 dev eth0 nodad"), 0);
    a_ifindex = IfIndex(a, "eth0");
    b_ifindex = IfIndex(b, "eth0");
    ASSERT_GT(a_ifindex, 0);
    ASSERT_GT(b_ifindex, 0);
    auto mac = ParseMac(EthAddress(a));
    ASSERT_TRUE(mac.has_value()) << "cannot read a/eth0's MAC";
    a_mac = *mac;
  }
};

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

std::unique_ptr<VrrpSocket> OpenIn(const NetNs& ns, int ifindex, Family family,
                                   bool join_multicast) {
  NetNs::Enter enter(ns);
  auto s = VrrpSocket::Open("eth0", ifindex, family, join_multicast);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  return s.ok() ? std::move(s.value()) : nullptr;
}

Advertisement MakeAdvertisement(Family family, uint8_t priority) {
  Advertisement adv;
  adv.version = Version::kV3;
  adv.vrid = 51;
  adv.priority = priority;
  adv.max_adver_interval = Centiseconds(100);
  if (family == Family::kIpv4) {
    adv.addresses = {Ip("198.51.100.10"), Ip("198.51.100.11")};
  } else {
    adv.addresses = {Ip("2001:db8:51::10"), Ip("2001:db8:51::11")};
  }
  return adv;
}

// Addresses per family: a's source for multicast (primary IPv4, or the
// link-local for IPv6, §5.1.1.1 / §5.1.2.1), and the unicast addresses.
IpAddress MulticastSource(const Link& link, Family family, bool of_a) {
  if (family == Family::kIpv4) {
    return of_a ? Ip("192.0.2.1") : Ip("192.0.2.2");
  }
  return of_a ? link.a_link_local : link.b_link_local;
}
IpAddress UnicastAddress(Family family, bool of_a) {
  if (family == Family::kIpv4) {
    return of_a ? Ip("192.0.2.1") : Ip("192.0.2.2");
  }
  return of_a ? Ip("2001:db8::1") : Ip("2001:db8::2");
}

class VrrpSocketTest : public ::testing::TestWithParam<Family> {};

INSTANTIATE_TEST_SUITE_P(Families, VrrpSocketTest,
                         ::testing::Values(Family::kIpv4, Family::kIpv6),
                         [](const auto& info) {
                           return std::string(ToString(info.param));
                         });

TEST_P(VrrpSocketTest, MulticastAdvertisementArrivesIntact) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  const Family family = GetParam();
  Link link;
  ASSERT_NO_FATAL_FAILURE(link.SetUp());
  auto sa = OpenIn(link.a, link.a_ifindex, family, true);
  auto sb = OpenIn(link.b, link.b_ifindex, family, true);
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(sa->family(), family);
  EXPECT_FALSE(sb->Receive().has_value()) << "nothing sent yet";

  const IpAddress source = MulticastSource(link, family, true);
  const IpAddress group = VrrpMulticastGroup(family);
  const Advertisement adv = MakeAdvertisement(family, 200);
  const auto message =
      EncodeAdvertisement(adv, source, group, ChecksumForm::kWithPseudoHeader);
  auto sent = sa->Send(message, source, group);
  ASSERT_TRUE(sent.ok()) << sent.error();

  auto got = ReceiveWithin(*sb);
  ASSERT_TRUE(got.has_value()) << "no advertisement arrived on b";
  ASSERT_TRUE(got->ok()) << ToString(got->error());
  const ReceivedDatagram& d = got->value();
  EXPECT_EQ(d.info.source.ToString(), source.ToString());
  EXPECT_EQ(d.info.destination.ToString(), group.ToString());
  EXPECT_EQ(int{d.info.ttl}, 255);
  EXPECT_EQ(d.ifindex, link.b_ifindex);
  EXPECT_EQ(d.message, message);
  auto decoded = DecodeAdvertisement(d.message, d.info);
  ASSERT_TRUE(decoded.ok()) << ToString(decoded.error());
  EXPECT_EQ(decoded->advertisement, adv);
  EXPECT_EQ(decoded->checksum_form, ChecksumForm::kWithPseudoHeader);
}

TEST_P(VrrpSocketTest, UnicastAdvertisementArrives) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  const Family family = GetParam();
  Link link;
  ASSERT_NO_FATAL_FAILURE(link.SetUp());
  // Unicast mode (RFC 9568 §8.3 style peers): no group membership.
  auto sa = OpenIn(link.a, link.a_ifindex, family, false);
  auto sb = OpenIn(link.b, link.b_ifindex, family, false);
  ASSERT_TRUE(sa && sb);

  const IpAddress source = UnicastAddress(family, true);
  const IpAddress peer = UnicastAddress(family, false);
  const Advertisement adv = MakeAdvertisement(family, 150);
  const auto message =
      EncodeAdvertisement(adv, source, peer, ChecksumForm::kWithPseudoHeader);
  auto sent = sa->Send(message, source, peer);
  ASSERT_TRUE(sent.ok()) << sent.error();

  auto got = ReceiveWithin(*sb);
  ASSERT_TRUE(got.has_value()) << "no unicast advertisement arrived on b";
  ASSERT_TRUE(got->ok()) << ToString(got->error());
  const ReceivedDatagram& d = got->value();
  EXPECT_EQ(d.info.source.ToString(), source.ToString());
  EXPECT_EQ(d.info.destination.ToString(), peer.ToString());
  EXPECT_EQ(int{d.info.ttl}, 255);
  EXPECT_EQ(d.ifindex, link.b_ifindex);
  auto decoded = DecodeAdvertisement(d.message, d.info);
  ASSERT_TRUE(decoded.ok()) << ToString(decoded.error());
  EXPECT_EQ(decoded->advertisement, adv);
}

TEST_P(VrrpSocketTest, SenderDoesNotHearItsOwnMulticast) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  const Family family = GetParam();
  Link link;
  ASSERT_NO_FATAL_FAILURE(link.SetUp());
  auto sa = OpenIn(link.a, link.a_ifindex, family, true);
  auto sb = OpenIn(link.b, link.b_ifindex, family, true);
  ASSERT_TRUE(sa && sb);
  const IpAddress group = VrrpMulticastGroup(family);
  const IpAddress a_source = MulticastSource(link, family, true);
  const IpAddress b_source = MulticastSource(link, family, false);

  // a sends to the group (which a itself joined); b hearing it proves it
  // went out.
  const auto from_a =
      EncodeAdvertisement(MakeAdvertisement(family, 200), a_source, group,
                          ChecksumForm::kWithPseudoHeader);
  auto sent = sa->Send(from_a, a_source, group);
  ASSERT_TRUE(sent.ok()) << sent.error();
  auto at_b = ReceiveWithin(*sb);
  ASSERT_TRUE(at_b.has_value() && at_b->ok()) << "a's advertisement lost";
  EXPECT_EQ(at_b->value().info.source.ToString(), a_source.ToString());

  // Then b answers. A looped-back copy of a's own advertisement would have
  // been queued on a before b even received the original, so the first
  // thing a reads must be b's.
  const auto from_b =
      EncodeAdvertisement(MakeAdvertisement(family, 100), b_source, group,
                          ChecksumForm::kWithPseudoHeader);
  sent = sb->Send(from_b, b_source, group);
  ASSERT_TRUE(sent.ok()) << sent.error();
  auto at_a = ReceiveWithin(*sa);
  ASSERT_TRUE(at_a.has_value() && at_a->ok()) << "b's advertisement lost";
  EXPECT_EQ(at_a->value().info.source.ToString(), b_source.ToString())
      << "a received its own multicast (IP_MULTICAST_LOOP not off?)";
  EXPECT_EQ(at_a->value().message, from_b);
  EXPECT_FALSE(sa->Receive().has_value());
  EXPECT_FALSE(sb->Receive().has_value())
      << "b received its own multicast (loopback not off?)";
}

TEST(VrrpSocketOpenTest, NamesTheFailedOptionForAMissingInterface) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  NetNs a("sa");
  NetNs::Enter enter(a);
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    auto s = VrrpSocket::Open("nosuch0", 4242, family, true);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.error(), HasSubstr("SO_BINDTODEVICE"));
    EXPECT_THAT(s.error(), HasSubstr("nosuch0"));
    EXPECT_THAT(s.error(), HasSubstr(std::strerror(ENODEV)));
  }
  auto announcer = Announcer::Open("nosuch0", 4242);
  EXPECT_FALSE(announcer.ok());
}

std::unique_ptr<Announcer> AnnouncerIn(const NetNs& ns, int ifindex) {
  NetNs::Enter enter(ns);
  auto an = Announcer::Open("eth0", ifindex);
  EXPECT_TRUE(an.ok()) << (an.ok() ? "" : an.error());
  return an.ok() ? std::move(an.value()) : nullptr;
}

TEST(AnnouncerTest, GratuitousArpIsSeenOnThePeer) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Link link;
  ASSERT_NO_FATAL_FAILURE(link.SetUp());
  auto announcer = AnnouncerIn(link.a, link.a_ifindex);
  ASSERT_TRUE(announcer);

  int raw;
  {
    NetNs::Enter enter(link.b);
    raw = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 htons(ETH_P_ARP));
  }
  Fd capture(raw);
  ASSERT_GE(capture.get(), 0) << std::strerror(errno);
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_ARP);
  bind_to.sll_ifindex = link.b_ifindex;
  ASSERT_EQ(bind(capture.get(), reinterpret_cast<sockaddr*>(&bind_to),
                 sizeof(bind_to)),
            0)
      << std::strerror(errno);

  // The VRRP virtual MAC 00-00-5e-00-01-33 (§7.3), deliberately not a/eth0's
  // own, so the test sees that the sender MAC field is the one asked for.
  const MacAddress vmac{0x00, 0x00, 0x5e, 0x00, 0x01, 0x33};
  const IpAddress vip = Ip("203.0.113.51");
  auto sent = announcer->SendGratuitousArp(vip, vmac);
  ASSERT_TRUE(sent.ok()) << sent.error();

  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::vector<uint8_t> arp;
  sockaddr_ll from{};
  while (arp.empty()) {
    ASSERT_TRUE(WaitReadable(capture.get(), deadline))
        << "no gratuitous ARP for " << vip.ToString() << " seen on b";
    uint8_t buf[1500];
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(capture.get(), buf, sizeof(buf), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
    // Skip ARP that is not about the VIP (none is expected, but the kernel
    // may talk on its own).
    if (n >= 28 && std::memcmp(buf + 14, vip.bytes().data(), 4) == 0) {
      arp.assign(buf, buf + n);
    }
  }
  const std::vector<uint8_t> header{0, 1, 0x08, 0x00, 6, 4, 0, 1};
  EXPECT_EQ(std::vector<uint8_t>(arp.begin(), arp.begin() + 8), header)
      << "htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request)";
  MacAddress sender_mac;
  std::memcpy(sender_mac.data(), arp.data() + 8, 6);
  EXPECT_EQ(sender_mac, vmac);
  EXPECT_EQ(IpAddress::FromBytes(Family::kIpv4,
                                 std::span<const uint8_t>(arp).subspan(14, 4)),
            vip);
  MacAddress target_mac;
  std::memcpy(target_mac.data(), arp.data() + 18, 6);
  EXPECT_EQ(target_mac, MacAddress{});
  EXPECT_EQ(IpAddress::FromBytes(Family::kIpv4,
                                 std::span<const uint8_t>(arp).subspan(24, 4)),
            vip);
  // Broadcast, from a/eth0 (the Ethernet source is the interface's own MAC).
  EXPECT_EQ(from.sll_pkttype, PACKET_BROADCAST);
  ASSERT_EQ(from.sll_halen, 6);
  MacAddress ether_source;
  std::memcpy(ether_source.data(), from.sll_addr, 6);
  EXPECT_EQ(ether_source, link.a_mac);
}

TEST(AnnouncerTest, UnsolicitedNeighborAdvertisementIsSeenOnThePeer) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Link link;
  ASSERT_NO_FATAL_FAILURE(link.SetUp());
  auto announcer = AnnouncerIn(link.a, link.a_ifindex);
  ASSERT_TRUE(announcer);

  int raw;
  {
    NetNs::Enter enter(link.b);
    raw = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                 IPPROTO_ICMPV6);
  }
  Fd capture(raw);
  ASSERT_GE(capture.get(), 0) << std::strerror(errno);
  icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &filter);
  ASSERT_EQ(setsockopt(capture.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter,
                       sizeof(filter)),
            0);
  const int on = 1;
  ASSERT_EQ(setsockopt(capture.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
                       sizeof(on)),
            0);
  ASSERT_EQ(setsockopt(capture.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
                       sizeof(on)),
            0);

  const MacAddress vmac{0x00, 0x00, 0x5e, 0x00, 0x02, 0x33};
  const IpAddress vip = Ip("2001:db8:51::33");
  auto sent = announcer->SendUnsolicitedNa(vip, link.a_link_local, vmac);
  ASSERT_TRUE(sent.ok()) << sent.error();

  const auto deadline = std::chrono::steady_clock::now() + kWait;
  std::vector<uint8_t> na;
  sockaddr_in6 from{};
  int hop_limit = -1;
  std::optional<IpAddress> destination;
  while (na.empty()) {
    ASSERT_TRUE(WaitReadable(capture.get(), deadline))
        << "no neighbor advertisement for " << vip.ToString() << " seen on b";
    uint8_t buf[1500];
    alignas(cmsghdr) unsigned char control[256];
    iovec iov{buf, sizeof(buf)};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(capture.get(), &msg, MSG_DONTWAIT);
    if (n < 24 || std::memcmp(buf + 8, vip.bytes().data(), 16) != 0) continue;
    na.assign(buf, buf + n);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) {
        std::memcpy(&hop_limit, CMSG_DATA(c), sizeof(hop_limit));
      } else if (c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        destination = IpAddress::FromBytes(
            Family::kIpv6,
            std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(&info.ipi6_addr), 16));
      }
    }
  }
  ASSERT_EQ(na.size(), 32u) << "24-byte NA plus one 8-byte option";
  EXPECT_EQ(na[0], 136) << "type: Neighbor Advertisement";
  EXPECT_EQ(na[1], 0) << "code";
  const uint32_t flags = (uint32_t{na[4]} << 24) | (uint32_t{na[5]} << 16) |
                         (uint32_t{na[6]} << 8) | na[7];
  EXPECT_EQ(flags, 0x20000000u) << "Override only: not Router, not Solicited";
  EXPECT_EQ(IpAddress::FromBytes(Family::kIpv6,
                                 std::span<const uint8_t>(na).subspan(8, 16)),
            vip);
  EXPECT_EQ(na[24], 2) << "option: Target Link-Layer Address";
  EXPECT_EQ(na[25], 1) << "option length: 8 bytes";
  MacAddress option_mac;
  std::memcpy(option_mac.data(), na.data() + 26, 6);
  EXPECT_EQ(option_mac, vmac);
  // No checksum check here: b's kernel verifies an ICMPv6 checksum before
  // delivering to a raw socket, so having received it proves it right.
  EXPECT_EQ(hop_limit, 255) << "RFC 4861 §7.1.2: hop limit 255";
  ASSERT_TRUE(destination.has_value());
  EXPECT_EQ(*destination, Ip("ff02::1"));
  EXPECT_EQ(IpAddress::FromBytes(
                Family::kIpv6,
                std::span<const uint8_t>(
                    reinterpret_cast<const uint8_t*>(&from.sin6_addr), 16)),
            link.a_link_local);
}

}  // namespace
}  // namespace vrrp::sys
