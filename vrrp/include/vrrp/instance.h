#pragma once

// One virtual router: the RFC 5798 §6 state machine.
//
// It sees only inputs (Start, received advertisements, timer expiries through
// the Scheduler, link and tracker changes, Shutdown) and produces outputs
// through PacketIo and AddressManager, so conformance tests drive it with a
// fake clock and fake wire and compare what comes out.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/packet.h"
#include "vrrp/packet_io.h"
#include "vrrp/scheduler.h"
#include "vrrp/snapshot.h"
#include "vrrp/time.h"

namespace vrrp {

class Instance;

// What became of an advertisement that failed an instance-level check:
// dropped, or counted and still followed (a VRRPv3 interval or address-list
// difference, RFC 5798 §6.4.2 and §7.1, RFC 6527; a VRRPv2 owner's address
// list, RFC 3768 §7.1).
enum class ReceiveErrorAction : uint8_t { kDropped, kFollowed };

class InstanceObserver {
 public:
  virtual ~InstanceObserver() = default;
  virtual void OnTransition(const Instance& /*instance*/,
                            const Transition& /*transition*/) {}
  // How late the Adver_Timer fired (timer-lateness metric).
  virtual void OnAdvertTimerLateness(const Instance& /*instance*/,
                                     Duration /*lateness*/) {}
  // What a snapshot shows of the instance changed without a transition:
  // the master it follows or that master's priority or interval, a peer's
  // priority, interval or checksum form, a new peer.
  virtual void OnStatusChanged(const Instance& /*instance*/) {}
  // An advertisement failed an instance-level §7.1 check; `action` says
  // whether it was dropped or, counted, still followed.
  virtual void OnReceiveError(const Instance& /*instance*/,
                              ReceiveError /*error*/,
                              const IpAddress& /*source*/,
                              ReceiveErrorAction /*action*/) {}
};

// Skew_Time and Master_Down_Interval (§6.1), exact to the nanosecond.
Duration SkewTime(uint8_t priority, Duration master_adver_interval);
Duration MasterDownInterval(uint8_t priority, Duration master_adver_interval);

class Instance {
 public:
  Instance(InstanceConfig config, Scheduler& scheduler, PacketIo& io,
           AddressManager& addresses, InstanceObserver* observer = nullptr);
  // Shares `config` (never null) with whoever else keeps it: the speaker
  // and the exporter's snapshots point at the same immutable copy.
  Instance(std::shared_ptr<const InstanceConfig> config, Scheduler& scheduler,
           PacketIo& io, AddressManager& addresses,
           InstanceObserver* observer = nullptr);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // §6.4.1 Startup event.
  void Start();
  // §6.4.2 / §6.4.3 Shutdown event. `released` runs once the virtual
  // addresses are gone: at once in strict mode or when not Master; in
  // hitless mode when the new master is heard or the bound passes.
  void Shutdown(std::function<void()> released = {});

  // A datagram that passed DecodeAdvertisement, addressed to this VRID.
  void OnAdvertisement(const DecodedAdvertisement& decoded,
                       const IpAddress& source);
  // A packet-level error attributed to this instance by its VRID.
  void CountReceiveError(ReceiveError error);

  void SetLinkUp(bool up);
  // A tracker with weight 0 (or a sync group) demands Fault.
  void SetTrackerFault(bool fault);
  // Another member of the instance's sync group is in Fault for a reason of
  // its own: this one is held in Fault too (a separate cause, so trackers
  // and sync groups never clear each other's demand).
  void SetSyncGroupFault(bool fault);
  // In Fault (or would be, once started) for a cause other than its sync
  // group: what makes the rest of the group follow.
  bool HasOwnFault() const {
    return (fault_causes_ & static_cast<uint8_t>(~kFaultSyncGroup)) != 0;
  }
  // Sum of the weights of failing/succeeding trackers; effective priority is
  // base + delta clamped to 1..254 (the owner stays 255).
  void SetPriorityDelta(int delta);
  // A reload's new settings for the same virtual router, taken at once
  // with no transition. False, and nothing changes, when
  // InstanceConfig::RecreatedBy says it needs a new instance.
  // - priority, preempt, preempt_delay, accept, shutdown mode: read where
  //   they are used, from the next advertisement sent or heard;
  // - virtual addresses: while they are installed (Master, or a hitless
  //   release) the new ones are added and announced, alone, and the dropped
  //   ones removed; the advertisement carries the new list;
  // - advertisement interval: a master advertises at once with it, so that
  //   VRRPv3 backups learn it (§6.4.2) before they could time out, and
  //   keeps that cadence; a backup takes it where it is its own timer
  //   (VRRPv2, or no master heard yet) and re-arms Master_Down_Timer;
  // - VRRPv2 authentication: the next advertisement carries it.
  // The caller reconfigures the port (unicast peers, checksum form,
  // announcements) first, then calls this, which re-reads the source.
  bool Reconfigure(std::shared_ptr<const InstanceConfig> next);
  // Re-reads PacketIo::SourceAddress() (address added or removed).
  void SourceAddressChanged();

  const InstanceConfig& config() const { return *config_; }
  const std::shared_ptr<const InstanceConfig>& shared_config() const {
    return config_;
  }
  const std::string& name() const { return config_->name; }
  State state() const { return state_; }
  uint8_t effective_priority() const;
  InstanceStatus Status() const;
  // Overwrites `out` with the status, reusing what it already allocated
  // (the peers map's nodes, the name's buffer): the exporter refills the
  // same snapshot every 100 ms without allocating (issue 3's memory per
  // instance: the republish's allocations fragmented the heap).
  void StatusInto(InstanceStatus& out) const;
  const InstanceStats& stats() const { return *stats_; }
  // The same counters (and the Adver_Timer lateness histogram), for
  // readers on other threads (see LiveValue): snapshots share them.
  std::shared_ptr<const InstanceStats> shared_stats() const { return stats_; }

 private:
  enum FaultCause : uint8_t {
    kFaultLinkDown = 1,
    kFaultTracker = 2,
    kFaultNoSource = 4,
    kFaultSyncGroup = 8,
  };

  void TransitionTo(State to, TransitionReason reason,
                    std::optional<Duration> master_silence = std::nullopt);
  void BecomeMaster(TransitionReason reason,
                    std::optional<Duration> master_silence);
  void BecomeBackup(TransitionReason reason);
  void SendAdvertisement(uint8_t priority);
  void AddVirtualAddresses();
  void RemoveVirtualAddresses();
  void ArmMasterDownTimer(Duration after);
  void OnAdverTimer();
  void OnMasterDownTimer();
  void OnReleaseTimer();
  void FinishRelease();
  void UpdateFault(uint8_t cause, bool set, TransitionReason set_reason,
                   TransitionReason clear_reason);
  void EnterFault(TransitionReason reason);
  void StartFromInitialize(TransitionReason reason);
  void HandleAdvertisement(const DecodedAdvertisement& decoded,
                           const IpAddress& source);
  bool CheckAdvertisement(const DecodedAdvertisement& decoded,
                          const IpAddress& source);
  void RecordError(ReceiveError error, const IpAddress& source,
                   ReceiveErrorAction action = ReceiveErrorAction::kDropped);
  void RecordPeer(const DecodedAdvertisement& decoded, const IpAddress& source);
  // advert_ and expected_addresses_ from config_.
  void BuildAdvertisement();
  void ChangeAddresses(const std::vector<IpPrefix>& before);
  void ChangeInterval(Centiseconds before);
  bool PreemptAllowed(TimePoint now);

  // Immutable and shared (issue 3: one configuration copy per instance,
  // not one per holder).
  std::shared_ptr<const InstanceConfig> config_;
  Scheduler& scheduler_;
  PacketIo& io_;
  AddressManager& addresses_;
  InstanceObserver* observer_;

  State state_ = State::kInitialize;
  bool started_ = false;
  bool shut_down_ = false;
  uint8_t fault_causes_ = 0;
  int priority_delta_ = 0;
  Duration master_adver_interval_{0};
  std::optional<IpAddress> source_;
  std::optional<IpAddress> master_address_;
  uint8_t master_priority_ = 0;
  TimePoint last_master_advert_at_{};
  bool have_master_advert_ = false;
  // Why the Master_Down_Timer is running, so the takeover carries a reason.
  TransitionReason pending_takeover_reason_ =
      TransitionReason::kMasterDownTimer;
  // preempt_delay bookkeeping: when we started and when we first saw the
  // current lower-priority master.
  TimePoint started_at_{};
  std::optional<TimePoint> lower_master_since_;
  // Split-brain healing: the last re-announcement made because a
  // lower-priority master was heard.
  std::optional<TimePoint> last_heal_announce_;
  bool vips_installed_ = false;
  bool releasing_ = false;
  std::function<void()> released_;
  std::optional<Transition> last_transition_;
  std::shared_ptr<InstanceStats> stats_ = std::make_shared<InstanceStats>();
  std::map<IpAddress, PeerInfo> peers_;
  bool peers_changed_ = false;  // by the advertisement being handled

  // The advertisement we send, built once; only the priority changes.
  Advertisement advert_;
  std::vector<IpAddress> expected_addresses_;  // sorted, for §7.1
  TimePoint adver_deadline_{};

  std::unique_ptr<Timer> adver_timer_;
  std::unique_ptr<Timer> master_down_timer_;
  std::unique_ptr<Timer> release_timer_;
};

}  // namespace vrrp
