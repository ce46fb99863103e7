#pragma once

// Sync groups (Keepalived's vrrp_sync_group): instances that fail together.
//
// Our semantics, deliberately narrower than Keepalived's:
// - When a member is in Fault for a reason of its own (interface down,
//   tracker, no source address), every other member is held in Fault too
//   (Instance::SetSyncGroupFault, reason "sync-group"), and all of them come
//   back when no member has a fault of its own left. A member that is in
//   Fault only because of the group never holds the group: that is what
//   keeps a group from latching itself in Fault.
// - We do not force Backup / Master across the group. Keepalived does, and
//   that is where its pitfalls are: a member preempted by a peer drags the
//   others to Backup, they come back as Master after Master_Down_Interval,
//   and the group flaps; with a fault it needs its own escape hatches
//   (sync_group_tracking_weight). With Fault shared, the members of both
//   routers see the same health, so the protocol itself elects the same
//   router for all of them whenever priorities are configured alike.
// - The group has a state of its own for notifications and metrics: FAULT
//   if any member is in Fault, MASTER when every member is Master, STOP
//   (Initialize) when every member is, and BACKUP otherwise.
//
// Pure core logic on the Scheduler: re-evaluation is deferred to a timer
// due at once, so it never re-enters an instance from inside that
// instance's own transition.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/instance.h"
#include "vrrp/scheduler.h"
#include "vrrp/snapshot.h"

namespace vrrp {

class SyncGroups : public InstanceObserver {
 public:
  using Lookup = std::function<Instance*(const std::string& name)>;
  using OnGroupTransition =
      std::function<void(const SyncGroupConfig&, const GroupTransition&)>;

  SyncGroups(Scheduler& scheduler, Lookup lookup,
             OnGroupTransition on_transition);
  ~SyncGroups() override;

  // At start and on every reload. Members that left every group are
  // released from a group fault at the next evaluation.
  void Configure(std::vector<SyncGroupConfig> groups);

  void OnTransition(const Instance& instance,
                    const Transition& transition) override;

  // Re-evaluates now (the deferred timer runs this too).
  void Evaluate();

  std::vector<SyncGroupStatus> Status() const;

 private:
  struct Group {
    SyncGroupConfig config;
    State state = State::kInitialize;
    std::vector<std::string> faulted;
    uint64_t transitions = 0;
  };

  Scheduler& scheduler_;
  Lookup lookup_;
  OnGroupTransition on_transition_;
  std::vector<Group> groups_;
  std::map<std::string, size_t> group_of_;  // member name -> index
  std::vector<std::string> released_;  // members of groups no longer configured
  std::map<size_t, std::string> pending_reason_;
  std::unique_ptr<Timer> evaluate_;
};

}  // namespace vrrp
