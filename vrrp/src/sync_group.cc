#include "vrrp/sync_group.h"

#include <algorithm>
#include <utility>

namespace vrrp {

SyncGroups::SyncGroups(Scheduler& scheduler, Lookup lookup,
                       OnGroupTransition on_transition)
    : scheduler_(scheduler),
      lookup_(std::move(lookup)),
      on_transition_(std::move(on_transition)),
      evaluate_(scheduler.CreateTimer([this] { Evaluate(); })) {}

SyncGroups::~SyncGroups() = default;

void SyncGroups::Configure(std::vector<SyncGroupConfig> groups) {
  std::vector<Group> next;
  std::map<std::string, size_t> group_of;
  for (auto& config : groups) {
    Group g;
    // A group that stays keeps its state, so a reload does not notify.
    for (const Group& old : groups_) {
      if (old.config.name == config.name) {
        g.state = old.state;
        g.transitions = old.transitions;
      }
    }
    for (const std::string& m : config.instances) {
      group_of[m] = next.size();
    }
    g.config = std::move(config);
    next.push_back(std::move(g));
  }
  for (const auto& [member, index] : group_of_) {
    if (!group_of.contains(member)) released_.push_back(member);
  }
  groups_ = std::move(next);
  group_of_ = std::move(group_of);
  pending_reason_.clear();
  evaluate_->ArmAt(scheduler_.Now());
}

void SyncGroups::OnTransition(const Instance& instance, const Transition& t) {
  auto it = group_of_.find(instance.name());
  if (it == group_of_.end()) return;
  // The first cause since the last evaluation names the group's reason.
  pending_reason_.try_emplace(
      it->second, instance.name() + ": " + std::string(ToString(t.reason)));
  if (!evaluate_->armed()) evaluate_->ArmAt(scheduler_.Now());
}

void SyncGroups::Evaluate() {
  evaluate_->Cancel();
  for (const std::string& name : released_) {
    if (Instance* i = lookup_(name)) i->SetSyncGroupFault(false);
  }
  released_.clear();
  auto reasons = std::move(pending_reason_);
  pending_reason_.clear();
  for (size_t index = 0; index < groups_.size(); ++index) {
    Group& g = groups_[index];
    std::vector<Instance*> members;
    g.faulted.clear();
    for (const std::string& name : g.config.instances) {
      Instance* i = lookup_(name);
      if (i == nullptr) continue;
      members.push_back(i);
      if (i->HasOwnFault()) g.faulted.push_back(name);
    }
    const bool group_fault = !g.faulted.empty();
    for (Instance* i : members) {
      // A member with a fault of its own is not held by the group, so the
      // moment its own fault clears it leaves Fault, transitions, and the
      // group is evaluated again.
      i->SetSyncGroupFault(group_fault && !i->HasOwnFault());
    }
    State state = State::kBackup;
    auto all = [&](State s) {
      return !members.empty() &&
             std::all_of(members.begin(), members.end(),
                         [s](const Instance* i) { return i->state() == s; });
    };
    if (std::any_of(members.begin(), members.end(), [](const Instance* i) {
          return i->state() == State::kFault;
        })) {
      state = State::kFault;
    } else if (all(State::kMaster)) {
      state = State::kMaster;
    } else if (members.empty() || all(State::kInitialize)) {
      state = State::kInitialize;
    }
    if (state == g.state) continue;
    GroupTransition t;
    t.from = g.state;
    t.to = state;
    t.at = scheduler_.Now();
    auto r = reasons.find(index);
    t.reason = r != reasons.end() ? r->second : "configuration";
    g.state = state;
    ++g.transitions;
    if (on_transition_) on_transition_(g.config, t);
  }
}

std::vector<SyncGroupStatus> SyncGroups::Status() const {
  std::vector<SyncGroupStatus> out;
  for (const Group& g : groups_) {
    SyncGroupStatus s;
    s.name = g.config.name;
    s.state = g.state;
    s.members = g.config.instances;
    s.faulted_members = g.faulted;
    s.transitions = g.transitions;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vrrp
