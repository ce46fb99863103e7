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

#include <algorithm>

#include "link_layer_internal.h"

namespace vrrp::sys {

LinuxLinkLayer::Port::Port(LinuxLinkLayer& link,
                           std::shared_ptr<const InstanceConfig> config)
    : link_(link), config_(std::move(config)) {
  schedule_ = std::make_unique<AnnouncementSchedule>(
      link_.loop_, config_->announce,
      [this] { AnnounceOnce(config_->virtual_addresses); });
  if (config_->virtual_mac) {
    vmac_addresses_ = std::make_unique<VirtualMacAddressManager>(
        *link_.addresses_, config_->virtual_mac_interface);
  }
}

LinuxLinkLayer::Port::~Port() { link_.ClosePort(this); }

const InterfaceState* LinuxLinkLayer::Port::VirtualMacState() const {
  if (!config_->virtual_mac) return nullptr;
  const Itf* vmac = link_.FindItf(config_->virtual_mac_interface);
  return vmac && vmac->vmac ? &vmac->state : nullptr;
}

std::optional<IpAddress> LinuxLinkLayer::Port::SourceAddress() const {
  const Itf* base = link_.FindItf(config_->interface);
  if (base == nullptr) return std::nullopt;
  return InstanceSourceAddress(*config_, base->state, VirtualMacState());
}

void LinuxLinkLayer::Port::SendAdvertisement(const Advertisement& adv) {
  const Itf* out = link_.FindItf(SendsViaVirtualMac(*config_)
                                     ? config_->virtual_mac_interface
                                     : config_->interface);
  auto* sock = out ? out->sockets[FamilyIndex(config_->family)].get() : nullptr;
  const auto source = SourceAddress();
  if (!sock || !source) {
    ++link_.stats_.send_errors;
    return;
  }
  auto send_to = [&](const IpAddress& dst) {
    std::vector<uint8_t>& bytes = link_.send_buffer_;
    EncodeAdvertisementInto(adv, *source, dst, config_->checksum_form, bytes);
    auto r = sock->Send(bytes, *source, dst);
    if (!r.ok()) {
      ++link_.stats_.send_errors;
      link_.Log(LogLevel::kWarn, "instance " + config_->name + ": send to " +
                                     dst.ToString() + " failed: " + r.error());
    }
  };
  if (config_->unicast) {
    for (const auto& peer : config_->unicast->peers) send_to(peer);
  } else {
    send_to(VrrpMulticastGroup(config_->family));
  }
}

void LinuxLinkLayer::Port::Announce(std::span<const IpPrefix> addresses) {
  // Every address: becoming master or healing a split brain, the whole
  // schedule (bursts and refresh). Some: addresses added by a reload or put
  // back after a removal, announced once now; the refresh covers them after.
  if (addresses.size() >= config_->virtual_addresses.size()) {
    schedule_->Start();
  } else {
    AnnounceOnce(addresses);
  }
}

void LinuxLinkLayer::Port::StopAnnouncing() { schedule_->Stop(); }

AddressManager& LinuxLinkLayer::Port::addresses() {
  if (vmac_addresses_) return *vmac_addresses_;
  return *link_.addresses_;
}

void LinuxLinkLayer::Port::Reconfigure(
    std::shared_ptr<const InstanceConfig> config) {
  const bool multicast_changed =
      config->unicast.has_value() != config_->unicast.has_value();
  const bool schedule_changed = !(config->announce == config_->announce);
  config_ = std::move(config);
  if (schedule_changed) {
    const bool active = schedule_->active();
    schedule_ = std::make_unique<AnnouncementSchedule>(
        link_.loop_, config_->announce,
        [this] { AnnounceOnce(config_->virtual_addresses); });
    if (active) schedule_->Start();
  }
  if (multicast_changed) {
    if (Itf* itf = link_.FindItf(config_->interface)) {
      link_.UpdateSocket(*itf, config_->family);
    }
    if (config_->virtual_mac) {
      if (Itf* vmac = link_.FindItf(config_->virtual_mac_interface)) {
        link_.UpdateSendOnlySocket(*vmac, config_->family);
      }
    }
  }
}

void LinuxLinkLayer::Port::AnnounceOnce(std::span<const IpPrefix> addresses) {
  const Itf* on =
      link_.FindItf(config_->virtual_mac ? config_->virtual_mac_interface
                                         : config_->interface);
  if (on == nullptr || !on->announcer) return;
  for (const auto& vip : addresses) {
    Result<Unit, std::string> r = kOk;
    if (vip.address.is_v4()) {
      r = on->announcer->SendGratuitousArp(vip.address, on->state.mac);
    } else {
      auto ll = PickSourceAddress(on->state.of(Family::kIpv6), Family::kIpv6,
                                  config_->virtual_addresses);
      if (!ll) {
        r = Err(std::string("no link-local source address"));
      } else {
        r = on->announcer->SendUnsolicitedNa(vip.address, *ll, on->state.mac);
      }
    }
    if (!r.ok()) {
      ++link_.stats_.announce_errors;
      link_.Log(LogLevel::kWarn, "instance " + config_->name + ": announcing " +
                                     vip.address.ToString() +
                                     " failed: " + r.error());
    }
  }
}

}  // namespace vrrp::sys
