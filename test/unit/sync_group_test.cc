// Sync groups on the fake clock: two routers, each with two instances on
// two segments; router 1's instances form a group.

#include "vrrp/sync_group.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"

namespace vrrp::testing {
namespace {

using std::chrono::seconds;

InstanceConfig Config(const std::string& name, uint8_t vrid, uint8_t priority) {
  InstanceConfig c;
  c.name = name;
  c.interface = "eth0";
  c.vrid = vrid;
  c.priority = priority;
  c.advert_interval = Centiseconds(100);
  c.virtual_addresses = {
      *IpPrefix::Parse("198.51.100." + std::to_string(vrid) + "/24")};
  return c;
}

struct Lab {
  Lab() {
    groups = std::make_unique<SyncGroups>(
        clock,
        [this](const std::string& name) -> Instance* {
          if (name == "web") return r1_web->instance.get();
          if (name == "db") return r1_db->instance.get();
          return nullptr;
        },
        [this](const SyncGroupConfig& g, const GroupTransition& t) {
          seen.push_back(g.name + " " + std::string(ToString(t.from)) + "->" +
                         std::string(ToString(t.to)) + " (" + t.reason + ")");
        });
    r1_web = std::make_unique<SimRouter>(wire, "r1-web", "lan-web",
                                         *IpAddress::Parse("192.0.2.1"),
                                         Config("web", 1, 200), groups.get());
    r1_db = std::make_unique<SimRouter>(wire, "r1-db", "lan-db",
                                        *IpAddress::Parse("192.0.2.1"),
                                        Config("db", 2, 200), groups.get());
    r2_web = std::make_unique<SimRouter>(wire, "r2-web", "lan-web",
                                         *IpAddress::Parse("192.0.2.2"),
                                         Config("web", 1, 100));
    r2_db = std::make_unique<SimRouter>(wire, "r2-db", "lan-db",
                                        *IpAddress::Parse("192.0.2.2"),
                                        Config("db", 2, 100));
    SyncGroupConfig g;
    g.name = "pair";
    g.instances = {"web", "db"};
    groups->Configure({g});
  }
  void StartAll() {
    for (auto* r : {r1_web.get(), r1_db.get(), r2_web.get(), r2_db.get()}) {
      r->instance->Start();
    }
  }
  void LinkDown(SimRouter& r, bool down) {
    r.port->SetLinkUp(!down);
    r.instance->SetLinkUp(!down);
  }
  State GroupState() const { return groups->Status().at(0).state; }

  FakeScheduler clock;
  FakeWire wire{clock};
  std::unique_ptr<SyncGroups> groups;
  std::unique_ptr<SimRouter> r1_web, r1_db, r2_web, r2_db;
  std::vector<std::string> seen;
};

TEST(SyncGroups, AMemberInFaultTakesTheGroupToFaultAndBack) {
  Lab lab;
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  ASSERT_EQ(lab.r1_web->instance->state(), State::kMaster);
  ASSERT_EQ(lab.r1_db->instance->state(), State::kMaster);
  EXPECT_EQ(lab.GroupState(), State::kMaster);

  // web's interface fails: db follows it into Fault, and router 2 takes
  // over both, not just web.
  lab.seen.clear();
  lab.LinkDown(*lab.r1_web, true);
  lab.clock.RunDue();
  EXPECT_EQ(lab.r1_web->instance->state(), State::kFault);
  EXPECT_EQ(lab.r1_db->instance->state(), State::kFault);
  EXPECT_EQ(lab.r1_db->instance->Status().last_transition->reason,
            TransitionReason::kSyncGroup);
  EXPECT_TRUE(lab.r1_web->instance->HasOwnFault());
  EXPECT_FALSE(lab.r1_db->instance->HasOwnFault());
  EXPECT_EQ(lab.groups->Status()[0].faulted_members,
            std::vector<std::string>{"web"});
  lab.clock.Advance(seconds(5));
  EXPECT_EQ(lab.r2_web->instance->state(), State::kMaster);
  EXPECT_EQ(lab.r2_db->instance->state(), State::kMaster);
  EXPECT_EQ(
      lab.seen,
      (std::vector<std::string>{"pair Master->Fault (web: interface-down)"}));

  // The link returns: both leave Fault, and preempt back to Master.
  lab.LinkDown(*lab.r1_web, false);
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.r1_web->instance->state(), State::kMaster);
  EXPECT_EQ(lab.r1_db->instance->state(), State::kMaster);
  EXPECT_EQ(lab.r2_db->instance->state(), State::kBackup);
  EXPECT_EQ(lab.GroupState(), State::kMaster);
  ASSERT_GE(lab.seen.size(), 2u);
  EXPECT_EQ(lab.seen[1], "pair Fault->Backup (web: interface-up)");
  EXPECT_EQ(lab.seen.back(), "pair Backup->Master (web: lower-priority-master)")
      << ::testing::PrintToString(lab.seen);
}

TEST(SyncGroups, OnlyOwnFaultsHoldTheGroup) {
  Lab lab;
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  // Both fail on their own; web recovers first but db still holds it.
  lab.LinkDown(*lab.r1_web, true);
  lab.LinkDown(*lab.r1_db, true);
  lab.clock.RunDue();
  lab.LinkDown(*lab.r1_web, false);
  lab.clock.Advance(seconds(5));
  EXPECT_EQ(lab.r1_web->instance->state(), State::kFault);
  EXPECT_FALSE(lab.r1_web->instance->HasOwnFault());
  EXPECT_EQ(lab.GroupState(), State::kFault);
  // db recovers: nothing of its own is left anywhere, so both come back
  // (a member held only by the group never latches the group in Fault).
  lab.LinkDown(*lab.r1_db, false);
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.r1_web->instance->state(), State::kMaster);
  EXPECT_EQ(lab.r1_db->instance->state(), State::kMaster);
  EXPECT_EQ(lab.GroupState(), State::kMaster);
}

TEST(SyncGroups, BackupIsNotForcedAcrossTheGroup) {
  Lab lab;
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  // Router 2's web gets a higher priority by reconfiguration and preempts:
  // only web moves, and the group reports the mixed state as Backup.
  lab.r2_web->instance->SetPriorityDelta(120);
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.r1_web->instance->state(), State::kBackup);
  EXPECT_EQ(lab.r1_db->instance->state(), State::kMaster);
  EXPECT_EQ(lab.GroupState(), State::kBackup);
}

// The same with the group's first member still Master: the group is Master
// only when every member is.
TEST(SyncGroups, OneMasterIsNotAMasterGroup) {
  Lab lab;
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  lab.r2_db->instance->SetPriorityDelta(120);
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.r1_web->instance->state(), State::kMaster);
  EXPECT_EQ(lab.r1_db->instance->state(), State::kBackup);
  EXPECT_EQ(lab.GroupState(), State::kBackup);
}

TEST(SyncGroups, LeavingTheGroupReleasesAHeldMember) {
  Lab lab;
  lab.StartAll();
  lab.clock.Advance(seconds(10));
  lab.LinkDown(*lab.r1_web, true);
  lab.clock.RunDue();
  ASSERT_EQ(lab.r1_db->instance->state(), State::kFault);
  lab.groups->Configure({});  // reload without the group
  lab.clock.Advance(seconds(10));
  EXPECT_EQ(lab.r1_db->instance->state(), State::kMaster);
  EXPECT_TRUE(lab.groups->Status().empty());
}

}  // namespace
}  // namespace vrrp::testing
