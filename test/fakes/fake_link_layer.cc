#include "fakes/fake_link_layer.h"

#include <algorithm>

namespace vrrp::testing {

namespace {
IpPrefix Prefix(const std::string& text) {
  auto p = IpPrefix::Parse(text);
  if (!p) throw std::invalid_argument("bad prefix " + text);
  return *p;
}
}  // namespace

// Records what the instance sends and where its addresses go.
class FakeLinkLayer::Port : public InstancePort, public AddressManager {
 public:
  Port(FakeLinkLayer& link, std::shared_ptr<const InstanceConfig> config)
      : link_(link), config_(std::move(config)) {
    link_.log.push_back("open " + config_->interface + " " + config_->name);
  }
  ~Port() override {
    link_.log.push_back("close " + config_->name);
    std::erase(link_.ports_, this);
  }

  std::optional<IpAddress> SourceAddress() const override {
    const InterfaceState* vmac = nullptr;
    if (config_->virtual_mac) {
      auto it = link_.interfaces_.find(config_->virtual_mac_interface);
      if (it != link_.interfaces_.end()) vmac = &it->second;
    }
    return InstanceSourceAddress(*config_, link_.State(config_->interface),
                                 vmac);
  }
  void SendAdvertisement(const Advertisement& adv) override {
    const InterfaceState& itf = link_.State(config_->interface);
    if (!itf.exists()) return;
    link_.log.push_back("send " + config_->name +
                        " prio=" + std::to_string(adv.priority));
    auto wire = link_.plugged_.find(config_->interface);
    if (wire != link_.plugged_.end() && itf.up) {
      wire->second->SendAdvertisement(adv);
    }
  }
  void Announce(std::span<const IpPrefix> addresses) override {
    for (const auto& a : addresses) {
      link_.log.push_back("announce " + config_->name + " " + a.ToString());
    }
  }
  void StopAnnouncing() override {
    link_.log.push_back("stop-announcing " + config_->name);
  }
  AddressManager& addresses() override { return *this; }
  void Reconfigure(std::shared_ptr<const InstanceConfig> config) override {
    link_.log.push_back("reconfigure " + config->name);
    config_ = std::move(config);
  }

  void AddAddress(const std::string& interface,
                  const IpPrefix& address) override {
    const std::string& on =
        config_->virtual_mac ? config_->virtual_mac_interface : interface;
    link_.log.push_back("add " + on + " " + address.ToString());
    link_.ChangeAddress(on, address, true, /*nodad=*/true);
  }
  void RemoveAddress(const std::string& interface,
                     const IpPrefix& address) override {
    const std::string& on =
        config_->virtual_mac ? config_->virtual_mac_interface : interface;
    link_.log.push_back("remove " + on + " " + address.ToString());
    link_.ChangeAddress(on, address, false, false);
  }

 private:
  FakeLinkLayer& link_;
  std::shared_ptr<const InstanceConfig> config_;
};

FakeLinkLayer::~FakeLinkLayer() = default;

InterfaceState& FakeLinkLayer::State(const std::string& name) {
  auto [it, fresh] = interfaces_.try_emplace(name);
  if (fresh) it->second.name = name;
  return it->second;
}

const InterfaceState& FakeLinkLayer::Interface(const std::string& name) {
  return State(name);
}

void FakeLinkLayer::AddInterface(const std::string& name,
                                 const std::vector<std::string>& prefixes) {
  InterfaceState& s = State(name);
  s.ifindex = next_ifindex_++;
  s.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(s.ifindex)};
  s.admin_up = s.up = true;
  bool primary_taken = false;
  for (const auto& text : prefixes) {
    InterfaceAddress a;
    a.ifindex = s.ifindex;
    a.prefix = Prefix(text);
    if (a.prefix.address.is_v4()) {
      a.secondary = primary_taken;
      primary_taken = true;
    }
    s.of(a.prefix.address.family()).push_back(a);
  }
  if (inputs_.link) inputs_.link(name);
}

void FakeLinkLayer::SetLinkUp(const std::string& name, bool up) {
  InterfaceState& s = State(name);
  s.admin_up = s.up = up;
  if (inputs_.link) inputs_.link(name);
}

void FakeLinkLayer::RemoveInterface(const std::string& name) {
  InterfaceState& s = State(name);
  s.ifindex = 0;
  s.admin_up = s.up = false;
  s.addresses[0].clear();
  s.addresses[1].clear();
  if (inputs_.link) inputs_.link(name);
}

void FakeLinkLayer::ChangeAddress(const std::string& name,
                                  const IpPrefix& prefix, bool add,
                                  bool nodad) {
  InterfaceState& s = State(name);
  if (!s.exists()) return;
  auto& list = s.of(prefix.address.family());
  std::erase_if(list, [&](const InterfaceAddress& a) {
    return a.prefix.address == prefix.address;
  });
  if (add) {
    InterfaceAddress a;
    a.ifindex = s.ifindex;
    a.prefix = prefix;
    a.nodad = nodad;
    // Linux makes an address secondary when the interface already has a
    // primary one in its subnet (IPv4).
    a.secondary =
        prefix.address.is_v4() &&
        std::any_of(list.begin(), list.end(), [&](const InterfaceAddress& o) {
          return !o.secondary && SamePrefix(o.prefix.address, prefix.address,
                                            o.prefix.prefix_length);
        });
    list.push_back(a);
  }
  AddressEventSoon(name);
}

void FakeLinkLayer::AddressEventSoon(const std::string& name) {
  // As netlink: the event is read by the loop after the change is made.
  auto timer = scheduler_.CreateTimer([this, name] {
    if (inputs_.addresses) inputs_.addresses(name);
  });
  timer->ArmAt(scheduler_.Now());
  events_.push_back(std::move(timer));
}

void FakeLinkLayer::AddKernelAddress(const std::string& name,
                                     const IpPrefix& prefix, bool nodad) {
  ChangeAddress(name, prefix, true, nodad);
  scheduler_.RunDue();
}

void FakeLinkLayer::DeleteKernelAddress(const std::string& name,
                                        const IpPrefix& prefix) {
  ChangeAddress(name, prefix, false, false);
  scheduler_.RunDue();
}

void FakeLinkLayer::Receive(const std::string& name,
                            std::span<const uint8_t> bytes,
                            const DatagramInfo& info) {
  if (inputs_.datagram) {
    inputs_.datagram(name, info.source.family(), bytes, info);
  }
}

void FakeLinkLayer::Plug(const std::string& name, FakeWire& wire,
                         const std::string& segment) {
  const InterfaceState& s = State(name);
  const auto source = PickSourceAddress(s.of(Family::kIpv4), Family::kIpv4, {});
  FakeWire::Port& port = wire.AddPort(name, segment, *source);
  port.SetReceiver(
      [this, name](std::span<const uint8_t> bytes, const DatagramInfo& info) {
        if (State(name).up) Receive(name, bytes, info);
      });
  plugged_[name] = &port;
}

std::unique_ptr<InstancePort> FakeLinkLayer::OpenPort(
    std::shared_ptr<const InstanceConfig> config) {
  auto port = std::make_unique<Port>(*this, std::move(config));
  ports_.push_back(port.get());
  return port;
}

VirtualMacStatus FakeLinkLayer::EnsureVirtualMac(const InstanceConfig& config) {
  const std::string& name = config.virtual_mac_interface;
  InterfaceState& s = State(name);
  if (s.exists()) return {.ready = s.admin_up};
  if (!State(config.interface).exists()) return {};
  log.push_back("vmac-ensure " + name);
  s.ifindex = next_ifindex_++;
  s.mac = VirtualRouterMac(config.family, config.vrid);
  s.admin_up = s.up = true;
  return {.ready = true, .created = true};
}

void FakeLinkLayer::ReleaseVirtualMac(const InstanceConfig& config) {
  log.push_back("vmac-release " + config.virtual_mac_interface);
  InterfaceState& s = State(config.virtual_mac_interface);
  s.ifindex = 0;
  s.addresses[0].clear();
  s.addresses[1].clear();
}

void FakeLinkLayer::RemoveStrayAddress(const std::string& interface,
                                       const IpPrefix& address) {
  log.push_back("stray " + interface + " " + address.ToString());
  ChangeAddress(interface, address, false, false);
}

std::vector<std::string> FakeLinkLayer::Lines(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& l : log) {
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  }
  return out;
}

}  // namespace vrrp::testing
