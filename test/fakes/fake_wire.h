#pragma once

// An in-process network for state-machine tests: ports on named segments,
// links that can be cut, real encoding and decoding of every advertisement,
// and a fixed delivery latency on the fake clock.

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fakes/fake_scheduler.h"
#include "vrrp/instance.h"
#include "vrrp/packet.h"
#include "vrrp/packet_io.h"

namespace vrrp::testing {

// Records address operations; `installed` is what the kernel would hold.
class FakeAddressManager : public AddressManager {
 public:
  void AddAddress(const std::string& interface,
                  const IpPrefix& address) override;
  void RemoveAddress(const std::string& interface,
                     const IpPrefix& address) override;
  bool Has(const IpPrefix& address) const {
    return installed.count(address) > 0;
  }
  std::set<IpPrefix> installed;
  std::vector<std::string> log;  // "add 198.51.100.10/24", "remove ..."
};

struct WirePacket {
  TimePoint sent_at;
  std::string from;  // port name
  Advertisement advertisement;
};

class FakeWire {
 public:
  class Port;

  explicit FakeWire(FakeScheduler& scheduler,
                    Duration latency = std::chrono::microseconds(100));
  ~FakeWire();

  // A port on `segment` sending from `source`. Advertisements are encoded
  // with `form` and decoded by every receiver with the real codec.
  Port& AddPort(const std::string& name, const std::string& segment,
                const IpAddress& source,
                ChecksumForm form = ChecksumForm::kWithPseudoHeader);

  const std::vector<WirePacket>& packets() const { return packets_; }
  FakeScheduler& scheduler() { return scheduler_; }

 private:
  friend class Port;
  void Deliver(Port& from, const std::vector<uint8_t>& bytes);

  FakeScheduler& scheduler_;
  Duration latency_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::deque<std::unique_ptr<Timer>> in_flight_;
  std::vector<WirePacket> packets_;
};

class FakeWire::Port : public PacketIo {
 public:
  Port(FakeWire& wire, std::string name, std::string segment, IpAddress source,
       ChecksumForm form)
      : wire_(wire),
        name_(std::move(name)),
        segment_(std::move(segment)),
        source_(source),
        form_(form) {}

  std::optional<IpAddress> SourceAddress() const override {
    return has_source_ ? std::optional<IpAddress>(source_) : std::nullopt;
  }
  void SendAdvertisement(const Advertisement& advertisement) override;
  void Announce(std::span<const IpPrefix> addresses) override;
  void StopAnnouncing() override { ++stop_announcing_; }

  // Cutting a link drops everything sent or received by this port.
  void SetLinkUp(bool up) { link_up_ = up; }
  bool link_up() const { return link_up_; }
  void SetHasSource(bool has) { has_source_ = has; }
  // Where received datagrams go (the demux, or an instance directly).
  void SetReceiver(
      std::function<void(std::span<const uint8_t>, const DatagramInfo&)> r) {
    receiver_ = std::move(r);
  }
  const std::string& name() const { return name_; }
  const IpAddress& source() const { return source_; }
  size_t announcements() const { return announcements_; }
  size_t stop_announcing_calls() const { return stop_announcing_; }

 private:
  friend class FakeWire;
  FakeWire& wire_;
  std::string name_;
  std::string segment_;
  IpAddress source_;
  ChecksumForm form_;
  bool link_up_ = true;
  bool has_source_ = true;
  size_t announcements_ = 0;
  size_t stop_announcing_ = 0;
  std::function<void(std::span<const uint8_t>, const DatagramInfo&)> receiver_;
};

// One simulated router: a port, an address table and one instance whose
// received datagrams pass through the real decoder.
struct SimRouter {
  SimRouter(FakeWire& wire, const std::string& name, const std::string& segment,
            const IpAddress& source, InstanceConfig config,
            InstanceObserver* observer = nullptr);
  FakeWire::Port* port;
  FakeAddressManager addresses;
  std::unique_ptr<Instance> instance;
  std::map<ReceiveError, uint64_t> decode_errors;
};

}  // namespace vrrp::testing
