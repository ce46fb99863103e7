#pragma once

// The seam between the router (core) and the links it runs on. Every
// operating-system change the router wants is an explicit call here, and
// every input it needs (datagrams, link and address changes) arrives through
// Inputs, so reloads and link or address events are as testable as packets:
// Linux implements it in src/sys/link_layer.cc, tests with FakeLinkLayer.
// No Linux headers.

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "vrrp/config.h"
#include "vrrp/interface_state.h"
#include "vrrp/packet.h"
#include "vrrp/packet_io.h"

namespace vrrp {

// What one instance sends through, and where its addresses go. The port
// follows its interface (and macvlan) as they come and go; it is closed when
// destroyed.
class InstancePort : public PacketIo {
 public:
  // Adds and removes the instance's virtual addresses where they live: its
  // interface, or its virtual-MAC macvlan.
  virtual AddressManager& addresses() = 0;
  // A reload changed settings the port uses (unicast peers, checksum form,
  // announcement schedule) without re-creating the instance.
  virtual void Reconfigure(std::shared_ptr<const InstanceConfig> config) = 0;
};

struct VirtualMacStatus {
  // It exists, is the one we made or adopted, and is administratively up.
  bool ready = false;
  // Made by this call.
  bool created = false;
  // Found left by an earlier run and taken over by this call.
  bool adopted = false;
};

class LinkLayer {
 public:
  struct Inputs {
    // A datagram for protocol 112 on (interface, family).
    std::function<void(const std::string& interface, Family family,
                       std::span<const uint8_t> message,
                       const DatagramInfo& info)>
        datagram;
    // One that was not even a parsable IP packet.
    std::function<void(const std::string& interface, ReceiveError error)>
        malformed;
    // The interface appeared, vanished, or changed its up state or MAC.
    std::function<void(const std::string& interface)> link;
    // Its addresses changed (already re-read into Interface()).
    std::function<void(const std::string& interface)> addresses;
  };

  virtual ~LinkLayer() = default;
  virtual void SetInputs(Inputs inputs) = 0;

  // The interface as last read. Asking watches it: from then on its events
  // are delivered and its state kept current.
  virtual const InterfaceState& Interface(const std::string& name) = 0;
  // Reads its addresses of `family` again now: an event for a removal may
  // still be queued.
  virtual void RereadAddresses(const std::string& name, Family family) = 0;

  // The port of an instance (one per instance; its interface's receive
  // socket is shared and joins the group while any port there multicasts).
  virtual std::unique_ptr<InstancePort> OpenPort(
      std::shared_ptr<const InstanceConfig> config) = 0;

  // Makes (or adopts, after a crash) the instance's virtual-MAC macvlan
  // when its interface exists, and brings it up. Idempotent: called on
  // every link event of the instance.
  virtual VirtualMacStatus EnsureVirtualMac(const InstanceConfig& config) = 0;
  // Deletes it, unless an open port still wants the same one; puts the
  // interface's ARP settings back when it was the last IPv4 one there.
  virtual void ReleaseVirtualMac(const InstanceConfig& config) = 0;

  // Removes an address this node must not hold: one a killed run left.
  virtual void RemoveStrayAddress(const std::string& interface,
                                  const IpPrefix& address) = 0;
};

}  // namespace vrrp
