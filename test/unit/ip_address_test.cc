#include "vrrp/ip_address.h"

#include <gtest/gtest.h>

namespace vrrp {
namespace {

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  auto v4 = IpAddress::Parse("198.51.100.10");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family(), Family::kIpv4);
  EXPECT_EQ(v4->ToString(), "198.51.100.10");
  EXPECT_EQ(v4->size(), 4u);
  auto v6 = IpAddress::Parse("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family(), Family::kIpv6);
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
  EXPECT_FALSE(v6->is_ipv6_link_local());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->is_ipv6_link_local());
  EXPECT_TRUE(IpAddress::Parse("224.0.0.18")->is_multicast());
}

TEST(IpAddress, SamePrefixComparesTheLeadingBits) {
  const auto a = *IpAddress::Parse("192.0.2.11");
  EXPECT_TRUE(SamePrefix(a, *IpAddress::Parse("192.0.2.200"), 24));
  EXPECT_FALSE(SamePrefix(a, *IpAddress::Parse("192.0.3.11"), 24));
  EXPECT_TRUE(SamePrefix(a, *IpAddress::Parse("192.0.3.11"), 23));
  EXPECT_FALSE(SamePrefix(a, *IpAddress::Parse("192.0.2.12"), 32));
  EXPECT_TRUE(SamePrefix(a, *IpAddress::Parse("203.0.113.1"), 0));
  const auto b = *IpAddress::Parse("2001:db8::12");
  EXPECT_TRUE(SamePrefix(b, *IpAddress::Parse("2001:db8::200"), 64));
  EXPECT_FALSE(SamePrefix(b, *IpAddress::Parse("2001:db8:1::12"), 64));
  EXPECT_FALSE(SamePrefix(a, b, 0));  // families differ
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.256", "198.51.100.10 ", "::g", "2001:db8::1::2",
        "a very long string that is no ip "
        "address at all, not even close"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddress, OrdersAsUnsignedBigEndian) {
  // §6.4.3 tie-break: 192.0.2.10 > 192.0.2.9 numerically.
  EXPECT_LT(*IpAddress::Parse("192.0.2.9"), *IpAddress::Parse("192.0.2.10"));
  EXPECT_LT(*IpAddress::Parse("192.0.2.200"), *IpAddress::Parse("203.0.113.1"));
  EXPECT_LT(*IpAddress::Parse("fe80::2"), *IpAddress::Parse("fe80::10"));
}

// RFC 4291 §2.5.6: link-local is fe80::/10, so febf:: is and fec0:: (the
// deprecated site-local prefix) is not.
TEST(IpAddress, LinkLocalIsFe80Slash10) {
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->is_ipv6_link_local());
  EXPECT_TRUE(IpAddress::Parse("febf:ffff::1")->is_ipv6_link_local());
  EXPECT_FALSE(IpAddress::Parse("fec0::1")->is_ipv6_link_local());
  EXPECT_FALSE(IpAddress::Parse("fe00::1")->is_ipv6_link_local());
  EXPECT_FALSE(IpAddress::Parse("2001:db8::1")->is_ipv6_link_local());
  EXPECT_FALSE(IpAddress::Parse("254.128.0.1")->is_ipv6_link_local());
}

TEST(IpPrefix, ParsesLengthOrDefaultsToHost) {
  auto p = IpPrefix::Parse("198.51.100.10/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->prefix_length, 24);
  EXPECT_EQ(p->ToString(), "198.51.100.10/24");
  EXPECT_EQ(IpPrefix::Parse("198.51.100.10")->prefix_length, 32);
  EXPECT_EQ(IpPrefix::Parse("2001:db8::1")->prefix_length, 128);
  EXPECT_FALSE(IpPrefix::Parse("198.51.100.10/33"));
  EXPECT_FALSE(IpPrefix::Parse("198.51.100.10/"));
  EXPECT_FALSE(IpPrefix::Parse("198.51.100.10/2x"));
  EXPECT_FALSE(IpPrefix::Parse("2001:db8::1/129"));
}

}  // namespace
}  // namespace vrrp
