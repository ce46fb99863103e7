#pragma once

// The LinkLayer on Linux: interfaces and their addresses from netlink (a
// cache kept current by link and address events), one raw VRRP socket per
// (interface, family) shared by the instances there, the instances' ports
// (advertisements and GARP / NA, instance_port.cc), and virtual-MAC
// macvlans with their sysctls (virtual_mac.cc). Split by concern the way
// FRR's vrrpd splits vrrp_arp / vrrp_ndisc / vrrp_zebra.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vrrp/link_layer.h"
#include "vrrp/log.h"
#include "vrrp/result.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/netlink.h"
#include "vrrp/sys/vrrp_socket.h"

namespace vrrp::sys {

class Announcer;

// Failures below the instances, for the exporter.
struct LinkLayerStats {
  uint64_t send_errors = 0;
  uint64_t announce_errors = 0;
  uint64_t address_errors = 0;
};

class LinuxLinkLayer : public LinkLayer {
 public:
  // Opens netlink and the link monitor and watches it on `loop`.
  static Result<std::unique_ptr<LinuxLinkLayer>, std::string> Open(
      EventLoop& loop, LogFn log);
  ~LinuxLinkLayer() override;

  void SetInputs(Inputs inputs) override { inputs_ = std::move(inputs); }
  const InterfaceState& Interface(const std::string& name) override;
  void RereadAddresses(const std::string& name, Family family) override;
  std::unique_ptr<InstancePort> OpenPort(
      std::shared_ptr<const InstanceConfig> config) override;
  VirtualMacStatus EnsureVirtualMac(const InstanceConfig& config) override;
  void ReleaseVirtualMac(const InstanceConfig& config) override;
  void RemoveStrayAddress(const std::string& interface,
                          const IpPrefix& address) override;

  const LinkLayerStats& stats() const { return stats_; }
  // For interface trackers' link queries (same thread).
  Netlink& netlink() { return *netlink_; }
  // Runs on every link event, watched interface or not (trackers).
  std::function<void()> on_any_link;

  class Port;
  struct Itf;

 private:
  LinuxLinkLayer(EventLoop& loop, LogFn log);
  Itf& GetItf(const std::string& name);
  Itf* FindItf(const std::string& name);
  void RefreshInterface(Itf& itf);
  void DropSockets(Itf& itf);
  // As when it does not exist: no sockets, no index, no addresses.
  void MarkGone(Itf& itf);
  // Opens, re-opens (multicast membership changed) or closes the receive
  // socket of (itf, family) for the ports there.
  void UpdateSocket(Itf& itf, Family family);
  void UpdateSendOnlySocket(Itf& vmac, Family family);
  void OnReadable(Itf& itf, Family family);
  void OnLinkEvent(const InterfaceInfo& info);
  void OnAddressEvent(int ifindex);
  void RefreshAll();
  void ClosePort(Port* port);
  void NoteAddress(const std::string& name, const IpPrefix& prefix, bool added);

  // virtual_mac.cc
  void SetVirtualMacUp(Itf& vmac, const InstanceConfig& config);
  void ConfigureVirtualMac(const InstanceConfig& config,
                           const std::string& name);
  void SaveAndSetBaseArp(const InstanceConfig& config,
                         const std::string& vmac_name);
  void RestoreBaseArp(std::string base);
  void WriteSysctl(Family family, const std::string& interface,
                   const std::string& name, int value);
  void ForgetVirtualMacInterface(const std::string& name);

  void Log(LogLevel level, const std::string& message) const;

  EventLoop& loop_;
  LogFn log_;
  Inputs inputs_;
  std::unique_ptr<Netlink> netlink_;
  std::unique_ptr<LinkMonitor> monitor_;
  std::unique_ptr<NetlinkAddressManager> addresses_;
  std::map<std::string, std::unique_ptr<Itf>> interfaces_;
  std::vector<Port*> ports_;
  LinkLayerStats stats_;
  // Every port encodes its advertisements here (loop thread only).
  std::vector<uint8_t> send_buffer_;
  // (base interface, sysctl) we changed for an IPv4 virtual MAC, with the
  // value to put back once no IPv4 virtual MAC is left on that interface.
  std::map<std::pair<std::string, std::string>, int> saved_base_sysctls_;
};

}  // namespace vrrp::sys
