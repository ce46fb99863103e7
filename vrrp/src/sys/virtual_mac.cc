// Virtual MAC (`virtual_mac`, Keepalived's use_vmac), RFC 5798 §7.3.
//
// The virtual addresses live on a macvlan (bridge mode) of the instance's
// interface whose MAC is 00-00-5E-00-01-VRID (IPv4) or 00-00-5E-00-02-VRID
// (IPv6). Every router of the group has one, so after a failover clients
// keep their ARP / ND entry and only the switches must learn where the MAC
// went; the announcements (GARP / unsolicited NA) go out of the macvlan, so
// their Ethernet source is the virtual MAC and they teach the switches.
//
// Sysctls (ip-sysctl.rst), set before the macvlan comes up. Only the master
// may answer ARP for a virtual address, and only with the virtual MAC:
// - base interface: arp_ignore=1. With the default 0 Linux answers ARP for
//   any local address on any interface, so the base would answer for the
//   addresses on the macvlan with its own MAC (and break the point of the
//   virtual MAC). And arp_announce=2: replies from a virtual address (a
//   ping's echo reply) leave through the base, whose route to the subnet
//   comes first, and with the default 0 the base's ARP request for the
//   client would name the virtual address as sender with the base's MAC,
//   overwriting the client's entry for it (RFC 826 merge); 2 makes it name
//   the base's own address. The previous values are put back when the last
//   IPv4 virtual MAC on the base goes (a graceful stop or a reload); after a
//   crash they stay. Keepalived sets arp_ignore=1 and arp_filter=1 there;
//   we leave arp_filter alone: it makes the base answer only when the route
//   back to the asker leaves through it, and the macvlan's prefix route for
//   a virtual address in the base's subnet can come first (after the base's
//   own address is re-added), which would silence the base for its own
//   address.
// - macvlan: arp_ignore=1, so it answers only for the addresses on it (the
//   virtual ones, on the master alone; a backup's macvlan holds none and
//   answers nothing), never for the base's own address; arp_announce=2, so
//   an ARP request it sends names one of its own (virtual) addresses as
//   sender and never teaches a peer the virtual MAC for the host's address;
//   rp_filter=0, because packets for a virtual address arrive on the
//   macvlan while the route back usually leaves through the base (strict
//   reverse-path filtering would drop them; the effective value is the
//   maximum with net.ipv4.conf.all.rp_filter, which we only warn about);
//   promote_secondaries=1, so removing one virtual address does not take
//   the others of its subnet along. As Keepalived does, except accept_local
//   (it receives on the macvlan; we receive on the base).
// - IPv4 macvlan: disable_ipv6=1 (as Keepalived): no link-local address, no
//   DAD, MLD or router solicitation, so a backup's macvlan never sends a
//   frame from the virtual MAC that would draw the switches' traffic for it
//   away from the master.
// - IPv6 macvlan: addrgenmode random (Netlink::CreateMacvlan; RFC 5798 §7.4
//   forbids an EUI-64 identifier from the virtual MAC: it would be the same
//   link-local address on every router), accept_ra=0 (no SLAAC address or
//   default route on it, no router solicitations from the virtual MAC) and
//   accept_dad=0 (its random link-local address is usable at once; DAD
//   would delay the router by a second or two at every start and send
//   neighbor solicitations from the virtual MAC). ND needs nothing else:
//   Linux answers a solicitation only for addresses on the interface it
//   arrived on, and the macvlan answers with its own MAC.

#include <algorithm>

#include "link_layer_internal.h"

namespace vrrp::sys {

namespace {

// What a base interface of an IPv4 virtual MAC needs (see the top of this
// file), and which values already give it.
struct BaseSetting {
  const char* name;
  int value;
  bool (*enough)(int);
};
constexpr BaseSetting kBaseSettings[] = {
    // Answer ARP only for addresses configured on the interface itself (1,
    // 2) or not at all (8); 0 and 3 answer for other interfaces' addresses.
    {"arp_ignore", 1, [](int v) { return v == 1 || v == 2 || v == 8; }},
    // Only 2 ignores the packet's source address when choosing the sender.
    {"arp_announce", 2, [](int v) { return v == 2; }},
};

}  // namespace

VirtualMacStatus LinuxLinkLayer::EnsureVirtualMac(
    const InstanceConfig& config) {
  if (!config.virtual_mac) return {};
  const std::string& name = config.virtual_mac_interface;
  Itf& vmac = GetItf(name);
  if (vmac.state.exists() && vmac.state.ifindex == vmac.vmac_index) {
    if (!vmac.state.admin_up) {
      if (vmac.vmac_error.empty()) {
        Log(LogLevel::kWarn, "instance " + config.name + ": macvlan " + name +
                                 " was set down; setting it up");
      }
      SetVirtualMacUp(vmac, config);
    }
    return {.ready = vmac.state.admin_up};
  }
  // The base's state may lag behind a burst of events (a deleted base takes
  // its macvlans along, and their events can come first): ask the kernel.
  Itf& base = GetItf(config.interface);
  auto base_now = netlink_->GetInterface(base.state.name);
  if (!base.state.exists() || !base_now.ok() ||
      base_now->index != base.state.ifindex) {
    return {};  // made once the base (re)appears: its link event asks again
  }
  const MacAddress mac = VirtualRouterMac(config.family, config.vrid);
  auto made = netlink_->CreateMacvlan(name, base.state.ifindex, mac);
  if (!made.ok()) {
    if (made.error() != vmac.vmac_error) {
      Log(LogLevel::kError, "instance " + config.name +
                                ": no virtual MAC interface: " + made.error() +
                                "; retrying on the next link event");
    }
    vmac.vmac_error = made.error();
    return {};
  }
  vmac.vmac_error.clear();
  vmac.vmac_index = made->info.index;
  // Only now: until it is ours, the name may still be an interface that
  // another (releasing) instance runs on.
  vmac.vmac = true;
  Log(LogLevel::kInfo,
      "instance " + config.name + ": " +
          (made->created ? "created" : "adopted the existing") + " macvlan " +
          name + " on " + base.state.name + " with virtual MAC " +
          MacToString(mac));
  ConfigureVirtualMac(config, name);
  RefreshInterface(vmac);
  if (!vmac.state.admin_up) SetVirtualMacUp(vmac, config);
  UpdateSendOnlySocket(vmac, config.family);
  return {.ready = vmac.state.admin_up,
          .created = made->created,
          .adopted = !made->created};
}

void LinuxLinkLayer::SetVirtualMacUp(Itf& vmac, const InstanceConfig& config) {
  auto up = netlink_->SetLinkUp(vmac.state.ifindex, true);
  if (up.ok()) {
    vmac.vmac_error.clear();
    vmac.state.admin_up = true;  // the kernel said so; its event follows
    return;
  }
  // Down, the macvlan cannot answer for the addresses: the instance stays
  // in Fault until it comes up.
  if (up.error() != vmac.vmac_error) {
    Log(LogLevel::kError, "instance " + config.name + ": macvlan " +
                              vmac.state.name + ": " + up.error() +
                              "; retrying on the next link event");
  }
  vmac.vmac_error = up.error();
}

void LinuxLinkLayer::WriteSysctl(Family family, const std::string& interface,
                                 const std::string& name, int value) {
  auto r = WriteInterfaceSysctl(family, interface, name, value);
  if (!r.ok()) {
    Log(LogLevel::kError, "interface " + interface + ": " + r.error());
  }
}

void LinuxLinkLayer::ConfigureVirtualMac(const InstanceConfig& config,
                                         const std::string& name) {
  // Why each of these: see the top of this file.
  WriteSysctl(Family::kIpv4, name, "arp_ignore", 1);
  WriteSysctl(Family::kIpv4, name, "arp_announce", 2);
  WriteSysctl(Family::kIpv4, name, "rp_filter", 0);
  WriteSysctl(Family::kIpv4, name, "promote_secondaries", 1);
  if (config.family == Family::kIpv6) {
    WriteSysctl(Family::kIpv6, name, "accept_ra", 0);
    WriteSysctl(Family::kIpv6, name, "accept_dad", 0);
    return;
  }
  // No IPv6 at all (ipv6.disable=1) leaves nothing to disable.
  if (ReadInterfaceSysctl(Family::kIpv6, name, "disable_ipv6").ok()) {
    WriteSysctl(Family::kIpv6, name, "disable_ipv6", 1);
  }
  if (auto all = ReadInterfaceSysctl(Family::kIpv4, "all", "rp_filter");
      all.ok() && *all == 1) {
    Log(LogLevel::kWarn,
        "net.ipv4.conf.all.rp_filter is 1 (strict): packets to the virtual "
        "addresses arrive on " +
            name + " but the route back leaves through " + config.interface +
            ", so they are dropped; set it to 2 (loose) or 0");
  }
  SaveAndSetBaseArp(config, name);
}

void LinuxLinkLayer::SaveAndSetBaseArp(const InstanceConfig& config,
                                       const std::string& vmac_name) {
  const std::string& base = config.interface;
  for (const BaseSetting& setting : kBaseSettings) {
    if (saved_base_sysctls_.count({base, setting.name})) continue;
    auto old = ReadInterfaceSysctl(Family::kIpv4, base, setting.name);
    if (!old.ok()) {
      Log(LogLevel::kError, "interface " + base + ": " + old.error());
      continue;
    }
    if (setting.enough(*old)) continue;
    auto set =
        WriteInterfaceSysctl(Family::kIpv4, base, setting.name, setting.value);
    if (!set.ok()) {
      Log(LogLevel::kError,
          "interface " + base + ": " + set.error() +
              "; clients may learn its MAC for the virtual addresses");
      continue;
    }
    saved_base_sysctls_[{base, setting.name}] = *old;
    Log(LogLevel::kInfo, "interface " + base + ": " + setting.name + " " +
                             std::to_string(*old) + " -> " +
                             std::to_string(setting.value) + " for the " +
                             "virtual MAC on " + vmac_name);
  }
}

void LinuxLinkLayer::ReleaseVirtualMac(const InstanceConfig& config) {
  const std::string& name = config.virtual_mac_interface;
  auto r = netlink_->DeleteMacvlan(
      name, VirtualRouterMac(config.family, config.vrid));
  if (r.ok()) {
    Log(LogLevel::kInfo,
        "instance " + config.name + ": deleted macvlan " + name);
  } else {
    Log(LogLevel::kError, "instance " + config.name + ": " + r.error());
  }
  // Its deletion event, read later, is then no news.
  ForgetVirtualMacInterface(name);
  if (config.family != Family::kIpv4) return;
  // The base's ARP settings go back with its last IPv4 virtual MAC.
  for (const Port* p : ports_) {
    const InstanceConfig& other = p->config();
    if (!other.virtual_mac || other.family != Family::kIpv4 ||
        other.interface != config.interface) {
      continue;
    }
    if (const Itf* vmac = FindItf(other.virtual_mac_interface);
        vmac && vmac->vmac) {
      return;
    }
  }
  RestoreBaseArp(config.interface);
}

// By value: callers may pass names that live in saved_base_sysctls_, which
// this erases from.
void LinuxLinkLayer::RestoreBaseArp(std::string base) {
  for (auto it = saved_base_sysctls_.begin();
       it != saved_base_sysctls_.end();) {
    if (it->first.first != base) {
      ++it;
      continue;
    }
    const std::string& name = it->first.second;
    auto r = WriteInterfaceSysctl(Family::kIpv4, base, name, it->second);
    if (r.ok()) {
      Log(LogLevel::kInfo, "interface " + base + ": " + name + " back to " +
                               std::to_string(it->second));
    } else {
      Log(LogLevel::kError, "interface " + base + ": " + r.error());
    }
    it = saved_base_sysctls_.erase(it);
  }
}

void LinuxLinkLayer::ForgetVirtualMacInterface(const std::string& name) {
  Itf* itf = FindItf(name);
  if (itf == nullptr) return;
  // Forget it as ours, so the name can be an instance's interface later
  // (an instance that wants it as a macvlan marks it again), and so that
  // its deletion, which we asked for, is not reported as an interface gone.
  MarkGone(*itf);
  itf->vmac = false;
  itf->vmac_index = 0;
}

}  // namespace vrrp::sys
