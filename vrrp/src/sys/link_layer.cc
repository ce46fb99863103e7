// Interfaces, addresses and receive sockets of the Linux link layer.
//
// - One raw socket per (interface, family), shared by its instances: it
//   joins the group while any instance there uses multicast.
// - Interfaces are read once and then kept current from netlink events;
//   nothing is dumped per instance or per snapshot.

#include <linux/filter.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "link_layer_internal.h"

namespace vrrp::sys {

LinuxLinkLayer::LinuxLinkLayer(EventLoop& loop, LogFn log)
    : loop_(loop), log_(std::move(log)) {}

Result<std::unique_ptr<LinuxLinkLayer>, std::string> LinuxLinkLayer::Open(
    EventLoop& loop, LogFn log) {
  std::unique_ptr<LinuxLinkLayer> link(
      new LinuxLinkLayer(loop, std::move(log)));
  auto nl = Netlink::Open();
  if (!nl.ok()) return Err("netlink: " + nl.error());
  link->netlink_ = std::move(nl.value());
  LinuxLinkLayer* self = link.get();
  link->addresses_ = std::make_unique<NetlinkAddressManager>(
      *link->netlink_,
      [self](const std::string& itf, const IpPrefix& a,
             const std::string& msg) {
        ++self->stats_.address_errors;
        self->Log(LogLevel::kError,
                  "address " + a.ToString() + " on " + itf + ": " + msg);
      },
      [self](const std::string& itf, const IpPrefix& a, bool added) {
        self->NoteAddress(itf, a, added);
      });
  auto mon = LinkMonitor::Open(
      {.on_link = [self](const InterfaceInfo& i) { self->OnLinkEvent(i); },
       .on_address = [self](int ifindex,
                            Family) { self->OnAddressEvent(ifindex); }});
  if (!mon.ok()) return Err("netlink monitor: " + mon.error());
  link->monitor_ = std::move(mon.value());
  auto w = loop.WatchFd(link->monitor_->fd(), [self] {
    if (!self->monitor_->ProcessEvents()) {
      self->Log(LogLevel::kWarn,
                "netlink events lost; re-reading every interface");
      self->RefreshAll();
    }
  });
  if (!w.ok()) return Err(w.error());
  return link;
}

LinuxLinkLayer::~LinuxLinkLayer() {
  for (auto& [name, itf] : interfaces_) {
    for (auto& s : itf->sockets) {
      if (s) loop_.UnwatchFd(s->fd());
    }
  }
  if (monitor_) loop_.UnwatchFd(monitor_->fd());
}

void LinuxLinkLayer::Log(LogLevel level, const std::string& message) const {
  if (log_) log_(level, message);
}

LinuxLinkLayer::Itf* LinuxLinkLayer::FindItf(const std::string& name) {
  auto it = interfaces_.find(name);
  return it == interfaces_.end() ? nullptr : it->second.get();
}

LinuxLinkLayer::Itf& LinuxLinkLayer::GetItf(const std::string& name) {
  if (Itf* found = FindItf(name)) return *found;
  auto itf = std::make_unique<Itf>();
  itf->state.name = name;
  Itf& ref = *itf;
  interfaces_.emplace(name, std::move(itf));
  RefreshInterface(ref);
  return ref;
}

const InterfaceState& LinuxLinkLayer::Interface(const std::string& name) {
  return GetItf(name).state;
}

void LinuxLinkLayer::RereadAddresses(const std::string& name, Family family) {
  Itf& itf = GetItf(name);
  if (!itf.state.exists()) return;
  auto fresh = netlink_->ListAddresses(itf.state.ifindex, family);
  if (fresh.ok()) itf.state.of(family) = std::move(fresh.value());
}

void LinuxLinkLayer::DropSockets(Itf& itf) {
  for (auto& s : itf.sockets) {
    if (s) loop_.UnwatchFd(s->fd());
    s.reset();
  }
  itf.announcer.reset();
}

void LinuxLinkLayer::MarkGone(Itf& itf) {
  DropSockets(itf);
  itf.state.ifindex = 0;
  itf.state.up = false;
  itf.state.admin_up = false;
  itf.state.addresses[0].clear();
  itf.state.addresses[1].clear();
}

void LinuxLinkLayer::RefreshInterface(Itf& itf) {
  auto info = netlink_->GetInterface(itf.state.name);
  if (!info.ok()) {
    if (itf.state.exists()) {
      Log(LogLevel::kWarn, "interface " + itf.state.name + " is gone");
    }
    MarkGone(itf);
    return;
  }
  if (info->index != itf.state.ifindex) {
    // New, or re-created under another index: every socket is stale.
    DropSockets(itf);
    itf.state.ifindex = info->index;
  }
  itf.state.mac = info->mac;
  itf.state.up = info->admin_up && info->oper_up;
  itf.state.admin_up = info->admin_up;
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    auto addrs = netlink_->ListAddresses(itf.state.ifindex, f);
    if (addrs.ok()) itf.state.of(f) = std::move(addrs.value());
  }
  if (!itf.announcer) {
    auto a = Announcer::Open(itf.state.name, itf.state.ifindex);
    if (a.ok()) {
      itf.announcer = std::move(a.value());
    } else {
      Log(LogLevel::kError,
          "interface " + itf.state.name +
              ": cannot open announcement sockets: " + a.error());
    }
  }
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    if (itf.vmac) {
      UpdateSendOnlySocket(itf, f);
    } else {
      UpdateSocket(itf, f);
    }
  }
}

std::unique_ptr<InstancePort> LinuxLinkLayer::OpenPort(
    std::shared_ptr<const InstanceConfig> config) {
  auto port = std::make_unique<Port>(*this, config);
  ports_.push_back(port.get());
  UpdateSocket(GetItf(config->interface), config->family);
  if (config->virtual_mac) {
    if (Itf* vmac = FindItf(config->virtual_mac_interface);
        vmac && vmac->vmac) {
      UpdateSendOnlySocket(*vmac, config->family);
    }
  }
  return port;
}

void LinuxLinkLayer::ClosePort(Port* port) {
  std::erase(ports_, port);
  const InstanceConfig& config = port->config();
  if (Itf* itf = FindItf(config.interface)) UpdateSocket(*itf, config.family);
  if (config.virtual_mac) {
    if (Itf* vmac = FindItf(config.virtual_mac_interface); vmac && vmac->vmac) {
      UpdateSendOnlySocket(*vmac, config.family);
    }
  }
}

void LinuxLinkLayer::UpdateSendOnlySocket(Itf& itf, Family family) {
  const size_t fi = FamilyIndex(family);
  // Send-only: advertisements are received on the base interface (the
  // macvlan joins no group, and unicast comes to the base's address).
  const bool needed =
      itf.state.exists() &&
      std::any_of(ports_.begin(), ports_.end(), [&](const Port* p) {
        return p->config().family == family &&
               SendsViaVirtualMac(p->config()) &&
               p->config().virtual_mac_interface == itf.state.name;
      });
  if (!needed) {
    itf.sockets[fi].reset();
    return;
  }
  if (itf.sockets[fi]) return;
  auto s = VrrpSocket::Open(itf.state.name, itf.state.ifindex, family,
                            /*join_multicast=*/false);
  if (!s.ok()) {
    Log(LogLevel::kError, "interface " + itf.state.name + ": cannot open " +
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
    Log(LogLevel::kWarn, "interface " + itf.state.name +
                             ": SO_ATTACH_FILTER: " + std::strerror(errno));
  }
  itf.sockets[fi] = std::move(s.value());
  itf.socket_multicast[fi] = false;
}

void LinuxLinkLayer::UpdateSocket(Itf& itf, Family family) {
  if (itf.vmac) return UpdateSendOnlySocket(itf, family);
  const size_t fi = FamilyIndex(family);
  bool used = false;
  bool multicast = false;  // join the group only when some instance needs it
  for (const Port* p : ports_) {
    if (p->config().interface != itf.state.name ||
        p->config().family != family) {
      continue;
    }
    used = true;
    if (!p->config().unicast) multicast = true;
  }
  if (!itf.state.exists() || !used) {
    if (itf.sockets[fi]) loop_.UnwatchFd(itf.sockets[fi]->fd());
    itf.sockets[fi].reset();
    return;
  }
  if (itf.sockets[fi] && itf.socket_multicast[fi] == multicast) return;
  if (itf.sockets[fi]) {
    loop_.UnwatchFd(itf.sockets[fi]->fd());
    itf.sockets[fi].reset();
  }
  auto s =
      VrrpSocket::Open(itf.state.name, itf.state.ifindex, family, multicast);
  if (!s.ok()) {
    Log(LogLevel::kError, "interface " + itf.state.name + ": cannot open " +
                              std::string(ToString(family)) +
                              " VRRP socket: " + s.error());
    return;
  }
  itf.sockets[fi] = std::move(s.value());
  itf.socket_multicast[fi] = multicast;
  Itf* p = &itf;
  auto w = loop_.WatchFd(itf.sockets[fi]->fd(),
                         [this, p, family] { OnReadable(*p, family); });
  if (!w.ok()) Log(LogLevel::kError, w.error());
}

void LinuxLinkLayer::OnReadable(Itf& itf, Family family) {
  // Bounded, so one flooded interface cannot starve the timers.
  for (int i = 0; i < 256; ++i) {
    auto* sock = itf.sockets[FamilyIndex(family)].get();
    if (!sock) return;  // closed by what the last datagram set off
    auto r = sock->Receive();
    if (!r) return;
    if (!r->ok()) {
      if (inputs_.malformed) inputs_.malformed(itf.state.name, r->error());
      continue;
    }
    const ReceivedDatagram& d = r->value();
    if (inputs_.datagram) {
      inputs_.datagram(itf.state.name, family, d.message, d.info);
    }
  }
}

void LinuxLinkLayer::OnLinkEvent(const InterfaceInfo& info) {
  // Tracked interfaces need not carry an instance.
  if (on_any_link) on_any_link();
  Itf* itf = FindItf(info.name);
  if (!itf) {
    // Renamed? Find it by index.
    for (auto& [n, i] : interfaces_) {
      if (i->state.ifindex == info.index && info.index != 0) itf = i.get();
    }
  }
  if (!itf) return;
  RefreshInterface(*itf);
  if (inputs_.link) inputs_.link(itf->state.name);
}

void LinuxLinkLayer::OnAddressEvent(int ifindex) {
  for (auto& [n, itf] : interfaces_) {
    if (itf->state.ifindex != ifindex) continue;
    for (Family f : {Family::kIpv4, Family::kIpv6}) {
      auto addrs = netlink_->ListAddresses(ifindex, f);
      if (addrs.ok()) itf->state.of(f) = std::move(addrs.value());
    }
    if (inputs_.addresses) inputs_.addresses(n);
  }
}

void LinuxLinkLayer::RefreshAll() {
  std::vector<std::string> names;
  for (auto& [n, itf] : interfaces_) names.push_back(n);
  for (const auto& n : names) {
    InterfaceInfo info;
    info.name = n;
    OnLinkEvent(info);
  }
}

void LinuxLinkLayer::NoteAddress(const std::string& name,
                                 const IpPrefix& prefix, bool added) {
  // The kernel acknowledged it: the cache says so at once, so that a
  // snapshot taken right after a takeover shows the address its master
  // holds. The netlink event that follows re-reads the truth (flags too).
  Itf* itf = FindItf(name);
  if (itf == nullptr || !itf->state.exists()) return;
  auto& list = itf->state.of(prefix.address.family());
  std::erase_if(list, [&](const InterfaceAddress& a) {
    return a.prefix.address == prefix.address;
  });
  if (!added) return;
  InterfaceAddress entry;
  entry.ifindex = itf->state.ifindex;
  entry.prefix = prefix;
  entry.nodad = !prefix.address.is_v4();
  // IPv4: secondary when a primary of its subnet is there (the kernel's
  // rule), so the source-address choice is not misled meanwhile.
  entry.secondary =
      prefix.address.is_v4() &&
      std::any_of(list.begin(), list.end(), [&](const InterfaceAddress& o) {
        return !o.secondary && SamePrefix(o.prefix.address, prefix.address,
                                          o.prefix.prefix_length);
      });
  list.push_back(entry);
}

void LinuxLinkLayer::RemoveStrayAddress(const std::string& interface,
                                        const IpPrefix& address) {
  const Itf* itf = FindItf(interface);
  if (itf == nullptr || !itf->state.exists()) return;
  auto r = netlink_->RemoveAddress(itf->state.ifindex, address);
  if (!r.ok()) Log(LogLevel::kError, r.error());
}

}  // namespace vrrp::sys
