#include "snmp/module.h"

#include <gtest/gtest.h>

#include "snmp/oid.h"

namespace vrrp::snmp {
namespace {

TEST(Modules, ParsesV2cAndV3) {
  auto m = ParseModules(R"(modules:
  a:
    version: 2c
    community: s3cret
    timeout: 500ms
    retries: 2
    max_repetitions: 10
  b:
    version: 3
    username: mon
    security_level: authPriv
    auth_protocol: SHA
    auth_password: authpass1
    priv_protocol: AES
    priv_password: privpass1
)",
                        "m.yml");
  ASSERT_TRUE(m.ok()) << m.error().front();
  const Module& a = m->at("a");
  EXPECT_EQ(a.version, SnmpVersion::kV2c);
  EXPECT_EQ(a.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(a.retries, 2);
  EXPECT_EQ(a.bulk_repetitions, 10);
  EXPECT_EQ(a.WorstCase(), std::chrono::milliseconds(1500));
  const Module& b = m->at("b");
  EXPECT_EQ(b.security_level, SecurityLevel::kAuthPriv);
  EXPECT_EQ(b.priv_protocol, PrivProtocol::kAes128);
  // No secret in what status pages and logs show.
  EXPECT_EQ(a.Describe().find("s3cret"), std::string::npos);
  EXPECT_EQ(b.Describe().find("authpass1"), std::string::npos);
  EXPECT_EQ(b.Describe().find("privpass1"), std::string::npos);
  EXPECT_NE(b.Describe().find("authPriv SHA/AES"), std::string::npos);
}

TEST(Modules, ReportsEveryErrorWithFileLineAndColumn) {
  auto m = ParseModules(R"(modules:
  a:
    version: 4
    colour: blue
    timeout: soon
  b:
    version: 3
    security_level: authPriv
    auth_password: short
    priv_password: hunter2x
)",
                        "m.yml");
  ASSERT_FALSE(m.ok());
  const auto& e = m.error();
  ASSERT_EQ(e.size(), 5u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0].rfind("m.yml:3:14: modules.a.version: must be 2c or 3", 0), 0u)
      << e[0];
  EXPECT_EQ(e[1].rfind("m.yml:4:5: modules.a.colour: unknown field", 0), 0u)
      << e[1];
  EXPECT_EQ(e[2].rfind("m.yml:5:14: modules.a.timeout:", 0), 0u) << e[2];
  EXPECT_EQ(e[3], "m.yml:6:3: modules.b: SNMPv3 needs a username");
  EXPECT_EQ(e[4],
            "m.yml:6:3: modules.b: auth_password must have at least 8 "
            "characters");
  for (const auto& x : e) {
    EXPECT_EQ(x.find("short"), std::string::npos) << x;
    EXPECT_EQ(x.find("hunter2x"), std::string::npos) << x;
  }
}

TEST(Modules, SyntaxErrorsHaveAPosition) {
  auto m = ParseModules("modules:\n  a: [\n", "bad.yml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().front().rfind("bad.yml:", 0), 0u);
}

TEST(Modules, LoadsAFileAndNamesAMissingOne) {
  auto m = LoadModules("/nonexistent/snmp.yml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().front(), "/nonexistent/snmp.yml: cannot be read");
  auto ex = LoadModules(std::string(VRRP_SOURCE_DIR) + "/examples/snmp.yml");
  EXPECT_TRUE(ex.ok()) << (ex.ok() ? "" : ex.error().front());
}

TEST(PeerName, AcceptsHostsAndPortsOnly) {
  EXPECT_EQ(PeerName("192.0.2.1").value(), "udp:192.0.2.1:161");
  EXPECT_EQ(PeerName("host-a.example:1161").value(), "udp:host-a.example:1161");
  EXPECT_EQ(PeerName("[2001:db8::1]:161").value(), "udp6:[2001:db8::1]:161");
  EXPECT_FALSE(PeerName("").ok());
  EXPECT_FALSE(PeerName("tcp:192.0.2.1:161").ok());  // no transport of its own
  EXPECT_FALSE(PeerName("192.0.2.1:0").ok());
  EXPECT_FALSE(PeerName("192.0.2.1:70000").ok());
  EXPECT_FALSE(PeerName("a b").ok());
  EXPECT_FALSE(PeerName("2001:db8::1").ok());
  EXPECT_FALSE(PeerName("/tmp/sock").ok());
}

TEST(Oid, ParsesAndPrints) {
  EXPECT_EQ(ToString(ParseOid(".1.3.6.1").value()), "1.3.6.1");
  EXPECT_FALSE(ParseOid("1..3").ok());
  EXPECT_FALSE(ParseOid("1.3.").ok());
  EXPECT_FALSE(ParseOid("1.x").ok());
  EXPECT_FALSE(ParseOid("").ok());
  EXPECT_TRUE(HasPrefix({1, 3, 6}, {1, 3}));
  EXPECT_FALSE(HasPrefix({1, 3}, {1, 3, 6}));
  EXPECT_EQ(Suffix({1, 3, 6, 7}, {1, 3}), (Oid{6, 7}));
}

}  // namespace
}  // namespace vrrp::snmp
