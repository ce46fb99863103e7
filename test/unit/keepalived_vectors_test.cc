// Known-answer tests against advertisements captured from Debian's
// keepalived 2.2.7 (test/vectors/README.md says how). Each one must decode
// to the fields Keepalived was configured with, and our encoder must
// reproduce Keepalived's bytes exactly, checksum included.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "vrrp/packet.h"

namespace vrrp {
namespace {

struct Vector {
  std::map<std::string, std::string> f;
  std::vector<uint8_t> payload;
};

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<Vector> LoadVectors() {
  std::ifstream in(std::string(VRRP_SOURCE_DIR) +
                   "/test/vectors/keepalived_2.2.7.txt");
  std::vector<Vector> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Vector v;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      auto eq = w.find('=');
      v.f[w.substr(0, eq)] = w.substr(eq + 1);
    }
    v.payload = FromHex(v.f["payload"]);
    out.push_back(v);
  }
  return out;
}

std::string Join(const std::vector<IpAddress>& a) {
  std::string s;
  for (const auto& x : a) s += (s.empty() ? "" : ",") + x.ToString();
  return s;
}

TEST(KeepalivedVectors, CoverEveryKind) {
  auto vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 10u);
  std::set<std::string> kinds;
  for (auto& v : vectors)
    kinds.insert(v.f["version"] + v.f["family"] + v.f["auth"].substr(0, 4));
  EXPECT_TRUE(kinds.count("2ipv4pass"));
  EXPECT_TRUE(kinds.count("3ipv4none"));
  EXPECT_TRUE(kinds.count("3ipv6none"));
}

TEST(KeepalivedVectors, DecodeToTheConfiguredFieldsAndReencodeByteExact) {
  for (auto& v : LoadVectors()) {
    SCOPED_TRACE(v.f["name"]);
    DatagramInfo info{*IpAddress::Parse(v.f["src"]),
                      *IpAddress::Parse(v.f["dst"]),
                      static_cast<uint8_t>(std::stoi(v.f["ttl"]))};
    auto d = DecodeAdvertisement(v.payload, info);
    ASSERT_TRUE(d.ok()) << ToString(d.error());
    const Advertisement& a = d->advertisement;
    EXPECT_EQ(std::string(ToString(a.version)), v.f["version"]);
    EXPECT_EQ(std::to_string(a.vrid), v.f["vrid"]);
    EXPECT_EQ(std::to_string(a.priority), v.f["priority"]);
    EXPECT_EQ(std::to_string(a.max_adver_interval.count()), v.f["interval_cs"]);
    EXPECT_EQ(Join(a.addresses), v.f["addrs"]);
    const std::string& auth = v.f["auth"];
    if (auth.rfind("pass:", 0) == 0) {
      EXPECT_EQ(a.auth_type, AuthType::kSimplePassword);
      std::string pw(a.auth_data.begin(), a.auth_data.end());
      pw.resize(pw.find('\0') == std::string::npos ? pw.size() : pw.find('\0'));
      EXPECT_EQ(pw, auth.substr(5));
    } else if (a.version == Version::kV2) {
      EXPECT_EQ(a.auth_type, AuthType::kNone);
    }
    if (v.f["checksum"] != "v2") {
      EXPECT_EQ(std::string(ToString(d->checksum_form)), v.f["checksum"]);
    }
    auto again =
        EncodeAdvertisement(a, info.source, info.destination, d->checksum_form);
    EXPECT_EQ(again, v.payload);
  }
}

TEST(KeepalivedVectors, AnyFlippedBitIsRejected) {
  // Every single-bit corruption of a real advertisement must be refused by
  // the checksum or a field check: never silently accepted as different.
  for (auto& v : LoadVectors()) {
    DatagramInfo info{*IpAddress::Parse(v.f["src"]),
                      *IpAddress::Parse(v.f["dst"]), 255};
    for (size_t bit = 0; bit < v.payload.size() * 8; ++bit) {
      auto b = v.payload;
      b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      auto d = DecodeAdvertisement(b, info);
      if (d.ok()) {
        // Only the VRRPv3 reserved bits may change without effect... but
        // they are covered by the checksum too, so nothing may pass.
        ADD_FAILURE() << v.f["name"] << " bit " << bit << " accepted";
      }
    }
  }
}

}  // namespace
}  // namespace vrrp
