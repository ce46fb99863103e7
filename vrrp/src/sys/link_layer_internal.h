#pragma once

// LinuxLinkLayer's shared pieces, for link_layer.cc, instance_port.cc and
// virtual_mac.cc only.

#include <memory>
#include <string>

#include "vrrp/announcement_schedule.h"
#include "vrrp/sys/link_layer.h"
#include "vrrp/sys/vrrp_socket.h"

namespace vrrp::sys {

inline size_t FamilyIndex(Family f) { return f == Family::kIpv4 ? 0 : 1; }

struct LinuxLinkLayer::Itf {
  InterfaceState state;
  std::unique_ptr<Announcer> announcer;
  std::unique_ptr<VrrpSocket> sockets[2];
  bool socket_multicast[2] = {false, false};
  // A virtual-MAC macvlan of ours: its sockets only send (the base's
  // receive), and its link events never fault an instance by themselves.
  bool vmac = false;
  int vmac_index = 0;      // the macvlan we made or adopted; 0: none yet
  std::string vmac_error;  // the last failure, logged once
};

// Puts an instance's virtual addresses on its virtual-MAC macvlan instead of
// the interface the state machine names.
class VirtualMacAddressManager : public AddressManager {
 public:
  VirtualMacAddressManager(AddressManager& inner, std::string vmac)
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

// One instance's PacketIo: encodes with the instance's checksum form, sends
// from its source to the group or each unicast peer, and announces on the
// AnnouncementSchedule (instance_port.cc).
class LinuxLinkLayer::Port : public InstancePort {
 public:
  Port(LinuxLinkLayer& link, std::shared_ptr<const InstanceConfig> config);
  ~Port() override;

  std::optional<IpAddress> SourceAddress() const override;
  void SendAdvertisement(const Advertisement& adv) override;
  void Announce(std::span<const IpPrefix> addresses) override;
  void StopAnnouncing() override;
  AddressManager& addresses() override;
  void Reconfigure(std::shared_ptr<const InstanceConfig> config) override;

  const InstanceConfig& config() const { return *config_; }

 private:
  // From the interface that holds the addresses, with its MAC: the virtual
  // MAC on a macvlan (VRRP-NOTES.md: announce whichever MAC answers).
  void AnnounceOnce(std::span<const IpPrefix> addresses);
  const InterfaceState* VirtualMacState() const;

  LinuxLinkLayer& link_;
  std::shared_ptr<const InstanceConfig> config_;
  std::unique_ptr<AnnouncementSchedule> schedule_;
  std::unique_ptr<VirtualMacAddressManager> vmac_addresses_;
};

}  // namespace vrrp::sys
