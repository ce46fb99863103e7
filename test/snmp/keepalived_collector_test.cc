// The Keepalived collector on recorded answers (test/snmp/data/*.walk, from
// the lab's keepalived 2.2.7 with VX_SNMP_RECORD) through FakeSnmpSession:
// the exposition against golden files, then partial and malformed tables.

#include "snmp/keepalived_collector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "exporter/golden_file.h"
#include "exporter/probe.h"
#include "fakes/fake_snmp_session.h"
#include "snmp/keepalived_mib.h"

namespace vrrp::snmp {
namespace {

using testing::FakeSnmpSession;

FakeSnmpSession Recorded(const std::string& name) {
  auto f = FakeSnmpSession::FromWalkFile(std::string(VRRP_SOURCE_DIR) +
                                         "/test/snmp/data/" + name + ".walk");
  if (!f.ok()) throw std::runtime_error(f.error());
  return std::move(f.value());
}

KeepalivedScrape Collect(FakeSnmpSession& fake) {
  // The fake outlives the collection: a non-owning shared_ptr.
  std::shared_ptr<Session> s(&fake, [](Session*) {});
  std::optional<KeepalivedScrape> out;
  CollectKeepalived(s, 25, [&](KeepalivedScrape r) { out = std::move(r); });
  if (!out) throw std::runtime_error("the collector did not finish");
  return std::move(*out);
}

int Errors(const KeepalivedScrape& s, ErrorReason r) {
  return s.errors[static_cast<size_t>(r)];
}

const KeepalivedInstance* Find(const KeepalivedScrape& s,
                               const std::string& name) {
  for (const auto& i : s.instances) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

TEST(KeepalivedCollector, MatchesTheGoldenExpositionOfAMaster) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  testing::ExpectMatchesGolden(
      "keepalived-probe-master.prom",
      exporter::KeepalivedProbeText(Collect(fake), 0.0));
}

TEST(KeepalivedCollector, MatchesTheGoldenExpositionOfABackup) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-backup");
  testing::ExpectMatchesGolden(
      "keepalived-probe-backup.prom",
      exporter::KeepalivedProbeText(Collect(fake), 0.0));
}

TEST(KeepalivedCollector, WalksOneColumnPerTableAndGetsTheRestInBatches) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  Collect(fake);
  // Columns, never whole tables or subtrees (Keepalived's agent is slow
  // per walked varbind): one per table, for its indexes.
  EXPECT_EQ(fake.walked(), KeepalivedIndexColumns());
  EXPECT_EQ(fake.walked().size(), 5u);
  // version.0, then per table ceil(cells / 25): instances 3x9 = 27 -> 2,
  // addresses 4x4 = 16 -> 1, scripts 1, groups 1, VRRPv3 3x9 = 27 -> 2.
  EXPECT_EQ(fake.gets(), 1 + 2 + 1 + 1 + 1 + 2);
  EXPECT_LE(fake.max_get_size(), 25u);
}

TEST(KeepalivedCollector, NotUpMeansNoSecondRound) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  fake.Remove(mib::kKeepalived);
  Collect(fake);
  EXPECT_EQ(fake.gets(), 1);
}

TEST(KeepalivedCollector, JoinsByIndexIntoNamedInstances) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  KeepalivedScrape s = Collect(fake);
  ASSERT_TRUE(s.up);
  EXPECT_EQ(s.version, "Keepalived v2.2.7 (01/16,2022)");
  ASSERT_EQ(s.instances.size(), 3u);
  const auto* vi1 = Find(s, "VI_1");
  ASSERT_NE(vi1, nullptr);
  ASSERT_EQ(vi1->vips.size(), 1u);
  EXPECT_EQ(vi1->vips[0].address, "192.0.2.200/24");
  // VRRPv3's address count (1) splits the VIP from the excluded one, since
  // vrrpAddressAdvertising is wrong in 2.2.7.
  ASSERT_EQ(vi1->excluded_vips.size(), 1u);
  EXPECT_EQ(vi1->excluded_vips[0].address, "192.0.2.210");
  const auto* vi3 = Find(s, "VI_3");
  ASSERT_NE(vi3, nullptr);
  ASSERT_EQ(vi3->vips.size(), 1u);
  EXPECT_EQ(vi3->vips[0].address, "2001:db8::200/64");
  ASSERT_TRUE(vi3->stats.has_value());
  EXPECT_EQ(vi3->stats->master_transitions, 1u);
  EXPECT_EQ(Find(s, "VI_2")->effective_priority, 140);
  for (int r = 0; r < kErrorReasonCount; ++r) {
    EXPECT_EQ(s.errors[static_cast<size_t>(r)], 0) << r;
  }
}

TEST(KeepalivedCollector, SnmpdWithoutKeepalivedIsNotUp) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  fake.Remove(mib::kKeepalived);
  KeepalivedScrape s = Collect(fake);
  EXPECT_FALSE(s.up);
  EXPECT_EQ(Errors(s, ErrorReason::kNoSuchObject), 1);
  EXPECT_TRUE(s.instances.empty());
  const std::string text = exporter::KeepalivedProbeText(s, 0.0);
  EXPECT_NE(text.find("keepalived_up 0\n"), std::string::npos);
  EXPECT_EQ(text.find("keepalived_vrrp_state{"), std::string::npos);
}

TEST(KeepalivedCollector, TimeoutAndAuthenticationFailuresAreNotUp) {
  for (ErrorReason r : {ErrorReason::kTimeout, ErrorReason::kAuthentication}) {
    FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
    fake.Fail({1, 3}, SnmpError{r, "injected"});
    KeepalivedScrape s = Collect(fake);
    EXPECT_FALSE(s.up);
    EXPECT_EQ(Errors(s, r), 1) << ToString(r);
    EXPECT_NE(exporter::KeepalivedProbeText(s, 0.0).find(
                  "keepalived_scrape_errors{reason=\"" +
                  std::string(ToString(r)) + "\"} 1\n"),
              std::string::npos);
  }
}

TEST(KeepalivedCollector, AFailedTableLeavesTheOthers) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  fake.Fail(mib::kV3StatisticsEntry,
            SnmpError{ErrorReason::kTimeout, "injected"});
  KeepalivedScrape s = Collect(fake);
  EXPECT_TRUE(s.up);
  EXPECT_EQ(Errors(s, ErrorReason::kTimeout), 2);  // its two GETs
  ASSERT_EQ(s.instances.size(), 3u);
  for (const auto& i : s.instances) {
    EXPECT_FALSE(i.stats.has_value()) << i.name;
    EXPECT_EQ(i.state, 2) << i.name;
  }
}

TEST(KeepalivedCollector, ARowWithoutStateIsLeftOutAndCounted) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  fake.Remove(Append(mib::kInstanceEntry, {mib::kInstanceState, 2}));
  KeepalivedScrape s = Collect(fake);
  EXPECT_TRUE(s.up);
  EXPECT_EQ(Find(s, "VI_2"), nullptr);
  EXPECT_NE(Find(s, "VI_1"), nullptr);
  EXPECT_NE(Find(s, "VI_3"), nullptr);
  EXPECT_EQ(Errors(s, ErrorReason::kMalformed), 1);
}

TEST(KeepalivedCollector, MalformedCellsAreCountedNotTrusted) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  VarBind name;  // a name that is a number
  name.oid = Append(mib::kInstanceEntry, {mib::kInstanceName, 3});
  name.type = VarType::kInteger;
  name.number = 7;
  fake.Set(name);
  VarBind addr;  // five octets: no address family has those
  addr.oid = Append(mib::kAddressEntry, {mib::kAddressValue, 2, 1});
  addr.type = VarType::kOctetString;
  addr.bytes = std::string("\xc0\x00\x02\xc9\x01", 5);
  fake.Set(addr);
  VarBind prio;  // a priority as a string
  prio.oid = Append(mib::kInstanceEntry, {mib::kInstanceBasePriority, 1});
  prio.type = VarType::kOctetString;
  prio.bytes = "150";
  fake.Set(prio);
  KeepalivedScrape s = Collect(fake);
  EXPECT_TRUE(s.up);
  EXPECT_EQ(Find(s, "VI_3"), nullptr);
  ASSERT_NE(Find(s, "VI_2"), nullptr);
  EXPECT_TRUE(Find(s, "VI_2")->vips.empty());
  EXPECT_EQ(Find(s, "VI_1")->base_priority, 0);
  EXPECT_EQ(Errors(s, ErrorReason::kMalformed), 3);
}

TEST(KeepalivedCollector, WithoutVrrpv3EveryAddressIsAVip) {
  FakeSnmpSession fake = Recorded("keepalived-2.2.7-master");
  fake.Remove({1, 3, 6, 1, 2, 1, 207});
  KeepalivedScrape s = Collect(fake);
  EXPECT_TRUE(s.up);
  const auto* vi1 = Find(s, "VI_1");
  ASSERT_NE(vi1, nullptr);
  EXPECT_EQ(vi1->vips.size(), 2u);
  EXPECT_TRUE(vi1->excluded_vips.empty());
  EXPECT_FALSE(vi1->stats.has_value());
}

TEST(KeepalivedCollector, AnEmptyVersionReplyIsMalformed) {
  KeepalivedWalks w;
  w.version = Reply(VarBinds{});
  KeepalivedScrape s = JoinKeepalived(w);
  EXPECT_FALSE(s.up);
  EXPECT_EQ(Errors(s, ErrorReason::kMalformed), 1);
}

}  // namespace
}  // namespace vrrp::snmp
