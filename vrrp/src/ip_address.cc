#include "vrrp/ip_address.h"

#include <arpa/inet.h>  // inet_pton/inet_ntop: POSIX text conversion only

#include <algorithm>
#include <charconv>
#include <cstring>

namespace vrrp {

std::string_view ToString(Family family) {
  return family == Family::kIpv4 ? "ipv4" : "ipv6";
}

size_t AddressSize(Family family) { return family == Family::kIpv4 ? 4 : 16; }

IpAddress IpAddress::V4(std::array<uint8_t, 4> bytes) {
  IpAddress a;
  a.family_ = Family::kIpv4;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

IpAddress IpAddress::V6(std::array<uint8_t, 16> bytes) {
  IpAddress a;
  a.family_ = Family::kIpv6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::FromBytes(Family family, std::span<const uint8_t> bytes) {
  IpAddress a;
  a.family_ = family;
  std::copy_n(bytes.begin(), std::min(bytes.size(), AddressSize(family)),
              a.bytes_.begin());
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; 46 bytes is INET6_ADDRSTRLEN.
  if (text.empty() || text.size() >= 46) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    a.family_ = Family::kIpv4;
    if (inet_pton(AF_INET, buf, a.bytes_.data()) != 1) return std::nullopt;
  } else {
    a.family_ = Family::kIpv6;
    if (inet_pton(AF_INET6, buf, a.bytes_.data()) != 1) return std::nullopt;
  }
  return a;
}

bool IpAddress::is_unspecified() const {
  auto b = bytes();
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

bool IpAddress::is_ipv6_link_local() const {
  return !is_v4() && bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_multicast() const {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

std::string IpAddress::ToString() const {
  char buf[46];
  const char* r =
      inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return r ? std::string(r) : std::string("?");
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  IpPrefix p;
  auto slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  p.address = *addr;
  const int max_len = addr->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) {
    p.prefix_length = static_cast<uint8_t>(max_len);
    return p;
  }
  auto len_text = text.substr(slash + 1);
  int len = -1;
  auto [end, ec] =
      std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || end != len_text.data() + len_text.size() ||
      len < 0 || len > max_len) {
    return std::nullopt;
  }
  p.prefix_length = static_cast<uint8_t>(len);
  return p;
}

std::string IpPrefix::ToString() const {
  return address.ToString() + "/" + std::to_string(prefix_length);
}

bool SamePrefix(const IpAddress& a, const IpAddress& b, uint8_t length) {
  if (a.family() != b.family()) return false;
  const auto x = a.bytes();
  const auto y = b.bytes();
  const size_t bits = std::min<size_t>(length, x.size() * 8);
  for (size_t i = 0; i < bits / 8; ++i) {
    if (x[i] != y[i]) return false;
  }
  if (const size_t rest = bits % 8; rest != 0) {
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    if ((x[bits / 8] & mask) != (y[bits / 8] & mask)) return false;
  }
  return true;
}

}  // namespace vrrp
