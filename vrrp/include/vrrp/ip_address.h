#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vrrp {

enum class Family : uint8_t { kIpv4, kIpv6 };

std::string_view ToString(Family family);

// An IPv4 or IPv6 address as raw network-order bytes. Ordering compares the
// family first, then the bytes as an unsigned big-endian number, which is the
// comparison RFC 5798 §6.4.3 uses for the primary-address tie-break.
class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress V4(std::array<uint8_t, 4> bytes);
  static IpAddress V6(std::array<uint8_t, 16> bytes);
  // Accepts dotted quad or RFC 4291 text; nullopt for anything else.
  static std::optional<IpAddress> Parse(std::string_view text);
  // Reads 4 or 16 bytes (by family) from the front of `bytes`.
  static IpAddress FromBytes(Family family, std::span<const uint8_t> bytes);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kIpv4; }
  size_t size() const { return is_v4() ? 4 : 16; }
  std::span<const uint8_t> bytes() const { return {bytes_.data(), size()}; }
  bool is_unspecified() const;
  bool is_ipv6_link_local() const;
  bool is_multicast() const;
  std::string ToString() const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::kIpv4;
  std::array<uint8_t, 16> bytes_{};
};

size_t AddressSize(Family family);

// An address with its prefix length, as configured on an interface.
struct IpPrefix {
  IpAddress address;
  uint8_t prefix_length = 0;

  // "198.51.100.10/24", "2001:db8::1/64"; without "/len" the host length.
  static std::optional<IpPrefix> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const IpPrefix&) const = default;
};

// Whether `a` and `b` are of one family and agree on their first `length`
// bits.
bool SamePrefix(const IpAddress& a, const IpAddress& b, uint8_t length);

}  // namespace vrrp
