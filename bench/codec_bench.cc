// Encode and decode cost per advertisement, for every wire format we speak.
// Run: build/bench/codec_bench (scripts/bench.sh codec).

#include <benchmark/benchmark.h>

#include "vrrp/packet.h"

namespace vrrp {
namespace {

struct Case {
  Advertisement adv;
  IpAddress src, dst;
  ChecksumForm form;
};

Case Make(Version v, Family f, ChecksumForm form, int addresses) {
  Case c;
  c.adv.version = v;
  c.adv.vrid = 51;
  c.adv.priority = 150;
  c.adv.max_adver_interval = Centiseconds(100);
  for (int i = 0; i < addresses; ++i) {
    std::string a = f == Family::kIpv4 ? "198.51.100." + std::to_string(10 + i)
                                       : "2001:db8::" + std::to_string(10 + i);
    c.adv.addresses.push_back(*IpAddress::Parse(a));
  }
  if (v == Version::kV2) {
    c.adv.auth_type = AuthType::kSimplePassword;
    c.adv.auth_data = {'s', 'e', 'c', 'r', 'e', 't', '1', 0};
  }
  c.src = *IpAddress::Parse(f == Family::kIpv4 ? "192.0.2.1" : "fe80::1");
  c.dst = VrrpMulticastGroup(f);
  c.form = form;
  return c;
}

const Case kCases[] = {
    Make(Version::kV3, Family::kIpv4, ChecksumForm::kWithPseudoHeader, 1),
    Make(Version::kV3, Family::kIpv4, ChecksumForm::kWithoutPseudoHeader, 1),
    Make(Version::kV3, Family::kIpv6, ChecksumForm::kWithPseudoHeader, 2),
    Make(Version::kV2, Family::kIpv4, ChecksumForm::kWithoutPseudoHeader, 1),
    Make(Version::kV3, Family::kIpv4, ChecksumForm::kWithPseudoHeader, 20),
};
const char* kNames[] = {"v3_ipv4_1vip", "v3_ipv4_nopseudo_1vip", "v3_ipv6_2vip",
                        "v2_ipv4_pass_1vip", "v3_ipv4_20vip"};

void BM_Encode(benchmark::State& state) {
  const Case& c = kCases[state.range(0)];
  state.SetLabel(kNames[state.range(0)]);
  for (auto _ : state) {
    auto b = EncodeAdvertisement(c.adv, c.src, c.dst, c.form);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Decode(benchmark::State& state) {
  const Case& c = kCases[state.range(0)];
  state.SetLabel(kNames[state.range(0)]);
  const auto bytes = EncodeAdvertisement(c.adv, c.src, c.dst, c.form);
  const DatagramInfo info{c.src, c.dst, 255};
  for (auto _ : state) {
    auto d = DecodeAdvertisement(bytes, info);
    benchmark::DoNotOptimize(d.ok());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeRejectChecksum(benchmark::State& state) {
  // The cost of refusing garbage: both checksum forms tried, both fail.
  const Case& c = kCases[0];
  auto bytes = EncodeAdvertisement(c.adv, c.src, c.dst, c.form);
  bytes[7] ^= 1;
  const DatagramInfo info{c.src, c.dst, 255};
  for (auto _ : state) {
    auto d = DecodeAdvertisement(bytes, info);
    benchmark::DoNotOptimize(d.ok());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Encode)->DenseRange(0, 4);
BENCHMARK(BM_Decode)->DenseRange(0, 4);
BENCHMARK(BM_DecodeRejectChecksum);

}  // namespace
}  // namespace vrrp

BENCHMARK_MAIN();
