#pragma once

// The VRRP packet codec: pure functions from bytes to advertisements and back.
// No I/O and no Linux headers, so it runs unchanged under the fuzzer.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vrrp/ip_address.h"
#include "vrrp/result.h"
#include "vrrp/time.h"

namespace vrrp {

inline constexpr uint8_t kIpProtocolVrrp = 112;
inline constexpr uint8_t kVrrpTtl = 255;  // §5.1.1.3, §5.1.2.3

enum class Version : uint8_t { kV2 = 2, kV3 = 3 };

// RFC 3768 §5.3.6 (VRRPv2 only). AH (2) was removed from the RFC; we decode it
// only far enough to count it as a type we do not support.
enum class AuthType : uint8_t { kNone = 0, kSimplePassword = 1, kIpAh = 2 };

// Which bytes the VRRPv3 checksum covers over IPv4 (VRRP-NOTES.md, "Checksum
// trap"): RFC 5798 §5.2.8 and Keepalived include a pseudo-header; Cisco,
// Juniper and RFC 9568 do not. IPv6 always includes it; VRRPv2 never does.
enum class ChecksumForm : uint8_t { kWithPseudoHeader, kWithoutPseudoHeader };

std::string_view ToString(Version version);
std::string_view ToString(AuthType type);
std::string_view ToString(ChecksumForm form);

// One VRRP advertisement, version-independent. For VRRPv2 the interval is
// whole seconds (RFC 3768 §5.3.7) held in centiseconds.
struct Advertisement {
  Version version = Version::kV3;
  uint8_t vrid = 0;
  uint8_t priority = 0;
  Centiseconds max_adver_interval{100};
  std::vector<IpAddress> addresses;
  // VRRPv2 only.
  AuthType auth_type = AuthType::kNone;
  std::array<uint8_t, 8> auth_data{};

  bool operator==(const Advertisement&) const = default;
};

// Why a received datagram was dropped. Each value maps onto one counter of
// the VRRPv3-MIB (RFC 6527) or VRRP-MIB (RFC 2787), or is one of our own
// extensions; MibCounter() names it. Packet-level reasons come from
// DecodeAdvertisement; instance-level ones from Instance::OnAdvertisement.
enum class ReceiveError : uint8_t {
  // Packet level (§7.1 checks that need no configuration).
  kIpTtl,          // vrrpv3StatisticsIpTtlErrors
  kVersion,        // vrrpv3StatisticsVersionErrors (global)
  kInvalidType,    // vrrpv3StatisticsRcvdInvalidTypePackets
  kPacketLength,   // vrrpv3StatisticsPacketLengthErrors
  kTruncated,      // extension: shorter than a header; also PacketLengthErrors
  kChecksum,       // vrrpv3StatisticsChecksumErrors (global)
  kCarpShaped,     // extension: CARP (UCarp/OpenBSD) uses protocol 112 too
  kMixedFamilies,  // extension: addresses of the other family, or v2 on IPv6
  kInvalidAuthType,  // vrrpStatsInvalidAuthType (RFC 2787)
  // Instance level (need the configuration of the receiving virtual router).
  kVrId,              // vrrpv3StatisticsVrIdErrors (global): no such VRID here
  kAdvInterval,       // vrrpv3StatisticsAdvIntervalErrors
  kAddressList,       // vrrpv3StatisticsAddressListErrors
  kAuthTypeMismatch,  // vrrpStatsAuthTypeMismatch (RFC 2787)
  kAuthFailure,       // vrrpStatsAuthFailures (RFC 2787)
  kVersionMismatch,   // extension: other VRRP version than this instance's
  kOwnerReceived,     // extension: we own the addresses (priority 255), §7.1
  kUnicastPeer,       // extension: unicast mode, source is not a listed peer
};
inline constexpr size_t kReceiveErrorCount = 17;

std::string_view ToString(ReceiveError error);
// The MIB object the error is counted under, or "" for our own extensions.
std::string_view MibCounter(ReceiveError error);

// What the IP layer tells us about a received VRRP message.
struct DatagramInfo {
  IpAddress source;
  IpAddress destination;
  uint8_t ttl = kVrrpTtl;  // TTL (IPv4) or Hop Limit (IPv6)
};

struct DecodedAdvertisement {
  Advertisement advertisement;
  // For VRRPv3 over IPv4, the form whose checksum matched; kWithPseudoHeader
  // for IPv6, kWithoutPseudoHeader for VRRPv2.
  ChecksumForm checksum_form = ChecksumForm::kWithPseudoHeader;
  // The TTL / Hop Limit it came with. Always 255 for the multicast group
  // (refused otherwise); a unicast one's is checked by the instance, which
  // knows whether the sender is a listed unicast peer.
  uint8_t ttl = kVrrpTtl;
};

// Decodes a VRRP message (the IP payload). The family of info.source decides
// the address size. Every check of §7.1 that needs no configuration is done
// here, in the RFC's order: TTL, version, length, checksum, type.
Result<DecodedAdvertisement, ReceiveError> DecodeAdvertisement(
    std::span<const uint8_t> message, const DatagramInfo& info);

// Encodes an advertisement with its checksum. `form` matters only for
// VRRPv3 over IPv4. The addresses must all be of the family of `source`.
std::vector<uint8_t> EncodeAdvertisement(const Advertisement& advertisement,
                                         const IpAddress& source,
                                         const IpAddress& destination,
                                         ChecksumForm form);
// The same into `out`, replacing its contents and reusing its capacity: the
// speaker's send path, so that a master does not allocate per advertisement
// (20 000 a second with 200 instances at 10 ms).
void EncodeAdvertisementInto(const Advertisement& advertisement,
                             const IpAddress& source,
                             const IpAddress& destination, ChecksumForm form,
                             std::vector<uint8_t>& out);

// An IPv4 datagram as a raw IPv4 socket delivers it (header included).
struct Ipv4Datagram {
  DatagramInfo info;
  std::span<const uint8_t> payload;
  uint8_t protocol = 0;
};
Result<Ipv4Datagram, ReceiveError> ParseIpv4Datagram(
    std::span<const uint8_t> bytes);

// RFC 1071 Internet checksum over `parts`, concatenated.
uint16_t InternetChecksum(std::span<const std::span<const uint8_t>> parts);

// The multicast group of §5.1.1.2 / §5.1.2.2.
IpAddress VrrpMulticastGroup(Family family);

}  // namespace vrrp
