#include "vrrp/packet.h"

#include <gtest/gtest.h>

#include <set>

namespace vrrp {
namespace {

IpAddress A(const char* s) { return *IpAddress::Parse(s); }

Advertisement V3(std::vector<IpAddress> addrs) {
  Advertisement a;
  a.version = Version::kV3;
  a.vrid = 51;
  a.priority = 150;
  a.max_adver_interval = Centiseconds(100);
  a.addresses = std::move(addrs);
  return a;
}

DatagramInfo Info(const IpAddress& src, uint8_t ttl = 255) {
  return {src, VrrpMulticastGroup(src.family()), ttl};
}

TEST(InternetChecksum, Rfc1071Example) {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2; checksum ~0xddf2.
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  const std::span<const uint8_t> parts[] = {bytes};
  EXPECT_EQ(InternetChecksum(parts), static_cast<uint16_t>(~0xddf2));
  // The end-around carry can carry again: ffff + ffff + 0001 = 0x1ffff,
  // folded once 0x10000, twice 0x0001; checksum 0xfffe.
  const uint8_t carry[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
  const std::span<const uint8_t> carry_parts[] = {carry};
  EXPECT_EQ(InternetChecksum(carry_parts), 0xfffe);
  // Split across parts at an odd offset gives the same answer.
  const std::span<const uint8_t> split[] = {{bytes, 3}, {bytes + 3, 5}};
  EXPECT_EQ(InternetChecksum(split), static_cast<uint16_t>(~0xddf2));
}

TEST(Codec, V3Ipv4RoundTripBothChecksumForms) {
  const auto src = A("192.0.2.1");
  const auto adv = V3({A("198.51.100.10"), A("198.51.100.11")});
  for (auto form :
       {ChecksumForm::kWithPseudoHeader, ChecksumForm::kWithoutPseudoHeader}) {
    auto bytes =
        EncodeAdvertisement(adv, src, VrrpMulticastGroup(Family::kIpv4), form);
    ASSERT_EQ(bytes.size(), 8u + 2 * 4);
    EXPECT_EQ(bytes[0], 0x31);
    EXPECT_EQ(bytes[1], 51);
    EXPECT_EQ(bytes[2], 150);
    EXPECT_EQ(bytes[3], 2);
    EXPECT_EQ((bytes[4] << 8) | bytes[5], 100);
    auto d = DecodeAdvertisement(bytes, Info(src));
    ASSERT_TRUE(d.ok()) << ToString(d.error());
    EXPECT_EQ(d->advertisement, adv);
    EXPECT_EQ(d->checksum_form, form);
  }
}

TEST(Codec, V3Ipv6RoundTrip) {
  const auto src = A("fe80::1");
  const auto adv = V3({A("fe80::100"), A("2001:db8:1::20")});
  auto bytes = EncodeAdvertisement(adv, src, VrrpMulticastGroup(Family::kIpv6),
                                   ChecksumForm::kWithoutPseudoHeader);
  ASSERT_EQ(bytes.size(), 8u + 2 * 16);
  auto d = DecodeAdvertisement(bytes, Info(src));
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->advertisement, adv);
  // IPv6 always carries the pseudo-header, whatever was asked.
  EXPECT_EQ(d->checksum_form, ChecksumForm::kWithPseudoHeader);
}

// §7.1's TTL check is the decoder's for the multicast group only; a unicast
// advertisement carries its hop limit to the instance (unicast peers).
TEST(Codec, UnicastHopLimitIsLeftToTheInstance) {
  const auto src = A("2001:db8::12");
  const auto dst = A("2001:db8::11");
  const auto adv = V3({A("2001:db8::100")});
  auto unicast =
      EncodeAdvertisement(adv, src, dst, ChecksumForm::kWithPseudoHeader);
  auto d = DecodeAdvertisement(unicast, DatagramInfo{src, dst, 64});
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->ttl, 64);
  auto group = VrrpMulticastGroup(Family::kIpv6);
  auto multicast =
      EncodeAdvertisement(adv, src, group, ChecksumForm::kWithPseudoHeader);
  auto refused = DecodeAdvertisement(multicast, DatagramInfo{src, group, 64});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), ReceiveError::kIpTtl);
  EXPECT_EQ(DecodeAdvertisement(multicast, Info(src))->ttl, 255);
}

TEST(Codec, V2RoundTripWithPassword) {
  Advertisement adv;
  adv.version = Version::kV2;
  adv.vrid = 1;
  adv.priority = 100;
  adv.max_adver_interval = std::chrono::seconds(3);
  adv.addresses = {A("198.51.100.10")};
  adv.auth_type = AuthType::kSimplePassword;
  adv.auth_data = {'s', 'e', 'c', 'r', 'e', 't', '1', 0};
  const auto src = A("192.0.2.1");
  auto bytes = EncodeAdvertisement(adv, src, VrrpMulticastGroup(Family::kIpv4),
                                   ChecksumForm::kWithPseudoHeader);
  ASSERT_EQ(bytes.size(), 8u + 4 + 8);
  EXPECT_EQ(bytes[0], 0x21);
  EXPECT_EQ(bytes[4], 1);  // auth type
  EXPECT_EQ(bytes[5], 3);  // seconds
  auto d = DecodeAdvertisement(bytes, Info(src));
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->advertisement, adv);
  EXPECT_EQ(d->checksum_form, ChecksumForm::kWithoutPseudoHeader);
}

TEST(Codec, EncodeIntoAReusedBufferEqualsAFreshEncode) {
  // The speaker encodes every advertisement into one buffer: whatever a
  // longer or shorter earlier message left there must not leak into the
  // next one.
  const auto src4 = A("192.0.2.1");
  const auto src6 = A("fe80::1");
  const auto big = V3({A("fe80::100"), A("2001:db8:1::20")});
  const auto small = V3({A("198.51.100.10")});
  std::vector<uint8_t> buffer(200, 0xff);
  EncodeAdvertisementInto(big, src6, VrrpMulticastGroup(Family::kIpv6),
                          ChecksumForm::kWithPseudoHeader, buffer);
  EXPECT_EQ(buffer,
            EncodeAdvertisement(big, src6, VrrpMulticastGroup(Family::kIpv6),
                                ChecksumForm::kWithPseudoHeader));
  for (auto form :
       {ChecksumForm::kWithPseudoHeader, ChecksumForm::kWithoutPseudoHeader}) {
    EncodeAdvertisementInto(small, src4, VrrpMulticastGroup(Family::kIpv4),
                            form, buffer);
    EXPECT_EQ(buffer,
              EncodeAdvertisement(small, src4,
                                  VrrpMulticastGroup(Family::kIpv4), form));
    auto d = DecodeAdvertisement(buffer, Info(src4));
    ASSERT_TRUE(d.ok()) << ToString(d.error());
    EXPECT_EQ(d->advertisement, small);
  }
}

TEST(Codec, V2ZeroIntervalRoundTrips) {
  // Found by the fuzzer: a peer's Adver Int of 0 must re-encode as 0.
  Advertisement adv;
  adv.version = Version::kV2;
  adv.vrid = 51;
  adv.max_adver_interval = Centiseconds(0);
  adv.addresses = {A("198.51.100.10")};
  const auto src = A("192.0.2.1");
  auto bytes = EncodeAdvertisement(adv, src, VrrpMulticastGroup(Family::kIpv4),
                                   ChecksumForm::kWithoutPseudoHeader);
  EXPECT_EQ(bytes[5], 0);
  auto d = DecodeAdvertisement(bytes, Info(src));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->advertisement, adv);
}

TEST(Codec, V3ReservedBitsIgnoredOnReceiveAndZeroOnSend) {
  const auto src = A("192.0.2.1");
  auto adv = V3({A("198.51.100.10")});
  adv.max_adver_interval = Centiseconds(4095);
  auto bytes = EncodeAdvertisement(adv, src, VrrpMulticastGroup(Family::kIpv4),
                                   ChecksumForm::kWithoutPseudoHeader);
  EXPECT_EQ(bytes[4] & 0xf0, 0);
  // Set the reserved bits and fix the checksum (without pseudo-header: the
  // 16-bit word at offset 4 rises by 0xf000).
  bytes[4] |= 0xf0;
  uint32_t ck = (bytes[6] << 8 | bytes[7]);
  ck = ck + 0x0fff;  // ~(x + 0xf000) == ~x - 0xf000 == ~x + 0x0fff (1's c.)
  ck = (ck & 0xffff) + (ck >> 16);
  bytes[6] = static_cast<uint8_t>(ck >> 8);
  bytes[7] = static_cast<uint8_t>(ck);
  auto d = DecodeAdvertisement(bytes, Info(src));
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->advertisement.max_adver_interval, Centiseconds(4095));
}

struct BadCase {
  const char* what;
  std::vector<uint8_t> bytes;
  IpAddress source;
  uint8_t ttl;
  ReceiveError want;
};

std::vector<uint8_t> Good(const IpAddress& src, Version v = Version::kV3) {
  auto adv = V3({src.is_v4() ? A("198.51.100.10") : A("2001:db8::10")});
  adv.version = v;
  return EncodeAdvertisement(adv, src, VrrpMulticastGroup(src.family()),
                             ChecksumForm::kWithPseudoHeader);
}

TEST(Codec, EveryMalformedPacketIsNamed) {
  const auto v4 = A("192.0.2.1");
  const auto v6 = A("fe80::1");
  std::vector<BadCase> cases;
  cases.push_back({"ttl", Good(v4), v4, 64, ReceiveError::kIpTtl});
  cases.push_back({"empty", {}, v4, 255, ReceiveError::kTruncated});
  {
    auto b = Good(v4);
    b[0] = 0x41;
    cases.push_back({"version 4", b, v4, 255, ReceiveError::kVersion});
  }
  {
    auto b = Good(v4);
    b.resize(6);
    cases.push_back({"short header", b, v4, 255, ReceiveError::kTruncated});
  }
  {
    auto b = Good(v4);
    b[3] = 3;  // claims 3 addresses, carries 1
    cases.push_back({"count too big", b, v4, 255, ReceiveError::kTruncated});
  }
  {
    auto b = Good(v4);
    b.push_back(0);
    cases.push_back({"trailing byte", b, v4, 255, ReceiveError::kPacketLength});
  }
  {
    auto b = Good(v4);
    b[7] ^= 1;
    cases.push_back({"checksum", b, v4, 255, ReceiveError::kChecksum});
  }
  {
    // Type 2 with a correct checksum.
    auto adv = V3({A("198.51.100.10")});
    auto b = EncodeAdvertisement(adv, v4, VrrpMulticastGroup(Family::kIpv4),
                                 ChecksumForm::kWithoutPseudoHeader);
    b[0] = 0x32;
    uint32_t ck = (b[6] << 8 | b[7]) + 0xffff - 0x0100;  // word 0 rose by 1<<8
    ck = (ck & 0xffff) + (ck >> 16);
    b[6] = static_cast<uint8_t>(ck >> 8);
    b[7] = static_cast<uint8_t>(ck);
    cases.push_back({"type 2", b, v4, 255, ReceiveError::kInvalidType});
  }
  // An IPv6-sized address list arriving over IPv4.
  cases.push_back(
      {"v6 list on v4", Good(v6), v4, 255, ReceiveError::kMixedFamilies});
  cases.push_back(
      {"v4 list on v6", Good(v4), v6, 255, ReceiveError::kMixedFamilies});
  cases.push_back({"v2 on v6", Good(v4, Version::kV2), v6, 255,
                   ReceiveError::kMixedFamilies});
  {
    // A UCarp advertisement (OpenBSD carp_header): version 2 / type 1, vhid,
    // advskew, authlen (always 7), pad, advbase, checksum, an 8-byte
    // counter and a 20-byte HMAC: 36 bytes.
    std::vector<uint8_t> carp(36, 0xab);
    carp[0] = 0x21;
    carp[1] = 10;  // vhid
    carp[2] = 0;   // advskew
    carp[3] = 7;   // authlen
    carp[4] = 0;   // pad
    carp[5] = 1;   // advbase
    cases.push_back({"carp", carp, v4, 255, ReceiveError::kCarpShaped});
    // The same bytes over IPv6 are not CARP's business: VRRPv2 on IPv6.
    cases.push_back(
        {"carp on v6", carp, v6, 255, ReceiveError::kMixedFamilies});
    // 36 bytes with another byte 3 is a plain length error.
    carp[3] = 2;
    cases.push_back(
        {"36 bytes, 2 addrs", carp, v4, 255, ReceiveError::kPacketLength});
  }
  {
    Advertisement adv;
    adv.version = Version::kV2;
    adv.vrid = 1;
    adv.priority = 100;
    adv.max_adver_interval = std::chrono::seconds(1);
    adv.addresses = {A("198.51.100.10")};
    auto b = EncodeAdvertisement(adv, v4, VrrpMulticastGroup(Family::kIpv4),
                                 ChecksumForm::kWithoutPseudoHeader);
    b[4] = 9;  // unknown auth type; fix the checksum (word 2 rose by 9<<8)
    uint32_t ck = (b[6] << 8 | b[7]) + 0xffff - 0x0900;
    ck = (ck & 0xffff) + (ck >> 16);
    b[6] = static_cast<uint8_t>(ck >> 8);
    b[7] = static_cast<uint8_t>(ck);
    cases.push_back(
        {"v2 auth type 9", b, v4, 255, ReceiveError::kInvalidAuthType});
  }
  for (const auto& c : cases) {
    auto d = DecodeAdvertisement(c.bytes, Info(c.source, c.ttl));
    ASSERT_FALSE(d.ok()) << c.what;
    EXPECT_EQ(d.error(), c.want) << c.what << ": got " << ToString(d.error());
  }
}

TEST(Codec, EveryErrorHasANameAndMostAMibCounter) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kReceiveErrorCount; ++i) {
    auto e = static_cast<ReceiveError>(i);
    EXPECT_NE(ToString(e), "unknown");
    names.insert(ToString(e));
  }
  EXPECT_EQ(names.size(), kReceiveErrorCount);
  EXPECT_EQ(MibCounter(ReceiveError::kChecksum),
            "vrrpv3StatisticsChecksumErrors");
  EXPECT_EQ(MibCounter(ReceiveError::kAuthFailure), "vrrpStatsAuthFailures");
  EXPECT_EQ(MibCounter(ReceiveError::kCarpShaped), "");
}

TEST(Ipv4Datagram, ParsesHeaderAndPayload) {
  const auto src = A("192.0.2.1");
  auto payload = Good(src);
  std::vector<uint8_t> d = {
      0x45, 0xc0, 0, static_cast<uint8_t>(20 + payload.size()),
      0,    0,    0, 0,
      255,  112,  0, 0,
      192,  0,    2, 1,
      224,  0,    0, 18};
  d.insert(d.end(), payload.begin(), payload.end());
  auto r = ParseIpv4Datagram(d);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->protocol, 112);
  EXPECT_EQ(r->info.ttl, 255);
  EXPECT_EQ(r->info.source, src);
  EXPECT_EQ(r->info.destination, A("224.0.0.18"));
  EXPECT_EQ(r->payload.size(), payload.size());
  EXPECT_TRUE(DecodeAdvertisement(r->payload, r->info).ok());
  // Truncated header, bad IHL.
  EXPECT_FALSE(ParseIpv4Datagram(std::span(d).first(19)).ok());
  d[0] = 0x4f;  // IHL 60 > size
  EXPECT_FALSE(ParseIpv4Datagram(std::span(d).first(40)).ok());
}

}  // namespace
}  // namespace vrrp
