#include "vrrp/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vrrp {

// Lets gtest print errors readably when an expectation fails.
void PrintTo(const ConfigError& error, std::ostream* os) {
  *os << error.ToString();
}

namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kFile[] = "test.yml";

// An error for `field` reported on line `line` of kFile.
MATCHER_P2(ErrorAt, field, line, "") {
  return arg.field == field && arg.location.line == line &&
         arg.location.file == kFile;
}

IpAddress Ip(std::string_view text) { return IpAddress::Parse(text).value(); }
IpPrefix Prefix(std::string_view text) { return IpPrefix::Parse(text).value(); }

Config Load(std::string_view yaml) {
  auto result = LoadConfigString(yaml, kFile);
  if (!result.ok()) {
    for (const ConfigError& e : result.error()) {
      ADD_FAILURE() << "unexpected error: " << e.ToString();
    }
    return Config{};
  }
  return *result;
}

std::vector<ConfigError> Errors(std::string_view yaml) {
  auto result = LoadConfigString(yaml, kFile);
  if (result.ok()) {
    ADD_FAILURE() << "expected errors, the configuration loaded";
    return {};
  }
  return result.error();
}

// One valid instance on lines 1..5; tests append the line under test, which
// is then line 6.
constexpr std::string_view kMinimal = R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10/24]
)";

std::string WithLines(std::string_view lines) {
  return std::string(kMinimal) + std::string(lines);
}

// --------------------------------------------------------------------------
// Valid configurations

TEST(ConfigLoaderTest, LoadsEveryField) {
  const Config config = Load(R"(instances:
  - name: web-1.a_b
    interface: eth0.100
    vrid: 51
    version: 3
    family: ipv4
    priority: 255
    advert_interval: 250ms
    virtual_ipaddresses:
      - 198.51.100.10/24
      - 198.51.100.11
    preempt: true
    preempt_delay: 1.5s
    accept: true
    unicast:
      source: 192.0.2.1
      peers: [192.0.2.2, 192.0.2.3]
    checksum: without-pseudo-header
    shutdown: strict
  - name: legacy
    interface: eth1
    vrid: 7
    version: 2
    priority: 90
    advert_interval: 3
    virtual_ipaddresses: [203.0.113.7/24]
    preempt: false
    accept: false
    authentication:
      type: pass
      password: s3cret
)");
  ASSERT_THAT(config.instances, SizeIs(2));
  EXPECT_EQ(config.file, kFile);

  const InstanceConfig& web = config.instances[0];
  EXPECT_EQ(web.name, "web-1.a_b");
  EXPECT_EQ(web.interface, "eth0.100");
  EXPECT_EQ(web.vrid, 51);
  EXPECT_EQ(web.version, Version::kV3);
  EXPECT_EQ(web.family, Family::kIpv4);
  EXPECT_EQ(web.priority, 255);
  EXPECT_TRUE(web.is_owner());
  EXPECT_EQ(web.advert_interval, Centiseconds(25));
  EXPECT_THAT(web.virtual_addresses, ElementsAre(Prefix("198.51.100.10/24"),
                                                 Prefix("198.51.100.11/32")));
  EXPECT_TRUE(web.preempt);
  EXPECT_EQ(web.preempt_delay, 1500ms);
  EXPECT_TRUE(web.accept);
  ASSERT_TRUE(web.unicast.has_value());
  EXPECT_EQ(web.unicast->source, Ip("192.0.2.1"));
  EXPECT_THAT(web.unicast->peers,
              ElementsAre(Ip("192.0.2.2"), Ip("192.0.2.3")));
  EXPECT_EQ(web.auth_type, AuthType::kNone);
  EXPECT_EQ(web.auth_password, "");
  EXPECT_EQ(web.checksum_form, ChecksumForm::kWithoutPseudoHeader);
  EXPECT_EQ(web.shutdown_mode, ShutdownMode::kStrict);
  EXPECT_EQ(web.location.file, kFile);
  EXPECT_EQ(web.location.line, 2);
  EXPECT_EQ(web.location.column, 5);

  const InstanceConfig& legacy = config.instances[1];
  EXPECT_EQ(legacy.name, "legacy");
  EXPECT_EQ(legacy.interface, "eth1");
  EXPECT_EQ(legacy.vrid, 7);
  EXPECT_EQ(legacy.version, Version::kV2);
  EXPECT_EQ(legacy.family, Family::kIpv4);
  EXPECT_EQ(legacy.priority, 90);
  EXPECT_FALSE(legacy.is_owner());
  EXPECT_EQ(legacy.advert_interval, 3s);
  EXPECT_THAT(legacy.virtual_addresses, ElementsAre(Prefix("203.0.113.7/24")));
  EXPECT_FALSE(legacy.preempt);
  EXPECT_FALSE(legacy.accept);
  EXPECT_FALSE(legacy.unicast.has_value());
  EXPECT_EQ(legacy.auth_type, AuthType::kSimplePassword);
  EXPECT_EQ(legacy.auth_password, "s3cret");
  EXPECT_EQ(legacy.location.line, 20);
}

TEST(ConfigLoaderTest, AppliesDefaults) {
  const Config config = Load(kMinimal);
  ASSERT_THAT(config.instances, SizeIs(1));
  const InstanceConfig& c = config.instances[0];
  EXPECT_EQ(c.version, Version::kV3);
  EXPECT_EQ(c.family, Family::kIpv4);
  EXPECT_EQ(c.priority, 100);
  EXPECT_EQ(c.advert_interval, 1s);
  EXPECT_TRUE(c.preempt);
  EXPECT_EQ(c.preempt_delay, 0s);
  EXPECT_FALSE(c.accept);
  EXPECT_FALSE(c.unicast.has_value());
  EXPECT_EQ(c.auth_type, AuthType::kNone);
  EXPECT_EQ(c.checksum_form, ChecksumForm::kWithPseudoHeader);
  EXPECT_EQ(c.shutdown_mode, ShutdownMode::kHitless);
}

TEST(ConfigLoaderTest, ZeroPreemptDelayWithoutPreemptionIsTheDefault) {
  const Config config =
      Load(WithLines("    preempt: false\n    preempt_delay: 0s\n"));
  ASSERT_THAT(config.instances, SizeIs(1));
  EXPECT_FALSE(config.instances[0].preempt);
  EXPECT_EQ(config.instances[0].preempt_delay, 0s);
}

TEST(ConfigLoaderTest, FamilyDefaultsToTheFirstAddress) {
  const Config config = Load(R"(instances:
  - name: web6
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [2001:db8::10/64, 2001:db8::11]
    unicast:
      peers: [2001:db8::2]
)");
  ASSERT_THAT(config.instances, SizeIs(1));
  EXPECT_EQ(config.instances[0].family, Family::kIpv6);
  EXPECT_THAT(
      config.instances[0].virtual_addresses,
      ElementsAre(Prefix("2001:db8::10/64"), Prefix("2001:db8::11/128")));
  ASSERT_TRUE(config.instances[0].unicast.has_value());
  EXPECT_FALSE(config.instances[0].unicast->source.has_value());
}

TEST(ConfigLoaderTest, EmptyInstanceListIsAllowed) {
  EXPECT_THAT(Load("instances: []\n").instances, IsEmpty());
  // Every entry commented out leaves a null list; that is empty too.
  EXPECT_THAT(Load("instances:\n#  - name: web\n").instances, IsEmpty());
}

TEST(ConfigLoaderTest, IntervalBoundsAreAccepted) {
  for (std::string_view interval : {"10ms", "0.01", "40.95s", "40950ms"}) {
    SCOPED_TRACE(interval);
    const Config config =
        Load(WithLines("    advert_interval: " + std::string(interval) + "\n"));
    ASSERT_THAT(config.instances, SizeIs(1));
  }
  for (std::string_view interval : {"1", "1s", "1000ms", "255s", "4.25m"}) {
    SCOPED_TRACE(interval);
    const Config config =
        Load(WithLines("    version: 2\n    advert_interval: " +
                       std::string(interval) + "\n"));
    ASSERT_THAT(config.instances, SizeIs(1));
  }
}

TEST(ConfigLoaderTest, SameVridOnAnotherInterfaceIsAllowed) {
  const Config config = Load(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
  - name: b
    interface: eth1
    vrid: 51
    virtual_ipaddresses: [198.51.100.20]
)");
  EXPECT_THAT(config.instances, SizeIs(2));
}

TEST(ConfigLoaderTest, SameVridInTheOtherFamilyIsAllowed) {
  const Config config = Load(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
  - name: b
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [2001:db8::10]
)");
  EXPECT_THAT(config.instances, SizeIs(2));
}

TEST(ConfigLoaderTest, ExampleConfigurationLoads) {
  auto result = LoadConfigFile(VRRP_SOURCE_DIR "/examples/config.yml");
  ASSERT_TRUE(result.ok()) << result.error().front().ToString();
  ASSERT_THAT(result->instances, SizeIs(3));
  EXPECT_EQ(result->instances[0].family, Family::kIpv4);
  EXPECT_EQ(result->instances[0].version, Version::kV3);
  EXPECT_EQ(result->instances[1].family, Family::kIpv6);
  EXPECT_EQ(result->instances[2].version, Version::kV2);
  EXPECT_EQ(result->instances[2].auth_type, AuthType::kSimplePassword);
}

// --------------------------------------------------------------------------
// Rejected values, one at a time. Each checks the field path and the line.

struct BadValueCase {
  std::string name;   // test name suffix
  std::string lines;  // appended to kMinimal (line 6 onwards)
  std::string field;
  int line;
  std::string message;  // a substring of the message
};

class BadValueTest : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(BadValueTest, IsReportedWithFieldAndLine) {
  const BadValueCase& c = GetParam();
  EXPECT_THAT(
      Errors(WithLines(c.lines)),
      ElementsAre(AllOf(ErrorAt(c.field, c.line),
                        Field(&ConfigError::message, HasSubstr(c.message)))));
}

INSTANTIATE_TEST_SUITE_P(
    ConfigLoaderTest, BadValueTest,
    ::testing::Values(
        // VRRPv3 intervals: 10 ms steps, 10ms..40.95s (RFC 5798 §5.2.7).
        BadValueCase{"V3IntervalTooShort", "    advert_interval: 5ms\n",
                     "instances[0].advert_interval", 6,
                     "multiple of 10ms in 10ms..40.95s for VRRPv3"},
        BadValueCase{"V3IntervalTooLong", "    advert_interval: 41s\n",
                     "instances[0].advert_interval", 6, "got \"41s\""},
        // One step over the 12-bit field's 4095 cs.
        BadValueCase{"V3IntervalOneStepTooLong",
                     "    advert_interval: 40.96s\n",
                     "instances[0].advert_interval", 6, "got \"40.96s\""},
        BadValueCase{"V3IntervalNotMultipleOf10ms",
                     "    advert_interval: 15ms\n",
                     "instances[0].advert_interval", 6, "got \"15ms\""},
        BadValueCase{"V3IntervalZero", "    advert_interval: 0\n",
                     "instances[0].advert_interval", 6, "10ms..40.95s"},
        // VRRPv2 intervals: whole seconds 1..255 (RFC 3768 §5.3.7).
        BadValueCase{"V2IntervalFraction",
                     "    version: 2\n    advert_interval: 0.5s\n",
                     "instances[0].advert_interval", 7,
                     "whole seconds 1s..255s for VRRPv2"},
        BadValueCase{"V2IntervalTooLong",
                     "    version: 2\n    advert_interval: 256s\n",
                     "instances[0].advert_interval", 7, "got \"256s\""},
        BadValueCase{"IntervalNotADuration", "    advert_interval: fast\n",
                     "instances[0].advert_interval", 6, "must be a duration"},
        BadValueCase{"IntervalNegative", "    advert_interval: -1s\n",
                     "instances[0].advert_interval", 6, "negative"},
        // Versions and families.
        BadValueCase{"VersionFour", "    version: 4\n", "instances[0].version",
                     6, "must be 2"},
        BadValueCase{"FamilyUnknown", "    family: inet\n",
                     "instances[0].family", 6, "must be ipv4 or ipv6"},
        // Priority 0 is the leaving master's, never configured.
        BadValueCase{"PriorityZero", "    priority: 0\n",
                     "instances[0].priority", 6, "got \"0\""},
        BadValueCase{"Priority256", "    priority: 256\n",
                     "instances[0].priority", 6, "1..255"},
        // Authentication (VRRPv2 only, RFC 3768 §5.3.6).
        BadValueCase{"AuthenticationWithV3",
                     "    authentication:\n      type: pass\n"
                     "      password: secret\n",
                     "instances[0].authentication", 6, "VRRPv2-only"},
        BadValueCase{"PasswordLongerThan8Bytes",
                     "    version: 2\n    authentication:\n"
                     "      type: pass\n      password: 123456789\n",
                     "instances[0].authentication.password", 9, "1..8 bytes"},
        BadValueCase{"PassWithoutPassword",
                     "    version: 2\n    authentication:\n"
                     "      type: pass\n",
                     "instances[0].authentication.password", 8,
                     "required with type: pass"},
        BadValueCase{"PasswordWithTypeNone",
                     "    version: 2\n    authentication:\n"
                     "      type: none\n      password: x\n",
                     "instances[0].authentication.password", 9,
                     "only used with type: pass"},
        BadValueCase{"AuthenticationTypeAh",
                     "    version: 2\n    authentication:\n"
                     "      type: ah\n",
                     "instances[0].authentication.type", 8,
                     "must be none or pass"},
        // Unicast.
        BadValueCase{"UnicastEmptyPeers", "    unicast:\n      peers: []\n",
                     "instances[0].unicast.peers", 7, "at least one"},
        BadValueCase{"UnicastMissingPeers",
                     "    unicast:\n      source: 192.0.2.1\n",
                     "instances[0].unicast.peers", 7, "required"},
        BadValueCase{"UnicastPeerOfTheWrongFamily",
                     "    unicast:\n      peers:\n        - 192.0.2.2\n"
                     "        - 2001:db8::2\n",
                     "instances[0].unicast.peers[1]", 9,
                     "2001:db8::2 is ipv6, but the instance is ipv4"},
        BadValueCase{"UnicastSourceOfTheWrongFamily",
                     "    unicast:\n      source: 2001:db8::1\n"
                     "      peers: [192.0.2.2]\n",
                     "instances[0].unicast.source", 7, "is ipv6"},
        BadValueCase{"UnicastDuplicatePeer",
                     "    unicast:\n      peers: [192.0.2.2, 192.0.2.2]\n",
                     "instances[0].unicast.peers[1]", 7, "listed twice"},
        BadValueCase{
            "UnicastPeerNotAnAddress", "    unicast:\n      peers: [peer-a]\n",
            "instances[0].unicast.peers[0]", 7, "must be an IP address"},
        // Checksum form: VRRPv3 over IPv4 only.
        BadValueCase{"ChecksumWithV2",
                     "    version: 2\n    checksum: with-pseudo-header\n",
                     "instances[0].checksum", 7, "only to VRRPv3 over IPv4"},
        BadValueCase{"ChecksumUnknown", "    checksum: cisco\n",
                     "instances[0].checksum", 6,
                     "with-pseudo-header or without-pseudo-header"},
        // Preemption.
        BadValueCase{"PreemptDelayWithPreemptFalse",
                     "    preempt: false\n    preempt_delay: 10s\n",
                     "instances[0].preempt_delay", 7,
                     "no effect with preempt: false"},
        BadValueCase{"PreemptDelayTooLong", "    preempt_delay: 1001s\n",
                     "instances[0].preempt_delay", 6, "0s..1000s"},
        BadValueCase{"PreemptNotABool", "    preempt: yes\n",
                     "instances[0].preempt", 6, "must be true or false"},
        BadValueCase{"AcceptEmpty", "    accept:\n", "instances[0].accept", 6,
                     "got an empty value"},
        BadValueCase{"ShutdownUnknown", "    shutdown: graceful\n",
                     "instances[0].shutdown", 6, "must be hitless or strict"},
        // Typo protection.
        BadValueCase{"UnknownInstanceKey", "    preemt: false\n",
                     "instances[0].preemt", 6, "did you mean \"preempt\""},
        BadValueCase{"UnknownUnicastKey",
                     "    unicast:\n      peers: [192.0.2.2]\n"
                     "      sauce: 192.0.2.1\n",
                     "instances[0].unicast.sauce", 8, "unknown key"},
        BadValueCase{"UnknownTopLevelKey", "global_defs:\n  x: 1\n",
                     "global_defs", 6, "allowed here: instances"},
        BadValueCase{"KeyGivenTwice", "    vrid: 52\n", "instances[0].vrid", 6,
                     "given twice (first at line 4)"}),
    [](const ::testing::TestParamInfo<BadValueCase>& info) {
      return info.param.name;
    });

// The required fields and identity values, which kMinimal cannot vary.

struct BadIdentityCase {
  std::string name;
  std::string yaml;
  std::string field;
  int line;
  std::string message;
};

class BadIdentityTest : public ::testing::TestWithParam<BadIdentityCase> {};

TEST_P(BadIdentityTest, IsReportedWithFieldAndLine) {
  const BadIdentityCase& c = GetParam();
  EXPECT_THAT(
      Errors(c.yaml),
      ElementsAre(AllOf(ErrorAt(c.field, c.line),
                        Field(&ConfigError::message, HasSubstr(c.message)))));
}

std::string Instance(std::string_view name, std::string_view interface,
                     std::string_view vrid, std::string_view vips) {
  return "instances:\n  - name: " + std::string(name) +
         "\n    interface: " + std::string(interface) +
         "\n    vrid: " + std::string(vrid) +
         "\n    virtual_ipaddresses: " + std::string(vips) + "\n";
}

INSTANTIATE_TEST_SUITE_P(
    ConfigLoaderTest, BadIdentityTest,
    ::testing::Values(
        BadIdentityCase{
            "VridZero", Instance("web", "eth0", "0", "[198.51.100.10]"),
            "instances[0].vrid", 4, "must be an integer 1..255, got \"0\""},
        BadIdentityCase{
            "Vrid256", Instance("web", "eth0", "256", "[198.51.100.10]"),
            "instances[0].vrid", 4, "must be an integer 1..255, got \"256\""},
        BadIdentityCase{
            "VridNotANumber", Instance("web", "eth0", "abc", "[198.51.100.10]"),
            "instances[0].vrid", 4, "must be an integer 1..255, got \"abc\""},
        BadIdentityCase{"VridHuge",
                        Instance("web", "eth0", "99999999999999999999999",
                                 "[198.51.100.10]"),
                        "instances[0].vrid", 4, "1..255"},
        BadIdentityCase{"NameWithSpace",
                        Instance("\"we b\"", "eth0", "1", "[198.51.100.10]"),
                        "instances[0].name", 2, "got \"we b\""},
        BadIdentityCase{
            "NameTooLong",
            Instance(std::string(65, 'a'), "eth0", "1", "[198.51.100.10]"),
            "instances[0].name", 2, "1..64 characters"},
        BadIdentityCase{
            "InterfaceTooLong",
            Instance("web", "eth0123456789012", "1", "[198.51.100.10]"),
            "instances[0].interface", 3, "1..15 characters"},
        BadIdentityCase{"InterfaceWithSlash",
                        Instance("web", "eth0/1", "1", "[198.51.100.10]"),
                        "instances[0].interface", 3, "without '/'"},
        BadIdentityCase{"NoVirtualAddresses",
                        Instance("web", "eth0", "1", "[]"),
                        "instances[0].virtual_ipaddresses", 5, "at least one"},
        BadIdentityCase{"VirtualAddressesNotAList",
                        Instance("web", "eth0", "1", "198.51.100.10"),
                        "instances[0].virtual_ipaddresses", 5,
                        "must be a list"},
        BadIdentityCase{"VirtualAddressInvalid",
                        Instance("web", "eth0", "1", "[198.51.100.300]"),
                        "instances[0].virtual_ipaddresses[0]", 5,
                        "got \"198.51.100.300\""},
        BadIdentityCase{"VirtualAddressBadPrefixLength",
                        Instance("web", "eth0", "1", "[198.51.100.1/33]"),
                        "instances[0].virtual_ipaddresses[0]", 5,
                        "address/prefix-length"},
        BadIdentityCase{"VirtualAddressMulticast",
                        Instance("web", "eth0", "1", "[224.0.0.18]"),
                        "instances[0].virtual_ipaddresses[0]", 5, "multicast"},
        BadIdentityCase{
            "VirtualAddressListedTwice",
            Instance("web", "eth0", "1", "[198.51.100.1/24, 198.51.100.1/32]"),
            "instances[0].virtual_ipaddresses[1]", 5, "listed twice"},
        BadIdentityCase{"InstanceNotAMap", "instances:\n  - web\n",
                        "instances[0]", 2, "must be a map"},
        BadIdentityCase{"InstancesNotAList", "instances: web\n", "instances", 1,
                        "must be a list"},
        BadIdentityCase{"TopLevelNotAMap", "- name: web\n", "", 1,
                        "top level must be a map"},
        BadIdentityCase{"InstancesMissing", "{}\n", "instances", 1, "required"},
        BadIdentityCase{"EmptyFile", "# nothing\n", "instances", 0,
                        "the file is empty"},
        BadIdentityCase{"TwoDocuments", "instances: []\n---\ninstances: []\n",
                        "", 2, "only one YAML document"},
        // yaml-cpp 0.7's LoadAll loops forever on these (yaml-cpp#1040).
        BadIdentityCase{"StrayComma", ",", "", 1, "',' outside a [list]"},
        BadIdentityCase{"StrayCommaAfterTheDocument", "instances: []\n,\n", "",
                        2, "YAML syntax error"},
        BadIdentityCase{"StrayCommaAfterAList", "- a\n,\n", "", 2,
                        "',' outside a [list]"}),
    [](const ::testing::TestParamInfo<BadIdentityCase>& info) {
      return info.param.name;
    });

TEST(ConfigLoaderTest, MissingRequiredFieldsPointAtTheInstance) {
  EXPECT_THAT(Errors("instances:\n  - priority: 100\n"),
              ElementsAre(ErrorAt("instances[0].name", 2),
                          ErrorAt("instances[0].interface", 2),
                          ErrorAt("instances[0].vrid", 2),
                          ErrorAt("instances[0].virtual_ipaddresses", 2)));
}

TEST(ConfigLoaderTest, TooManyVirtualAddresses) {
  std::string list = "[";
  for (int i = 0; i < 256; ++i) {
    list += (i ? ", " : "") + std::string("2001:db8::") + std::to_string(i + 1);
  }
  list += "]";
  EXPECT_THAT(Errors(Instance("web", "eth0", "1", list)),
              ElementsAre(AllOf(
                  ErrorAt("instances[0].virtual_ipaddresses", 5),
                  Field(&ConfigError::message, HasSubstr("at most 255")))));
}

// --------------------------------------------------------------------------
// Families

TEST(ConfigLoaderTest, VirtualAddressOfTheWrongFamily) {
  const auto errors = Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    family: ipv4
    virtual_ipaddresses:
      - 2001:db8::10/64
)");
  EXPECT_THAT(errors,
              ElementsAre(ErrorAt("instances[0].virtual_ipaddresses[0]", 7)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("2001:db8::10 is ipv6, but the instance is ipv4 "
                        "(family: at line 5)"));
}

TEST(ConfigLoaderTest, MixedFamiliesAreRejected) {
  const auto errors = Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    virtual_ipaddresses:
      - 198.51.100.10/24
      - 2001:db8::10/64
)");
  EXPECT_THAT(errors,
              ElementsAre(ErrorAt("instances[0].virtual_ipaddresses[1]", 7)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("set by its first address, "
                        "instances[0].virtual_ipaddresses[0]"));
}

TEST(ConfigLoaderTest, Version2WithIpv6IsRejected) {
  EXPECT_THAT(Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    version: 2
    family: ipv6
    virtual_ipaddresses: [2001:db8::10]
)"),
              ElementsAre(AllOf(ErrorAt("instances[0].version", 5),
                                Field(&ConfigError::message,
                                      HasSubstr("VRRPv2 is IPv4-only")))));
  // Without family:, the addresses make it IPv6.
  EXPECT_THAT(Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    version: 2
    virtual_ipaddresses: [2001:db8::10]
)"),
              ElementsAre(ErrorAt("instances[0].version", 5)));
}

TEST(ConfigLoaderTest, ChecksumWithIpv6IsRejected) {
  EXPECT_THAT(Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [2001:db8::10]
    checksum: without-pseudo-header
)"),
              ElementsAre(AllOf(ErrorAt("instances[0].checksum", 6),
                                Field(&ConfigError::message,
                                      HasSubstr("instance is ipv6")))));
}

// --------------------------------------------------------------------------
// Checks across instances

TEST(ConfigLoaderTest, DuplicateVridOnOneInterfaceAndFamily) {
  const auto errors = Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
  - name: b
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.20]
)");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("instances[1].vrid", 8)));
  // The message leads to the first definition.
  EXPECT_THAT(errors[0].message,
              HasSubstr("already used by instances[0] (\"a\") at line 4"));
}

TEST(ConfigLoaderTest, DuplicateName) {
  const auto errors = Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
  - name: web
    interface: eth0
    vrid: 52
    virtual_ipaddresses: [198.51.100.20]
)");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("instances[1].name", 6)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("already used by instances[0] at line 2"));
}

// --------------------------------------------------------------------------
// Files, syntax and error reporting

TEST(ConfigLoaderTest, YamlSyntaxErrorHasItsLine) {
  const auto errors = Errors(R"(instances:
  - name: web
    interface: eth0
    vrid: [51
    virtual_ipaddresses: [198.51.100.10]
)");
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_EQ(errors[0].location.file, kFile);
  EXPECT_EQ(errors[0].location.line, 5);
  EXPECT_THAT(errors[0].message, HasSubstr("YAML syntax error"));

  EXPECT_THAT(Errors("instances:\n  - name: a\n   bad: indent\n"),
              ElementsAre(ErrorAt("", 3)));
}

TEST(ConfigLoaderTest, MissingFile) {
  auto result = LoadConfigFile("/nonexistent/vrrp_exporter.yml");
  ASSERT_FALSE(result.ok());
  ASSERT_THAT(result.error(), SizeIs(1));
  const ConfigError& error = result.error()[0];
  EXPECT_EQ(error.location.file, "/nonexistent/vrrp_exporter.yml");
  EXPECT_EQ(error.location.line, 0);
  EXPECT_THAT(error.message, HasSubstr("No such file or directory"));
  EXPECT_EQ(error.ToString(),
            "/nonexistent/vrrp_exporter.yml: cannot read the configuration "
            "file: No such file or directory");
}

TEST(ConfigLoaderTest, DirectoryIsNotAFile) {
  auto result = LoadConfigFile(VRRP_SOURCE_DIR "/examples");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error()[0].message, HasSubstr("Is a directory"));
}

// A FIFO with no writer (or a device) must not hold the caller, which on a
// reload is the event loop: refused at once. (Were it opened blocking, this
// test would hang until ctest's timeout.)
TEST(ConfigLoaderTest, FifoIsRefusedWithoutBlocking) {
  char dir[] = "/tmp/vrrp-config-fifo-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/config.yml";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto result = LoadConfigFile(path);
  ::unlink(path.c_str());
  ::rmdir(dir);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error()[0].message, HasSubstr("not a regular file"));
  auto device = LoadConfigFile("/dev/zero");
  ASSERT_FALSE(device.ok());
  EXPECT_THAT(device.error()[0].message, HasSubstr("not a regular file"));
}

TEST(ConfigLoaderTest, BadVridFileReportsFileAndLine) {
  const std::string path = VRRP_SOURCE_DIR "/test/data/configs/bad_vrid.yml";
  auto result = LoadConfigFile(path);
  ASSERT_FALSE(result.ok());
  ASSERT_THAT(result.error(), SizeIs(1));
  EXPECT_EQ(result.error()[0].ToString(),
            path +
                ":7:11: instances[0].vrid: must be an integer 1..255, got "
                "\"300\"");
}

TEST(ConfigLoaderTest, SeveralErrorsAreAllReportedInFileOrder) {
  const auto errors = Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 0
    virtual_ipaddresses: [198.51.100.10]
    advert_interval: 15ms
  - name: b
    interface: eth0
    vrid: 52
    virtual_ipaddresses: [198.51.100.20]
    priority: 300
    shutdwn: strict
  - name: a
    interface: eth0
    vrid: 53
    virtual_ipaddresses: [198.51.100.30]
extra: true
)");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("instances[0].vrid", 4),
                                  ErrorAt("instances[0].advert_interval", 6),
                                  ErrorAt("instances[1].priority", 11),
                                  ErrorAt("instances[1].shutdwn", 12),
                                  ErrorAt("instances[2].name", 13),
                                  ErrorAt("extra", 17)));
}

TEST(ConfigLoaderTest, ErrorToStringFormat) {
  const ConfigError error{SourceLocation{"a.yml", 3, 11}, "instances[0].vrid",
                          "must be an integer 1..255, got \"300\""};
  EXPECT_EQ(error.ToString(),
            "a.yml:3:11: instances[0].vrid: must be an integer 1..255, got "
            "\"300\"");
}

TEST(ConfigLoaderTest, HostileInputDoesNotThrow) {
  // Deep nesting: yaml-cpp's depth guard turns it into a syntax error.
  EXPECT_THAT(Errors("instances: " + std::string(100000, '[')), SizeIs(1));
  // Binary junk and control characters are quoted, not printed raw.
  const auto errors =
      Errors(WithLines(std::string("    shutdown: \"\\x01\\x1b[2J\"\n")));
  ASSERT_THAT(errors, SizeIs(1));
  EXPECT_THAT(errors[0].message, HasSubstr("\\x01\\x1b[2J"));
  EXPECT_THAT(Errors(std::string("\0\xff\xfe:", 4)), Not(IsEmpty()));
}

// --------------------------------------------------------------------------
// ParseDuration

TEST(ParseDurationTest, AcceptsUnitsFractionsAndBareSeconds) {
  struct Case {
    std::string_view text;
    Duration expected;
  };
  for (const Case& c : {
           Case{"1s", 1s},
           Case{"100ms", 100ms},
           Case{"10ms", 10ms},
           Case{"1.5s", 1500ms},
           Case{"2m", 2min},
           Case{"1.5m", 90s},
           Case{"1", 1s},
           Case{"0.1", 100ms},
           Case{".5s", 500ms},
           Case{"0", 0s},
           Case{"0ms", 0s},
           Case{"007s", 7s},
           Case{"1.250000000000000000000s", 1250ms},
           Case{"0.000000001s", 1ns},
           Case{"0.5ms", 500us},
           Case{"1.000000001m", 60s + 60ns},
           Case{"9223372036s", 9223372036s},
       }) {
    SCOPED_TRACE(c.text);
    auto parsed = ParseDuration(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(ParseDurationTest, RejectsMalformedNegativeAndOutOfRange) {
  struct Case {
    std::string_view text;
    std::string_view message;
  };
  for (const Case& c : {
           Case{"", "must be a duration"},
           Case{"s", "must be a duration"},
           Case{".", "must be a duration"},
           Case{"abc", "must be a duration"},
           Case{"1.5.s", "must be a duration"},
           Case{"1e3", "must be a duration"},
           Case{" 1s", "must be a duration"},
           Case{"1 s", "must be a duration"},
           Case{"+1s", "must be a duration"},
           Case{"1h", "unknown unit \"h\""},
           Case{"1us", "unknown unit \"us\""},
           Case{"-1s", "must not be negative"},
           Case{"-0.5", "must not be negative"},
           Case{"0.0000000001s", "more precise than 1ns"},
           Case{"0.0000000000000000000001", "more precise than 1ns"},
           Case{"9223372037s", "too large"},
           Case{"99999999999999999999999", "too large"},
       }) {
    SCOPED_TRACE(c.text);
    auto parsed = ParseDuration(c.text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.error(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace vrrp

namespace vrrp {
namespace {

TEST(ConfigLoaderAnnounce, DefaultsAndOverrides) {
  auto c = LoadConfigString(R"(instances:
  - name: a
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.10/24]
  - name: b
    interface: eth0
    vrid: 2
    virtual_ipaddresses: [192.0.2.11/24]
    announce:
      count: 5
      interval: 0s
      second_burst_after: 0s
      refresh: 30s
)",
                            "announce.yml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->instances[0].announce, AnnounceConfig{});
  const AnnounceConfig& b = c->instances[1].announce;
  EXPECT_EQ(b.count, 5u);
  EXPECT_EQ(b.interval, Duration::zero());
  EXPECT_EQ(b.second_burst_after, Duration::zero());
  EXPECT_EQ(b.refresh, std::chrono::seconds(30));
}

TEST(ConfigLoaderAnnounce, RejectsOutOfRangeAndUnknownKeys) {
  auto c = LoadConfigString(R"(instances:
  - name: a
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.10/24]
    announce:
      count: 0
      refresh: 2d
      repeat: 3
)",
                            "announce.yml");
  ASSERT_FALSE(c.ok());
  std::set<std::string> fields;
  for (const auto& e : c.error()) {
    fields.insert(e.field);
    EXPECT_EQ(e.location.file, "announce.yml");
  }
  EXPECT_TRUE(fields.count("instances[0].announce.count"));
  EXPECT_TRUE(fields.count("instances[0].announce.refresh"));
  EXPECT_TRUE(fields.count("instances[0].announce.repeat"));
  for (const auto& e : c.error()) {
    if (e.field == "instances[0].announce.count") {
      EXPECT_EQ(e.location.line, 7);
    }
    if (e.field == "instances[0].announce.refresh") {
      EXPECT_EQ(e.location.line, 8);
    }
  }
}

// --------------------------------------------------------------------------
// virtual_mac / virtual_mac_interface (Keepalived's use_vmac)

TEST(ConfigLoaderVirtualMac, OffByDefault) {
  const Config config = Load(kMinimal);
  ASSERT_THAT(config.instances, SizeIs(1));
  EXPECT_FALSE(config.instances[0].virtual_mac);
  EXPECT_EQ(config.instances[0].virtual_mac_interface, "");
}

TEST(ConfigLoaderVirtualMac, DefaultNamesFollowVridAndFamily) {
  const Config config = Load(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10/24]
    virtual_mac: true
  - name: a6
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [2001:db8::10/64]
    virtual_mac: true
  - name: b
    interface: eth1
    vrid: 255
    virtual_ipaddresses: [203.0.113.7/24]
    virtual_mac: true
    virtual_mac_interface: vmac-b.255
  - name: c
    interface: eth1
    vrid: 9
    virtual_ipaddresses: [203.0.113.9/24]
    virtual_mac: false
)");
  ASSERT_THAT(config.instances, SizeIs(4));
  EXPECT_TRUE(config.instances[0].virtual_mac);
  EXPECT_EQ(config.instances[0].virtual_mac_interface, "vrrp.51");
  EXPECT_TRUE(config.instances[1].virtual_mac);
  EXPECT_EQ(config.instances[1].virtual_mac_interface, "vrrp6.51");
  EXPECT_EQ(config.instances[2].virtual_mac_interface, "vmac-b.255");
  EXPECT_FALSE(config.instances[3].virtual_mac);
  EXPECT_EQ(config.instances[3].virtual_mac_interface, "");
}

TEST(ConfigLoaderVirtualMac, IsPartOfTheSettingsAReloadCompares) {
  const Config off = Load(kMinimal);
  const Config on = Load(WithLines("    virtual_mac: true\n"));
  const Config named = Load(
      WithLines("    virtual_mac: true\n    virtual_mac_interface: vm51\n"));
  ASSERT_THAT(off.instances, SizeIs(1));
  ASSERT_THAT(on.instances, SizeIs(1));
  ASSERT_THAT(named.instances, SizeIs(1));
  EXPECT_FALSE(off.instances[0].SameSettings(on.instances[0]));
  EXPECT_FALSE(on.instances[0].SameSettings(named.instances[0]));
  EXPECT_TRUE(on.instances[0].SameSettings(on.instances[0]));
}

TEST(ConfigLoaderVirtualMac, RejectsBadValuesWithTheirLine) {
  struct Case {
    std::string lines;  // appended to kMinimal (line 6 onwards)
    std::string field;
    int line;
    std::string message;
  };
  const Case cases[] = {
      {"    virtual_mac: yes\n", "instances[0].virtual_mac", 6,
       "must be true or false, got \"yes\""},
      {"    virtual_mac: true\n    virtual_mac_interface: vrrp.01234567890\n",
       "instances[0].virtual_mac_interface", 7, "1..15 characters"},
      {"    virtual_mac: true\n    virtual_mac_interface: vm/51\n",
       "instances[0].virtual_mac_interface", 7, "without '/'"},
      {"    virtual_mac: true\n    virtual_mac_interface: [vm51]\n",
       "instances[0].virtual_mac_interface", 7, "must be a string"},
      {"    virtual_mac_interface: vm51\n",
       "instances[0].virtual_mac_interface", 6,
       "has no effect without virtual_mac: true; set virtual_mac: true or "
       "remove it"},
      {"    virtual_mac: false\n    virtual_mac_interface: vm51\n",
       "instances[0].virtual_mac_interface", 7,
       "has no effect without virtual_mac: true (line 6)"},
      {"    virtual_mac: true\n    virtual_mac_interface: eth0\n",
       "instances[0].virtual_mac_interface", 7,
       "virtual MAC interface \"eth0\" is the interface of this instance at "
       "line 3"},
      {"    virtual_mac_interfaces: vm51\n",
       "instances[0].virtual_mac_interfaces", 6,
       "did you mean \"virtual_mac_interface\"?"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.lines);
    EXPECT_THAT(
        Errors(WithLines(c.lines)),
        ElementsAre(AllOf(ErrorAt(c.field, c.line),
                          Field(&ConfigError::message, HasSubstr(c.message)))));
  }
}

TEST(ConfigLoaderVirtualMac, DefaultNamesMustNotCollide) {
  // The same VRID and family on two interfaces is two virtual routers, but
  // both would get the default vrrp.51.
  const auto errors = Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
    virtual_mac: true
  - name: b
    interface: eth1
    vrid: 51
    virtual_ipaddresses: [198.51.100.20]
    virtual_mac: true
)");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("instances[1].virtual_mac", 11)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("virtual MAC interface \"vrrp.51\" is already used by "
                        "instances[0] (\"a\") at line 6"));
  EXPECT_THAT(errors[0].message,
              HasSubstr("\"vrrp.51\" is the default name; set "
                        "virtual_mac_interface to a name of its own"));
}

TEST(ConfigLoaderVirtualMac, ConfiguredNamesMustBeUnique) {
  const auto errors = Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
    virtual_mac: true
    virtual_mac_interface: vm-web
  - name: b
    interface: eth0
    vrid: 52
    virtual_ipaddresses: [198.51.100.20]
    virtual_mac: true
    virtual_mac_interface: vm-web
  - name: c
    interface: eth1
    vrid: 53
    virtual_ipaddresses: [198.51.100.30]
    virtual_mac: true
    virtual_mac_interface: vrrp.51
)");
  // vrrp.51 is c's own choice, not a's (a has vm-web): no conflict.
  EXPECT_THAT(errors,
              ElementsAre(ErrorAt("instances[1].virtual_mac_interface", 13)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("\"vm-web\" is already used by instances[0] (\"a\") "
                        "at line 7; each instance needs its own"));
  EXPECT_THAT(errors[0].message, Not(HasSubstr("default name")));
}

TEST(ConfigLoaderVirtualMac, NameMustNotBeAnotherInstancesInterface) {
  // A macvlan named after an interface some instance runs on would make the
  // daemon adopt or delete that interface.
  const auto errors = Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [198.51.100.10]
    virtual_mac: true
  - name: b
    interface: vrrp.51
    vrid: 52
    virtual_ipaddresses: [198.51.100.20]
)");
  EXPECT_THAT(errors, ElementsAre(ErrorAt("instances[0].virtual_mac", 6)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("\"vrrp.51\" is the interface of instances[1] (\"b\") "
                        "at line 8; the macvlan needs a name of its own"));
}

TEST(ConfigLoaderVirtualMac, BadVridReportsOnlyTheVrid) {
  // No default name is derived from a VRID that is already wrong.
  EXPECT_THAT(Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 0
    virtual_ipaddresses: [198.51.100.10]
    virtual_mac: true
  - name: b
    interface: eth1
    vrid: 0
    virtual_ipaddresses: [198.51.100.20]
    virtual_mac: true
)"),
              ElementsAre(ErrorAt("instances[0].vrid", 4),
                          ErrorAt("instances[1].vrid", 9)));
}

}  // namespace
}  // namespace vrrp

namespace vrrp {
namespace {

constexpr char kNotifyConfig[] = R"(script_user: nobody
notify_fifo: /run/vrrp/notify.fifo
notify_socket: /run/vrrp/notify.sock
webhooks:
  - url: http://127.0.0.1:9000/vrrp
    timeout: 2s
    headers:
      Authorization: Bearer abc
instances:
  - name: web
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.1]
    notify:
      master: [/usr/local/bin/hook, --to, master]
      any: /usr/local/bin/any
    notify_timeout: 500ms
  - name: db
    interface: eth0
    vrid: 2
    virtual_ipaddresses: [192.0.2.2]
sync_groups:
  - name: pair
    instances: [web, db]
    notify:
      fault: /usr/local/bin/group-fault
)";

TEST(NotifyConfigTest, LoadsHooksStreamsWebhooksAndGroups) {
  const Config config = Load(kNotifyConfig);
  EXPECT_EQ(config.script_user, "nobody");
  EXPECT_EQ(config.script_user_location.line, 1);
  EXPECT_EQ(config.notifications.fifo, "/run/vrrp/notify.fifo");
  EXPECT_EQ(config.notifications.socket, "/run/vrrp/notify.sock");
  ASSERT_EQ(config.notifications.webhooks.size(), 1u);
  const WebhookConfig& hook = config.notifications.webhooks[0];
  EXPECT_EQ(hook.url, "http://127.0.0.1:9000/vrrp");
  EXPECT_EQ(hook.timeout, 2s);
  ASSERT_EQ(hook.headers.size(), 1u);
  EXPECT_EQ(hook.headers[0].first, "Authorization");
  EXPECT_EQ(hook.headers[0].second, "Bearer abc");

  ASSERT_EQ(config.instances.size(), 2u);
  const NotifyHooks& n = *config.instances[0].notify;
  ASSERT_TRUE(n.master.has_value());
  EXPECT_THAT(n.master->argv,
              ElementsAre("/usr/local/bin/hook", "--to", "master"));
  EXPECT_EQ(n.master->location.line, 15);
  ASSERT_TRUE(n.any.has_value());
  EXPECT_THAT(n.any->argv, ElementsAre("/usr/local/bin/any"));
  EXPECT_FALSE(n.backup.has_value());
  EXPECT_EQ(n.timeout, 500ms);
  EXPECT_TRUE(config.instances[1].notify->empty());
  EXPECT_EQ(config.instances[1].notify->timeout, 10s);

  ASSERT_EQ(config.sync_groups.size(), 1u);
  EXPECT_EQ(config.sync_groups[0].name, "pair");
  EXPECT_THAT(config.sync_groups[0].instances, ElementsAre("web", "db"));
  ASSERT_TRUE(config.sync_groups[0].notify.fault.has_value());

  // Copies of a configuration share its hooks instead of copying them, and
  // still compare (and reload) by value.
  const InstanceConfig copy = config.instances[0];
  EXPECT_EQ(&*copy.notify, &*config.instances[0].notify);
  EXPECT_TRUE(copy.notify == config.instances[0].notify);
  EXPECT_FALSE(copy.notify == config.instances[1].notify);
}

TEST(SharedNotifyHooksTest, EmptyHoldsNothingAndComparesByValue) {
  const SharedNotifyHooks none;
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(none->timeout, 10s);
  EXPECT_TRUE(none == SharedNotifyHooks(NotifyHooks{}));
  // A non-default timeout alone is kept, though no hook would use it.
  NotifyHooks timeout_only;
  timeout_only.timeout = 3s;
  const SharedNotifyHooks t(timeout_only);
  EXPECT_EQ(t->timeout, 3s);
  EXPECT_FALSE(t == none);
  NotifyHooks with_master;
  with_master.master = Command{{"/bin/true"}, {}};
  const SharedNotifyHooks m(with_master), m2(with_master);
  EXPECT_TRUE(m == m2);  // equal values, different objects
  EXPECT_NE(&*m, &*m2);
  ASSERT_TRUE(m->master.has_value());
  EXPECT_THAT(m->master->argv, ElementsAre("/bin/true"));
}

constexpr char kTwoInstances[] = R"(instances:
  - name: a
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.1]
  - name: b
    interface: eth0
    vrid: 2
    virtual_ipaddresses: [192.0.2.2]
)";

TEST(NotifyConfigTest, BadValuesAreReportedWithFieldAndLine) {
  const std::string base = kTwoInstances;
  // Relative program: no PATH search.
  EXPECT_THAT(Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.1]
    notify:
      master: notify.sh
)"),
              ElementsAre(ErrorAt("instances[0].notify.master", 7)));
  EXPECT_THAT(Errors(R"(instances:
  - name: a
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [192.0.2.1]
    notify:
      mastr: /bin/true
    notify_timeout: 0s
)"),
              ElementsAre(ErrorAt("instances[0].notify.mastr", 7),
                          ErrorAt("instances[0].notify_timeout", 8)));
  EXPECT_THAT(Errors(base + "notify_fifo: relative\n"),
              ElementsAre(ErrorAt("notify_fifo", 10)));
  EXPECT_THAT(Errors(base + "webhooks:\n  - url: ftp://x\n    timeout: 2m\n"),
              ElementsAre(ErrorAt("webhooks[0].url", 11),
                          ErrorAt("webhooks[0].timeout", 12)));
  EXPECT_THAT(
      Errors(base +
             "webhooks:\n  - url: http://x\n    headers: {\"a b\": c}\n"),
      ElementsAre(ErrorAt("webhooks[0].headers", 12)));
  EXPECT_THAT(Errors(base + "sync_groups:\n  - name: g\n    instances: [a]\n"),
              ElementsAre(ErrorAt("sync_groups[0].instances", 12)));
  EXPECT_THAT(
      Errors(base + "sync_groups:\n  - name: g\n    instances: [a, nope]\n"),
      ElementsAre(AllOf(ErrorAt("sync_groups[0].instances", 12),
                        Field(&ConfigError::message, HasSubstr("nope")))));
  EXPECT_THAT(Errors(base + "sync_groups:\n  - name: g\n    instances: [a, b]\n"
                            "  - name: h\n    instances: [b, a]\n"),
              ElementsAre(ErrorAt("sync_groups[1].instances", 14),
                          ErrorAt("sync_groups[1].instances", 14)));
  EXPECT_THAT(
      Errors(base + "sync_groups:\n  - instances: [a, b]\n    oops: 1\n"),
      ElementsAre(ErrorAt("sync_groups[0].name", 11),
                  ErrorAt("sync_groups[0].oops", 12)));
  EXPECT_THAT(Errors(base + "script_user: [root]\n"),
              ElementsAre(ErrorAt("script_user", 10)));
}

}  // namespace
}  // namespace vrrp
