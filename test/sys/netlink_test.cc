// Netlink, PickSourceAddress, NetlinkAddressManager and LinkMonitor against
// the real kernel, each test inside network namespaces of its own. A netlink
// socket belongs to the namespace it was created in, so every test enters
// its namespace before opening one.
//
// Only documentation prefixes are configured: 192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24 and 2001:db8::/32.

#include "vrrp/sys/netlink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sys/netns.h"

namespace vrrp {
// Readable failure messages.
void PrintTo(const IpAddress& address, std::ostream* os) {
  *os << address.ToString();
}
void PrintTo(const IpPrefix& prefix, std::ostream* os) {
  *os << prefix.ToString();
}
}  // namespace vrrp

namespace vrrp::sys {
namespace {

using ::testing::HasSubstr;
using ::vrrp::testing::NetNs;
using ::vrrp::testing::RequireRootAndIproute;
using ::vrrp::testing::ShOut;
using ::vrrp::testing::Veth;

// Upper bound for anything the kernel does asynchronously (the link watcher
// updating operstate, event delivery). Waits end as soon as the condition
// holds; reaching the bound fails the test.
constexpr auto kPatience = std::chrono::seconds(5);

IpPrefix P(const char* text) {
  auto prefix = IpPrefix::Parse(text);
  EXPECT_TRUE(prefix.has_value()) << text;
  return prefix.value_or(IpPrefix{});
}

IpAddress A(const char* text) {
  auto address = IpAddress::Parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

std::unique_ptr<Netlink> OpenNetlink() {
  auto netlink = Netlink::Open();
  if (!netlink.ok()) {
    ADD_FAILURE() << netlink.error();
    return nullptr;
  }
  return std::move(netlink).value();
}

// `ip -n NS ARGS` and its output.
std::string IpOut(const NetNs& ns, const std::string& args) {
  return ShOut("ip -n " + ns.name() + " " + args);
}

// The line of `ip -o addr show dev IF` that holds `prefix` ("" if none).
std::string IpAddrLine(const NetNs& ns, const std::string& interface,
                       const std::string& prefix) {
  std::istringstream lines(IpOut(ns, "-o addr show dev " + interface));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(" " + prefix + " ") != std::string::npos) return line;
  }
  return "";
}

// The MAC `ip link` reports for `interface`.
MacAddress IpMac(const NetNs& ns, const std::string& interface) {
  const std::string out = IpOut(ns, "-o link show dev " + interface);
  MacAddress mac{};
  const auto at = out.find("link/ether ");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no link/ether in: " << out;
    return mac;
  }
  unsigned b[6];
  if (std::sscanf(out.c_str() + at, "link/ether %x:%x:%x:%x:%x:%x", &b[0],
                  &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
    ADD_FAILURE() << "unparsable MAC in: " << out;
    return mac;
  }
  std::copy(std::begin(b), std::end(b), mac.begin());
  return mac;
}

std::vector<InterfaceAddress> List(Netlink& netlink, int ifindex,
                                   Family family) {
  auto addresses = netlink.ListAddresses(ifindex, family);
  if (!addresses.ok()) {
    ADD_FAILURE() << addresses.error();
    return {};
  }
  return addresses.value();
}

const InterfaceAddress* Find(const std::vector<InterfaceAddress>& addresses,
                             const IpPrefix& prefix) {
  for (const auto& a : addresses) {
    if (a.prefix == prefix) return &a;
  }
  return nullptr;
}

bool Has(const std::vector<InterfaceAddress>& addresses,
         const IpPrefix& prefix) {
  return Find(addresses, prefix) != nullptr;
}

// Re-reads the interface until `condition` holds or kPatience runs out.
bool WaitForInterface(
    Netlink& netlink, const std::string& name,
    const std::function<bool(const InterfaceInfo&)>& condition,
    InterfaceInfo* last) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    auto info = netlink.GetInterface(name);
    if (info.ok()) {
      *last = info.value();
      if (condition(*last)) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Hands the monitor's events to it until `done` holds or kPatience runs
// out. `*complete` turns false if ProcessEvents ever reports lost events.
bool PumpUntil(LinkMonitor& monitor, const std::function<bool()>& done,
               bool* complete) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{monitor.fd(), POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (ready < 0) return false;
    if (ready > 0 && !monitor.ProcessEvents()) *complete = false;
  }
  return true;
}

// The namespaces most tests use: `veth0` in "nl", its peer `veth1` in
// "nlpeer", both up, IPv6 DAD off.
struct Lab {
  NetNs ns{"nl"};
  NetNs peer{"nlpeer"};
  Lab() { Veth(ns, "veth0", peer, "veth1"); }
};

// ---------------------------------------------------------------------------
// GetInterface

TEST(NetlinkTest, GetInterfaceReportsIndexNameMacAndMtu) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);

  auto info = netlink->GetInterface("veth0");
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(info->index, static_cast<int>(if_nametoindex("veth0")));
  EXPECT_GT(info->index, 0);
  // `ip -o link` starts with "INDEX: NAME@...".
  const std::string line = IpOut(lab.ns, "-o link show dev veth0");
  EXPECT_EQ(line.rfind(std::to_string(info->index) + ": veth0", 0), 0u) << line;
  EXPECT_EQ(info->name, "veth0");
  EXPECT_EQ(info->mac, IpMac(lab.ns, "veth0"));
  EXPECT_NE(info->mac, MacAddress{});
  EXPECT_EQ(info->mtu, 1500u);
  EXPECT_TRUE(info->admin_up);

  ASSERT_EQ(lab.ns.Ip("link set veth0 mtu 1400"), 0);
  auto changed = netlink->GetInterface("veth0");
  ASSERT_TRUE(changed.ok()) << changed.error();
  EXPECT_EQ(changed->mtu, 1400u);

  // Loopback has an all-zero 6-byte address and no carrier to lose.
  auto lo = netlink->GetInterface("lo");
  ASSERT_TRUE(lo.ok()) << lo.error();
  EXPECT_EQ(lo->index, 1);
  EXPECT_EQ(lo->mac, MacAddress{});
  EXPECT_TRUE(lo->admin_up);
  EXPECT_TRUE(lo->oper_up);
}

TEST(NetlinkTest, GetInterfaceFollowsAdminStateAndCarrier) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const auto up = [](const InterfaceInfo& i) {
    return i.admin_up && i.oper_up;
  };
  InterfaceInfo last;

  // Both ends up: carrier. The operstate follows through the kernel's link
  // watcher, which runs asynchronously, hence the wait.
  ASSERT_TRUE(WaitForInterface(*netlink, "veth0", up, &last))
      << "admin_up=" << last.admin_up << " oper_up=" << last.oper_up;

  // Administratively down: neither flag, at once.
  ASSERT_EQ(lab.ns.Ip("link set veth0 down"), 0);
  auto down = netlink->GetInterface("veth0");
  ASSERT_TRUE(down.ok()) << down.error();
  EXPECT_FALSE(down->admin_up);
  EXPECT_FALSE(down->oper_up);

  ASSERT_EQ(lab.ns.Ip("link set veth0 up"), 0);
  ASSERT_TRUE(WaitForInterface(*netlink, "veth0", up, &last));

  // Peer down: still administratively up, but no carrier.
  ASSERT_EQ(lab.peer.Ip("link set veth1 down"), 0);
  ASSERT_TRUE(WaitForInterface(
      *netlink, "veth0",
      [](const InterfaceInfo& i) { return i.admin_up && !i.oper_up; }, &last))
      << "admin_up=" << last.admin_up << " oper_up=" << last.oper_up;

  ASSERT_EQ(lab.peer.Ip("link set veth1 up"), 0);
  EXPECT_TRUE(WaitForInterface(*netlink, "veth0", up, &last));
}

TEST(NetlinkTest, GetInterfaceWithUnknownOrInvalidNameIsAnError) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  NetNs ns("nl");
  NetNs::Enter in(ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);

  auto missing = netlink->GetInterface("nosuchif0");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr("nosuchif0"));
  EXPECT_THAT(missing.error(), HasSubstr("No such device"));

  EXPECT_FALSE(netlink->GetInterface("").ok());
  auto too_long = netlink->GetInterface("an-interface-name-too-long");
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.error(), HasSubstr("an-interface-name-too-long"));

  // The socket still works after errors.
  EXPECT_TRUE(netlink->GetInterface("lo").ok());
}

// ---------------------------------------------------------------------------
// Addresses

TEST(NetlinkTest, AddAndRemoveIpv4Address) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);
  const IpPrefix vip = P("192.0.2.10/24");

  auto added = netlink->AddAddress(index, vip);
  ASSERT_TRUE(added.ok()) << added.error();

  const auto addresses = List(*netlink, index, Family::kIpv4);
  const InterfaceAddress* found = Find(addresses, vip);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->ifindex, index);
  EXPECT_FALSE(found->secondary);  // the only address in its subnet
  EXPECT_FALSE(found->tentative);
  EXPECT_EQ(found->scope, 0);  // RT_SCOPE_UNIVERSE
  EXPECT_THAT(IpAddrLine(lab.ns, "veth0", "192.0.2.10/24"),
              HasSubstr("scope global"));

  auto removed = netlink->RemoveAddress(index, vip);
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_FALSE(Has(List(*netlink, index, Family::kIpv4), vip));
  EXPECT_EQ(IpAddrLine(lab.ns, "veth0", "192.0.2.10/24"), "");
}

TEST(NetlinkTest, AddAndRemoveIpv6AddressWithoutDad) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  // Turn DAD back on, and make it slow (100 probes, one a second), so that
  // an address added without IFA_F_NODAD is certainly still tentative when
  // we look.
  ASSERT_EQ(lab.ns.Exec("sysctl -qw net.ipv6.conf.veth0.accept_dad=1"), 0);
  ASSERT_EQ(lab.ns.Exec("sysctl -qw net.ipv6.conf.veth0.dad_transmits=100"), 0);
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);
  const IpPrefix vip = P("2001:db8::10/64");

  auto added = netlink->AddAddress(index, vip);
  ASSERT_TRUE(added.ok()) << added.error();
  // For contrast, the same kind of address through `ip`, with DAD.
  ASSERT_EQ(lab.ns.Ip("addr add 2001:db8::20/64 dev veth0"), 0);

  const auto addresses = List(*netlink, index, Family::kIpv6);
  const InterfaceAddress* found = Find(addresses, vip);
  ASSERT_NE(found, nullptr);
  EXPECT_FALSE(found->tentative);
  EXPECT_EQ(found->scope, 0);  // RT_SCOPE_UNIVERSE
  const InterfaceAddress* with_dad = Find(addresses, P("2001:db8::20/64"));
  ASSERT_NE(with_dad, nullptr);
  EXPECT_TRUE(with_dad->tentative);

  const std::string line = IpAddrLine(lab.ns, "veth0", "2001:db8::10/64");
  EXPECT_THAT(line, HasSubstr("scope global"));
  EXPECT_THAT(line, HasSubstr("nodad"));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("tentative")));
  EXPECT_THAT(IpAddrLine(lab.ns, "veth0", "2001:db8::20/64"),
              HasSubstr("tentative"));

  auto removed = netlink->RemoveAddress(index, vip);
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_FALSE(Has(List(*netlink, index, Family::kIpv6), vip));
  EXPECT_EQ(IpAddrLine(lab.ns, "veth0", "2001:db8::10/64"), "");
}

TEST(NetlinkTest, AddLinkLocalIpv6AddressGetsLinkScope) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  const IpPrefix vip = P("fe80::db8:1/64");

  auto added = netlink->AddAddress(index, vip);
  ASSERT_TRUE(added.ok()) << added.error();
  const auto addresses = List(*netlink, index, Family::kIpv6);
  const InterfaceAddress* found = Find(addresses, vip);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->scope, 253);  // RT_SCOPE_LINK
  EXPECT_FALSE(found->tentative);
  EXPECT_THAT(IpAddrLine(lab.ns, "veth0", "fe80::db8:1/64"),
              HasSubstr("scope link"));
  ASSERT_TRUE(netlink->RemoveAddress(index, vip).ok());
}

TEST(NetlinkTest, AddingTwiceAndRemovingTwiceSucceed) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);

  for (const char* text : {"198.51.100.7/24", "2001:db8:1::7/64"}) {
    SCOPED_TRACE(text);
    const IpPrefix vip = P(text);
    const Family family = vip.address.family();
    for (int i = 0; i < 2; ++i) {
      auto added = netlink->AddAddress(index, vip);
      EXPECT_TRUE(added.ok()) << added.error();
    }
    const auto addresses = List(*netlink, index, family);
    EXPECT_EQ(std::count_if(
                  addresses.begin(), addresses.end(),
                  [&](const InterfaceAddress& a) { return a.prefix == vip; }),
              1);
    for (int i = 0; i < 2; ++i) {
      auto removed = netlink->RemoveAddress(index, vip);
      EXPECT_TRUE(removed.ok()) << removed.error();
    }
    EXPECT_FALSE(Has(List(*netlink, index, family), vip));
  }
}

TEST(NetlinkTest, InvalidIfindexIsAnErrorNamingTheRequest) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  NetNs ns("nl");
  NetNs::Enter in(ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  constexpr int kBadIndex = 987654;

  for (const char* text : {"192.0.2.10/24", "2001:db8::10/64"}) {
    SCOPED_TRACE(text);
    auto added = netlink->AddAddress(kBadIndex, P(text));
    ASSERT_FALSE(added.ok());
    EXPECT_THAT(added.error(), HasSubstr("add"));
    EXPECT_THAT(added.error(), HasSubstr(text));
    EXPECT_THAT(added.error(), HasSubstr(std::to_string(kBadIndex)));
    EXPECT_THAT(added.error(), HasSubstr("No such device"));

    auto removed = netlink->RemoveAddress(kBadIndex, P(text));
    ASSERT_FALSE(removed.ok());
    EXPECT_THAT(removed.error(), HasSubstr("remove"));
    EXPECT_THAT(removed.error(), HasSubstr(text));
    EXPECT_THAT(removed.error(), HasSubstr(std::to_string(kBadIndex)));
  }
  // Nothing there to list; the socket keeps working.
  auto listed = netlink->ListAddresses(kBadIndex, Family::kIpv4);
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_TRUE(listed->empty());
}

TEST(NetlinkTest, ListAddressesKeepsToOneInterfaceAndFamily) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  ASSERT_EQ(lab.ns.Ip("addr add 203.0.113.5/32 dev lo"), 0);
  ASSERT_EQ(lab.ns.Ip("addr add 192.0.2.1/24 dev veth0"), 0);
  ASSERT_EQ(lab.ns.Ip("addr add 2001:db8::1/64 dev veth0"), 0);
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));

  const auto v4 = List(*netlink, index, Family::kIpv4);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].prefix, P("192.0.2.1/24"));

  const auto v6 = List(*netlink, index, Family::kIpv6);
  EXPECT_NE(Find(v6, P("2001:db8::1/64")), nullptr);
  for (const auto& a : v6) {
    EXPECT_EQ(a.ifindex, index);
    EXPECT_FALSE(a.prefix.address.is_v4());
  }

  // On a point-to-point address the kernel reports the peer as IFA_ADDRESS;
  // ours is IFA_LOCAL.
  ASSERT_EQ(lab.ns.Ip("addr add 198.51.100.1 peer 198.51.100.2/32 dev veth0"),
            0);
  ASSERT_EQ(
      lab.ns.Ip("addr add 2001:db8:2::1 peer 2001:db8:2::2/128 dev veth0"), 0);
  EXPECT_TRUE(Has(List(*netlink, index, Family::kIpv4), P("198.51.100.1/32")));
  EXPECT_TRUE(
      Has(List(*netlink, index, Family::kIpv6), P("2001:db8:2::1/128")));

  const auto lo = List(*netlink, 1, Family::kIpv4);
  EXPECT_NE(Find(lo, P("127.0.0.1/8")), nullptr);
  EXPECT_NE(Find(lo, P("203.0.113.5/32")), nullptr);
  EXPECT_EQ(Find(lo, P("192.0.2.1/24")), nullptr);
}

// ---------------------------------------------------------------------------
// PickSourceAddress

TEST(PickSourceAddressTest, AppliesTheRulesToAGivenList) {
  // Pure logic; no kernel involved.
  auto entry = [](const char* text, bool secondary, bool tentative) {
    InterfaceAddress a;
    a.ifindex = 2;
    a.prefix = P(text);
    a.secondary = secondary;
    a.tentative = tentative;
    return a;
  };
  const std::vector<InterfaceAddress> v4 = {
      entry("192.0.2.9/24", /*secondary=*/true, false),
      entry("198.51.100.1/24", false, false),  // a VIP, primary in its subnet
      entry("192.0.2.1/24", false, false),
  };
  EXPECT_EQ(PickSourceAddress(v4, Family::kIpv4, {P("198.51.100.1/24")}),
            A("192.0.2.1"));
  EXPECT_EQ(PickSourceAddress(v4, Family::kIpv4, {}), A("198.51.100.1"));
  EXPECT_EQ(PickSourceAddress(v4, Family::kIpv4,
                              {P("198.51.100.1/32"), P("192.0.2.1/24")}),
            std::nullopt);  // only a secondary left
  EXPECT_EQ(PickSourceAddress(v4, Family::kIpv6, {}), std::nullopt);

  const std::vector<InterfaceAddress> v6 = {
      entry("2001:db8::1/64", false, false),
      entry("fe80::1/64", false, /*tentative=*/true),
      entry("fe80::2/64", false, false),  // a VIP
      entry("fe80::3/64", false, false),
  };
  EXPECT_EQ(PickSourceAddress(v6, Family::kIpv6, {P("fe80::2/64")}),
            A("fe80::3"));
  EXPECT_EQ(PickSourceAddress(v6, Family::kIpv6, {}), A("fe80::2"));
  EXPECT_EQ(
      PickSourceAddress(v6, Family::kIpv6, {P("fe80::2/64"), P("fe80::3/64")}),
      std::nullopt);  // global and tentative addresses never qualify
  EXPECT_EQ(PickSourceAddress({}, Family::kIpv6, {}), std::nullopt);
}

TEST(NetlinkTest, PickSourceAddressChoosesThePrimaryIpv4Address) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);

  // A virtual address in a subnet of its own comes first and is primary;
  // then the interface's real address; then a virtual address in the same
  // subnet, which the kernel makes secondary.
  const IpPrefix vip_own_subnet = P("198.51.100.1/24");
  const IpPrefix vip_same_subnet = P("192.0.2.50/24");
  ASSERT_TRUE(netlink->AddAddress(index, vip_own_subnet).ok());
  ASSERT_EQ(lab.ns.Ip("addr add 192.0.2.1/24 dev veth0"), 0);
  ASSERT_TRUE(netlink->AddAddress(index, vip_same_subnet).ok());

  const auto addresses = List(*netlink, index, Family::kIpv4);
  ASSERT_EQ(addresses.size(), 3u);
  EXPECT_EQ(addresses[0].prefix, vip_own_subnet);
  EXPECT_FALSE(addresses[0].secondary);
  const InterfaceAddress* secondary = Find(addresses, vip_same_subnet);
  ASSERT_NE(secondary, nullptr);
  EXPECT_TRUE(secondary->secondary);
  EXPECT_THAT(IpAddrLine(lab.ns, "veth0", "192.0.2.50/24"),
              HasSubstr("secondary"));

  EXPECT_EQ(PickSourceAddress(addresses, Family::kIpv4,
                              {vip_own_subnet, vip_same_subnet}),
            A("192.0.2.1"));
  // A secondary address is never the source, even with everything before it
  // ruled out.
  EXPECT_EQ(PickSourceAddress(addresses, Family::kIpv4,
                              {vip_own_subnet, P("192.0.2.1/24")}),
            std::nullopt);
}

TEST(NetlinkTest, PickSourceAddressChoosesTheIpv6LinkLocalAddress) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);

  // The kernel's own link-local address of veth0 (EUI-64 or random).
  std::string kernel_ll;
  {
    std::istringstream lines(
        IpOut(lab.ns, "-o -6 addr show dev veth0 scope link"));
    std::string line;
    while (std::getline(lines, line)) {
      const auto at = line.find("inet6 ");
      if (at == std::string::npos) continue;
      kernel_ll = line.substr(at + 6, line.find('/', at) - at - 6);
    }
  }
  ASSERT_FALSE(kernel_ll.empty()) << "veth0 has no link-local address";

  const std::vector<IpPrefix> vips = {P("fe80::db8:1/64"),
                                      P("2001:db8::100/64")};
  for (const auto& vip : vips)
    ASSERT_TRUE(netlink->AddAddress(index, vip).ok());
  ASSERT_EQ(lab.ns.Ip("addr add 2001:db8::1/64 dev veth0"), 0);

  const auto addresses = List(*netlink, index, Family::kIpv6);
  EXPECT_EQ(addresses.size(), 4u);
  EXPECT_EQ(PickSourceAddress(addresses, Family::kIpv6, vips),
            A(kernel_ll.c_str()));
  EXPECT_EQ(PickSourceAddress(addresses, Family::kIpv4, vips), std::nullopt);
}

// ---------------------------------------------------------------------------
// Virtual MAC macvlans and interface sysctls

TEST(VirtualRouterMacTest, IsTheRfc5798Section7_3Address) {
  EXPECT_EQ(VirtualRouterMac(Family::kIpv4, 51),
            (MacAddress{0x00, 0x00, 0x5e, 0x00, 0x01, 0x33}));
  EXPECT_EQ(VirtualRouterMac(Family::kIpv6, 1),
            (MacAddress{0x00, 0x00, 0x5e, 0x00, 0x02, 0x01}));
  EXPECT_EQ(MacToString(VirtualRouterMac(Family::kIpv4, 255)),
            "00:00:5e:00:01:ff");
}

// The link-local addresses of `ifindex` once it has one (kPatience).
std::vector<InterfaceAddress> WaitForLinkLocal(Netlink& netlink, int ifindex) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    std::vector<InterfaceAddress> link_local;
    for (const auto& a : List(netlink, ifindex, Family::kIpv6)) {
      if (a.prefix.address.is_ipv6_link_local()) link_local.push_back(a);
    }
    if (!link_local.empty() || std::chrono::steady_clock::now() >= deadline) {
      return link_local;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST(NetlinkTest, CreateMacvlanMakesABridgeModeMacvlanThatStaysDown) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int base = static_cast<int>(if_nametoindex("veth0"));
  const MacAddress mac = VirtualRouterMac(Family::kIpv4, 51);

  auto made = netlink->CreateMacvlan("vrrp.51", base, mac);
  ASSERT_TRUE(made.ok()) << made.error();
  EXPECT_TRUE(made->created);
  EXPECT_EQ(made->info.name, "vrrp.51");
  EXPECT_EQ(made->info.index, static_cast<int>(if_nametoindex("vrrp.51")));
  EXPECT_EQ(made->info.kind, "macvlan");
  EXPECT_EQ(made->info.link_index, base);
  EXPECT_EQ(made->info.mac, mac);
  EXPECT_EQ(made->info.macvlan_mode, uint32_t{MACVLAN_MODE_BRIDGE});
  EXPECT_FALSE(made->info.admin_up);
  // What iproute2 sees, addrgenmode included (GetInterface does not parse
  // IFLA_AF_SPEC).
  const std::string details = IpOut(lab.ns, "-d -o link show dev vrrp.51");
  EXPECT_THAT(details, HasSubstr("vrrp.51@veth0:"));
  EXPECT_THAT(details, HasSubstr("link/ether 00:00:5e:00:01:33 "));
  EXPECT_THAT(details, HasSubstr("macvlan mode bridge "));
  EXPECT_THAT(details, HasSubstr("addrgenmode random "));
  EXPECT_THAT(details, HasSubstr("state DOWN"));
  // Other links report their kind too, and a veth its peer as IFLA_LINK.
  auto veth = netlink->GetInterface("veth0");
  ASSERT_TRUE(veth.ok()) << veth.error();
  EXPECT_EQ(veth->kind, "veth");
  EXPECT_EQ(veth->macvlan_mode, 0u);

  ASSERT_TRUE(netlink->SetLinkUp(made->info.index, true).ok());
  InterfaceInfo info;
  ASSERT_TRUE(WaitForInterface(
      *netlink, "vrrp.51",
      [](const InterfaceInfo& i) { return i.admin_up && i.oper_up; }, &info));
  // RFC 5798 §7.4: the link-local address does not come from the virtual
  // MAC (EUI-64 would give fe80::200:5eff:fe00:133 on every router).
  const auto link_local = WaitForLinkLocal(*netlink, info.index);
  ASSERT_FALSE(link_local.empty()) << IpOut(lab.ns, "addr show dev vrrp.51");
  for (const auto& a : link_local) {
    EXPECT_NE(a.prefix.address, A("fe80::200:5eff:fe00:133"));
  }

  ASSERT_TRUE(netlink->SetLinkUp(made->info.index, false).ok());
  ASSERT_TRUE(WaitForInterface(
      *netlink, "vrrp.51", [](const InterfaceInfo& i) { return !i.admin_up; },
      &info));
  auto gone = netlink->SetLinkUp(999999, true);
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.error(), HasSubstr("set ifindex 999999 up: "));
}

TEST(NetlinkTest, CreateMacvlanAdoptsItsOwnAndLeavesOthersAlone) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int base = static_cast<int>(if_nametoindex("veth0"));
  const MacAddress mac = VirtualRouterMac(Family::kIpv4, 51);
  auto first = netlink->CreateMacvlan("vrrp.51", base, mac);
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_EQ(lab.ns.Ip("link set vrrp.51 up"), 0);

  // A restart after a crash finds it: adopted as it is (still up).
  auto again = netlink->CreateMacvlan("vrrp.51", base, mac);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->info.index, first->info.index);
  EXPECT_TRUE(again->info.admin_up);

  // The IPv6 virtual router of the same VRID is another MAC, another
  // macvlan on the same base.
  auto v6 = netlink->CreateMacvlan("vrrp6.51", base,
                                   VirtualRouterMac(Family::kIpv6, 51));
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_TRUE(v6->created);

  // The name taken by something that is not this macvlan: an error, and
  // the interface is left as it was.
  ASSERT_EQ(lab.ns.Ip("link add veth2 type veth peer name veth3"), 0);
  const int other_base = static_cast<int>(if_nametoindex("veth2"));
  struct Case {
    std::string name;
    int base;
    MacAddress mac;
    std::string message;
  };
  const Case cases[] = {
      {"vrrp.51", base, VirtualRouterMac(Family::kIpv4, 52),
       "kind \"macvlan\", on ifindex " + std::to_string(base) +
           ", MAC 00:00:5e:00:01:33) and is not a macvlan on ifindex " +
           std::to_string(base) + " with MAC 00:00:5e:00:01:34"},
      {"vrrp.51", other_base, mac, "already exists"},
      {"veth2", base, VirtualRouterMac(Family::kIpv4, 53), "kind \"veth\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = netlink->CreateMacvlan(c.name, c.base, c.mac);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error(), HasSubstr("create macvlan \"" + c.name + "\""));
    EXPECT_THAT(r.error(), HasSubstr(c.message));
    EXPECT_THAT(r.error(), HasSubstr("left untouched"));
  }
  EXPECT_EQ(IpMac(lab.ns, "vrrp.51"), mac);
  EXPECT_THAT(IpOut(lab.ns, "-o link show dev vrrp.51"), HasSubstr("@veth0"));
  EXPECT_THAT(IpOut(lab.ns, "-d -o link show dev veth2"), HasSubstr("veth"));

  // One MAC twice on one base: the kernel refuses it when the second one
  // comes up.
  auto duplicate = netlink->CreateMacvlan("vm-dup", base, mac);
  ASSERT_TRUE(duplicate.ok()) << duplicate.error();
  auto up = netlink->SetLinkUp(duplicate->info.index, true);
  ASSERT_FALSE(up.ok());
  EXPECT_THAT(up.error(),
              HasSubstr("(another interface on the same base has this MAC)"));

  auto no_base = netlink->CreateMacvlan("vrrp.9", 999999,
                                        VirtualRouterMac(Family::kIpv4, 9));
  ASSERT_FALSE(no_base.ok());
  EXPECT_THAT(no_base.error(),
              HasSubstr("create macvlan \"vrrp.9\" on ifindex 999999: "));
  for (const std::string bad : {"", "a/b", "..", "sixteen-chars-xx"}) {
    auto r = netlink->CreateMacvlan(bad, base, mac);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error(), HasSubstr("invalid interface name"));
  }
}

TEST(NetlinkTest, DeleteMacvlanDeletesOnlyAMacvlanWithItsMac) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  const int base = static_cast<int>(if_nametoindex("veth0"));
  const MacAddress mac = VirtualRouterMac(Family::kIpv4, 51);
  ASSERT_TRUE(netlink->CreateMacvlan("vrrp.51", base, mac).ok());

  auto wrong_mac =
      netlink->DeleteMacvlan("vrrp.51", VirtualRouterMac(Family::kIpv4, 52));
  ASSERT_FALSE(wrong_mac.ok());
  EXPECT_THAT(wrong_mac.error(), HasSubstr("left untouched"));
  EXPECT_NE(if_nametoindex("vrrp.51"), 0u);
  auto not_macvlan = netlink->DeleteMacvlan("veth0", mac);
  ASSERT_FALSE(not_macvlan.ok());
  EXPECT_THAT(not_macvlan.error(), HasSubstr("kind \"veth\""));
  EXPECT_NE(if_nametoindex("veth0"), 0u);

  auto deleted = netlink->DeleteMacvlan("vrrp.51", mac);
  ASSERT_TRUE(deleted.ok()) << deleted.error();
  EXPECT_EQ(if_nametoindex("vrrp.51"), 0u);
  // Already gone is success: a graceful stop after someone else removed it.
  auto again = netlink->DeleteMacvlan("vrrp.51", mac);
  EXPECT_TRUE(again.ok()) << again.error();
}

TEST(NetlinkTest, InterfaceSysctlsAreThoseOfTheCallersNamespace) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto before = ReadInterfaceSysctl(Family::kIpv4, "veth0", "arp_ignore");
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(*before, 0);
  ASSERT_TRUE(
      WriteInterfaceSysctl(Family::kIpv4, "veth0", "arp_ignore", 1).ok());
  auto after = ReadInterfaceSysctl(Family::kIpv4, "veth0", "arp_ignore");
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(*after, 1);
  EXPECT_EQ(ShOut("ip netns exec " + lab.ns.name() +
                  " cat /proc/sys/net/ipv4/conf/veth0/arp_ignore"),
            "1\n");
  // The other namespace's interface is untouched.
  EXPECT_EQ(ShOut("ip netns exec " + lab.peer.name() +
                  " cat /proc/sys/net/ipv4/conf/veth1/arp_ignore"),
            "0\n");
  ASSERT_TRUE(
      WriteInterfaceSysctl(Family::kIpv6, "veth0", "accept_ra", 0).ok());
  auto ra = ReadInterfaceSysctl(Family::kIpv6, "veth0", "accept_ra");
  ASSERT_TRUE(ra.ok()) << ra.error();
  EXPECT_EQ(*ra, 0);

  auto missing = ReadInterfaceSysctl(Family::kIpv4, "nosuchif0", "arp_ignore");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(),
              HasSubstr("/proc/sys/net/ipv4/conf/nosuchif0/arp_ignore: "));
  auto unknown =
      WriteInterfaceSysctl(Family::kIpv4, "veth0", "no_such_knob", 1);
  ASSERT_FALSE(unknown.ok());
  // Nothing outside conf/INTERFACE/NAME can be named.
  for (const auto& [interface, name] :
       {std::pair<std::string, std::string>{"..", "arp_ignore"},
        {"veth0/..", "arp_ignore"},
        {"veth0", "../../all/arp_ignore"},
        {"veth0", ""},
        {"", "arp_ignore"}}) {
    auto r = WriteInterfaceSysctl(Family::kIpv4, interface, name, 1);
    ASSERT_FALSE(r.ok()) << interface << " " << name;
    EXPECT_THAT(r.error(), HasSubstr("invalid name"));
  }
}

// ---------------------------------------------------------------------------
// NetlinkAddressManager

TEST(NetlinkTest, AddressManagerResolvesNamesOnEveryCall) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  std::vector<std::string> errors;
  NetlinkAddressManager manager(
      *netlink, [&](const std::string& interface, const IpPrefix& address,
                    const std::string& message) {
        errors.push_back(interface + " " + address.ToString() + ": " + message);
      });
  const IpPrefix vip = P("203.0.113.10/24");

  manager.AddAddress("veth0", vip);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_NE(IpAddrLine(lab.ns, "veth0", "203.0.113.10/24"), "");
  manager.RemoveAddress("veth0", vip);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_EQ(IpAddrLine(lab.ns, "veth0", "203.0.113.10/24"), "");

  // Re-create veth0: same name, new index.
  const int old_index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_EQ(lab.ns.Ip("link del veth0"), 0);
  Veth(lab.ns, "veth0", lab.peer, "veth1");
  ASSERT_NE(static_cast<int>(if_nametoindex("veth0")), old_index);
  manager.AddAddress("veth0", vip);
  EXPECT_THAT(errors, ::testing::IsEmpty());
  EXPECT_NE(IpAddrLine(lab.ns, "veth0", "203.0.113.10/24"), "");

  manager.AddAddress("nosuchif0", vip);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("nosuchif0 203.0.113.10/24: "));
  EXPECT_THAT(errors[0], HasSubstr("No such device"));
  // Removing from an interface that is gone is done: its addresses went
  // with it (an interface deleted under a master is no I/O error).
  manager.RemoveAddress("nosuchif0", vip);
  EXPECT_EQ(errors.size(), 1u);
}

// ---------------------------------------------------------------------------
// LinkMonitor

struct Recorder {
  std::vector<InterfaceInfo> links;
  std::vector<std::pair<int, Family>> addresses;

  LinkMonitor::Callbacks Callbacks() {
    return {
        .on_link = [this](const InterfaceInfo& i) { links.push_back(i); },
        .on_address = [this](int index,
                             Family f) { addresses.emplace_back(index, f); },
    };
  }
  bool SawLink(const std::function<bool(const InterfaceInfo&)>& match) const {
    return std::any_of(links.begin(), links.end(), match);
  }
  bool SawAddress(int index, Family family) const {
    return std::find(addresses.begin(), addresses.end(),
                     std::pair{index, family}) != addresses.end();
  }
  void Clear() {
    links.clear();
    addresses.clear();
  }
};

std::unique_ptr<LinkMonitor> OpenMonitor(Recorder& recorder) {
  auto monitor = LinkMonitor::Open(recorder.Callbacks());
  if (!monitor.ok()) {
    ADD_FAILURE() << monitor.error();
    return nullptr;
  }
  return std::move(monitor).value();
}

TEST(LinkMonitorTest, ReportsLinkGoingDownAndUp) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  Recorder recorder;
  auto monitor = OpenMonitor(recorder);
  ASSERT_NE(monitor, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);
  bool complete = true;

  // Nothing pending is not an error.
  EXPECT_TRUE(monitor->ProcessEvents());

  ASSERT_EQ(lab.ns.Ip("link set veth0 down"), 0);
  EXPECT_TRUE(PumpUntil(
      *monitor,
      [&] {
        return recorder.SawLink([&](const InterfaceInfo& i) {
          return i.index == index && !i.admin_up && !i.oper_up;
        });
      },
      &complete))
      << "no link-down event for veth0";
  ASSERT_FALSE(recorder.links.empty());
  EXPECT_EQ(recorder.links.back().name, "veth0");
  EXPECT_EQ(recorder.links.back().mtu, 1500u);

  recorder.Clear();
  ASSERT_EQ(lab.ns.Ip("link set veth0 up"), 0);
  EXPECT_TRUE(PumpUntil(
      *monitor,
      [&] {
        return recorder.SawLink([&](const InterfaceInfo& i) {
          return i.index == index && i.admin_up && i.oper_up;
        });
      },
      &complete))
      << "no link-up event for veth0";

  // Carrier loss alone (peer down) is reported too.
  recorder.Clear();
  ASSERT_EQ(lab.peer.Ip("link set veth1 down"), 0);
  EXPECT_TRUE(PumpUntil(
      *monitor,
      [&] {
        return recorder.SawLink([&](const InterfaceInfo& i) {
          return i.index == index && i.admin_up && !i.oper_up;
        });
      },
      &complete))
      << "no carrier-down event for veth0";
  EXPECT_TRUE(complete);
}

TEST(LinkMonitorTest, ReportsAddressChanges) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  auto netlink = OpenNetlink();
  ASSERT_NE(netlink, nullptr);
  Recorder recorder;
  auto monitor = OpenMonitor(recorder);
  ASSERT_NE(monitor, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);
  bool complete = true;

  struct Step {
    const char* what;
    std::function<bool()> action;
    Family family;
  };
  const IpPrefix v4 = P("192.0.2.10/24");
  const IpPrefix v6 = P("2001:db8::10/64");
  const std::vector<Step> steps = {
      {"add IPv4", [&] { return netlink->AddAddress(index, v4).ok(); },
       Family::kIpv4},
      {"add IPv6", [&] { return netlink->AddAddress(index, v6).ok(); },
       Family::kIpv6},
      {"remove IPv4", [&] { return netlink->RemoveAddress(index, v4).ok(); },
       Family::kIpv4},
      {"remove IPv6", [&] { return netlink->RemoveAddress(index, v6).ok(); },
       Family::kIpv6},
  };
  for (const auto& step : steps) {
    SCOPED_TRACE(step.what);
    recorder.Clear();
    ASSERT_TRUE(step.action());
    EXPECT_TRUE(PumpUntil(
        *monitor, [&] { return recorder.SawAddress(index, step.family); },
        &complete))
        << "no address event";
  }
  EXPECT_TRUE(complete);
}

TEST(LinkMonitorTest, ReportsDeletedLinkAsDown) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  Recorder recorder;
  auto monitor = OpenMonitor(recorder);
  ASSERT_NE(monitor, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);
  bool complete = true;

  ASSERT_EQ(lab.ns.Ip("link del veth0"), 0);
  EXPECT_TRUE(PumpUntil(
      *monitor,
      [&] {
        return recorder.SawLink(
            [&](const InterfaceInfo& i) { return i.index == index; });
      },
      &complete))
      << "no event for the deleted veth0";
  // Collect whatever else the deletion queued.
  EXPECT_TRUE(monitor->ProcessEvents());
  // The last word on veth0 (the RTM_DELLINK, after the RTM_NEWLINK of its
  // closing) says it is down. Earlier events may be late operstate updates
  // from setting it up.
  const auto last =
      std::find_if(recorder.links.rbegin(), recorder.links.rend(),
                   [&](const InterfaceInfo& i) { return i.index == index; });
  ASSERT_NE(last, recorder.links.rend());
  EXPECT_EQ(last->name, "veth0");
  EXPECT_FALSE(last->admin_up);
  EXPECT_FALSE(last->oper_up);
  EXPECT_TRUE(complete);
}

TEST(LinkMonitorTest, ReportsLostEventsAndRecovers) {
  ASSERT_NO_FATAL_FAILURE(RequireRootAndIproute());
  Lab lab;
  NetNs::Enter in(lab.ns);
  Recorder recorder;
  auto monitor = OpenMonitor(recorder);
  ASSERT_NE(monitor, nullptr);
  const int index = static_cast<int>(if_nametoindex("veth0"));
  ASSERT_GT(index, 0);

  // Far more link events than the monitor's receive buffer holds, all
  // queued before we read any: every MTU change is an RTM_NEWLINK of a few
  // kilobytes (of buffer accounting).
  const std::string batch = "/tmp/" + lab.ns.name() + ".batch";
  {
    FILE* f = std::fopen(batch.c_str(), "w");
    ASSERT_NE(f, nullptr);
    for (int i = 0; i < 4000; ++i) {
      std::fprintf(f, "link set veth0 mtu %d\n", 1400 + i % 2);
    }
    std::fclose(f);
  }
  const int rc = lab.ns.Ip("-batch " + batch);
  std::remove(batch.c_str());
  ASSERT_EQ(rc, 0);

  EXPECT_FALSE(monitor->ProcessEvents()) << "expected ENOBUFS";
  // Drained: what is left is fresh.
  recorder.Clear();
  EXPECT_TRUE(monitor->ProcessEvents());
  ASSERT_EQ(lab.ns.Ip("link set veth0 mtu 1500"), 0);
  bool complete = true;
  EXPECT_TRUE(PumpUntil(
      *monitor,
      [&] {
        return recorder.SawLink([&](const InterfaceInfo& i) {
          return i.index == index && i.mtu == 1500;
        });
      },
      &complete));
  EXPECT_TRUE(complete);
}

}  // namespace
}  // namespace vrrp::sys
