#pragma once

// A LinkLayer for router tests without root: interfaces are values the test
// sets, every operation the router asks for is recorded as a line of text,
// address changes come back as events on the fake clock (as the kernel's
// netlink notifications do), and an interface can be plugged into a
// FakeWire segment so that several routers hear each other through the real
// codec.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"
#include "vrrp/link_layer.h"

namespace vrrp::testing {

class FakeLinkLayer : public LinkLayer {
 public:
  explicit FakeLinkLayer(FakeScheduler& scheduler) : scheduler_(scheduler) {}
  ~FakeLinkLayer() override;

  // --- The test's side -------------------------------------------------
  // An existing, up interface with these addresses (the first IPv4 one is
  // primary; IPv6 ones are not nodad, as a host's own are not).
  void AddInterface(const std::string& name,
                    const std::vector<std::string>& prefixes);
  void SetLinkUp(const std::string& name, bool up);
  void RemoveInterface(const std::string& name);
  // An address added or deleted behind the router's back (`ip addr`); its
  // event arrives at once, before anything else on the clock.
  void AddKernelAddress(const std::string& name, const IpPrefix& prefix,
                        bool nodad = false);
  void DeleteKernelAddress(const std::string& name, const IpPrefix& prefix);
  // A datagram received on (interface, family).
  void Receive(const std::string& name, std::span<const uint8_t> bytes,
               const DatagramInfo& info);
  // Ports on `name` send to, and hear from, `segment` of `wire`, from the
  // interface's source address at the time of plugging.
  void Plug(const std::string& name, FakeWire& wire,
            const std::string& segment);

  // Everything the router asked for, in order: "open eth0 VI_1",
  // "close VI_1", "send VI_1 prio=100", "announce VI_1 198.51.100.1/24",
  // "stop-announcing VI_1", "add eth0 198.51.100.1/24",
  // "remove eth0 198.51.100.1/24", "stray eth0 198.51.100.1/24",
  // "vmac-ensure vrrp.1", "vmac-release vrrp.1".
  std::vector<std::string> log;
  // The lines of `log` that start with `prefix`, and how many there are.
  std::vector<std::string> Lines(const std::string& prefix) const;
  size_t Count(const std::string& prefix) const { return Lines(prefix).size(); }
  size_t open_ports() const { return ports_.size(); }

  // --- LinkLayer ---------------------------------------------------------
  void SetInputs(Inputs inputs) override { inputs_ = std::move(inputs); }
  const InterfaceState& Interface(const std::string& name) override;
  void RereadAddresses(const std::string&, Family) override {}
  std::unique_ptr<InstancePort> OpenPort(
      std::shared_ptr<const InstanceConfig> config) override;
  VirtualMacStatus EnsureVirtualMac(const InstanceConfig& config) override;
  void ReleaseVirtualMac(const InstanceConfig& config) override;
  void RemoveStrayAddress(const std::string& interface,
                          const IpPrefix& address) override;

  class Port;

 private:
  friend class Port;
  InterfaceState& State(const std::string& name);
  // Kernel side of an address change: the state, then the event.
  void ChangeAddress(const std::string& name, const IpPrefix& prefix, bool add,
                     bool nodad);
  void AddressEventSoon(const std::string& name);

  FakeScheduler& scheduler_;
  Inputs inputs_;
  std::map<std::string, InterfaceState> interfaces_;
  std::map<std::string, FakeWire::Port*> plugged_;
  std::vector<Port*> ports_;
  std::vector<std::unique_ptr<Timer>> events_;
  int next_ifindex_ = 2;
};

}  // namespace vrrp::testing
