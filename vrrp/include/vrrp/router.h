#pragma once

// The router: every configured instance with its sync groups and tracking,
// above a LinkLayer. It decodes received datagrams and hands each to the
// instances of its (interface, family, VRID), counting what it refuses;
// creates, reloads (in place where it can), releases and shuts down
// instances; removes addresses a killed run left; puts back an address
// removed from under a master; and fills the snapshot from the state it
// holds. No Linux headers: tests drive it with FakeLinkLayer and the fake
// clock.

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/instance.h"
#include "vrrp/link_layer.h"
#include "vrrp/log.h"
#include "vrrp/scheduler.h"
#include "vrrp/snapshot.h"
#include "vrrp/sync_group.h"
#include "vrrp/tracker.h"

namespace vrrp {

// Passes every event to each observer in turn.
class ObserverFanout : public InstanceObserver {
 public:
  explicit ObserverFanout(std::vector<InstanceObserver*> to)
      : to_(std::move(to)) {}
  void OnTransition(const Instance& i, const Transition& t) override {
    for (auto* o : to_) o->OnTransition(i, t);
  }
  void OnAdvertTimerLateness(const Instance& i, Duration d) override {
    for (auto* o : to_) o->OnAdvertTimerLateness(i, d);
  }
  void OnReceiveError(const Instance& i, ReceiveError e, const IpAddress& s,
                      ReceiveErrorAction action) override {
    for (auto* o : to_) o->OnReceiveError(i, e, s, action);
  }
  void OnStatusChanged(const Instance& i) override {
    for (auto* o : to_) o->OnStatusChanged(i);
  }

 private:
  std::vector<InstanceObserver*> to_;
};

struct ReloadSummary {
  int kept = 0;     // unchanged, or changed in place
  int updated = 0;  // of those kept, the ones whose settings changed
  int created = 0;
  int recreated = 0;
  int removed = 0;
};

class Router {
 public:
  struct Options {
    // The daemon's observer (logs, hooks); may be null.
    InstanceObserver* observer = nullptr;
    LogFn log;
    SyncGroups::OnGroupTransition on_group_transition;
    // Something a snapshot shows changed (a transition, reload, address or
    // link event, a tracker): the caller republishes (coalesced).
    std::function<void()> on_change;
    // Wall-clock time for the snapshot's Unix timestamps; the core's clock
    // is the Scheduler's, which is monotonic.
    std::function<double()> unix_now;
  };

  Router(Scheduler& scheduler, LinkLayer& links, Options options);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Trackers' verdicts; null: no tracking. Call TrackingChanged() whenever
  // they change.
  void SetTracking(const TrackingSource* tracking) { tracking_ = tracking; }
  void TrackingChanged();

  // Creates and starts every instance. Instances whose interface is missing
  // start in Fault and come up when it appears.
  void Start(const Config& config);
  // Applies `config`: an instance whose interface, VRID, family, version,
  // owner status or virtual MAC changed is released and then re-created;
  // any other change is applied to the running instance with no
  // transition (see Instance::Reconfigure).
  ReloadSummary Reload(const Config& config);
  // Shuts every instance down (§6.4 Shutdown); `done` runs once all have
  // released their addresses and the virtual MACs are gone.
  void Shutdown(std::function<void()> done);

  // The running (not releasing) instance called `name`, or null.
  Instance* Find(const std::string& name);
  // Each instance, releasing ones too, oldest first.
  void ForEachInstance(const std::function<void(const Instance&)>& fn) const;
  size_t size() const { return members_.size(); }

  // Fills `out`'s instances, receive errors and sync groups. Trackers,
  // notifications and I/O errors are the caller's to add.
  void FillSnapshot(Snapshot& out) const;
  // A new list of the instances as they are now (the slowly changing part;
  // their counters and lateness are shared live). Rebuild it when
  // Options::on_change says something changed.
  void FillInstances(InstanceList& out) const;
  // What is not per instance: receive errors by interface, sync groups.
  void FillSharedState(Snapshot& out) const;

  // Datagrams refused before reaching any instance, by interface.
  const std::map<std::string, std::array<uint64_t, kReceiveErrorCount>>&
  receive_errors() const {
    return receive_errors_;
  }

  // LinkLayer inputs, public for tests that inject without a link layer.
  void OnDatagram(const std::string& interface, Family family,
                  std::span<const uint8_t> message, const DatagramInfo& info);
  void OnMalformed(const std::string& interface, ReceiveError error);
  void OnLink(const std::string& interface);
  void OnAddresses(const std::string& interface);

  struct Member;

 private:
  class Metrics;

  Member& Create(std::shared_ptr<const InstanceConfig> config);
  void StartMember(Member& m);
  void StartPending(Member& m);
  void RefreshMember(Member& m);
  void EnsureVirtualMac(Member& m);
  void UpdateLink(Member& m);
  void ApplyTracking(Member& m);
  // A non-owner starts as Backup (§6.4.1), which must not answer for the
  // virtual addresses (§6.4.2): any already on its interface are a killed
  // run's, and are removed.
  void RemoveLeftoverAddresses(Member& m);
  void RemoveLeftoverVirtualMacAddresses(Member& m);
  // A master's virtual address removed from under it is added again.
  void RestoreRemovedAddresses(Member& m, const std::string& interface);
  // Shuts `m` down; once it has released its addresses, destroys it and
  // creates and starts `successor` (a reload's re-created instance).
  void Release(Member& m, std::shared_ptr<const InstanceConfig> successor);
  void FinishRelease(Member* m,
                     std::shared_ptr<const InstanceConfig> successor);
  void Destroy(Member* m);
  // Runs `task` from the scheduler at the next turn (zero-delay timer).
  void Defer(std::function<void()> task);
  bool SharesVirtualMac(const Member& m) const;
  // True when the instance kept running (unchanged or changed in place).
  bool ReloadInPlace(Member& m, const InstanceConfig& next);
  void Changed() const;
  void Log(LogLevel level, const std::string& message) const;

  Scheduler& scheduler_;
  LinkLayer& links_;
  Options options_;
  const TrackingSource* tracking_ = nullptr;
  std::unique_ptr<Metrics> metrics_;
  SyncGroups groups_;
  std::unique_ptr<InstanceObserver> change_observer_;
  ObserverFanout fanout_;
  std::vector<std::unique_ptr<Member>> members_;
  // (interface, family, vrid) -> instances, releasing ones included, in the
  // order they were created: a sorted vector of 16-byte entries, with the
  // interface as an index into interface_names_ (a map node with the name
  // in its key was ~130 bytes per instance).
  struct DemuxKey {
    uint16_t interface;
    Family family;
    uint8_t vrid;
    auto operator<=>(const DemuxKey&) const = default;
  };
  struct DemuxEntry {
    DemuxKey key;
    Member* member;
  };
  uint16_t InterfaceId(const std::string& name);
  DemuxKey KeyOf(const InstanceConfig& config);
  const std::vector<Member*>& Targets(const std::string& interface,
                                      Family family, uint8_t vrid);
  std::vector<DemuxEntry> demux_;
  std::vector<std::string> interface_names_;
  std::vector<Member*> targets_;  // Targets()' result, reused
  std::map<std::string, std::array<uint64_t, kReceiveErrorCount>>
      receive_errors_;
  std::vector<std::function<void()>> deferred_;
  std::unique_ptr<Timer> deferred_timer_;
  bool shutting_down_ = false;
};

}  // namespace vrrp
