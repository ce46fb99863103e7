#include "vrrp/packet.h"

#include <algorithm>

namespace vrrp {

namespace {

constexpr size_t kHeaderSize = 8;    // §5.2: fields before the addresses
constexpr size_t kV2AuthSize = 8;    // RFC 3768 §5.3.10
constexpr size_t kCarpSize = 36;     // OpenBSD carp_header
constexpr uint8_t kCarpAuthLen = 7;  // carp_authlen: always 7 (in 32-bit words)
constexpr uint8_t kTypeAdvertisement = 1;
constexpr uint16_t kV3IntervalMask = 0x0fff;  // 4 reserved bits (§5.2.6)

size_t ExpectedLength(Version version, uint8_t count, Family family) {
  size_t n = kHeaderSize + count * AddressSize(family);
  if (version == Version::kV2) n += kV2AuthSize;
  return n;
}

Family Other(Family f) {
  return f == Family::kIpv4 ? Family::kIpv6 : Family::kIpv4;
}

// Builds the pseudo-header of RFC 8200 §8.1 (IPv6) or RFC 768 (IPv4, which
// sums to the same value as the IPv6 layout filled with IPv4 addresses).
size_t PseudoHeader(const IpAddress& src, const IpAddress& dst, size_t length,
                    std::array<uint8_t, 40>& out) {
  size_t n = 0;
  for (uint8_t b : src.bytes()) out[n++] = b;
  for (uint8_t b : dst.bytes()) out[n++] = b;
  if (src.is_v4()) {
    out[n++] = 0;
    out[n++] = kIpProtocolVrrp;
    out[n++] = static_cast<uint8_t>(length >> 8);
    out[n++] = static_cast<uint8_t>(length);
  } else {
    out[n++] = static_cast<uint8_t>(length >> 24);
    out[n++] = static_cast<uint8_t>(length >> 16);
    out[n++] = static_cast<uint8_t>(length >> 8);
    out[n++] = static_cast<uint8_t>(length);
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = kIpProtocolVrrp;
  }
  return n;
}

// True when the checksum over `message` (with or without the pseudo-header)
// verifies: the one's complement sum including the checksum field is 0xffff.
bool ChecksumVerifies(std::span<const uint8_t> message,
                      const DatagramInfo& info, bool with_pseudo_header) {
  if (!with_pseudo_header) {
    const std::span<const uint8_t> parts[] = {message};
    return InternetChecksum(parts) == 0;
  }
  std::array<uint8_t, 40> pseudo{};
  size_t n =
      PseudoHeader(info.source, info.destination, message.size(), pseudo);
  const std::span<const uint8_t> parts[] = {{pseudo.data(), n}, message};
  return InternetChecksum(parts) == 0;
}

}  // namespace

std::string_view ToString(Version version) {
  return version == Version::kV2 ? "2" : "3";
}

std::string_view ToString(AuthType type) {
  switch (type) {
    case AuthType::kNone:
      return "none";
    case AuthType::kSimplePassword:
      return "pass";
    case AuthType::kIpAh:
      return "ah";
  }
  return "unknown";
}

std::string_view ToString(ChecksumForm form) {
  return form == ChecksumForm::kWithPseudoHeader ? "with-pseudo-header"
                                                 : "without-pseudo-header";
}

std::string_view ToString(ReceiveError error) {
  switch (error) {
    case ReceiveError::kIpTtl:
      return "ip-ttl";
    case ReceiveError::kVersion:
      return "version";
    case ReceiveError::kInvalidType:
      return "invalid-type";
    case ReceiveError::kPacketLength:
      return "packet-length";
    case ReceiveError::kTruncated:
      return "truncated";
    case ReceiveError::kChecksum:
      return "checksum";
    case ReceiveError::kCarpShaped:
      return "carp";
    case ReceiveError::kMixedFamilies:
      return "mixed-families";
    case ReceiveError::kInvalidAuthType:
      return "invalid-auth-type";
    case ReceiveError::kVrId:
      return "vrid";
    case ReceiveError::kAdvInterval:
      return "advert-interval";
    case ReceiveError::kAddressList:
      return "address-list";
    case ReceiveError::kAuthTypeMismatch:
      return "auth-type-mismatch";
    case ReceiveError::kAuthFailure:
      return "auth-failure";
    case ReceiveError::kVersionMismatch:
      return "version-mismatch";
    case ReceiveError::kOwnerReceived:
      return "owner-received";
    case ReceiveError::kUnicastPeer:
      return "unicast-peer";
  }
  return "unknown";
}

std::string_view MibCounter(ReceiveError error) {
  switch (error) {
    case ReceiveError::kIpTtl:
      return "vrrpv3StatisticsIpTtlErrors";
    case ReceiveError::kVersion:
      return "vrrpv3StatisticsVersionErrors";
    case ReceiveError::kInvalidType:
      return "vrrpv3StatisticsRcvdInvalidTypePackets";
    case ReceiveError::kPacketLength:
    case ReceiveError::kTruncated:
      return "vrrpv3StatisticsPacketLengthErrors";
    case ReceiveError::kChecksum:
      return "vrrpv3StatisticsChecksumErrors";
    case ReceiveError::kInvalidAuthType:
      return "vrrpStatsInvalidAuthType";
    case ReceiveError::kVrId:
      return "vrrpv3StatisticsVrIdErrors";
    case ReceiveError::kAdvInterval:
      return "vrrpv3StatisticsAdvIntervalErrors";
    case ReceiveError::kAddressList:
      return "vrrpv3StatisticsAddressListErrors";
    case ReceiveError::kAuthTypeMismatch:
      return "vrrpStatsAuthTypeMismatch";
    case ReceiveError::kAuthFailure:
      return "vrrpStatsAuthFailures";
    case ReceiveError::kCarpShaped:
    case ReceiveError::kMixedFamilies:
    case ReceiveError::kVersionMismatch:
    case ReceiveError::kOwnerReceived:
    case ReceiveError::kUnicastPeer:
      return "";
  }
  return "";
}

uint16_t InternetChecksum(std::span<const std::span<const uint8_t>> parts) {
  // RFC 1071: one's complement sum of 16-bit words over the concatenation.
  uint32_t sum = 0;
  bool high = true;  // next byte is the high half of a word
  for (const auto& part : parts) {
    for (uint8_t b : part) {
      sum += high ? static_cast<uint32_t>(b) << 8 : b;
      high = !high;
    }
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

IpAddress VrrpMulticastGroup(Family family) {
  if (family == Family::kIpv4) return IpAddress::V4({224, 0, 0, 18});
  return IpAddress::V6(
      {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12});
}

Result<DecodedAdvertisement, ReceiveError> DecodeAdvertisement(
    std::span<const uint8_t> m, const DatagramInfo& info) {
  // §7.1 order: TTL, version, completeness, checksum; then type (§5.2.2).
  // Unicast (a Keepalived-style extension the RFC does not define) is left
  // to the instance: a listed peer may be routed, and Keepalived 2.2.7
  // sends IPv6 unicast with a hop limit of 64 unless told unicast_ttl 255.
  if (info.ttl != kVrrpTtl &&
      info.destination == VrrpMulticastGroup(info.source.family())) {
    return Err(ReceiveError::kIpTtl);
  }
  if (m.empty()) return Err(ReceiveError::kTruncated);
  const uint8_t version_bits = m[0] >> 4;
  if (version_bits != 2 && version_bits != 3)
    return Err(ReceiveError::kVersion);
  const Version version = static_cast<Version>(version_bits);
  const Family family = info.source.family();
  if (version == Version::kV2 && family == Family::kIpv6) {
    return Err(ReceiveError::kMixedFamilies);  // RFC 3768 is IPv4-only
  }
  // CARP shares protocol 112, the group 224.0.0.18 and version 2, type 1.
  // Its header is a fixed 36 bytes whose byte 3, authlen, is always 7 where
  // VRRPv2 has the address count: a VRRPv2 packet with 7 addresses would be
  // 44 bytes, so the pair (36 bytes, byte 3 == 7) is CARP (VRRP-NOTES.md).
  if (version == Version::kV2 && m.size() == kCarpSize &&
      m[3] == kCarpAuthLen) {
    return Err(ReceiveError::kCarpShaped);
  }
  if (m.size() < kHeaderSize) return Err(ReceiveError::kTruncated);
  const uint8_t count = m[3];
  const size_t expected = ExpectedLength(version, count, family);
  if (m.size() != expected) {
    if (version == Version::kV3 &&
        m.size() == ExpectedLength(version, count, Other(family))) {
      return Err(ReceiveError::kMixedFamilies);
    }
    return Err(m.size() < expected ? ReceiveError::kTruncated
                                   : ReceiveError::kPacketLength);
  }

  DecodedAdvertisement out;
  out.ttl = info.ttl;
  if (version == Version::kV2) {
    // RFC 3768 §5.3.8: over the VRRP message only.
    if (!ChecksumVerifies(m, info, false)) return Err(ReceiveError::kChecksum);
    out.checksum_form = ChecksumForm::kWithoutPseudoHeader;
  } else if (ChecksumVerifies(m, info, true)) {
    out.checksum_form = ChecksumForm::kWithPseudoHeader;
  } else if (family == Family::kIpv4 && ChecksumVerifies(m, info, false)) {
    // RFC 9568 / Cisco / Juniper / Keepalived's v3_checksum_as_v2.
    out.checksum_form = ChecksumForm::kWithoutPseudoHeader;
  } else {
    return Err(ReceiveError::kChecksum);
  }
  if ((m[0] & 0x0f) != kTypeAdvertisement) {
    return Err(ReceiveError::kInvalidType);
  }

  Advertisement& adv = out.advertisement;
  adv.version = version;
  adv.vrid = m[1];
  adv.priority = m[2];
  if (version == Version::kV2) {
    if (m[4] > static_cast<uint8_t>(AuthType::kIpAh)) {
      return Err(ReceiveError::kInvalidAuthType);
    }
    adv.auth_type = static_cast<AuthType>(m[4]);
    adv.max_adver_interval = std::chrono::seconds(m[5]);
    std::copy_n(m.end() - kV2AuthSize, kV2AuthSize, adv.auth_data.begin());
  } else {
    adv.max_adver_interval =
        Centiseconds(((m[4] << 8) | m[5]) & kV3IntervalMask);
  }
  const size_t asz = AddressSize(family);
  adv.addresses.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    adv.addresses.push_back(
        IpAddress::FromBytes(family, m.subspan(kHeaderSize + i * asz, asz)));
  }
  return out;
}

std::vector<uint8_t> EncodeAdvertisement(const Advertisement& adv,
                                         const IpAddress& source,
                                         const IpAddress& destination,
                                         ChecksumForm form) {
  std::vector<uint8_t> m;
  EncodeAdvertisementInto(adv, source, destination, form, m);
  return m;
}

void EncodeAdvertisementInto(const Advertisement& adv, const IpAddress& source,
                             const IpAddress& destination, ChecksumForm form,
                             std::vector<uint8_t>& m) {
  const Family family = source.family();
  const auto count =
      static_cast<uint8_t>(std::min<size_t>(adv.addresses.size(), 255));
  // assign(), not resize(): every byte is rewritten, whatever was there.
  m.assign(ExpectedLength(adv.version, count, family), 0);
  m[0] = static_cast<uint8_t>((static_cast<uint8_t>(adv.version) << 4) |
                              kTypeAdvertisement);
  m[1] = adv.vrid;
  m[2] = adv.priority;
  m[3] = count;
  if (adv.version == Version::kV2) {
    m[4] = static_cast<uint8_t>(adv.auth_type);
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(adv.max_adver_interval)
            .count();
    // Not clamped to 1: the encoder says back exactly what it was given
    // (a peer's 0 included); configuration validation keeps ours >= 1 s.
    m[5] = static_cast<uint8_t>(std::clamp<int64_t>(secs, 0, 255));
  } else {
    const auto cs =
        std::clamp<int64_t>(adv.max_adver_interval.count(), 0, kV3IntervalMask);
    m[4] = static_cast<uint8_t>(cs >> 8);  // reserved bits stay 0 (§5.2.6)
    m[5] = static_cast<uint8_t>(cs);
  }
  const size_t asz = AddressSize(family);
  for (size_t i = 0; i < count; ++i) {
    auto b = adv.addresses[i].bytes();
    std::copy_n(b.begin(), std::min(asz, b.size()),
                m.begin() + static_cast<ptrdiff_t>(kHeaderSize + i * asz));
  }
  if (adv.version == Version::kV2) {
    std::copy(adv.auth_data.begin(), adv.auth_data.end(),
              m.end() - kV2AuthSize);
  }
  const bool pseudo =
      adv.version == Version::kV3 &&
      (family == Family::kIpv6 || form == ChecksumForm::kWithPseudoHeader);
  uint16_t sum;
  if (pseudo) {
    std::array<uint8_t, 40> ph{};
    size_t n = PseudoHeader(source, destination, m.size(), ph);
    const std::span<const uint8_t> parts[] = {{ph.data(), n}, m};
    sum = InternetChecksum(parts);
  } else {
    const std::span<const uint8_t> parts[] = {m};
    sum = InternetChecksum(parts);
  }
  m[6] = static_cast<uint8_t>(sum >> 8);
  m[7] = static_cast<uint8_t>(sum);
}

Result<Ipv4Datagram, ReceiveError> ParseIpv4Datagram(
    std::span<const uint8_t> b) {
  if (b.size() < 20) return Err(ReceiveError::kTruncated);
  if ((b[0] >> 4) != 4) return Err(ReceiveError::kMixedFamilies);
  const size_t ihl = static_cast<size_t>(b[0] & 0x0f) * 4;
  const size_t total = (static_cast<size_t>(b[2]) << 8) | b[3];
  if (ihl < 20 || ihl > b.size()) return Err(ReceiveError::kTruncated);
  // Trust the smaller of the header's total length and what arrived.
  const size_t end = total >= ihl ? std::min(total, b.size()) : b.size();
  Ipv4Datagram d;
  d.info.ttl = b[8];
  d.protocol = b[9];
  d.info.source = IpAddress::FromBytes(Family::kIpv4, b.subspan(12, 4));
  d.info.destination = IpAddress::FromBytes(Family::kIpv4, b.subspan(16, 4));
  d.payload = b.subspan(ihl, end - ihl);
  return d;
}

}  // namespace vrrp
