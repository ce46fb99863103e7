// virtual_mac (Keepalived's use_vmac) with our daemon in network namespaces:
// the virtual address lives on a macvlan with the RFC 5798 §7.3 virtual MAC,
// so after a failover the client's neighbour entry is still right and only
// the switch has to learn where the MAC went.

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <sstream>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kVip[] = "192.0.2.200";
constexpr char kVip6[] = "2001:db8::200";
constexpr char kVmac[] = "vrrp.51";
constexpr char kVmac6[] = "vrrp6.51";
constexpr char kMac[] = "00:00:5e:00:01:33";   // IPv4, VRID 51 = 0x33
constexpr char kMac6[] = "00:00:5e:00:02:33";  // IPv6

class VirtualMacTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireRootAndIproute(); }

  static SpeakerInstance Inst(int priority) {
    SpeakerInstance i;
    i.priority = priority;
    i.virtual_mac = true;
    return i;
  }
  static SpeakerInstance Inst6(int priority) {
    SpeakerInstance i = Inst(priority);
    i.name = "vip6";
    i.vips = {"2001:db8::200/64"};
    return i;
  }
  std::unique_ptr<VrrpDaemon> Run(Lab& lab, int node, SpeakerInstance i) {
    return VrrpDaemon::Start(lab, node, SpeakerConfig({i}));
  }

  // `ip -d -o link show dev IF` in `ns`, "" if there is no such interface.
  static std::string LinkDetails(const NetNs& ns, const std::string& ifname) {
    return ShOut("ip -n " + ns.name() + " -d -o link show dev " + ifname +
                 " 2>/dev/null");
  }
  static bool HasLink(const NetNs& ns, const std::string& ifname) {
    return !LinkDetails(ns, ifname).empty();
  }
  static std::string Sysctl(const NetNs& ns, const std::string& path) {
    std::string v = ShOut("ip netns exec " + ns.name() + " cat /proc/sys/" +
                          path + " 2>/dev/null");
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }
  // The MAC in the client's neighbour entry for `address`, "" if none.
  static std::string ClientNeighbour(const Lab& lab,
                                     const std::string& address) {
    std::istringstream words(
        ShOut("ip -n " + lab.client().name() + " neigh show " + address));
    for (std::string w; words >> w;) {
      if (w == "lladdr" && words >> w) return w;
    }
    return "";
  }
  // The VIP is on node n's macvlan and nowhere else: not on any eth0, not
  // on another node's macvlan.
  static bool OnlyOnVmacOf(const Lab& lab, int n, const std::string& vmac,
                           const std::string& vip) {
    for (int i = 1; i <= lab.nodes(); ++i) {
      if (HasAddress(lab.node(i), "eth0", vip)) return false;
      if (HasAddress(lab.node(i), vmac, vip) != (i == n)) return false;
    }
    return true;
  }
  // One VRRP advertisement as the client sees it on the wire, with its
  // Ethernet header ("" if none came within 5 s).
  static std::string CaptureAdvertisement(const Lab& lab, bool v6) {
    return ShOut("timeout 5 ip netns exec " + lab.client().name() +
                 " tcpdump -l -c 1 -nn -e -i eth0 " +
                 (v6 ? "'ip6 proto 112'" : "'ip proto 112'") + " 2>/dev/null");
  }
};

TEST_F(VirtualMacTest, AddressAndMacMoveTogetherAndTheClientKeepsItsEntry) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));

  // Both nodes have the macvlan, with the virtual MAC, on eth0; the VIP is
  // on the master's macvlan only.
  ASSERT_TRUE(
      WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac, kVip); }, seconds(5)))
      << LinkDetails(lab.node(2), kVmac);
  // The exporter reads presence from the macvlan, where the address is.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return ShOut("ip netns exec " + lab.node(2).name() +
                     " curl -s -m 5 http://127.0.0.1:9687/metrics")
                   .find("address=\"192.0.2.200/24\"} 1") != std::string::npos;
      },
      seconds(3)));
  // n1 configures its macvlan before its instance starts (speaker.cc).
  ASSERT_TRUE(n1->WaitForLog("Initialize -> Backup", seconds(5))) << n1->Log();
  for (int i : {1, 2}) {
    const std::string details = LinkDetails(lab.node(i), kVmac);
    EXPECT_NE(details.find("vrrp.51@eth0:"), std::string::npos) << details;
    EXPECT_NE(details.find("link/ether " + std::string(kMac)),
              std::string::npos)
        << details;
    EXPECT_NE(details.find("macvlan mode bridge"), std::string::npos)
        << details;
    EXPECT_NE(details.find("addrgenmode random"), std::string::npos) << details;
    // Only the macvlan answers ARP for the VIP, and it sends nothing from
    // the virtual MAC while it is a backup's (no IPv6 on it).
    EXPECT_EQ(Sysctl(lab.node(i), "net/ipv4/conf/eth0/arp_ignore"), "1");
    EXPECT_EQ(Sysctl(lab.node(i), "net/ipv4/conf/eth0/arp_announce"), "2");
    EXPECT_EQ(Sysctl(lab.node(i), "net/ipv4/conf/vrrp.51/arp_ignore"), "1");
    EXPECT_EQ(Sysctl(lab.node(i), "net/ipv6/conf/vrrp.51/disable_ipv6"), "1");
  }

  // The client resolves the VIP to the virtual MAC (several times, so an
  // answer from eth0 with its own MAC would show).
  for (int round = 0; round < 3; ++round) {
    lab.client().Ip("neigh flush dev eth0");
    ASSERT_TRUE(Ping(lab.client(), kVip, seconds(5)));
    EXPECT_EQ(ClientNeighbour(lab, kVip), kMac) << "round " << round;
  }
  // RFC 5798 §7.3: advertisements come from the virtual MAC, with the
  // master's own address as source (§5.1.1.1).
  const std::string advert = CaptureAdvertisement(lab, /*v6=*/false);
  EXPECT_NE(advert.find(std::string(kMac) + " > 01:00:5e:00:00:12"),
            std::string::npos)
      << advert;
  EXPECT_NE(advert.find("192.0.2.12 > 224.0.0.18"), std::string::npos)
      << advert;

  // A crash: n1 takes over on its own macvlan, and the client reaches it
  // with the entry it already has.
  n2->process().KillGroup();
  lab.CutLink(2);
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)));
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", kVip));
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip), kMac);
  EXPECT_TRUE(
      n1->WaitForLog("Backup -> Master (master-down-timer)", seconds(1)));
  // Its own macvlan's events never faulted it.
  EXPECT_EQ(n1->Count("Fault"), 0) << n1->Log();

  // A graceful stop deletes the macvlan and restores eth0's ARP settings.
  n1->process().Signal(SIGTERM);
  auto rc = n1->process().Wait(seconds(10));
  ASSERT_TRUE(rc.has_value()) << "daemon did not exit on SIGTERM";
  EXPECT_EQ(*rc, 0) << n1->Log();
  EXPECT_FALSE(HasLink(lab.node(1), kVmac));
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_ignore"), "0");
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_announce"), "0");
  EXPECT_GE(n1->Count("deleted macvlan vrrp.51"), 1) << n1->Log();
  EXPECT_EQ(n1->Count(" error "), 0) << n1->Log();
  // Deleting it ourselves is not an interface that went away.
  EXPECT_EQ(n1->Count("is gone"), 0) << n1->Log();
}

TEST_F(VirtualMacTest, Ipv6VirtualMacWithRandomLinkLocalAddresses) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst6(100));
  auto n2 = Run(lab, 2, Inst6(200));
  ASSERT_TRUE(WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac6, kVip6); },
                        seconds(5)));
  ASSERT_TRUE(n1->WaitForLog("Initialize -> Backup", seconds(5))) << n1->Log();
  // RFC 5798 §7.4: no EUI-64 link-local address from the virtual MAC, so
  // the two macvlans' addresses differ.
  std::string link_local[3];
  for (int i : {1, 2}) {
    const std::string details = LinkDetails(lab.node(i), kVmac6);
    EXPECT_NE(details.find("link/ether " + std::string(kMac6)),
              std::string::npos)
        << details;
    std::istringstream words(ShOut("ip -n " + lab.node(i).name() +
                                   " -6 -o addr show dev vrrp6.51 scope link"));
    for (std::string w; words >> w;) {
      if (w == "inet6" && words >> w) link_local[i] = w.substr(0, w.find('/'));
    }
    EXPECT_NE(link_local[i], "") << "n" << i << " has no link-local address";
    EXPECT_NE(link_local[i], "fe80::200:5eff:fe00:233");
  }
  EXPECT_NE(link_local[1], link_local[2]);

  lab.client().Ip("-6 neigh flush dev eth0");
  ASSERT_TRUE(Ping(lab.client(), kVip6, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip6), kMac6);
  // §7.3 and §5.1.2.1: from the virtual MAC and the macvlan's link-local.
  const std::string advert = CaptureAdvertisement(lab, /*v6=*/true);
  EXPECT_NE(advert.find(std::string(kMac6) + " > 33:33:00:00:00:12"),
            std::string::npos)
      << advert;
  EXPECT_NE(advert.find(link_local[2] + " > ff02::12"), std::string::npos)
      << advert;

  n2->process().KillGroup();
  lab.CutLink(2);
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac6, kVip6); },
                        seconds(5)));
  EXPECT_TRUE(Ping(lab.client(), kVip6, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip6), kMac6);
  EXPECT_EQ(n1->Count("Fault"), 0) << n1->Log();
}

TEST_F(VirtualMacTest, RestartAfterACrashAdoptsTheMacvlanAndClearsIt) {
  Lab lab(2);
  auto n1 = Run(lab, 1, Inst(100));
  auto n2 = Run(lab, 2, Inst(200));
  ASSERT_TRUE(
      WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac, kVip); }, seconds(5)));
  // A crash without a cut link: the macvlan and its VIP stay behind on n2.
  n2->process().KillGroup();
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)));
  ASSERT_TRUE(HasAddress(lab.node(2), kVmac, kVip));
  const std::string before = LinkDetails(lab.node(2), kVmac);

  n2 = Run(lab, 2, Inst(200));
  ASSERT_TRUE(
      n2->WaitForLog("adopted the existing macvlan vrrp.51", seconds(5)))
      << n2->Log();
  // Logged after the adoption line, once the macvlan is configured: wait for
  // it rather than count at once (a count here raced that work under ASan).
  EXPECT_TRUE(
      n2->WaitForLog("removing 192.0.2.200/24 left on vrrp.51", seconds(5)))
      << n2->Log();
  // Same interface (same index), and n2 preempts again.
  EXPECT_EQ(LinkDetails(lab.node(2), kVmac).substr(0, before.find(':')),
            before.substr(0, before.find(':')));
  EXPECT_TRUE(
      WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac, kVip); }, seconds(5)));
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip), kMac);
}

TEST_F(VirtualMacTest, AStartThatCannotServeHttpTouchesNothing) {
  Lab lab(1, /*with_client=*/false);
  // Another program holds the metrics port. The daemon must find out before
  // its speaker runs: at priority 255 it would be master at once, and exiting
  // then left the address (advertised by nobody), the macvlan and eth0's ARP
  // sysctls behind.
  const std::string ready = lab.dir() + "/port-held";
  auto holder = Process::Start(lab.node(1),
                               {"python3", "-c",
                                "import socket, time\n"
                                "s = socket.socket()\n"
                                "s.bind(('0.0.0.0', 9687))\n"
                                "s.listen()\n"
                                "open('" +
                                    ready +
                                    "', 'w').close()\n"
                                    "time.sleep(60)\n"},
                               lab.dir() + "/holder.log");
  ASSERT_TRUE(WaitUntil([&] { return ::access(ready.c_str(), F_OK) == 0; },
                        seconds(5)));
  auto n1 = Run(lab, 1, Inst(255));
  auto rc = n1->process().Wait(seconds(10));
  ASSERT_TRUE(rc.has_value()) << n1->Log();
  EXPECT_EQ(*rc, 1) << n1->Log();
  EXPECT_GE(n1->Count("http: "), 1) << n1->Log();
  EXPECT_EQ(n1->Count(" -> "), 0) << n1->Log();
  EXPECT_FALSE(HasLink(lab.node(1), kVmac));
  EXPECT_FALSE(HasAddress(lab.node(1), "eth0", kVip));
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_ignore"), "0");
}

TEST_F(VirtualMacTest, MacvlanDeletedUnderTheMasterIsMadeAgain) {
  Lab lab(1);
  auto n1 = Run(lab, 1, Inst(200));
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)));
  ASSERT_EQ(lab.node(1).Ip("link del vrrp.51"), 0);
  // Made again, with the address back on it and announced, and no Fault.
  EXPECT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)))
      << n1->Log();
  EXPECT_EQ(n1->Count("created macvlan vrrp.51"), 2) << n1->Log();
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip), kMac);
  // Set down by hand: set up again.
  ASSERT_EQ(lab.node(1).Ip("link set vrrp.51 down"), 0);
  EXPECT_TRUE(n1->WaitForLog("macvlan vrrp.51 was set down", seconds(5)));
  EXPECT_TRUE(WaitUntil(
      [&] {
        return LinkDetails(lab.node(1), kVmac).find("state UP") !=
               std::string::npos;
      },
      seconds(5)));
  EXPECT_EQ(n1->Count("Fault"), 0) << n1->Log();
}

TEST_F(VirtualMacTest,
       ReloadKeepsTheMacvlanOfAChangedInstanceAndDropsARemoved) {
  Lab lab(1);
  auto a = Inst(200);
  auto b = Inst(200);
  b.name = "vip2";
  b.vrid = 52;
  b.vips = {"192.0.2.201/24"};
  b.virtual_mac_interface = "vm-b";
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({a, b}));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return HasAddress(lab.node(1), kVmac, kVip) &&
               HasAddress(lab.node(1), "vm-b", "192.0.2.201");
      },
      seconds(5)))
      << n1->Log();
  const std::string before = LinkDetails(lab.node(1), kVmac);
  EXPECT_NE(LinkDetails(lab.node(1), "vm-b").find("00:00:5e:00:01:34"),
            std::string::npos);

  // vip1 changes (re-created: it adopts its own macvlan), vip2 goes. The
  // version, as anything short of another virtual router, owner status or
  // virtual MAC is taken in place.
  a.version = 2;
  a.interval = "1s";
  n1->WriteConfig(SpeakerConfig({a}));
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(
      n1->WaitForLog("0 kept, 0 added, 1 re-created, 1 removed", seconds(5)))
      << n1->Log();
  EXPECT_TRUE(
      WaitUntil([&] { return !HasLink(lab.node(1), "vm-b"); }, seconds(5)))
      << n1->Log();
  EXPECT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)))
      << n1->Log();
  EXPECT_EQ(LinkDetails(lab.node(1), kVmac).substr(0, before.find(':')),
            before.substr(0, before.find(':')))
      << "vrrp.51 was made again instead of adopted";
  EXPECT_EQ(n1->Count(" error "), 0) << n1->Log();
  // eth0's ARP settings stay while vrrp.51 needs them.
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_ignore"), "1");

  // Renamed: the old macvlan goes first, since another with its MAC on
  // eth0 could not come up beside it.
  a.virtual_mac_interface = "vm-a";
  n1->WriteConfig(SpeakerConfig({a}));
  n1->process().Signal(SIGHUP);
  ASSERT_TRUE(
      n1->WaitForLog("0 kept, 0 added, 1 re-created, 0 removed", seconds(5)))
      << n1->Log();
  // VRRPv2 at 1 s: about 2 s of hitless release, then Master_Down_Interval.
  EXPECT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), "vm-a", kVip); },
                        seconds(10)))
      << n1->Log();
  EXPECT_FALSE(HasLink(lab.node(1), kVmac));
  EXPECT_NE(LinkDetails(lab.node(1), "vm-a").find(kMac), std::string::npos);
  EXPECT_EQ(n1->Count(" error "), 0) << n1->Log();
}

// The macvlan and the sysctls need no more than the daemon already does:
// CAP_NET_ADMIN also opens the namespace's /proc/sys/net files for writing.
TEST_F(VirtualMacTest, RunsAsNonRootWithOnlyNetAdminAndNetRaw) {
  Lab lab(1);
  const std::vector<std::string> drop = {
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all,+net_admin,+net_raw",
      "--ambient-caps=-all,+net_admin,+net_raw",
      "--bounding-set=-all,+net_admin,+net_raw",
      "--"};
  Sh("chmod 755 " + lab.dir());
  auto n1 = VrrpDaemon::Start(lab, 1, SpeakerConfig({Inst(200)}), drop);
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)))
      << n1->Log();
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_ignore"), "1");
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv6/conf/vrrp.51/disable_ipv6"), "1");
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip), kMac);
  n1->process().Signal(SIGTERM);
  ASSERT_TRUE(n1->process().Wait(seconds(10)).has_value());
  EXPECT_FALSE(HasLink(lab.node(1), kVmac));
  EXPECT_EQ(Sysctl(lab.node(1), "net/ipv4/conf/eth0/arp_ignore"), "0");
  EXPECT_EQ(n1->Count(" error "), 0) << n1->Log();
}

// Mixed with Debian's keepalived 2.2.7 and its use_vmac (the same MAC and
// default name; Keepalived sends and receives on its macvlan, in private
// mode): each hears the other and the VIP moves between the two macvlans
// both ways.
TEST_F(VirtualMacTest, InteroperatesWithKeepalivedUseVmac) {
  Lab lab(2);
  KeepalivedInstance k;
  k.name = "vip1";
  k.vrid = 51;
  k.priority = 200;
  k.advert_int = "0.1";
  k.vips = {"192.0.2.200/24"};
  std::string config = KeepalivedConfig("ka", {k});
  const std::string anchor = "    interface eth0\n";
  config.insert(config.find(anchor) + anchor.size(), "    use_vmac\n");
  auto ka = Keepalived::Start(lab, 2, config);
  auto ours = Run(lab, 1, Inst(100));
  ASSERT_TRUE(
      WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac, kVip); }, seconds(5)))
      << ka->Log();
  // We hear Keepalived's advertisements (sent from its macvlan, with the
  // same virtual MAC as ours): we stay Backup.
  EXPECT_FALSE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                         seconds(1)));
  // Not the client's entry while Keepalived is master: Keepalived 2.2.7
  // leaves arp_announce of its base at 0, so its base's ARP request for the
  // client ("who-has 192.0.2.100 tell 192.0.2.200", from the base's MAC)
  // overwrites the entry; our base has arp_announce=2 (speaker.cc).
  ASSERT_TRUE(Ping(lab.client(), kVip, seconds(5)));

  // Keepalived crashes: we take over.
  ka->Crash();
  lab.CutLink(2);
  ASSERT_TRUE(WaitUntil([&] { return HasAddress(lab.node(1), kVmac, kVip); },
                        seconds(5)));
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ClientNeighbour(lab, kVip), kMac);

  // Back (its leftovers flushed, as after a reboot), it preempts: it hears
  // us, and we hear it.
  lab.node(2).Ip("link del vrrp.51");
  lab.RestoreLink(2);
  ka = Keepalived::Start(lab, 2, config);
  EXPECT_TRUE(
      WaitUntil([&] { return OnlyOnVmacOf(lab, 2, kVmac, kVip); }, seconds(5)))
      << ka->Log();
  EXPECT_TRUE(
      ours->WaitForLog("Master -> Backup (higher-priority-master)", seconds(2)))
      << ours->Log();
  EXPECT_TRUE(Ping(lab.client(), kVip, seconds(5)));
  EXPECT_EQ(ours->Count("dropped advertisement") +
                ours->Count("mismatched advertisement"),
            0)
      << ours->Log();
}

}  // namespace
}  // namespace vrrp::testing
