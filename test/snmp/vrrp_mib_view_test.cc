// The subagent's objects, built from a hand-made snapshot: OIDs, types and
// values as RFC 6527 and KEEPALIVED-MIB define them (the lab test checks
// them again through snmpd).

#include "snmp/vrrp_mib_view.h"

#include <gtest/gtest.h>

#include "snmp/agentx_model.h"

namespace vrrp::snmp {
namespace {

Snapshot OneInstance(State state) {
  Snapshot s;
  InstanceSnapshot i;
  auto config = std::make_shared<InstanceConfig>();
  config->name = "web";
  config->interface = "eth0";
  config->vrid = 51;
  config->priority = 150;
  config->preempt = false;
  config->advert_interval = Centiseconds(100);
  config->virtual_addresses = {*IpPrefix::Parse("198.51.100.10/24"),
                               *IpPrefix::Parse("198.51.100.11/24")};
  i.config = config;
  i.status.name = "web";
  i.status.state = state;
  i.status.base_priority = 150;
  i.status.effective_priority = 140;
  i.status.advert_interval = Centiseconds(100);
  i.status.master_address = *IpAddress::Parse("192.0.2.1");
  if (state == State::kMaster) {
    i.status.last_transition = Transition{State::kBackup,
                                          State::kMaster,
                                          TransitionReason::kMasterDownTimer,
                                          {},
                                          std::nullopt};
  }
  auto stats = std::make_shared<InstanceStats>();
  stats->become_master = 3;
  stats->advertisements_received = 1ull << 40;  // needs 64 bits
  stats->receive_errors[static_cast<size_t>(ReceiveError::kIpTtl)] = 2;
  i.stats = stats;
  i.vip_present = {{config->virtual_addresses[0], true},
                   {config->virtual_addresses[1], false}};
  s.instances.push_back(std::move(i));
  s.interface_receive_errors["eth0"]
                            [static_cast<size_t>(ReceiveError::kChecksum)] = 5;
  return s;
}

const VarBind& At(const MibView& v, const std::string& oid) {
  auto it = v.find(ParseOid(oid).value());
  if (it == v.end()) throw std::runtime_error("no " + oid);
  return it->second;
}

TEST(VrrpMibView, Vrrpv3Rows) {
  const MibView v = BuildVrrpMibView(
      OneInstance(State::kMaster),
      [](const std::string& n) { return n == "eth0" ? 7 : 0; },
      "vrrp_exporter test");
  const std::string oper = "1.3.6.1.2.1.207.1.1.1.1.";
  const std::string idx = ".7.51.1";             // ifIndex.vrid.ipv4(1)
  EXPECT_EQ(At(v, oper + "6" + idx).number, 3);  // master(3)
  EXPECT_EQ(At(v, oper + "7" + idx).number, 140);
  EXPECT_EQ(At(v, oper + "7" + idx).type, VarType::kGauge32);
  EXPECT_EQ(At(v, oper + "8" + idx).number, 2);
  EXPECT_EQ(At(v, oper + "9" + idx).number, 100);  // centiseconds
  EXPECT_EQ(At(v, oper + "10" + idx).number, 2);   // preempt false(2)
  EXPECT_EQ(At(v, oper + "3" + idx).bytes, std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(At(v, oper + "5" + idx).bytes,
            std::string("\x00\x00\x5e\x00\x01\x33", 6));
  // Associated addresses: the index carries the address's length octet.
  EXPECT_EQ(At(v, "1.3.6.1.2.1.207.1.1.2.1.2.7.51.1.4.198.51.100.11").number,
            1);
  const std::string stats = "1.3.6.1.2.1.207.1.2.5.1.";
  EXPECT_EQ(At(v, stats + "1" + idx).number, 3);
  EXPECT_EQ(At(v, stats + "1" + idx).type, VarType::kCounter32);
  EXPECT_EQ(At(v, stats + "2" + idx).number, 3);  // masterNoResponse
  EXPECT_EQ(At(v, stats + "3" + idx).number, int64_t{1} << 40);
  EXPECT_EQ(At(v, stats + "3" + idx).type, VarType::kCounter64);
  EXPECT_EQ(At(v, stats + "5" + idx).number, 2);
  EXPECT_EQ(At(v, stats + "6" + idx).number, 1);          // ipTtlError
  EXPECT_EQ(At(v, "1.3.6.1.2.1.207.1.2.1.0").number, 5);  // checksum errors
}

TEST(VrrpMibView, KeepalivedColumnsWithItsNumbering) {
  const MibView v = BuildVrrpMibView(
      OneInstance(State::kBackup), [](const std::string&) { return 2; },
      "vrrp_exporter test");
  const std::string k = "1.3.6.1.4.1.9586.100.5.2.3.1.";
  EXPECT_EQ(At(v, k + "2.1").bytes, "web");
  EXPECT_EQ(At(v, k + "3.1").number, 51);
  EXPECT_EQ(At(v, k + "4.1").number, 1);  // VrrpState backup(1)
  EXPECT_EQ(At(v, k + "7.1").number, 150);
  EXPECT_EQ(At(v, k + "8.1").number, 140);
  EXPECT_EQ(At(v, k + "9.1").number, 2);  // one VIP missing: notAllSet
  EXPECT_EQ(At(v, k + "10.1").bytes, "eth0");
  EXPECT_EQ(At(v, k + "12.1").number, 100);  // VRRPv3: centiseconds
  EXPECT_EQ(At(v, k + "30.1").number, 3);
  EXPECT_EQ(At(v, "1.3.6.1.4.1.9586.100.5.1.1.0").bytes, "vrrp_exporter test");
  // Backup: NewMasterReason notMaster(0), the RFC status backup(2).
  EXPECT_EQ(At(v, "1.3.6.1.2.1.207.1.2.5.1.2.2.51.1").number, 0);
  EXPECT_EQ(At(v, "1.3.6.1.2.1.207.1.1.1.1.6.2.51.1").number, 2);
}

TEST(VrrpMibView, EveryObjectIsUnderARegisteredRoot) {
  const MibView v = BuildVrrpMibView(
      OneInstance(State::kMaster), [](const std::string&) { return 2; }, "x");
  for (const auto& [oid, b] : v) {
    EXPECT_TRUE(HasPrefix(oid, kVrrpv3MibObjects) ||
                HasPrefix(oid, kKeepalivedVersion) ||
                HasPrefix(oid, kKeepalivedInstanceTable))
        << ToString(oid);
    EXPECT_EQ(oid, b.oid);
  }
}

// Notifications come from comparing snapshots: none on the first look (the
// baseline), vrrpv3NewMaster when become_master moved and the instance is
// Master, vrrpv3ProtoError when its TTL errors moved.
TEST(AgentXModel, NotificationsFromSnapshotChanges) {
  auto current = std::make_shared<Snapshot>(OneInstance(State::kBackup));
  AgentXModel model([&] { return std::shared_ptr<const Snapshot>(current); },
                    "x", [](const std::string&) { return 2; });
  EXPECT_TRUE(model.Poll().empty());  // baseline
  EXPECT_TRUE(model.Poll().empty());  // nothing moved

  auto next = std::make_shared<Snapshot>(OneInstance(State::kMaster));
  auto moved = std::make_shared<InstanceStats>(*next->instances[0].stats);
  moved->become_master = 4;
  next->instances[0].stats = moved;
  current = next;
  auto n = model.Poll();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].trap, kVrrpv3NewMaster);
  ASSERT_EQ(n[0].objects.size(), 2u);
  EXPECT_EQ(ToString(n[0].objects[0].oid), "1.3.6.1.2.1.207.1.1.1.1.3.2.51.1");
  EXPECT_EQ(n[0].objects[0].bytes, std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(n[0].objects[1].number, 3);  // masterNoResponse
  EXPECT_TRUE(model.Poll().empty());

  auto ttl = std::make_shared<Snapshot>(OneInstance(State::kMaster));
  auto errors = std::make_shared<InstanceStats>(*moved);
  errors->receive_errors[static_cast<size_t>(ReceiveError::kIpTtl)] = 7;
  ttl->instances[0].stats = errors;
  current = ttl;
  n = model.Poll();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].trap, kVrrpv3ProtoError);
  ASSERT_EQ(n[0].objects.size(), 1u);
  EXPECT_EQ(n[0].objects[0].number, 1);  // ipTtlError
}

// The view follows the snapshot the exporter publishes.
TEST(AgentXModel, ViewFollowsTheNewestSnapshot) {
  auto current = std::make_shared<Snapshot>(OneInstance(State::kBackup));
  AgentXModel model([&] { return std::shared_ptr<const Snapshot>(current); },
                    "x", [](const std::string&) { return 2; });
  const Oid status = ParseOid("1.3.6.1.2.1.207.1.1.1.1.6.2.51.1").value();
  EXPECT_EQ(model.View()->at(status).number, 2);
  current = std::make_shared<Snapshot>(OneInstance(State::kMaster));
  EXPECT_EQ(model.View()->at(status).number, 3);
}

}  // namespace
}  // namespace vrrp::snmp
