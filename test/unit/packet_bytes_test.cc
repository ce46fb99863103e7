// The codec against hand-written bytes: every vector here is written field
// by field from RFC 5798 §5.1-§5.2 and RFC 3768 §5, and its checksum is
// computed by the RFC 1071 helper below (never by EncodeAdvertisement), so
// a bug that breaks our encoder and decoder the same way cannot pass
// (issue 12: the round-trip tests shared every such blind spot).

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "vrrp/packet.h"

namespace vrrp {
namespace {

using Bytes = std::vector<uint8_t>;

IpAddress A(const char* s) { return *IpAddress::Parse(s); }

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// RFC 1071 §1: the 16-bit one's complement of the one's complement sum of
// the 16-bit big-endian words, an odd last byte padded with zero.
uint16_t Rfc1071(const Bytes& b) {
  uint32_t sum = 0;
  for (size_t i = 0; i < b.size(); i += 2) {
    const uint32_t hi = b[i];
    const uint32_t lo = i + 1 < b.size() ? b[i + 1] : 0;
    sum += hi << 8 | lo;
    sum = (sum & 0xffff) + (sum >> 16);  // end-around carry
  }
  return static_cast<uint16_t>(~sum & 0xffff);
}

Bytes AddressBytes(const char* s) {
  const IpAddress address = A(s);  // bytes() views it: keep it alive
  const auto b = address.bytes();
  return Bytes(b.begin(), b.end());
}

// RFC 5798 §5.2.8: the IPv6 pseudo-header of RFC 2460 §8.1 (source,
// destination, 32-bit upper-layer length, 3 zero bytes, next header 112).
Bytes Ipv6PseudoHeader(const char* src, const char* dst, size_t length) {
  return Cat(
      {AddressBytes(src),
       AddressBytes(dst),
       {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
        static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0, 0,
        0, 112}});
}

// The same for IPv4, in RFC 768's layout (source, destination, zero,
// protocol 112, 16-bit length).
Bytes Ipv4PseudoHeader(const char* src, const char* dst, size_t length) {
  return Cat({AddressBytes(src),
              AddressBytes(dst),
              {0, 112, static_cast<uint8_t>(length >> 8),
               static_cast<uint8_t>(length)}});
}

// Writes the checksum into bytes 6-7 of `message`, over `pseudo` (empty:
// the message alone) followed by the message with its checksum field zero.
Bytes Sealed(Bytes message, const Bytes& pseudo = {}) {
  // Shorter than a header (the truncation cases): no checksum field.
  if (message.size() < 8) return message;
  message[6] = message[7] = 0;
  const uint16_t sum = Rfc1071(Cat({pseudo, message}));
  message[6] = static_cast<uint8_t>(sum >> 8);
  message[7] = static_cast<uint8_t>(sum);
  return message;
}

DatagramInfo From(const char* src, const char* dst = nullptr) {
  const IpAddress s = A(src);
  return {s, dst ? A(dst) : VrrpMulticastGroup(s.family()), 255};
}

// VRRPv3 over IPv6 (§5.1.2, §5.2): version 3 / type 1, VRID 51, priority
// 150, 2 addresses, Max Adver Int 100 cs, checksum, then the link-local
// virtual address first.
Bytes V3Ipv6Message() {
  return Cat({{0x31, 51, 150, 2, 0x00, 100, 0, 0},
              {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00},
              {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20}});
}

TEST(HandWrittenBytes, HelperAgreesWithRfc1071AndAnIndependentComputation) {
  // RFC 1071 §3's example sums to 0xddf2.
  EXPECT_EQ(Rfc1071({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}),
            static_cast<uint16_t>(~0xddf2));
  // Literal checksums of two vectors below, computed outside this code base
  // (Python's int arithmetic over the same bytes): pins the helper.
  const Bytes v6 =
      Sealed(V3Ipv6Message(), Ipv6PseudoHeader("fe80::1", "ff02::12", 40));
  EXPECT_EQ(v6[6], 0x0c);
  EXPECT_EQ(v6[7], 0xdc);
  const Bytes empty4 = Sealed({0x31, 51, 150, 0, 0x00, 100, 0, 0},
                              Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", 8));
  EXPECT_EQ(empty4[6], 0x95);
  EXPECT_EQ(empty4[7], 0xdb);
}

// §5.2.8: over IPv6 the checksum always covers the pseudo-header. One that
// covers only the message (the IPv4-only RFC 9568 form) is refused: the
// IPv4 leniency must not leak into IPv6.
TEST(HandWrittenBytes, Ipv6ChecksumMustCoverThePseudoHeader) {
  const Bytes good =
      Sealed(V3Ipv6Message(), Ipv6PseudoHeader("fe80::1", "ff02::12", 40));
  auto d = DecodeAdvertisement(good, From("fe80::1"));
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->advertisement.version, Version::kV3);
  EXPECT_EQ(d->advertisement.vrid, 51);
  EXPECT_EQ(d->advertisement.priority, 150);
  EXPECT_EQ(d->advertisement.max_adver_interval, Centiseconds(100));
  EXPECT_EQ(d->advertisement.addresses,
            (std::vector<IpAddress>{A("fe80::100"), A("2001:db8:1::20")}));
  EXPECT_EQ(d->checksum_form, ChecksumForm::kWithPseudoHeader);

  const Bytes without = Sealed(V3Ipv6Message());
  ASSERT_NE(without, good);
  auto refused = DecodeAdvertisement(without, From("fe80::1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), ReceiveError::kChecksum);

  // The pseudo-header names the real destination: unicast to a peer.
  const Bytes unicast =
      Sealed(V3Ipv6Message(), Ipv6PseudoHeader("fe80::1", "2001:db8::11", 40));
  EXPECT_TRUE(
      DecodeAdvertisement(unicast, From("fe80::1", "2001:db8::11")).ok());
  EXPECT_FALSE(DecodeAdvertisement(unicast, From("fe80::1")).ok());
  // A different source is a different pseudo-header.
  EXPECT_FALSE(DecodeAdvertisement(good, From("fe80::2")).ok());

  // And our encoder writes exactly these bytes.
  Advertisement adv;
  adv.vrid = 51;
  adv.priority = 150;
  adv.addresses = {A("fe80::100"), A("2001:db8:1::20")};
  EXPECT_EQ(EncodeAdvertisement(adv, A("fe80::1"), A("ff02::12"),
                                ChecksumForm::kWithoutPseudoHeader),
            good);
}

// VRRPv3 over IPv4: both checksum forms are accepted and told apart, and
// the encoder writes each form as asked.
TEST(HandWrittenBytes, V3Ipv4BothChecksumForms) {
  const Bytes message = {0x31, 7, 200, 1, 0x0f, 0xff, 0, 0, 198, 51, 100, 7};
  const Bytes with = Sealed(
      message, Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", message.size()));
  const Bytes without = Sealed(message);
  ASSERT_NE(with, without);
  auto a = DecodeAdvertisement(with, From("192.0.2.1"));
  ASSERT_TRUE(a.ok()) << ToString(a.error());
  EXPECT_EQ(a->checksum_form, ChecksumForm::kWithPseudoHeader);
  EXPECT_EQ(a->advertisement.max_adver_interval, Centiseconds(4095));
  EXPECT_EQ(a->advertisement.addresses,
            std::vector<IpAddress>{A("198.51.100.7")});
  auto b = DecodeAdvertisement(without, From("192.0.2.1"));
  ASSERT_TRUE(b.ok()) << ToString(b.error());
  EXPECT_EQ(b->checksum_form, ChecksumForm::kWithoutPseudoHeader);
  EXPECT_EQ(b->advertisement, a->advertisement);
  // The pseudo-header form is bound to the source address.
  EXPECT_FALSE(DecodeAdvertisement(with, From("192.0.2.9")).ok());

  Advertisement adv;
  adv.vrid = 7;
  adv.priority = 200;
  adv.max_adver_interval = Centiseconds(4095);
  adv.addresses = {A("198.51.100.7")};
  EXPECT_EQ(EncodeAdvertisement(adv, A("192.0.2.1"), A("224.0.0.18"),
                                ChecksumForm::kWithPseudoHeader),
            with);
  EXPECT_EQ(EncodeAdvertisement(adv, A("192.0.2.1"), A("224.0.0.18"),
                                ChecksumForm::kWithoutPseudoHeader),
            without);
}

// §5.2.5 sets no minimum for Count IPvX Addr: an 8-byte VRRPv3 message with
// no address is well formed (the instance then counts an address-list
// error, §7.1).
TEST(HandWrittenBytes, V3WithZeroAddresses) {
  const Bytes v4 = Sealed({0x31, 51, 150, 0, 0x00, 100, 0, 0},
                          Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", 8));
  auto d4 = DecodeAdvertisement(v4, From("192.0.2.1"));
  ASSERT_TRUE(d4.ok()) << ToString(d4.error());
  EXPECT_TRUE(d4->advertisement.addresses.empty());
  EXPECT_EQ(d4->advertisement.priority, 150);
  const Bytes v6 = Sealed({0x31, 51, 150, 0, 0x00, 100, 0, 0},
                          Ipv6PseudoHeader("fe80::1", "ff02::12", 8));
  auto d6 = DecodeAdvertisement(v6, From("fe80::1"));
  ASSERT_TRUE(d6.ok()) << ToString(d6.error());
  EXPECT_TRUE(d6->advertisement.addresses.empty());

  Advertisement adv;
  adv.vrid = 51;
  adv.priority = 150;
  EXPECT_EQ(EncodeAdvertisement(adv, A("192.0.2.1"), A("224.0.0.18"),
                                ChecksumForm::kWithPseudoHeader),
            v4);
}

// RFC 3768 §5.3: version 2 / type 1, VRID, priority, count, Auth Type,
// Adver Int (seconds), checksum over the VRRP message only, addresses,
// 8 bytes of authentication data.
Bytes V2Message(uint8_t auth_type, const Bytes& auth_data) {
  return Sealed(Cat(
      {{0x21, 1, 100, 1, auth_type, 1, 0, 0}, {198, 51, 100, 10}, auth_data}));
}

TEST(HandWrittenBytes, V2EveryAuthType) {
  const Bytes zeros(8, 0);
  const Bytes secret = {'s', 'e', 'c', 'r', 'e', 't', 0, 0};
  struct Case {
    uint8_t type;
    Bytes data;
    AuthType want;
  };
  // §5.3.6: 0 no authentication, 1 simple text password, 2 IP
  // Authentication Header (removed from RFC 3768, decoded only so that it
  // can be counted as a mismatch).
  for (const Case& c : {Case{0, zeros, AuthType::kNone},
                        Case{1, secret, AuthType::kSimplePassword},
                        Case{2, zeros, AuthType::kIpAh}}) {
    const Bytes m = V2Message(c.type, c.data);
    ASSERT_EQ(m.size(), 20u);
    auto d = DecodeAdvertisement(m, From("192.0.2.1"));
    ASSERT_TRUE(d.ok()) << int(c.type) << ": " << ToString(d.error());
    const Advertisement& a = d->advertisement;
    EXPECT_EQ(a.version, Version::kV2);
    EXPECT_EQ(a.auth_type, c.want) << int(c.type);
    EXPECT_EQ(Bytes(a.auth_data.begin(), a.auth_data.end()), c.data);
    EXPECT_EQ(a.max_adver_interval, std::chrono::seconds(1));
    EXPECT_EQ(a.addresses, std::vector<IpAddress>{A("198.51.100.10")});
    EXPECT_EQ(d->checksum_form, ChecksumForm::kWithoutPseudoHeader);
    // And the encoder writes the same bytes back.
    EXPECT_EQ(EncodeAdvertisement(a, A("192.0.2.1"), A("224.0.0.18"),
                                  ChecksumForm::kWithPseudoHeader),
              m)
        << int(c.type);
  }
  // 3 and above are no auth type at all (vrrpStatsInvalidAuthType).
  for (uint8_t type : {3, 255}) {
    auto d = DecodeAdvertisement(V2Message(type, zeros), From("192.0.2.1"));
    ASSERT_FALSE(d.ok()) << int(type);
    EXPECT_EQ(d.error(), ReceiveError::kInvalidAuthType) << int(type);
  }
  // RFC 3768 §5.3.8: never a pseudo-header, whatever the form says.
  const Bytes pseudo =
      Sealed(Cat({{0x21, 1, 100, 1, 0, 1, 0, 0}, {198, 51, 100, 10}, zeros}),
             Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", 20));
  auto refused = DecodeAdvertisement(pseudo, From("192.0.2.1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), ReceiveError::kChecksum);
}

// Every boundary of the length checks: one byte short of, exactly, and one
// byte over each expected length, for each version and family, and CARP's
// 36 bytes against a VRRPv3 message that is 36 bytes too.
TEST(HandWrittenBytes, EveryLengthBoundary) {
  struct Case {
    const char* what;
    Bytes bytes;
    const char* source;
    bool ok;
    ReceiveError want = ReceiveError::kChecksum;  // unused when ok
  };
  const char* v4 = "192.0.2.1";
  const char* v6 = "fe80::1";
  auto v3 = [](uint8_t count, size_t size, const char* src) {
    Bytes m(size, 0);
    m[0] = 0x31;
    m[1] = 1;
    m[2] = 100;
    m[3] = count;
    m[5] = 100;
    const IpAddress s = A(src);
    const char* group = s.is_v4() ? "224.0.0.18" : "ff02::12";
    return Sealed(m, s.is_v4() ? Ipv4PseudoHeader(src, group, size)
                               : Ipv6PseudoHeader(src, group, size));
  };
  auto v2 = [](uint8_t count, size_t size) {
    Bytes m(size, 0);
    m[0] = 0x21;
    m[1] = 1;
    m[2] = 100;
    m[3] = count;
    m[5] = 1;
    return Sealed(m);
  };
  using E = ReceiveError;
  const std::vector<Case> cases = {
      {"empty", {}, v4, false, E::kTruncated},
      {"1 byte", {0x31}, v4, false, E::kTruncated},
      {"7 bytes, no address", v3(0, 7, v4), v4, false, E::kTruncated},
      {"8 bytes, no address", v3(0, 8, v4), v4, true},
      {"9 bytes, no address", v3(0, 9, v4), v4, false, E::kPacketLength},
      {"v3/v4 1 address, 11", v3(1, 11, v4), v4, false, E::kTruncated},
      {"v3/v4 1 address, 12", v3(1, 12, v4), v4, true},
      {"v3/v4 1 address, 13", v3(1, 13, v4), v4, false, E::kPacketLength},
      {"v3/v6 1 address, 23", v3(1, 23, v6), v6, false, E::kTruncated},
      {"v3/v6 1 address, 24", v3(1, 24, v6), v6, true},
      {"v3/v6 1 address, 25", v3(1, 25, v6), v6, false, E::kPacketLength},
      // The other family's size: the address list does not fit the IP
      // header's family.
      {"v3/v4 1 address, 24", v3(1, 24, v4), v4, false, E::kMixedFamilies},
      {"v3/v6 1 address, 12", v3(1, 12, v6), v6, false, E::kMixedFamilies},
      {"v3/v4 255 addresses, 1028", v3(255, 1028, v4), v4, true},
      {"v2 1 address, 19", v2(1, 19), v4, false, E::kTruncated},
      {"v2 1 address, 20", v2(1, 20), v4, true},
      {"v2 1 address, 21", v2(1, 21), v4, false, E::kPacketLength},
      {"v2 no address, 16", v2(0, 16), v4, true},
      // VRRPv2 is IPv4 only: an IPv6-sized list is a length error, not
      // another family.
      {"v2 1 address, 32", v2(1, 32), v4, false, E::kPacketLength},
      // CARP is 36 bytes with byte 3 (authlen) 7; VRRPv2 with 7 addresses
      // is 44.
      {"v2 36 bytes, byte 3 = 7", v2(7, 36), v4, false, E::kCarpShaped},
      {"v2 35 bytes, byte 3 = 7", v2(7, 35), v4, false, E::kTruncated},
      {"v2 37 bytes, byte 3 = 7", v2(7, 37), v4, false, E::kTruncated},
      {"v2 36 bytes, byte 3 = 6", v2(6, 36), v4, false, E::kTruncated},
      {"v2 36 bytes, byte 3 = 8", v2(8, 36), v4, false, E::kTruncated},
      {"v2 44 bytes, 7 addresses", v2(7, 44), v4, true},
      // VRRPv3 with 7 IPv4 addresses is 36 bytes too, and is no CARP.
      {"v3 36 bytes, 7 addresses", v3(7, 36, v4), v4, true},
  };
  for (const auto& c : cases) {
    auto d = DecodeAdvertisement(c.bytes, From(c.source));
    if (c.ok) {
      EXPECT_TRUE(d.ok()) << c.what << ": " << ToString(d.error());
      if (d.ok()) {
        EXPECT_EQ(d->advertisement.addresses.size(), c.bytes[3]) << c.what;
      }
    } else {
      ASSERT_FALSE(d.ok()) << c.what;
      EXPECT_EQ(d.error(), c.want) << c.what << ": got " << ToString(d.error());
    }
  }
}

// What the encoder does at the edges of its fields: Count IPvX Addr is 8
// bits (at most 255 addresses are listed), VRRPv3's Max Adver Int 12 bits
// (larger intervals are sent as 4095 cs and never spill into the reserved
// bits, §5.2.6-§5.2.7).
TEST(HandWrittenBytes, EncoderFieldLimits) {
  Advertisement adv;
  adv.vrid = 1;
  adv.priority = 100;
  for (int i = 0; i < 256; ++i) {
    adv.addresses.push_back(
        IpAddress::V4({198, 51, static_cast<uint8_t>(100 + i / 256),
                       static_cast<uint8_t>(i)}));
  }
  const IpAddress src = A("192.0.2.1"), dst = A("224.0.0.18");
  Bytes b = EncodeAdvertisement(adv, src, dst, ChecksumForm::kWithPseudoHeader);
  ASSERT_EQ(b.size(), 8u + 255 * 4);
  EXPECT_EQ(b[3], 255);
  EXPECT_EQ(Bytes(b.end() - 4, b.end()), (Bytes{198, 51, 100, 254}));
  adv.addresses.resize(255);
  EXPECT_EQ(EncodeAdvertisement(adv, src, dst, ChecksumForm::kWithPseudoHeader),
            b);

  adv.addresses.resize(1);
  for (int cs : {4095, 4096, 5000, 65535}) {
    adv.max_adver_interval = Centiseconds(cs);
    b = EncodeAdvertisement(adv, src, dst, ChecksumForm::kWithoutPseudoHeader);
    EXPECT_EQ(b[4], 0x0f) << cs;
    EXPECT_EQ(b[5], 0xff) << cs;
    EXPECT_EQ(b, Sealed(b)) << cs;  // and the checksum covers what was sent
  }
}

// RFC 791's header, as a raw IPv4 socket hands it over: the smallest header
// is 20 bytes (IHL 5), the payload starts at IHL * 4 and ends at the total
// length when that is shorter than what arrived.
TEST(HandWrittenBytes, Ipv4HeaderBoundaries) {
  const Bytes payload = {0x31, 1, 100, 0, 0, 100, 0, 0};
  auto datagram = [&](uint8_t version_ihl, size_t options, uint16_t total,
                      const Bytes& tail) {
    Bytes d = {version_ihl,
               0,
               static_cast<uint8_t>(total >> 8),
               static_cast<uint8_t>(total),
               0,
               0,
               0,
               0,
               255,
               112,
               0,
               0,
               192,
               0,
               2,
               1,
               224,
               0,
               0,
               18};
    d.insert(d.end(), options, 0x01);  // NOP options
    d.insert(d.end(), tail.begin(), tail.end());
    return d;
  };
  // The parsed payload is a view into the datagram: keep the one parsed
  // last alive while its result is looked at.
  Bytes last;
  auto parse = [&](Bytes d) {
    last = std::move(d);
    return ParseIpv4Datagram(last);
  };
  // Exactly 20 bytes of header and nothing else.
  auto r = parse(datagram(0x45, 0, 20, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->payload.empty());
  EXPECT_EQ(r->protocol, 112);
  EXPECT_EQ(r->info.ttl, 255);
  EXPECT_EQ(r->info.source, A("192.0.2.1"));
  EXPECT_EQ(r->info.destination, A("224.0.0.18"));
  // 19 bytes.
  Bytes short_header = datagram(0x45, 0, 20, {});
  short_header.pop_back();
  EXPECT_EQ(ParseIpv4Datagram(short_header).error(), ReceiveError::kTruncated);
  // Not IPv4.
  EXPECT_EQ(parse(datagram(0x65, 0, 28, payload)).error(),
            ReceiveError::kMixedFamilies);
  // IHL 4 (16 bytes) is below the minimum.
  EXPECT_EQ(parse(datagram(0x44, 0, 28, payload)).error(),
            ReceiveError::kTruncated);
  // IHL 6 (24 bytes) with 4 bytes of options: the payload starts after them.
  r = parse(datagram(0x46, 4, 32, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Bytes(r->payload.begin(), r->payload.end()), payload);
  // IHL 15 (60 bytes) with exactly 60 bytes: header only, accepted.
  r = parse(datagram(0x4f, 40, 60, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->payload.empty());
  // IHL 15 with 59 bytes: the header does not fit.
  Bytes cut = datagram(0x4f, 40, 60, {});
  cut.pop_back();
  EXPECT_EQ(ParseIpv4Datagram(cut).error(), ReceiveError::kTruncated);
  // Total length shorter than what arrived: trailing bytes are not payload.
  r = parse(datagram(0x45, 0, 27, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 7u);
  // Total length longer than what arrived: what arrived.
  r = parse(datagram(0x45, 0, 1000, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 8u);
  // Total length exactly the header: no payload.
  r = parse(datagram(0x45, 0, 20, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->payload.empty());
  // A total length below the header length is nonsense: what arrived.
  r = parse(datagram(0x45, 0, 0, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 8u);
  r = parse(datagram(0x45, 0, 19, payload));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 8u);
}

// §7.1's order on hand-written bytes: a bad TTL wins over everything, then
// the version, then the length, then the checksum, then the type.
TEST(HandWrittenBytes, ChecksInTheOrderOfSection71) {
  Bytes type2 = {0x32, 1, 100, 0, 0, 100, 0, 0};
  type2 = Sealed(type2, Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", 8));
  EXPECT_EQ(DecodeAdvertisement(type2, From("192.0.2.1")).error(),
            ReceiveError::kInvalidType);
  Bytes bad_sum = type2;
  bad_sum[7] ^= 0xff;
  EXPECT_EQ(DecodeAdvertisement(bad_sum, From("192.0.2.1")).error(),
            ReceiveError::kChecksum);
  Bytes long_bad = bad_sum;
  long_bad.push_back(0);
  EXPECT_EQ(DecodeAdvertisement(long_bad, From("192.0.2.1")).error(),
            ReceiveError::kPacketLength);
  Bytes v1 = long_bad;
  v1[0] = 0x11;
  EXPECT_EQ(DecodeAdvertisement(v1, From("192.0.2.1")).error(),
            ReceiveError::kVersion);
  DatagramInfo ttl = From("192.0.2.1");
  ttl.ttl = 254;
  EXPECT_EQ(DecodeAdvertisement(v1, ttl).error(), ReceiveError::kIpTtl);
  // TTL 255 is the only one accepted from the group; unicast is the
  // instance's to check.
  Bytes ok = Sealed({0x31, 1, 100, 0, 0, 100, 0, 0},
                    Ipv4PseudoHeader("192.0.2.1", "224.0.0.18", 8));
  EXPECT_EQ(DecodeAdvertisement(ok, ttl).error(), ReceiveError::kIpTtl);
  ttl.ttl = 0;
  EXPECT_EQ(DecodeAdvertisement(ok, ttl).error(), ReceiveError::kIpTtl);
  Bytes unicast = Sealed({0x31, 1, 100, 0, 0, 100, 0, 0},
                         Ipv4PseudoHeader("192.0.2.1", "192.0.2.2", 8));
  DatagramInfo to_us = From("192.0.2.1", "192.0.2.2");
  to_us.ttl = 64;
  auto d = DecodeAdvertisement(unicast, to_us);
  ASSERT_TRUE(d.ok()) << ToString(d.error());
  EXPECT_EQ(d->ttl, 64);
}

}  // namespace
}  // namespace vrrp
