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
//
// Advertisements. RFC 5798 §7.3: their Ethernet source is the virtual MAC,
// so switches keep learning where it is; a backup's IPv6 macvlan does send
// a few frames from it (MLD reports when it comes up), and the next
// advertisement from the master corrects the switches. So multicast
// advertisements leave through the macvlan, on a send-only socket:
// - IPv4 from the base's primary address (IP_PKTINFO; §5.1.1.1 names the
//   primary address of the interface, the macvlan has only virtual ones);
// - IPv6 from the macvlan's own (random) link-local address, as §5.1.2.1
//   requires of the interface that sends; that address is then the
//   instance's address in the §6.4.3 tie-break.
// Unicast advertisements (unicast peers) stay on the base interface: sent
// through the macvlan, the kernel would resolve each peer from the macvlan,
// and an ARP request sent while it holds no address (arp_announce then
// falls back to another interface's address) would name the host's own
// address as sender with the virtual MAC.
// Everything is received on the base interface's socket either way: the
// macvlan hears the same multicast.

#include "vrrp/sys/speaker.h"

#include <linux/filter.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vrrp/announcement_schedule.h"

namespace vrrp::sys {

namespace {
size_t FamilyIndex(Family f) { return f == Family::kIpv4 ? 0 : 1; }

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

// How long a new IPv6 virtual-MAC instance waits for its macvlan's
// link-local address before it starts anyway (into Fault, no source
// address). The kernel makes the address when the link comes up and, DAD
// being off, it is usable within milliseconds; waiting keeps the instance in
// Initialize meanwhile instead of passing through Fault.
constexpr Duration kVmacSourceWait = std::chrono::seconds(2);

// Whether two instances want the same macvlan: name, base and MAC.
bool SameVmac(const InstanceConfig& a, const InstanceConfig& b) {
  return a.virtual_mac && b.virtual_mac &&
         a.virtual_mac_interface == b.virtual_mac_interface &&
         a.interface == b.interface && a.family == b.family && a.vrid == b.vrid;
}

// Puts an instance's virtual addresses on its virtual-MAC macvlan instead of
// the interface the state machine names.
class VmacAddressManager : public AddressManager {
 public:
  VmacAddressManager(AddressManager& inner, std::string vmac)
      : inner_(inner), vmac_(std::move(vmac)) {}
  void AddAddress(const std::string&, const IpPrefix& address) override {
    inner_.AddAddress(vmac_, address);
  }
  void RemoveAddress(const std::string&, const IpPrefix& address) override {
    inner_.RemoveAddress(vmac_, address);
  }

 private:
  AddressManager& inner_;
  std::string vmac_;
};

}  // namespace

struct Speaker::Interface {
  std::string name;
  int ifindex = 0;  // 0: not present
  MacAddress mac{};
  bool up = false;
  bool admin_up = false;
  std::vector<InterfaceAddress> addresses[2];
  std::unique_ptr<Announcer> announcer;
  std::unique_ptr<VrrpSocket> sockets[2];
  bool socket_multicast[2] = {false, false};
  // A virtual-MAC macvlan of ours: its sockets only send (the base's
  // receive), and its link events never fault an instance.
  bool vmac = false;
};

struct Speaker::Managed {
  // Never null. Shared with the Instance (issue 3: one configuration copy
  // per instance); a reload that keeps the instance replaces it, never
  // mutates it.
  std::shared_ptr<const InstanceConfig> config;
  Interface* itf = nullptr;   // the configured interface
  Interface* vmac = nullptr;  // virtual_mac: the macvlan's entry
  int vmac_index = 0;         // the macvlan we made or adopted; 0: none yet
  std::string vmac_error;     // the last failure, logged once
  std::unique_ptr<InstanceIo> io;
  // Declared before the instance, which uses it until it is destroyed.
  std::unique_ptr<AddressManager> vmac_addresses;
  std::unique_ptr<Instance> instance;
  bool releasing = false;
  bool link_up = false;  // what the instance was last told
  // IPv6 virtual MAC: Start() waits for the macvlan's link-local address.
  bool start_pending = false;
  std::unique_ptr<Timer> start_timer;
};

// PacketIo of one instance: encodes with the instance's checksum form, sends
// from the chosen source to the group or each unicast peer, and announces on
// the AnnouncementSchedule.
class Speaker::InstanceIo : public PacketIo {
 public:
  InstanceIo(Speaker& speaker, Managed& m)
      : speaker_(speaker),
        m_(m),
        config_(m.config),
        schedule_(speaker.loop_, config_->announce,
                  [this] { AnnounceOnce(); }) {}

  // Multicast advertisements of a virtual-MAC instance leave through the
  // macvlan (see the top of this file).
  bool SendsViaVmac() const {
    return config_->virtual_mac && !config_->unicast;
  }

  std::optional<IpAddress> SourceAddress() const override {
    const auto& addrs = m_.itf->addresses[FamilyIndex(config_->family)];
    if (SendsViaVmac() && config_->family == Family::kIpv6) {
      // §5.1.2.1: the link-local address of the sending interface.
      if (m_.vmac == nullptr || m_.vmac->ifindex == 0) return std::nullopt;
      return PickSourceAddress(m_.vmac->addresses[1], Family::kIpv6,
                               config_->virtual_addresses);
    }
    if (config_->unicast && config_->unicast->source) {
      // The configured unicast source must really be ours (VRRP-NOTES.md:
      // a missing source is Fault, never a silent fallback).
      const IpAddress want = *config_->unicast->source;
      for (const auto& a : addrs) {
        if (a.prefix.address == want && !a.tentative) return want;
      }
      return std::nullopt;
    }
    return PickSourceAddress(addrs, config_->family,
                             config_->virtual_addresses);
  }

  void SendAdvertisement(const Advertisement& adv) override {
    Interface* out = SendsViaVmac() ? m_.vmac : m_.itf;
    auto* sock =
        out ? out->sockets[FamilyIndex(config_->family)].get() : nullptr;
    const auto source = SourceAddress();
    if (!sock || !source) {
      ++speaker_.stats_.send_errors;
      return;
    }
    auto send_to = [&](const IpAddress& dst) {
      std::vector<uint8_t>& bytes = speaker_.send_buffer_;
      EncodeAdvertisementInto(adv, *source, dst, config_->checksum_form, bytes);
      auto r = sock->Send(bytes, *source, dst);
      if (!r.ok()) {
        ++speaker_.stats_.send_errors;
        speaker_.Log(LogLevel::kWarn, "instance " + config_->name +
                                          ": send to " + dst.ToString() +
                                          " failed: " + r.error());
      }
    };
    if (config_->unicast) {
      for (const auto& peer : config_->unicast->peers) send_to(peer);
    } else {
      send_to(VrrpMulticastGroup(config_->family));
    }
  }

  void Announce(std::span<const IpPrefix>) override { schedule_.Start(); }
  void StopAnnouncing() override { schedule_.Stop(); }

 private:
  void AnnounceOnce() {
    // From the interface that holds the addresses, with its MAC: the
    // virtual MAC on a macvlan (VRRP-NOTES.md: announce whichever MAC
    // answers for the address).
    const Interface* on = config_->virtual_mac ? m_.vmac : m_.itf;
    if (on == nullptr || !on->announcer) return;
    for (const auto& vip : config_->virtual_addresses) {
      Result<Unit, std::string> r = kOk;
      if (vip.address.is_v4()) {
        r = on->announcer->SendGratuitousArp(vip.address, on->mac);
      } else {
        auto ll = PickSourceAddress(on->addresses[1], Family::kIpv6,
                                    config_->virtual_addresses);
        if (!ll) {
          r = Err(std::string("no link-local source address"));
        } else {
          r = on->announcer->SendUnsolicitedNa(vip.address, *ll, on->mac);
        }
      }
      if (!r.ok()) {
        ++speaker_.stats_.announce_errors;
        speaker_.Log(LogLevel::kWarn,
                     "instance " + config_->name + ": announcing " +
                         vip.address.ToString() + " failed: " + r.error());
      }
    }
  }

  Speaker& speaker_;
  const Managed& m_;
  // Managed::config itself: follows a reload's replacement.
  const std::shared_ptr<const InstanceConfig>& config_;
  AnnouncementSchedule schedule_;
};

Speaker::Speaker(EventLoop& loop, InstanceObserver* observer, LogFn log)
    : loop_(loop), observer_(observer), log_(std::move(log)) {}

Speaker::~Speaker() {
  for (auto& [name, itf] : interfaces_) {
    for (auto& s : itf->sockets) {
      if (s) loop_.UnwatchFd(s->fd());
    }
  }
  if (monitor_) loop_.UnwatchFd(monitor_->fd());
}

void Speaker::Log(LogLevel level, const std::string& message) const {
  if (log_) log_(level, message);
}

Result<Unit, std::string> Speaker::Start(const Config& config) {
  auto nl = Netlink::Open();
  if (!nl.ok()) return Err("netlink: " + nl.error());
  netlink_ = std::move(nl.value());
  addresses_ = std::make_unique<NetlinkAddressManager>(
      *netlink_, [this](const std::string& itf, const IpPrefix& a,
                        const std::string& msg) {
        ++stats_.address_errors;
        Log(LogLevel::kError,
            "address " + a.ToString() + " on " + itf + ": " + msg);
      });
  auto mon = LinkMonitor::Open(
      {.on_link = [this](const InterfaceInfo& i) { OnLink(i); },
       .on_address = [this](int ifindex, Family) { OnAddress(ifindex); }});
  if (!mon.ok()) return Err("netlink monitor: " + mon.error());
  monitor_ = std::move(mon.value());
  auto w = loop_.WatchFd(monitor_->fd(), [this] {
    if (!monitor_->ProcessEvents()) {
      Log(LogLevel::kWarn, "netlink events lost; re-reading every interface");
      RefreshAll();
    }
  });
  if (!w.ok()) return Err(w.error());
  trackers_ = std::make_unique<TrackerManager>(
      loop_, log_,
      [this](const std::string& name) { return netlink_->GetInterface(name); });
  trackers_->on_change = [this] {
    for (auto& m : instances_) {
      if (!m->releasing) ApplyTracking(*m);
    }
  };
  // Before the instances, so each starts with what its trackers say.
  trackers_->Configure(config);
  for (const auto& ic : config.instances) StartInstance(Create(ic));
  return kOk;
}

Speaker::Interface& Speaker::GetInterface(const std::string& name) {
  auto it = interfaces_.find(name);
  if (it != interfaces_.end()) return *it->second;
  auto itf = std::make_unique<Interface>();
  itf->name = name;
  Interface& ref = *itf;
  interfaces_.emplace(name, std::move(itf));
  RefreshInterface(ref);
  return ref;
}

void Speaker::DropSockets(Interface& itf) {
  for (auto& s : itf.sockets) {
    if (s) loop_.UnwatchFd(s->fd());
    s.reset();
  }
  itf.announcer.reset();
}

void Speaker::MarkGone(Interface& itf) {
  DropSockets(itf);
  itf.ifindex = 0;
  itf.up = false;
  itf.admin_up = false;
  itf.addresses[0].clear();
  itf.addresses[1].clear();
}

void Speaker::RefreshInterface(Interface& itf) {
  auto info = netlink_->GetInterface(itf.name);
  if (!info.ok()) {
    if (itf.ifindex != 0) {
      Log(LogLevel::kWarn, "interface " + itf.name + " is gone");
    }
    MarkGone(itf);
    return;
  }
  if (info->index != itf.ifindex) {
    // New, or re-created under another index: every socket is stale.
    DropSockets(itf);
    itf.ifindex = info->index;
  }
  itf.mac = info->mac;
  itf.up = info->admin_up && info->oper_up;
  itf.admin_up = info->admin_up;
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    auto addrs = netlink_->ListAddresses(itf.ifindex, f);
    if (addrs.ok()) itf.addresses[FamilyIndex(f)] = std::move(addrs.value());
  }
  if (!itf.announcer) {
    auto a = Announcer::Open(itf.name, itf.ifindex);
    if (a.ok()) {
      itf.announcer = std::move(a.value());
    } else {
      Log(LogLevel::kError,
          "interface " + itf.name +
              ": cannot open announcement sockets: " + a.error());
    }
  }
}

void Speaker::EnsureSocket(Interface& itf, Family family) {
  if (itf.ifindex == 0) return;
  const size_t fi = FamilyIndex(family);
  if (itf.vmac) {
    // Send-only: advertisements are received on the base interface (the
    // macvlan joins no group, and unicast comes to the base's address).
    bool needed = false;
    for (const auto& m : instances_) {
      if (m->vmac == &itf && m->config->family == family && m->io &&
          m->io->SendsViaVmac()) {
        needed = true;
      }
    }
    if (!needed) {
      itf.sockets[fi].reset();
      return;
    }
    if (itf.sockets[fi]) return;
    auto s = VrrpSocket::Open(itf.name, itf.ifindex, family,
                              /*join_multicast=*/false);
    if (!s.ok()) {
      Log(LogLevel::kError, "interface " + itf.name + ": cannot open " +
                                std::string(ToString(family)) +
                                " VRRP socket: " + s.error());
      return;
    }
    // A filter that accepts nothing, so a socket nobody reads never queues
    // what the kernel might deliver to it (socket(7), SO_ATTACH_FILTER).
    sock_filter drop_all[] = {{BPF_RET | BPF_K, 0, 0, 0}};
    sock_fprog program{1, drop_all};
    if (setsockopt(s.value()->fd(), SOL_SOCKET, SO_ATTACH_FILTER, &program,
                   sizeof program) != 0) {
      Log(LogLevel::kWarn, "interface " + itf.name +
                               ": SO_ATTACH_FILTER: " + std::strerror(errno));
    }
    itf.sockets[fi] = std::move(s.value());
    itf.socket_multicast[fi] = false;
    return;
  }
  // Join the group only when some instance here uses multicast.
  bool multicast = false;
  for (const auto& m : instances_) {
    if (m->itf == &itf && m->config->family == family && !m->config->unicast) {
      multicast = true;
    }
  }
  if (itf.sockets[fi] && itf.socket_multicast[fi] == multicast) return;
  if (itf.sockets[fi]) {
    loop_.UnwatchFd(itf.sockets[fi]->fd());
    itf.sockets[fi].reset();
  }
  auto s = VrrpSocket::Open(itf.name, itf.ifindex, family, multicast);
  if (!s.ok()) {
    Log(LogLevel::kError, "interface " + itf.name + ": cannot open " +
                              std::string(ToString(family)) +
                              " VRRP socket: " + s.error());
    return;
  }
  itf.sockets[fi] = std::move(s.value());
  itf.socket_multicast[fi] = multicast;
  Interface* p = &itf;
  auto w = loop_.WatchFd(itf.sockets[fi]->fd(),
                         [this, p, family] { OnReadable(*p, family); });
  if (!w.ok()) Log(LogLevel::kError, w.error());
}

void Speaker::OnReadable(Interface& itf, Family family) {
  auto* sock = itf.sockets[FamilyIndex(family)].get();
  if (!sock) return;
  auto& errors = stats_.receive_errors[itf.name];
  // Bounded, so one flooded interface cannot starve the timers.
  for (int i = 0; i < 256; ++i) {
    auto r = sock->Receive();
    if (!r) return;
    if (!r->ok()) {
      ++errors[static_cast<size_t>(r->error())];
      continue;
    }
    const ReceivedDatagram& d = r->value();
    auto decoded = DecodeAdvertisement(d.message, d.info);
    if (!decoded.ok()) {
      ++errors[static_cast<size_t>(decoded.error())];
      // Attribute it to the virtual router it names, when there is one.
      if (d.message.size() >= 2) {
        auto it = demux_.find({itf.name, family, d.message[1]});
        if (it != demux_.end()) {
          for (Managed* m : it->second) {
            m->instance->CountReceiveError(decoded.error());
          }
        }
      }
      continue;
    }
    auto it = demux_.find({itf.name, family, decoded->advertisement.vrid});
    if (it == demux_.end()) {
      ++errors[static_cast<size_t>(ReceiveError::kVrId)];
      continue;
    }
    // Copy: an instance may trigger a reload-time erase while we iterate.
    auto targets = it->second;
    for (Managed* m : targets) {
      m->instance->OnAdvertisement(*decoded, d.info.source);
    }
  }
}

void Speaker::OnLink(const InterfaceInfo& info) {
  // Tracked interfaces need not carry an instance.
  if (trackers_) trackers_->OnLinkEvent();
  auto it = interfaces_.find(info.name);
  Interface* itf = it != interfaces_.end() ? it->second.get() : nullptr;
  if (!itf) {
    // Renamed? Find it by index.
    for (auto& [n, i] : interfaces_) {
      if (i->ifindex == info.index) itf = i.get();
    }
  }
  if (!itf) return;
  RefreshInterface(*itf);
  for (Family f : {Family::kIpv4, Family::kIpv6}) EnsureSocket(*itf, f);
  for (auto& m : instances_) {
    if ((m->itf != itf && m->vmac != itf) || m->releasing) continue;
    RefreshInstance(*m);
  }
}

void Speaker::RefreshInstance(Managed& m) {
  // The base appeared or came back, or the macvlan was deleted or set down
  // behind our back: make it or bring it up again. Its own events fault
  // nothing: only its absence counts (UpdateLink).
  EnsureVmac(m);
  UpdateLink(m);
  m.instance->SourceAddressChanged();
  if (m.start_pending && m.io->SourceAddress()) StartPending(m);
}

void Speaker::UpdateLink(Managed& m) {
  bool up = m.itf->ifindex != 0 && m.itf->up;
  if (m.config->virtual_mac) {
    // Without its macvlan, or with the macvlan down (EnsureVmac sets it up
    // again at once; only a failure to do so gets here), the instance has
    // nowhere to answer for its addresses. The macvlan's carrier follows
    // the base's and is not looked at.
    up = up && m.vmac != nullptr && m.vmac->ifindex != 0 &&
         m.vmac->ifindex == m.vmac_index && m.vmac->admin_up;
  }
  if (up == m.link_up) return;
  m.link_up = up;
  m.instance->SetLinkUp(up);
}

void Speaker::WriteSysctl(Family family, const std::string& interface,
                          const std::string& name, int value) {
  auto r = WriteInterfaceSysctl(family, interface, name, value);
  if (!r.ok()) {
    Log(LogLevel::kError, "interface " + interface + ": " + r.error());
  }
}

void Speaker::EnsureVmac(Managed& m) {
  if (!m.config->virtual_mac || m.releasing || shutting_down_) return;
  const std::string& name = m.config->virtual_mac_interface;
  Interface& vmac = GetInterface(name);
  m.vmac = &vmac;
  if (vmac.ifindex != 0 && vmac.ifindex == m.vmac_index) {
    if (!vmac.admin_up) {
      if (m.vmac_error.empty()) {
        Log(LogLevel::kWarn, "instance " + m.config->name + ": macvlan " +
                                 name + " was set down; setting it up");
      }
      SetVmacUp(m);
    }
    return;
  }
  // The base's state may lag behind a burst of events (a deleted base takes
  // its macvlans along, and their events can come first): ask the kernel.
  Interface& base = *m.itf;
  auto base_now = netlink_->GetInterface(base.name);
  if (base.ifindex == 0 || !base_now.ok() || base_now->index != base.ifindex) {
    return;  // made once the base (re)appears: its OnLink calls us again
  }
  const MacAddress mac = VirtualRouterMac(m.config->family, m.config->vrid);
  auto made = netlink_->CreateMacvlan(name, base.ifindex, mac);
  if (!made.ok()) {
    if (made.error() != m.vmac_error) {
      Log(LogLevel::kError, "instance " + m.config->name +
                                ": no virtual MAC interface: " + made.error() +
                                "; retrying on the next link event");
    }
    m.vmac_error = made.error();
    return;
  }
  m.vmac_error.clear();
  m.vmac_index = made->info.index;
  // Only now: until it is ours, the name may still be an interface that
  // another (releasing) instance runs on.
  vmac.vmac = true;
  Log(LogLevel::kInfo,
      "instance " + m.config->name + ": " +
          (made->created ? "created" : "adopted the existing") + " macvlan " +
          name + " on " + base.name + " with virtual MAC " + MacToString(mac));
  ConfigureVmac(m, made->info);
  RefreshInterface(vmac);
  if (!vmac.admin_up) SetVmacUp(m);
  AdoptVmacAddresses(m, made->info, made->created);
  EnsureSocket(vmac, m.config->family);
}

void Speaker::SetVmacUp(Managed& m) {
  auto up = netlink_->SetLinkUp(m.vmac->ifindex, true);
  if (up.ok()) {
    m.vmac_error.clear();
    m.vmac->admin_up = true;  // the kernel said so; its event follows
    return;
  }
  // Down, the macvlan cannot answer for the addresses: the instance stays
  // in Fault (UpdateLink) until it comes up.
  if (up.error() != m.vmac_error) {
    Log(LogLevel::kError, "instance " + m.config->name + ": macvlan " +
                              m.vmac->name + ": " + up.error() +
                              "; retrying on the next link event");
  }
  m.vmac_error = up.error();
}

void Speaker::ConfigureVmac(const Managed& m, const InterfaceInfo& vmac) {
  // Why each of these: see the top of this file.
  const std::string& name = vmac.name;
  WriteSysctl(Family::kIpv4, name, "arp_ignore", 1);
  WriteSysctl(Family::kIpv4, name, "arp_announce", 2);
  WriteSysctl(Family::kIpv4, name, "rp_filter", 0);
  WriteSysctl(Family::kIpv4, name, "promote_secondaries", 1);
  if (m.config->family == Family::kIpv6) {
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
            name + " but the route back leaves through " + m.config->interface +
            ", so they are dropped; set it to 2 (loose) or 0");
  }
  const std::string& base = m.config->interface;
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
                             "virtual MAC on " + name);
  }
}

void Speaker::AdoptVmacAddresses(Managed& m, const InterfaceInfo& vmac,
                                 bool created) {
  const InstanceStatus status = m.instance->Status();
  if (status.state == State::kMaster || status.releasing) {
    // The macvlan was deleted under a master, taking its addresses along:
    // put them on the new one and tell the clients again.
    if (created) {
      for (const auto& vip : m.config->virtual_addresses) {
        m.vmac_addresses->AddAddress(vmac.name, vip);
      }
      m.io->Announce(m.config->virtual_addresses);
    }
    return;
  }
  // Not holding the addresses: any of them on a macvlan we adopted are a
  // crashed run's, and a backup must not answer for them (§6.4.2). Unless
  // another instance (the old one of a reload) still uses the macvlan.
  for (const auto& other : instances_) {
    if (other.get() != &m && other->vmac == m.vmac) return;
  }
  auto present = netlink_->ListAddresses(vmac.index, m.config->family);
  if (!present.ok()) return;
  for (const auto& vip : m.config->virtual_addresses) {
    const bool there = std::any_of(present->begin(), present->end(),
                                   [&](const InterfaceAddress& a) {
                                     return a.prefix.address == vip.address;
                                   });
    if (there) RemoveLeftover(*m.config, vmac.index, vmac.name, vip);
  }
}

void Speaker::RemoveLeftover(const InstanceConfig& config, int ifindex,
                             const std::string& ifname, const IpPrefix& vip) {
  Log(LogLevel::kInfo, "instance " + config.name + ": removing " +
                           vip.ToString() + " left on " + ifname +
                           " by a previous run");
  auto r = netlink_->RemoveAddress(ifindex, vip);
  if (!r.ok()) Log(LogLevel::kError, r.error());
}

void Speaker::DropVmac(const InstanceConfig& config) {
  // Kept when another instance (a reload's) adopts it as it is.
  for (const auto& m : instances_) {
    if (SameVmac(*m->config, config)) return;
  }
  const std::string& name = config.virtual_mac_interface;
  auto r = netlink_->DeleteMacvlan(
      name, VirtualRouterMac(config.family, config.vrid));
  if (r.ok()) {
    Log(LogLevel::kInfo,
        "instance " + config.name + ": deleted macvlan " + name);
  } else {
    Log(LogLevel::kError, "instance " + config.name + ": " + r.error());
  }
  ForgetVmacInterface(name);
  // A reload's new instance may have wanted this name with another MAC, or
  // this MAC on this base under another name (EADDRINUSE on up): both could
  // not be done while this one existed. Try them again now.
  for (auto& m : instances_) {
    if (m->config->virtual_mac && !m->releasing && !m->vmac_error.empty()) {
      RefreshInstance(*m);
    }
  }
  if (config.family != Family::kIpv4) return;
  for (const auto& m : instances_) {
    if (m->config->virtual_mac && m->config->family == Family::kIpv4 &&
        m->config->interface == config.interface) {
      return;
    }
  }
  RestoreBaseArp(config.interface);
}

// By value: callers pass names that live in saved_base_sysctls_, which this
// erases from.
void Speaker::RestoreBaseArp(std::string base) {
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

void Speaker::ForgetVmacInterface(const std::string& name) {
  auto it = interfaces_.find(name);
  if (it == interfaces_.end()) return;
  // Forget it as ours, so the name can be an instance's interface later
  // (an instance that wants it as a macvlan marks it again), and so that
  // its deletion, which we asked for, is not reported as an interface gone.
  MarkGone(*it->second);
  it->second->vmac = false;
}

void Speaker::DeleteAllVmacs() {
  for (const auto& m : instances_) {
    if (!m->config->virtual_mac) continue;
    const std::string& name = m->config->virtual_mac_interface;
    auto r = netlink_->DeleteMacvlan(
        name, VirtualRouterMac(m->config->family, m->config->vrid));
    if (r.ok()) {
      Log(LogLevel::kInfo,
          "instance " + m->config->name + ": deleted macvlan " + name);
    } else {
      Log(LogLevel::kError, "instance " + m->config->name + ": " + r.error());
    }
    // Its deletion event, read while notifications finish, is then no news.
    ForgetVmacInterface(name);
  }
  while (!saved_base_sysctls_.empty()) {
    RestoreBaseArp(saved_base_sysctls_.begin()->first.first);
  }
}

void Speaker::OnAddress(int ifindex) {
  for (auto& [n, itf] : interfaces_) {
    if (itf->ifindex != ifindex) continue;
    for (Family f : {Family::kIpv4, Family::kIpv6}) {
      auto addrs = netlink_->ListAddresses(ifindex, f);
      if (addrs.ok()) itf->addresses[FamilyIndex(f)] = std::move(addrs.value());
    }
    for (auto& m : instances_) {
      // A macvlan's addresses matter too: its IPv6 link-local address is
      // the source of the advertisements sent through it.
      if ((m->itf == itf.get() || m->vmac == itf.get()) && !m->releasing) {
        m->instance->SourceAddressChanged();
        if (m->start_pending && m->io->SourceAddress()) StartPending(*m);
        RestoreRemovedAddresses(*m, *itf);
      }
    }
  }
}

void Speaker::RestoreRemovedAddresses(Managed& m, const Interface& itf) {
  // Only a master holds them, and only on the interface they live on.
  if (m.instance->state() != State::kMaster) return;
  const bool on_vmac = m.config->virtual_mac;
  if ((on_vmac ? m.vmac : m.itf) != &itf) return;
  const auto& present = itf.addresses[FamilyIndex(m.config->family)];
  std::vector<IpPrefix> missing;
  for (const auto& vip : m.config->virtual_addresses) {
    if (std::none_of(present.begin(), present.end(),
                     [&](const InterfaceAddress& a) {
                       return a.prefix.address == vip.address;
                     })) {
      missing.push_back(vip);
    }
  }
  if (missing.empty()) return;
  // Removed by someone else (`ip addr del`, a network manager): the master
  // would go on advertising, so no backup takes over, while nobody answers
  // for the address. Put it back and tell the clients again.
  for (const auto& vip : missing) {
    Log(LogLevel::kWarn, "instance " + m.config->name + ": " + vip.ToString() +
                             " was removed from " + itf.name +
                             " while master; adding it back");
    if (on_vmac) {
      m.vmac_addresses->AddAddress(itf.name, vip);
    } else {
      addresses_->AddAddress(itf.name, vip);
    }
  }
  m.io->Announce(missing);
}

void Speaker::RefreshAll() {
  for (auto& [n, itf] : interfaces_) {
    InterfaceInfo info;
    info.name = n;
    info.index = itf->ifindex;
    OnLink(info);
  }
}

Speaker::Managed& Speaker::Create(const InstanceConfig& config) {
  auto m = std::make_unique<Managed>();
  m->config = std::make_shared<const InstanceConfig>(config);
  m->itf = &GetInterface(config.interface);
  m->io = std::make_unique<InstanceIo>(*this, *m);
  AddressManager* addresses = addresses_.get();
  if (config.virtual_mac) {
    m->vmac_addresses = std::make_unique<VmacAddressManager>(
        *addresses_, config.virtual_mac_interface);
    addresses = m->vmac_addresses.get();
  }
  m->instance = std::make_unique<Instance>(m->config, loop_, *m->io, *addresses,
                                           observer_);
  instances_.push_back(std::move(m));
  Managed& ref = *instances_.back();
  EnsureSocket(*ref.itf, config.family);
  EnsureVmac(ref);
  AddToDemux(ref);
  return ref;
}

void Speaker::ApplyTracking(Managed& m) {
  if (!trackers_) return;
  const TrackEffect effect = trackers_->Evaluate(m.config->track);
  m.instance->SetPriorityDelta(effect.delta);
  m.instance->SetTrackerFault(effect.fault);
}

std::map<std::string, std::vector<TrackedStatus>> Speaker::Tracking() const {
  std::map<std::string, std::vector<TrackedStatus>> out;
  if (!trackers_) return out;
  for (const auto& m : instances_) {
    // Only instances with a track: list: an empty entry per instance was
    // a map node and a name copy per instance on every publish.
    if (!m->releasing && !m->config->track.empty())
      out[m->config->name] = trackers_->Explain(m->config->track);
  }
  return out;
}

void Speaker::RemoveLeftoverAddresses(const Managed& m) {
  const InstanceConfig& config = *m.config;
  // The owner's addresses are its own; a macvlan's are AdoptVmacAddresses'.
  if (config.is_owner() || config.virtual_mac || m.itf->ifindex == 0) return;
  // The interface's addresses as last read: no netlink dump per instance
  // at start-up. That may predate a removal whose event is still queued (a
  // re-created instance's predecessor just let go), so when one of ours
  // seems to be there, read them again before believing it.
  std::vector<InterfaceAddress>& present =
      m.itf->addresses[FamilyIndex(config.family)];
  auto is_ours = [&](const InterfaceAddress& a) {
    return std::any_of(
        config.virtual_addresses.begin(), config.virtual_addresses.end(),
        [&](const IpPrefix& vip) { return vip.address == a.prefix.address; });
  };
  if (std::none_of(present.begin(), present.end(), is_ours)) return;
  auto fresh = netlink_->ListAddresses(m.itf->ifindex, config.family);
  if (!fresh.ok()) return;
  present = std::move(fresh.value());
  // The host's own address is never a leftover, even when (wrongly) listed
  // as a virtual one: IPv4's first primary address (the one we would send
  // from); an IPv6 address not added the way we add ours (nodad), or the
  // only one of its prefix (ours share the prefix of the host's address;
  // a host's own may be nodad too, as in our labs).
  auto own_v4 =
      std::find_if(present.begin(), present.end(),
                   [](const InterfaceAddress& a) { return !a.secondary; });
  for (const auto& vip : config.virtual_addresses) {
    auto found = std::find_if(present.begin(), present.end(),
                              [&](const InterfaceAddress& a) {
                                return a.prefix.address == vip.address;
                              });
    if (found == present.end()) continue;
    auto alone_in_prefix = [&] {
      return std::none_of(
          present.begin(), present.end(), [&](const InterfaceAddress& a) {
            return &a != &*found && a.scope == found->scope &&
                   SamePrefix(a.prefix.address, found->prefix.address,
                              found->prefix.prefix_length);
          });
    };
    const bool hosts_own = config.family == Family::kIpv4
                               ? found == own_v4
                               : !found->nodad || alone_in_prefix();
    if (hosts_own) {
      Log(LogLevel::kWarn,
          "instance " + config.name + ": " + vip.ToString() +
              " is one of this host's own addresses on " + config.interface +
              ", not one a previous run left: not removed. A router whose "
              "virtual address is its own is the address owner and must "
              "run at priority 255 (RFC 5798 §1)");
      continue;
    }
    // Not while another instance on this interface has it (a reload's
    // releasing predecessor, or one configured with the same address).
    const bool in_use = std::any_of(
        instances_.begin(), instances_.end(), [&](const auto& other) {
          return other.get() != &m &&
                 other->config->interface == config.interface &&
                 std::find(other->config->virtual_addresses.begin(),
                           other->config->virtual_addresses.end(),
                           vip) != other->config->virtual_addresses.end();
        });
    if (!in_use) RemoveLeftover(config, m.itf->ifindex, config.interface, vip);
  }
}

void Speaker::StartInstance(Managed& m) {
  if (m.itf->ifindex == 0) {
    // Otherwise the only trace is "Initialize -> Fault (interface-down)".
    Log(LogLevel::kWarn, "instance " + m.config->name + ": interface " +
                             m.config->interface +
                             " does not exist; the instance stays in Fault "
                             "until it appears");
  }
  RemoveLeftoverAddresses(m);
  ApplyTracking(m);
  m.link_up = m.itf->ifindex != 0 && m.itf->up;
  m.instance->SetLinkUp(m.link_up);
  UpdateLink(m);  // virtual_mac: and its macvlan exists
  if (m.link_up && m.io->SendsViaVmac() && !m.io->SourceAddress()) {
    // Only an IPv6 macvlan just made gets here: its link-local address
    // comes with its first address event.
    m.start_pending = true;
    Managed* p = &m;
    m.start_timer = loop_.CreateTimer([this, p] { StartPending(*p); });
    m.start_timer->ArmAt(loop_.Now() + kVmacSourceWait);
    return;
  }
  m.instance->Start();
}

void Speaker::StartPending(Managed& m) {
  if (!m.start_pending) return;
  m.start_pending = false;
  m.start_timer->Cancel();
  if (!m.releasing) m.instance->Start();
}

void Speaker::AddToDemux(Managed& m) {
  // Appended: within a key, instances keep the order they were created in,
  // as in instances_.
  demux_[{m.config->interface, m.config->family, m.config->vrid}].push_back(&m);
}

void Speaker::RemoveFromDemux(Managed& m) {
  auto it =
      demux_.find({m.config->interface, m.config->family, m.config->vrid});
  if (it == demux_.end()) return;
  std::erase(it->second, &m);
  if (it->second.empty()) demux_.erase(it);
}

void Speaker::Release(Managed& m, std::optional<InstanceConfig> successor) {
  m.releasing = true;
  Managed* p = &m;
  m.instance->Shutdown([this, p, successor = std::move(successor)] {
    // Destroy it from the loop, not from inside its own callback.
    loop_.Post([this, p, successor] {
      const std::shared_ptr<const InstanceConfig> kept_config = p->config;
      const InstanceConfig& config = *kept_config;
      RemoveFromDemux(*p);
      instances_.erase(
          std::remove_if(instances_.begin(), instances_.end(),
                         [p](const auto& u) { return u.get() == p; }),
          instances_.end());
      // A successor with the same macvlan (name, base and MAC) adopts it,
      // so it is not deleted and made again. Otherwise the old one goes
      // first: its name may be wanted with another MAC or base, and a new
      // macvlan with its MAC on its base could not come up beside it
      // (EADDRINUSE).
      const bool kept = successor && SameVmac(*successor, config);
      if (config.virtual_mac && (!kept || shutting_down_)) DropVmac(config);
      if (successor && !shutting_down_) StartInstance(Create(*successor));
    });
  });
}

ReloadSummary Speaker::Reload(const Config& config) {
  ReloadSummary summary;
  if (shutting_down_) return summary;
  // Trackers first: unchanged ones keep their state, so kept instances see
  // no change; new ones answer before long.
  if (trackers_) trackers_->Configure(config);
  std::map<std::string, const InstanceConfig*> wanted;
  for (const auto& ic : config.instances) wanted[ic.name] = &ic;
  std::vector<Managed*> current;
  for (auto& m : instances_) {
    if (!m->releasing) current.push_back(m.get());
  }
  for (Managed* m : current) {
    auto it = wanted.find(m->config->name);
    if (it == wanted.end()) {
      ++summary.removed;
      Log(LogLevel::kInfo, "reload: removing instance " + m->config->name);
      Release(*m, std::nullopt);
      continue;
    }
    const InstanceConfig next = *it->second;
    wanted.erase(it);
    if (m->config->SameSettings(next)) {
      ++summary.kept;
      auto updated = std::make_shared<InstanceConfig>(*m->config);
      updated->location = next.location;
      // track: is not part of SameSettings: a changed list or weight
      // moves the priority without re-creating the instance.
      updated->track = next.track;
      updated->peer_priorities = next.peer_priorities;
      m->config = std::move(updated);
      ApplyTracking(*m);
      continue;
    }
    if (auto updated = std::make_shared<const InstanceConfig>(next);
        m->instance->UpdateSettings(updated)) {
      ++summary.kept;
      Log(LogLevel::kInfo,
          "reload: instance " + next.name + " keeps its state; priority " +
              std::to_string(m->config->priority) + " -> " +
              std::to_string(next.priority) + ", preempt " +
              (next.preempt ? "on" : "off") + ", preempt_delay " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      next.preempt_delay)
                      .count()) +
              "ms");
      m->config = std::move(updated);
      ApplyTracking(*m);
      continue;
    }
    ++summary.recreated;
    Log(LogLevel::kInfo, "reload: re-creating changed instance " + next.name);
    // Start the new one only after the old one let go of its addresses, so
    // the two never fight over them.
    Release(*m, next);
  }
  for (const auto& ic : config.instances) {
    if (!wanted.count(ic.name)) continue;
    ++summary.created;
    Log(LogLevel::kInfo, "reload: adding instance " + ic.name);
    StartInstance(Create(ic));
  }
  return summary;
}

void Speaker::Shutdown(std::function<void()> done) {
  shutting_down_ = true;
  auto remaining = std::make_shared<size_t>(0);
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  std::vector<Managed*> all;
  for (auto& m : instances_) {
    if (!m->releasing) all.push_back(m.get());
  }
  *remaining = all.size();
  if (all.empty()) {
    DeleteAllVmacs();
    if (*finish) (*finish)();
    return;
  }
  for (Managed* m : all) {
    m->releasing = true;
    // The macvlans go once every instance has let go of its addresses (in
    // hitless mode, once the new master is heard).
    m->instance->Shutdown([this, remaining, finish] {
      if (--*remaining != 0) return;
      DeleteAllVmacs();
      if (*finish) (*finish)();
    });
  }
}

Instance* Speaker::Find(const std::string& name) {
  for (const auto& m : instances_) {
    if (!m->releasing && m->config->name == name) return m->instance.get();
  }
  return nullptr;
}

std::vector<InstanceStatus> Speaker::Status() const {
  std::vector<InstanceStatus> out;
  out.reserve(instances_.size());
  for (const auto& m : instances_) out.push_back(m->instance->Status());
  return out;
}

void Speaker::ForEachInstance(
    const std::function<void(const Instance&)>& fn) const {
  for (const auto& m : instances_) fn(*m->instance);
}

}  // namespace vrrp::sys
