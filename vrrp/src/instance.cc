#include "vrrp/instance.h"

#include <algorithm>

namespace vrrp {

namespace {

// A master re-announces when it hears a lower-priority master (split brain
// healing, VRRP-NOTES.md), at most this often.
constexpr Duration kHealAnnounceGap = std::chrono::seconds(1);
// Peers remembered per instance; bounded because sources are untrusted.
constexpr size_t kMaxPeers = 64;
// Hitless shutdown: how long the leaving master still answers for its
// addresses after hearing the new master. The new master's gratuitous ARP /
// NA follows its first advertisement by a fraction of a millisecond (it
// installs the addresses in between); releasing on the advertisement itself
// lost the occasional client packet in that gap (bench/failover). Two hosts
// answering for an address for this long is harmless.
constexpr Duration kReleaseGrace = std::chrono::milliseconds(20);

}  // namespace

Duration SkewTime(uint8_t priority, Duration master_adver_interval) {
  // §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
  return master_adver_interval * (256 - priority) / 256;
}

Duration MasterDownInterval(uint8_t priority, Duration master_adver_interval) {
  // §6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_time.
  return 3 * master_adver_interval + SkewTime(priority, master_adver_interval);
}

Instance::Instance(InstanceConfig config, Scheduler& scheduler, PacketIo& io,
                   AddressManager& addresses, InstanceObserver* observer)
    : Instance(std::make_shared<const InstanceConfig>(std::move(config)),
               scheduler, io, addresses, observer) {}

Instance::Instance(std::shared_ptr<const InstanceConfig> config,
                   Scheduler& scheduler, PacketIo& io,
                   AddressManager& addresses, InstanceObserver* observer)
    : config_(std::move(config)),
      scheduler_(scheduler),
      io_(io),
      addresses_(addresses),
      observer_(observer),
      master_adver_interval_(config_->advert_interval) {
  adver_timer_ = scheduler_.CreateTimer([this] { OnAdverTimer(); });
  master_down_timer_ = scheduler_.CreateTimer([this] { OnMasterDownTimer(); });
  BuildAdvertisement();
}

void Instance::BuildAdvertisement() {
  advert_.version = config_->version;
  advert_.vrid = config_->vrid;
  advert_.max_adver_interval = config_->advert_interval;
  advert_.addresses.clear();
  for (const auto& vip : config_->virtual_addresses) {
    advert_.addresses.push_back(vip.address);
  }
  advert_.auth_type = AuthType::kNone;
  advert_.auth_data = {};
  if (config_->version == Version::kV2) {
    advert_.auth_type = config_->auth_type;
    if (config_->auth_type == AuthType::kSimplePassword) {
      // RFC 3768 §5.3.10: the password, zero-padded to 8 octets.
      std::copy_n(config_->auth_password.begin(),
                  std::min<size_t>(config_->auth_password.size(), 8),
                  advert_.auth_data.begin());
    }
  }
  expected_addresses_ = advert_.addresses;
  std::sort(expected_addresses_.begin(), expected_addresses_.end());
}

Instance::~Instance() = default;

uint8_t Instance::effective_priority() const {
  if (config_->is_owner()) return 255;
  return static_cast<uint8_t>(std::clamp(
      static_cast<int>(config_->priority) + priority_delta_, 1, 254));
}

void Instance::Start() {
  if (started_ || shut_down_) return;
  started_ = true;
  started_at_ = scheduler_.Now();
  source_ = io_.SourceAddress();
  if (!source_) fault_causes_ |= kFaultNoSource;
  if (fault_causes_ == 0) {
    StartFromInitialize(TransitionReason::kStartup);
    return;
  }
  TransitionReason why = TransitionReason::kNoSourceAddress;
  if (fault_causes_ & kFaultLinkDown) {
    why = TransitionReason::kInterfaceDown;
  } else if (fault_causes_ & kFaultTracker) {
    why = TransitionReason::kTracker;
  } else if (fault_causes_ & kFaultSyncGroup) {
    why = TransitionReason::kSyncGroup;
  }
  TransitionTo(State::kFault, why);
}

void Instance::StartFromInitialize(TransitionReason reason) {
  // §6.4.1.
  master_adver_interval_ = config_->advert_interval;
  master_address_.reset();
  master_priority_ = 0;
  have_master_advert_ = false;
  lower_master_since_.reset();
  if (config_->is_owner()) {
    BecomeMaster(reason, std::nullopt);
    return;
  }
  pending_takeover_reason_ = TransitionReason::kMasterDownTimer;
  ArmMasterDownTimer(
      MasterDownInterval(effective_priority(), master_adver_interval_));
  TransitionTo(State::kBackup, reason);
}

void Instance::Shutdown(std::function<void()> released) {
  if (shut_down_) {
    if (released) released();
    return;
  }
  shut_down_ = true;
  const State was = state_;
  master_down_timer_->Cancel();
  adver_timer_->Cancel();
  if (!started_ || was == State::kInitialize) {
    if (released) released();
    return;
  }
  if (was != State::kMaster) {
    TransitionTo(State::kInitialize, TransitionReason::kShutdown);
    if (released) released();
    return;
  }
  // §6.4.3 Shutdown: cancel the Adver_Timer, send priority 0.
  io_.StopAnnouncing();
  SendAdvertisement(0);
  ++stats_->release_master;
  if (config_->shutdown_mode == ShutdownMode::kStrict) {
    RemoveVirtualAddresses();
    TransitionTo(State::kInitialize, TransitionReason::kShutdown);
    if (released) released();
    return;
  }
  // Hitless: keep answering for the addresses until the new master is heard.
  // A backup of priority 1 waits the longest, Skew_Time(1) after our
  // priority 0; one more interval covers its advertisement's flight.
  releasing_ = true;
  released_ = std::move(released);
  // Created here, not with the instance: only a hitless shutdown needs it,
  // and each timer is heap kept per instance (issue 3: bytes per instance).
  if (!release_timer_) {
    release_timer_ = scheduler_.CreateTimer([this] { OnReleaseTimer(); });
  }
  release_timer_->ArmAt(scheduler_.Now() +
                        SkewTime(1, config_->advert_interval) +
                        Duration(config_->advert_interval));
  TransitionTo(State::kInitialize, TransitionReason::kShutdown);
}

void Instance::OnReleaseTimer() { FinishRelease(); }

void Instance::FinishRelease() {
  if (!releasing_) return;
  releasing_ = false;
  if (release_timer_) release_timer_->Cancel();
  RemoveVirtualAddresses();
  if (auto done = std::move(released_)) {
    released_ = nullptr;
    done();
  }
}

void Instance::CountReceiveError(ReceiveError error) {
  ++stats_->receive_errors[static_cast<size_t>(error)];
}

void Instance::RecordError(ReceiveError error, const IpAddress& source,
                           ReceiveErrorAction action) {
  CountReceiveError(error);
  if (observer_) observer_->OnReceiveError(*this, error, source, action);
}

bool Instance::CheckAdvertisement(const DecodedAdvertisement& decoded,
                                  const IpAddress& source) {
  const Advertisement& adv = decoded.advertisement;
  // §7.1 checks that need this router's configuration.
  if (adv.version != config_->version) {
    RecordError(ReceiveError::kVersionMismatch, source);
    return false;
  }
  if (config_->is_owner()) {
    RecordError(ReceiveError::kOwnerReceived, source);
    return false;
  }
  if (config_->unicast &&
      std::find(config_->unicast->peers.begin(), config_->unicast->peers.end(),
                source) == config_->unicast->peers.end()) {
    RecordError(ReceiveError::kUnicastPeer, source);
    return false;
  }
  // §7.1's TTL 255 (DecodeAdvertisement checks it for the multicast group).
  // A listed unicast peer is exempt, as in Keepalived (which checks only
  // when given min_ttl/max_ttl): it may be routed, and Keepalived sends
  // IPv6 unicast with hop limit 64 by default. Anything else sent to us by
  // unicast must still come from the link.
  if (decoded.ttl != kVrrpTtl && !config_->unicast) {
    RecordError(ReceiveError::kIpTtl, source);
    return false;
  }
  if (config_->version == Version::kV2) {
    // RFC 3768 §7.1: authentication, then the interval must match ours.
    if (adv.auth_type != config_->auth_type) {
      RecordError(ReceiveError::kAuthTypeMismatch, source);
      return false;
    }
    if (adv.auth_type == AuthType::kSimplePassword &&
        adv.auth_data != advert_.auth_data) {
      RecordError(ReceiveError::kAuthFailure, source);
      return false;
    }
    if (adv.max_adver_interval != config_->advert_interval) {
      RecordError(ReceiveError::kAdvInterval, source);
      return false;
    }
  } else if (adv.priority != 0 &&
             adv.max_adver_interval != config_->advert_interval) {
    // RFC 6527 counts it; RFC 5798 §6.4.2 has the backup learn it anyway.
    RecordError(ReceiveError::kAdvInterval, source,
                ReceiveErrorAction::kFollowed);
  }
  if (adv.addresses.size() != expected_addresses_.size() ||
      !std::is_permutation(adv.addresses.begin(), adv.addresses.end(),
                           expected_addresses_.begin())) {
    // v3 only logs; v2 drops unless the sender is the owner (RFC 3768 §7.1).
    const bool drop = config_->version == Version::kV2 && adv.priority != 255;
    RecordError(
        ReceiveError::kAddressList, source,
        drop ? ReceiveErrorAction::kDropped : ReceiveErrorAction::kFollowed);
    if (drop) return false;
  }
  return true;
}

void Instance::RecordPeer(const DecodedAdvertisement& decoded,
                          const IpAddress& source) {
  if (decoded.checksum_form == ChecksumForm::kWithPseudoHeader) {
    ++stats_->received_with_pseudo_header;
  } else {
    ++stats_->received_without_pseudo_header;
  }
  auto it = peers_.find(source);
  if (it == peers_.end()) {
    if (peers_.size() >= kMaxPeers) {
      peers_.erase(std::min_element(
          peers_.begin(), peers_.end(), [](const auto& a, const auto& b) {
            return a.second.last_seen < b.second.last_seen;
          }));
    }
    it = peers_.emplace(source, PeerInfo{}).first;
    peers_changed_ = true;
  }
  PeerInfo& p = it->second;
  if (p.priority != decoded.advertisement.priority ||
      p.advert_interval != decoded.advertisement.max_adver_interval ||
      p.checksum_form != decoded.checksum_form) {
    peers_changed_ = true;
  }
  p.priority = decoded.advertisement.priority;
  p.advert_interval = decoded.advertisement.max_adver_interval;
  p.checksum_form = decoded.checksum_form;
  p.last_seen = scheduler_.Now();
  ++p.advertisements;
}

bool Instance::PreemptAllowed(TimePoint now) {
  // preempt_delay (Keepalived): a lower-priority master is preempted only
  // once we have been up for the delay and have heard that master
  // continuously for the delay. Until then its advertisements are accepted.
  if (config_->preempt_delay <= Duration::zero()) return true;
  if (!lower_master_since_) lower_master_since_ = now;
  return now >= started_at_ + config_->preempt_delay &&
         now >= *lower_master_since_ + config_->preempt_delay;
}

void Instance::OnAdvertisement(const DecodedAdvertisement& decoded,
                               const IpAddress& source) {
  const std::optional<IpAddress> master = master_address_;
  const uint8_t master_priority = master_priority_;
  const Duration master_interval = master_adver_interval_;
  peers_changed_ = false;
  HandleAdvertisement(decoded, source);
  // Transitions republish on their own; this is for what changes without.
  if (observer_ && (peers_changed_ || master != master_address_ ||
                    master_priority != master_priority_ ||
                    master_interval != master_adver_interval_)) {
    observer_->OnStatusChanged(*this);
  }
}

void Instance::HandleAdvertisement(const DecodedAdvertisement& decoded,
                                   const IpAddress& source) {
  const Advertisement& adv = decoded.advertisement;
  if (releasing_) {
    // Hitless shutdown: the first advertisement of a new master ends it,
    // after a short grace for its announcements to reach the clients. Only
    // one that passes the §7.1 checks: a misconfigured router (another
    // version, password or peer list) is no master the backups follow, and
    // letting go for it would leave the address to nobody.
    if (adv.priority != 0 && adv.vrid == config_->vrid &&
        (!source_ || source != *source_) &&
        CheckAdvertisement(decoded, source)) {
      const TimePoint at = scheduler_.Now() + kReleaseGrace;
      if (at < release_timer_->deadline()) release_timer_->ArmAt(at);
    }
    return;
  }
  if (!started_ || shut_down_ || state_ == State::kInitialize ||
      state_ == State::kFault) {
    return;
  }
  if (source_ && source == *source_) return;  // our own, looped back
  if (!CheckAdvertisement(decoded, source)) return;
  ++stats_->advertisements_received;
  RecordPeer(decoded, source);
  const TimePoint now = scheduler_.Now();
  const uint8_t ours = effective_priority();
  if (adv.priority == 0) ++stats_->priority_zero_received;

  if (state_ == State::kBackup) {
    // §6.4.2.
    if (adv.priority == 0) {
      pending_takeover_reason_ = TransitionReason::kPriorityZeroReceived;
      last_master_advert_at_ = now;
      have_master_advert_ = true;
      master_priority_ = 0;
      ArmMasterDownTimer(SkewTime(ours, master_adver_interval_));
      return;
    }
    const bool lower = config_->preempt && adv.priority < ours;
    if (!lower || !PreemptAllowed(now)) {
      if (!lower) lower_master_since_.reset();
      if (config_->version == Version::kV3 &&
          adv.max_adver_interval > Centiseconds::zero()) {
        master_adver_interval_ = adv.max_adver_interval;
      }
      pending_takeover_reason_ = TransitionReason::kMasterDownTimer;
      master_address_ = source;
      master_priority_ = adv.priority;
      last_master_advert_at_ = now;
      have_master_advert_ = true;
      ArmMasterDownTimer(MasterDownInterval(ours, master_adver_interval_));
      return;
    }
    // Lower priority and preemption allowed: discard, so the timer fires.
    pending_takeover_reason_ = TransitionReason::kLowerPriorityMaster;
    master_address_ = source;
    master_priority_ = adv.priority;
    return;
  }

  // state_ == kMaster, §6.4.3.
  if (adv.priority == 0) {
    SendAdvertisement(ours);
    adver_deadline_ = now + config_->advert_interval;
    adver_timer_->ArmAt(adver_deadline_);
    return;
  }
  if (adv.priority > ours ||
      (adv.priority == ours && source_ && source > *source_)) {
    if (config_->version == Version::kV3 &&
        adv.max_adver_interval > Centiseconds::zero()) {
      master_adver_interval_ = adv.max_adver_interval;
    }
    master_address_ = source;
    master_priority_ = adv.priority;
    last_master_advert_at_ = now;
    have_master_advert_ = true;
    BecomeBackup(TransitionReason::kHigherPriorityMaster);
    return;
  }
  // A lower-priority master: split brain is healing. Re-announce so the
  // clients' ARP/ND caches point at us again (rate-limited).
  if (!last_heal_announce_ || now - *last_heal_announce_ >= kHealAnnounceGap) {
    last_heal_announce_ = now;
    io_.Announce(config_->virtual_addresses);
    ++stats_->announcements;
  }
}

void Instance::BecomeMaster(TransitionReason reason,
                            std::optional<Duration> master_silence) {
  // §6.4.1 / §6.4.2: advertise, announce every address, arm the Adver_Timer.
  master_down_timer_->Cancel();
  SendAdvertisement(effective_priority());
  AddVirtualAddresses();
  io_.Announce(config_->virtual_addresses);
  ++stats_->announcements;
  adver_deadline_ = scheduler_.Now() + config_->advert_interval;
  adver_timer_->ArmAt(adver_deadline_);
  lower_master_since_.reset();
  last_heal_announce_.reset();
  ++stats_->become_master;
  TransitionTo(State::kMaster, reason, master_silence);
}

void Instance::BecomeBackup(TransitionReason reason) {
  // §6.4.3: stop advertising, stop answering for the addresses.
  adver_timer_->Cancel();
  io_.StopAnnouncing();
  RemoveVirtualAddresses();
  ++stats_->release_master;
  pending_takeover_reason_ = TransitionReason::kMasterDownTimer;
  ArmMasterDownTimer(
      MasterDownInterval(effective_priority(), master_adver_interval_));
  TransitionTo(State::kBackup, reason);
}

void Instance::OnMasterDownTimer() {
  if (state_ != State::kBackup) return;
  std::optional<Duration> silence;
  if (have_master_advert_ &&
      pending_takeover_reason_ != TransitionReason::kLowerPriorityMaster) {
    silence = scheduler_.Now() - last_master_advert_at_;
  }
  BecomeMaster(pending_takeover_reason_, silence);
}

void Instance::OnAdverTimer() {
  if (state_ != State::kMaster) return;
  const TimePoint now = scheduler_.Now();
  const Duration lateness = now - adver_deadline_;
  if (lateness > stats_->max_advert_timer_lateness.get()) {
    stats_->max_advert_timer_lateness = lateness;
  }
  stats_->advert_lateness.Observe(
      std::chrono::duration<double>(lateness).count());
  if (observer_) observer_->OnAdvertTimerLateness(*this, lateness);
  SendAdvertisement(effective_priority());
  // Keep the cadence from drifting with each late wake-up.
  adver_deadline_ += config_->advert_interval;
  if (adver_deadline_ <= now) adver_deadline_ = now + config_->advert_interval;
  adver_timer_->ArmAt(adver_deadline_);
}

void Instance::ArmMasterDownTimer(Duration after) {
  master_down_timer_->ArmAt(scheduler_.Now() + after);
}

void Instance::SendAdvertisement(uint8_t priority) {
  advert_.priority = priority;
  io_.SendAdvertisement(advert_);
  ++stats_->advertisements_sent;
  if (priority == 0) ++stats_->priority_zero_sent;
}

void Instance::AddVirtualAddresses() {
  if (vips_installed_) return;
  vips_installed_ = true;
  for (const auto& vip : config_->virtual_addresses) {
    addresses_.AddAddress(config_->interface, vip);
  }
}

void Instance::RemoveVirtualAddresses() {
  if (!vips_installed_) return;
  vips_installed_ = false;
  for (const auto& vip : config_->virtual_addresses) {
    addresses_.RemoveAddress(config_->interface, vip);
  }
}

void Instance::SetLinkUp(bool up) {
  UpdateFault(kFaultLinkDown, !up, TransitionReason::kInterfaceDown,
              TransitionReason::kInterfaceUp);
}

void Instance::SetTrackerFault(bool fault) {
  UpdateFault(kFaultTracker, fault, TransitionReason::kTracker,
              TransitionReason::kTracker);
}

void Instance::SetSyncGroupFault(bool fault) {
  UpdateFault(kFaultSyncGroup, fault, TransitionReason::kSyncGroup,
              TransitionReason::kSyncGroup);
}

void Instance::SourceAddressChanged() {
  source_ = io_.SourceAddress();
  UpdateFault(kFaultNoSource, !source_, TransitionReason::kNoSourceAddress,
              TransitionReason::kSourceAddress);
}

void Instance::SetPriorityDelta(int delta) { priority_delta_ = delta; }

bool Instance::Reconfigure(std::shared_ptr<const InstanceConfig> next) {
  if (!next || config_->RecreatedBy(*next)) return false;
  std::shared_ptr<const InstanceConfig> before = std::move(config_);
  config_ = std::move(next);
  BuildAdvertisement();
  ChangeAddresses(before->virtual_addresses);
  ChangeInterval(before->advert_interval);
  SourceAddressChanged();  // a new unicast source, or none
  return true;
}

void Instance::ChangeAddresses(const std::vector<IpPrefix>& before) {
  if (!vips_installed_) return;
  auto in = [](const std::vector<IpPrefix>& list, const IpPrefix& p) {
    return std::find(list.begin(), list.end(), p) != list.end();
  };
  for (const auto& old : before) {
    if (!in(config_->virtual_addresses, old)) {
      addresses_.RemoveAddress(config_->interface, old);
    }
  }
  std::vector<IpPrefix> added;
  for (const auto& vip : config_->virtual_addresses) {
    if (!in(before, vip)) added.push_back(vip);
  }
  if (added.empty()) return;
  for (const auto& vip : added) addresses_.AddAddress(config_->interface, vip);
  // Only the new ones: the clients of the others already point at us.
  if (state_ == State::kMaster) {
    io_.Announce(added);
    ++stats_->announcements;
  }
}

void Instance::ChangeInterval(Centiseconds before) {
  if (config_->advert_interval == before) return;
  const TimePoint now = scheduler_.Now();
  if (state_ == State::kMaster) {
    // A VRRPv3 backup learns the interval from our advertisements (§6.4.2);
    // waiting out a longer one before telling it could outlast its
    // Master_Down_Interval. So the first one carrying it goes now.
    SendAdvertisement(effective_priority());
    adver_deadline_ = now + config_->advert_interval;
    adver_timer_->ArmAt(adver_deadline_);
    return;
  }
  if (state_ != State::kBackup) {
    master_adver_interval_ = config_->advert_interval;
    return;
  }
  // A VRRPv3 backup that heard a master keeps the interval it learned (the
  // master's, §6.4.2); otherwise the timer is our own.
  if (config_->version == Version::kV3 && have_master_advert_) return;
  master_adver_interval_ = config_->advert_interval;
  ArmMasterDownTimer(
      MasterDownInterval(effective_priority(), master_adver_interval_));
}

void Instance::UpdateFault(uint8_t cause, bool set, TransitionReason set_reason,
                           TransitionReason clear_reason) {
  const uint8_t before = fault_causes_;
  if (set) {
    fault_causes_ |= cause;
  } else {
    fault_causes_ &= static_cast<uint8_t>(~cause);
  }
  if (!started_ || shut_down_) return;
  if (before == 0 && fault_causes_ != 0) {
    EnterFault(set_reason);
  } else if (before != 0 && fault_causes_ == 0) {
    StartFromInitialize(clear_reason);
  }
}

void Instance::EnterFault(TransitionReason reason) {
  master_down_timer_->Cancel();
  if (state_ == State::kMaster) {
    adver_timer_->Cancel();
    io_.StopAnnouncing();
    // Tell the backups at once when we still can (the link is up and we
    // have a source address): they take over after Skew_Time, not
    // Master_Down_Interval.
    if ((fault_causes_ & (kFaultLinkDown | kFaultNoSource)) == 0) {
      SendAdvertisement(0);
    }
    RemoveVirtualAddresses();
    ++stats_->release_master;
  }
  TransitionTo(State::kFault, reason);
}

void Instance::TransitionTo(State to, TransitionReason reason,
                            std::optional<Duration> master_silence) {
  Transition t;
  t.from = state_;
  t.to = to;
  t.reason = reason;
  t.at = scheduler_.Now();
  t.master_silence = master_silence;
  state_ = to;
  last_transition_ = t;
  if (observer_) observer_->OnTransition(*this, t);
}

InstanceStatus Instance::Status() const {
  InstanceStatus s;
  StatusInto(s);
  return s;
}

void Instance::StatusInto(InstanceStatus& s) const {
  s.name = config_->name;
  s.state = state_;
  s.base_priority = config_->priority;
  s.effective_priority = effective_priority();
  if (state_ == State::kMaster) {
    s.master_address = source_;
    s.master_priority = effective_priority();
  } else if (state_ == State::kBackup) {
    s.master_address = master_address_;
    s.master_priority = master_priority_;
  } else {
    s.master_address.reset();
    s.master_priority = 0;
  }
  s.advert_interval = config_->advert_interval;
  s.master_advert_interval =
      std::chrono::duration_cast<Centiseconds>(master_adver_interval_);
  s.skew_time = SkewTime(effective_priority(), master_adver_interval_);
  s.master_down_interval =
      MasterDownInterval(effective_priority(), master_adver_interval_);
  s.releasing = releasing_;
  s.tracker_fault = (fault_causes_ & kFaultTracker) != 0;
  s.link_up = (fault_causes_ & kFaultLinkDown) == 0;
  s.last_transition = last_transition_;
  s.peers = peers_;
}

}  // namespace vrrp
