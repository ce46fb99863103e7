// libFuzzer target: the receive path from raw bytes to the state machine.
//
// Byte 0 of the input picks the context (IPv4 with or without its IP header,
// IPv6; TTL 255 or not); the rest is the datagram. Whatever decodes is
// re-encoded and must decode to the same advertisement, then goes into a
// live Backup and a live Master instance on the fake clock, whose timers
// are run. Any crash, sanitizer report or broken round trip is a finding.

#include <cstdint>
#include <cstdlib>
#include <span>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"
#include "vrrp/instance.h"
#include "vrrp/packet.h"

namespace {

using vrrp::testing::FakeAddressManager;
using vrrp::testing::FakeScheduler;

class NullIo : public vrrp::PacketIo {
 public:
  explicit NullIo(vrrp::IpAddress a) : a_(a) {}
  std::optional<vrrp::IpAddress> SourceAddress() const override { return a_; }
  void SendAdvertisement(const vrrp::Advertisement&) override {}
  void Announce(std::span<const vrrp::IpPrefix>) override {}

 private:
  vrrp::IpAddress a_;
};

vrrp::InstanceConfig Config(vrrp::Family family, vrrp::Version version,
                            uint8_t priority) {
  vrrp::InstanceConfig c;
  c.name = "fuzz";
  c.interface = "eth0";
  c.vrid = 51;
  c.version = version;
  c.family = family;
  c.priority = priority;
  c.virtual_addresses = {*vrrp::IpPrefix::Parse(
      family == vrrp::Family::kIpv4 ? "198.51.100.10/24" : "2001:db8::10/64")};
  if (version == vrrp::Version::kV2) {
    c.auth_type = vrrp::AuthType::kSimplePassword;
    c.auth_password = "secret1";
  }
  return c;
}

void Feed(const vrrp::DecodedAdvertisement& d, const vrrp::IpAddress& source) {
  const auto family = source.family();
  const auto version = d.advertisement.version;
  FakeScheduler clock;
  FakeAddressManager addrs;
  NullIo io(family == vrrp::Family::kIpv4 ? *vrrp::IpAddress::Parse("192.0.2.2")
                                          : *vrrp::IpAddress::Parse("fe80::2"));
  vrrp::Instance backup(Config(family, version, 100), clock, io, addrs);
  vrrp::Instance master(Config(family, version, 254), clock, io, addrs);
  backup.Start();
  master.Start();
  clock.Advance(std::chrono::seconds(4));  // master is Master by now
  for (int i = 0; i < 3; ++i) {
    backup.OnAdvertisement(d, source);
    master.OnAdvertisement(d, source);
    clock.Advance(std::chrono::milliseconds(700));
  }
  master.Shutdown();
  clock.Advance(std::chrono::seconds(5));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::span<const uint8_t> bytes(data + 1, size - 1);
  vrrp::DatagramInfo info;
  info.ttl = (mode & 0x80) ? 64 : 255;
  switch (mode & 0x03) {
    case 0: {  // a whole IPv4 datagram, as the raw socket delivers it
      auto d = vrrp::ParseIpv4Datagram(bytes);
      if (!d.ok()) return 0;
      info = d->info;
      bytes = d->payload;
      break;
    }
    case 1:
      info.source = *vrrp::IpAddress::Parse("192.0.2.1");
      info.destination = vrrp::VrrpMulticastGroup(vrrp::Family::kIpv4);
      break;
    default:
      info.source = *vrrp::IpAddress::Parse("fe80::1");
      info.destination = vrrp::VrrpMulticastGroup(vrrp::Family::kIpv6);
      break;
  }
  if ((mode & 0x40) && (mode & 0x03) != 0) {
    // Unicast mode's path: the TTL goes on to the instances.
    info.destination = info.source.family() == vrrp::Family::kIpv4
                           ? *vrrp::IpAddress::Parse("192.0.2.2")
                           : *vrrp::IpAddress::Parse("fe80::2");
  }
  auto decoded = vrrp::DecodeAdvertisement(bytes, info);
  if (!decoded.ok()) {
    (void)vrrp::ToString(decoded.error());
    return 0;
  }
  // Round trip: what we accept, we can say again in the same form.
  auto again =
      vrrp::EncodeAdvertisement(decoded->advertisement, info.source,
                                info.destination, decoded->checksum_form);
  auto redecoded = vrrp::DecodeAdvertisement(again, info);
  if (!redecoded.ok() ||
      !(redecoded->advertisement == decoded->advertisement)) {
    std::abort();
  }
  Feed(*decoded, info.source);
  return 0;
}
