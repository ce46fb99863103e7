#include "fakes/fake_wire.h"

#include <algorithm>

namespace vrrp::testing {

void FakeAddressManager::AddAddress(const std::string&, const IpPrefix& a) {
  installed.insert(a);
  log.push_back("add " + a.ToString());
}

void FakeAddressManager::RemoveAddress(const std::string&, const IpPrefix& a) {
  installed.erase(a);
  log.push_back("remove " + a.ToString());
}

FakeWire::FakeWire(FakeScheduler& scheduler, Duration latency)
    : scheduler_(scheduler), latency_(latency) {}

FakeWire::~FakeWire() = default;

FakeWire::Port& FakeWire::AddPort(const std::string& name,
                                  const std::string& segment,
                                  const IpAddress& source, ChecksumForm form) {
  ports_.push_back(std::make_unique<Port>(*this, name, segment, source, form));
  return *ports_.back();
}

void FakeWire::Port::SendAdvertisement(const Advertisement& adv) {
  if (!link_up_) return;
  wire_.packets_.push_back({wire_.scheduler_.Now(), name_, adv});
  wire_.Deliver(
      *this, EncodeAdvertisement(adv, source_,
                                 VrrpMulticastGroup(source_.family()), form_));
}

void FakeWire::Port::Announce(std::span<const IpPrefix>) {
  if (link_up_) ++announcements_;
}

void FakeWire::Deliver(Port& from, const std::vector<uint8_t>& bytes) {
  // Drop timers of deliveries already made.
  while (!in_flight_.empty() && !in_flight_.front()->armed()) {
    in_flight_.pop_front();
  }
  for (auto& p : ports_) {
    Port* to = p.get();
    if (to == &from || to->segment_ != from.segment_) continue;
    DatagramInfo info{from.source_, VrrpMulticastGroup(from.source_.family()),
                      kVrrpTtl};
    auto timer = scheduler_.CreateTimer([to, bytes, info] {
      if (to->link_up_ && to->receiver_) to->receiver_(bytes, info);
    });
    timer->ArmAt(scheduler_.Now() + latency_);
    in_flight_.push_back(std::move(timer));
  }
}

SimRouter::SimRouter(FakeWire& wire, const std::string& name,
                     const std::string& segment, const IpAddress& source,
                     InstanceConfig config, InstanceObserver* observer) {
  port = &wire.AddPort(name, segment, source, config.checksum_form);
  instance = std::make_unique<Instance>(std::move(config), wire.scheduler(),
                                        *port, addresses, observer);
  port->SetReceiver(
      [this](std::span<const uint8_t> bytes, const DatagramInfo& info) {
        auto decoded = DecodeAdvertisement(bytes, info);
        if (!decoded.ok()) {
          ++decode_errors[decoded.error()];
          return;
        }
        if (decoded->advertisement.vrid != instance->config().vrid) {
          ++decode_errors[ReceiveError::kVrId];
          return;
        }
        instance->OnAdvertisement(*decoded, info.source);
      });
}

}  // namespace vrrp::testing
