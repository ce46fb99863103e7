#include "vrrp/sys/speaker.h"

#include <net/if.h>

#include <algorithm>

#include "vrrp/announcement_schedule.h"

namespace vrrp::sys {

namespace {
size_t FamilyIndex(Family f) { return f == Family::kIpv4 ? 0 : 1; }
}  // namespace

struct Speaker::Interface {
  std::string name;
  int ifindex = 0;  // 0: not present
  MacAddress mac{};
  bool up = false;
  std::vector<InterfaceAddress> addresses[2];
  std::unique_ptr<Announcer> announcer;
  std::unique_ptr<VrrpSocket> sockets[2];
  bool socket_multicast[2] = {false, false};
};

// PacketIo of one instance: encodes with the instance's checksum form, sends
// from the chosen source to the group or each unicast peer, and announces on
// the AnnouncementSchedule.
class Speaker::InstanceIo : public PacketIo {
 public:
  InstanceIo(Speaker& speaker, Interface& itf, const InstanceConfig& config)
      : speaker_(speaker),
        itf_(itf),
        config_(config),
        schedule_(speaker.loop_, config.announce, [this] { AnnounceOnce(); }) {}

  std::optional<IpAddress> SourceAddress() const override {
    const auto& addrs = itf_.addresses[FamilyIndex(config_.family)];
    if (config_.unicast && config_.unicast->source) {
      // The configured unicast source must really be ours (VRRP-NOTES.md:
      // a missing source is Fault, never a silent fallback).
      const IpAddress want = *config_.unicast->source;
      for (const auto& a : addrs) {
        if (a.prefix.address == want && !a.tentative) return want;
      }
      return std::nullopt;
    }
    return PickSourceAddress(addrs, config_.family, config_.virtual_addresses);
  }

  void SendAdvertisement(const Advertisement& adv) override {
    auto* sock = itf_.sockets[FamilyIndex(config_.family)].get();
    const auto source = SourceAddress();
    if (!sock || !source) {
      ++speaker_.stats_.send_errors;
      return;
    }
    auto send_to = [&](const IpAddress& dst) {
      auto bytes =
          EncodeAdvertisement(adv, *source, dst, config_.checksum_form);
      auto r = sock->Send(bytes, *source, dst);
      if (!r.ok()) {
        ++speaker_.stats_.send_errors;
        speaker_.Log(LogLevel::kWarn, "instance " + config_.name +
                                          ": send to " + dst.ToString() +
                                          " failed: " + r.error());
      }
    };
    if (config_.unicast) {
      for (const auto& peer : config_.unicast->peers) send_to(peer);
    } else {
      send_to(VrrpMulticastGroup(config_.family));
    }
  }

  void Announce(std::span<const IpPrefix>) override { schedule_.Start(); }
  void StopAnnouncing() override { schedule_.Stop(); }

 private:
  void AnnounceOnce() {
    if (!itf_.announcer) return;
    for (const auto& vip : config_.virtual_addresses) {
      Result<Unit, std::string> r = kOk;
      if (vip.address.is_v4()) {
        r = itf_.announcer->SendGratuitousArp(vip.address, itf_.mac);
      } else {
        auto ll = PickSourceAddress(itf_.addresses[1], Family::kIpv6,
                                    config_.virtual_addresses);
        if (!ll) {
          r = Err(std::string("no link-local source address"));
        } else {
          r = itf_.announcer->SendUnsolicitedNa(vip.address, *ll, itf_.mac);
        }
      }
      if (!r.ok()) {
        ++speaker_.stats_.announce_errors;
        speaker_.Log(LogLevel::kWarn,
                     "instance " + config_.name + ": announcing " +
                         vip.address.ToString() + " failed: " + r.error());
      }
    }
  }

  Speaker& speaker_;
  Interface& itf_;
  const InstanceConfig& config_;
  AnnouncementSchedule schedule_;
};

struct Speaker::Managed {
  InstanceConfig config;
  Interface* itf = nullptr;
  std::unique_ptr<InstanceIo> io;
  std::unique_ptr<Instance> instance;
  bool releasing = false;
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

void Speaker::RefreshInterface(Interface& itf) {
  auto info = netlink_->GetInterface(itf.name);
  if (!info.ok()) {
    if (itf.ifindex != 0) {
      Log(LogLevel::kWarn, "interface " + itf.name + " is gone");
    }
    for (auto& s : itf.sockets) {
      if (s) loop_.UnwatchFd(s->fd());
      s.reset();
    }
    itf.announcer.reset();
    itf.ifindex = 0;
    itf.up = false;
    itf.addresses[0].clear();
    itf.addresses[1].clear();
    return;
  }
  if (info->index != itf.ifindex) {
    // New, or re-created under another index: every socket is stale.
    for (auto& s : itf.sockets) {
      if (s) loop_.UnwatchFd(s->fd());
      s.reset();
    }
    itf.announcer.reset();
    itf.ifindex = info->index;
  }
  itf.mac = info->mac;
  itf.up = info->admin_up && info->oper_up;
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
  // Join the group only when some instance here uses multicast.
  bool multicast = false;
  for (const auto& m : instances_) {
    if (m->itf == &itf && m->config.family == family && !m->config.unicast) {
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
  auto it = interfaces_.find(info.name);
  Interface* itf = it != interfaces_.end() ? it->second.get() : nullptr;
  if (!itf) {
    // Renamed? Find it by index.
    for (auto& [n, i] : interfaces_) {
      if (i->ifindex == info.index) itf = i.get();
    }
  }
  if (!itf) return;
  const bool was_up = itf->up;
  const int old_index = itf->ifindex;
  RefreshInterface(*itf);
  for (Family f : {Family::kIpv4, Family::kIpv6}) EnsureSocket(*itf, f);
  for (auto& m : instances_) {
    if (m->itf != itf || m->releasing) continue;
    if (itf->up != was_up || itf->ifindex != old_index) {
      m->instance->SetLinkUp(itf->up);
    }
    m->instance->SourceAddressChanged();
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
      if (m->itf == itf.get() && !m->releasing) {
        m->instance->SourceAddressChanged();
      }
    }
  }
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
  m->config = config;
  m->itf = &GetInterface(config.interface);
  m->io = std::make_unique<InstanceIo>(*this, *m->itf, m->config);
  m->instance = std::make_unique<Instance>(m->config, loop_, *m->io,
                                           *addresses_, observer_);
  instances_.push_back(std::move(m));
  Managed& ref = *instances_.back();
  EnsureSocket(*ref.itf, config.family);
  RebuildDemux();
  return ref;
}

void Speaker::StartInstance(Managed& m) {
  m.instance->SetLinkUp(m.itf->ifindex != 0 && m.itf->up);
  m.instance->Start();
}

void Speaker::RebuildDemux() {
  demux_.clear();
  for (auto& m : instances_) {
    demux_[{m->config.interface, m->config.family, m->config.vrid}].push_back(
        m.get());
  }
}

void Speaker::Release(Managed& m, std::function<void()> then) {
  m.releasing = true;
  Managed* p = &m;
  m.instance->Shutdown([this, p, then = std::move(then)] {
    // Destroy it from the loop, not from inside its own callback.
    loop_.Post([this, p, then] {
      instances_.erase(
          std::remove_if(instances_.begin(), instances_.end(),
                         [p](const auto& u) { return u.get() == p; }),
          instances_.end());
      RebuildDemux();
      if (then) then();
    });
  });
}

ReloadSummary Speaker::Reload(const Config& config) {
  ReloadSummary summary;
  if (shutting_down_) return summary;
  std::map<std::string, const InstanceConfig*> wanted;
  for (const auto& ic : config.instances) wanted[ic.name] = &ic;
  std::vector<Managed*> current;
  for (auto& m : instances_) {
    if (!m->releasing) current.push_back(m.get());
  }
  for (Managed* m : current) {
    auto it = wanted.find(m->config.name);
    if (it == wanted.end()) {
      ++summary.removed;
      Log(LogLevel::kInfo, "reload: removing instance " + m->config.name);
      Release(*m, nullptr);
      continue;
    }
    const InstanceConfig next = *it->second;
    wanted.erase(it);
    if (m->config.SameSettings(next)) {
      ++summary.kept;
      m->config.location = next.location;
      continue;
    }
    ++summary.recreated;
    Log(LogLevel::kInfo, "reload: re-creating changed instance " + next.name);
    // Start the new one only after the old one let go of its addresses, so
    // the two never fight over them.
    Release(*m, [this, next] {
      if (!shutting_down_) StartInstance(Create(next));
    });
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
    if (*finish) (*finish)();
    return;
  }
  for (Managed* m : all) {
    m->releasing = true;
    m->instance->Shutdown([remaining, finish] {
      if (--*remaining == 0 && *finish) (*finish)();
    });
  }
}

std::vector<InstanceStatus> Speaker::Status() const {
  std::vector<InstanceStatus> out;
  for (const auto& m : instances_) out.push_back(m->instance->Status());
  return out;
}

}  // namespace vrrp::sys
