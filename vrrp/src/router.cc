#include "vrrp/router.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <utility>

namespace vrrp {

namespace {

// How long a new IPv6 virtual-MAC instance waits for its macvlan's
// link-local address before it starts anyway (into Fault, no source
// address). The kernel makes the address when the link comes up and, DAD
// being off, it is usable within milliseconds; waiting keeps the instance in
// Initialize meanwhile instead of passing through Fault.
constexpr Duration kVirtualMacSourceWait = std::chrono::seconds(2);

// Whether two instances want the same macvlan: name, base and MAC.
bool SameVirtualMac(const InstanceConfig& a, const InstanceConfig& b) {
  return a.virtual_mac && b.virtual_mac &&
         a.virtual_mac_interface == b.virtual_mac_interface &&
         a.interface == b.interface && a.family == b.family && a.vrid == b.vrid;
}

bool Lists(const std::vector<IpPrefix>& list, const IpAddress& address) {
  return std::any_of(list.begin(), list.end(),
                     [&](const IpPrefix& p) { return p.address == address; });
}

std::string Ms(Duration d) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
         "ms";
}

// What a reload changed in an instance kept in place, for its log line:
// "priority 200 -> 50, addresses +198.51.100.11/24".
std::string DescribeChanges(const InstanceConfig& a, const InstanceConfig& b) {
  std::vector<std::string> parts;
  auto from_to = [&](const char* what, const std::string& x,
                     const std::string& y) {
    if (x != y) parts.push_back(std::string(what) + " " + x + " -> " + y);
  };
  auto on_off = [](bool v) { return std::string(v ? "on" : "off"); };
  from_to("priority", std::to_string(a.priority), std::to_string(b.priority));
  from_to("preempt", on_off(a.preempt), on_off(b.preempt));
  from_to("preempt_delay", Ms(a.preempt_delay), Ms(b.preempt_delay));
  from_to("advert_interval", Ms(a.advert_interval), Ms(b.advert_interval));
  std::string addresses;
  for (const auto& p : b.virtual_addresses) {
    if (!Lists(a.virtual_addresses, p.address))
      addresses += " +" + p.ToString();
  }
  for (const auto& p : a.virtual_addresses) {
    if (!Lists(b.virtual_addresses, p.address))
      addresses += " -" + p.ToString();
  }
  if (!addresses.empty()) parts.push_back("addresses" + addresses);
  from_to("accept", on_off(a.accept), on_off(b.accept));
  from_to("checksum", std::string(ToString(a.checksum_form)),
          std::string(ToString(b.checksum_form)));
  from_to("shutdown", std::string(ToString(a.shutdown_mode)),
          std::string(ToString(b.shutdown_mode)));
  if (a.unicast.has_value() != b.unicast.has_value() ||
      (a.unicast && (a.unicast->peers != b.unicast->peers ||
                     a.unicast->source != b.unicast->source))) {
    parts.push_back("unicast peers");
  }
  if (a.auth_type != b.auth_type || a.auth_password != b.auth_password) {
    parts.push_back("authentication");
  }
  if (!(a.announce == b.announce)) parts.push_back("announcements");
  if (!(a.track == b.track)) parts.push_back("tracking");
  if (!(a.notify == b.notify)) parts.push_back("notify hooks");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

double SystemUnixNow() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Router::Member {
  // Never null; shared with the Instance and with every snapshot. A reload
  // replaces it, never mutates it.
  std::shared_ptr<const InstanceConfig> config;
  std::unique_ptr<InstancePort> port;
  std::unique_ptr<Instance> instance;  // after the port, which it uses
  bool releasing = false;
  bool removed = false;  // by a reload: releasing, with no successor
  // What the instance was last told; an Instance starts without a link
  // fault.
  bool link_up = true;
  bool vmac_ready = false;     // virtual_mac: its macvlan is ours and up
  bool start_pending = false;  // IPv6 virtual MAC: waiting for a source
  std::unique_ptr<Timer> start_timer;
};

// What InstanceStatus does not carry, per instance name, on the loop:
// transitions by (from, to, reason), their Unix times, histograms. By name,
// so a re-created instance continues its predecessor's series.
class Router::Metrics : public InstanceObserver {
 public:
  struct PerInstance {
    TransitionCounts transitions;
    std::optional<double> last_transition_unix_seconds;
    Histogram failover{FailoverBuckets()};
  };
  explicit Metrics(std::function<double()> unix_now)
      : unix_now_(std::move(unix_now)) {}
  void OnTransition(const Instance& instance, const Transition& t) override {
    PerInstance& p = by_name_[instance.name()];
    ++p.transitions[{t.from, t.to, t.reason}];
    p.last_transition_unix_seconds = unix_now_();
    if (t.master_silence) {
      p.failover.Observe(
          std::chrono::duration<double>(*t.master_silence).count());
    }
  }
  const PerInstance* Find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
  }

 private:
  std::function<double()> unix_now_;
  // Only instances that made a transition have an entry.
  std::unordered_map<std::string, PerInstance> by_name_;
};

namespace {
// Asks for a republish after every transition.
class ChangeObserver : public InstanceObserver {
 public:
  explicit ChangeObserver(std::function<void()> changed)
      : changed_(std::move(changed)) {}
  void OnTransition(const Instance&, const Transition&) override {
    if (changed_) changed_();
  }
  void OnStatusChanged(const Instance&) override {
    if (changed_) changed_();
  }

 private:
  std::function<void()> changed_;
};
}  // namespace

Router::Router(Scheduler& scheduler, LinkLayer& links, Options options)
    : scheduler_(scheduler),
      links_(links),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(options_.unix_now ? options_.unix_now
                                                           : SystemUnixNow)),
      groups_(
          scheduler, [this](const std::string& name) { return Find(name); },
          [this](const SyncGroupConfig& g, const GroupTransition& t) {
            if (options_.on_group_transition) {
              options_.on_group_transition(g, t);
            }
            Changed();
          }),
      fanout_({}) {
  std::vector<InstanceObserver*> to = {metrics_.get(), &groups_};
  if (options_.observer) to.push_back(options_.observer);
  change_observer_ = std::make_unique<ChangeObserver>([this] { Changed(); });
  to.push_back(change_observer_.get());
  fanout_ = ObserverFanout(std::move(to));
  links_.SetInputs(
      {.datagram =
           [this](const std::string& itf, Family f,
                  std::span<const uint8_t> message, const DatagramInfo& info) {
             OnDatagram(itf, f, message, info);
           },
       .malformed = [this](const std::string& itf,
                           ReceiveError e) { OnMalformed(itf, e); },
       .link = [this](const std::string& itf) { OnLink(itf); },
       .addresses = [this](const std::string& itf) { OnAddresses(itf); }});
}

Router::~Router() {
  // Instances report their last transitions while being destroyed; the
  // observers they report to are members declared after `members_`... so
  // destroy the instances first, explicitly.
  members_.clear();
}

void Router::Log(LogLevel level, const std::string& message) const {
  if (options_.log) options_.log(level, message);
}

void Router::Changed() const {
  if (options_.on_change) options_.on_change();
}

void Router::Start(const Config& config) {
  groups_.Configure(config.sync_groups);
  for (const auto& ic : config.instances) {
    StartMember(Create(std::make_shared<const InstanceConfig>(ic)));
  }
  Changed();
}

Router::Member& Router::Create(std::shared_ptr<const InstanceConfig> config) {
  auto m = std::make_unique<Member>();
  m->config = std::move(config);
  links_.Interface(m->config->interface);  // watched from now on
  if (m->config->virtual_mac)
    links_.Interface(m->config->virtual_mac_interface);
  m->port = links_.OpenPort(m->config);
  m->instance = std::make_unique<Instance>(m->config, scheduler_, *m->port,
                                           m->port->addresses(), &fanout_);
  members_.push_back(std::move(m));
  Member& ref = *members_.back();
  // After its equals: within a key, instances keep the order they were
  // created in.
  const DemuxKey key = KeyOf(*ref.config);
  demux_.insert(std::upper_bound(demux_.begin(), demux_.end(), key,
                                 [](const DemuxKey& k, const DemuxEntry& e) {
                                   return k < e.key;
                                 }),
                DemuxEntry{key, &ref});
  EnsureVirtualMac(ref);
  return ref;
}

void Router::StartMember(Member& m) {
  const InterfaceState& itf = links_.Interface(m.config->interface);
  if (!itf.exists()) {
    // Otherwise the only trace is "Initialize -> Fault (interface-down)".
    Log(LogLevel::kWarn, "instance " + m.config->name + ": interface " +
                             m.config->interface +
                             " does not exist; the instance stays in Fault "
                             "until it appears");
  }
  RemoveLeftoverAddresses(m);
  ApplyTracking(m);
  UpdateLink(m);  // down, missing, or (virtual_mac) no macvlan: Fault
  if (m.link_up && SendsViaVirtualMac(*m.config) && !m.port->SourceAddress()) {
    // Only an IPv6 macvlan just made gets here: its link-local address
    // comes with its first address event.
    m.start_pending = true;
    Member* p = &m;
    m.start_timer = scheduler_.CreateTimer([this, p] { StartPending(*p); });
    m.start_timer->ArmAt(scheduler_.Now() + kVirtualMacSourceWait);
    return;
  }
  m.instance->Start();
}

void Router::StartPending(Member& m) {
  if (!m.start_pending) return;
  m.start_pending = false;
  m.start_timer->Cancel();
  if (!m.releasing) m.instance->Start();
}

void Router::ApplyTracking(Member& m) {
  if (!tracking_) return;
  const TrackEffect effect = tracking_->Evaluate(m.config->track);
  m.instance->SetPriorityDelta(effect.delta);
  m.instance->SetTrackerFault(effect.fault);
}

void Router::TrackingChanged() {
  for (auto& m : members_) {
    if (!m->releasing) ApplyTracking(*m);
  }
  Changed();
}

void Router::EnsureVirtualMac(Member& m) {
  if (!m.config->virtual_mac || m.releasing || shutting_down_) return;
  const VirtualMacStatus status = links_.EnsureVirtualMac(*m.config);
  m.vmac_ready = status.ready;
  if (!status.created && !status.adopted) return;
  const std::string& name = m.config->virtual_mac_interface;
  const InstanceStatus now = m.instance->Status();
  if (now.state == State::kMaster || now.releasing) {
    // The macvlan was deleted under a master, taking its addresses along:
    // put them on the new one and tell the clients again.
    if (status.created) {
      for (const auto& vip : m.config->virtual_addresses) {
        m.port->addresses().AddAddress(name, vip);
      }
      m.port->Announce(m.config->virtual_addresses);
    }
    return;
  }
  if (status.adopted) RemoveLeftoverVirtualMacAddresses(m);
}

void Router::RemoveLeftoverVirtualMacAddresses(Member& m) {
  // Not holding the addresses: any of them on a macvlan we adopted are a
  // crashed run's, and a backup must not answer for them (§6.4.2). Unless
  // another instance (the old one of a reload) still uses the macvlan.
  if (SharesVirtualMac(m)) return;
  const std::string& name = m.config->virtual_mac_interface;
  links_.RereadAddresses(name, m.config->family);
  const InterfaceState& vmac = links_.Interface(name);
  for (const auto& vip : m.config->virtual_addresses) {
    if (!vmac.Has(vip.address)) continue;
    Log(LogLevel::kInfo, "instance " + m.config->name + ": removing " +
                             vip.ToString() + " left on " + name +
                             " by a previous run");
    links_.RemoveStrayAddress(name, vip);
  }
}

bool Router::SharesVirtualMac(const Member& m) const {
  return std::any_of(members_.begin(), members_.end(), [&](const auto& o) {
    return o.get() != &m && SameVirtualMac(*o->config, *m.config);
  });
}

void Router::UpdateLink(Member& m) {
  const InterfaceState& itf = links_.Interface(m.config->interface);
  bool up = itf.exists() && itf.up;
  // Without its macvlan, or with the macvlan down (the link layer sets it
  // up again at once; only a failure to do so gets here), the instance has
  // nowhere to answer for its addresses. The macvlan's carrier follows the
  // base's and is not looked at.
  if (m.config->virtual_mac) up = up && m.vmac_ready;
  if (up == m.link_up) return;
  m.link_up = up;
  m.instance->SetLinkUp(up);
}

void Router::RefreshMember(Member& m) {
  // The base appeared or came back, or the macvlan was deleted or set down
  // behind our back: make it or bring it up again.
  EnsureVirtualMac(m);
  UpdateLink(m);
  m.instance->SourceAddressChanged();
  if (m.start_pending && m.port->SourceAddress()) StartPending(m);
}

void Router::OnLink(const std::string& interface) {
  for (auto& m : members_) {
    if (m->releasing) continue;
    if (m->config->interface == interface ||
        (m->config->virtual_mac &&
         m->config->virtual_mac_interface == interface)) {
      RefreshMember(*m);
    }
  }
  Changed();
}

void Router::OnAddresses(const std::string& interface) {
  for (auto& m : members_) {
    if (m->releasing) continue;
    // A macvlan's addresses matter too: its IPv6 link-local address is the
    // source of the advertisements sent through it.
    if (m->config->interface != interface &&
        !(m->config->virtual_mac &&
          m->config->virtual_mac_interface == interface)) {
      continue;
    }
    m->instance->SourceAddressChanged();
    if (m->start_pending && m->port->SourceAddress()) StartPending(*m);
    RestoreRemovedAddresses(*m, interface);
  }
  Changed();
}

void Router::RestoreRemovedAddresses(Member& m, const std::string& interface) {
  // Only a master holds them, and only on the interface they live on.
  if (m.instance->state() != State::kMaster) return;
  const std::string& home = m.config->virtual_mac
                                ? m.config->virtual_mac_interface
                                : m.config->interface;
  if (home != interface) return;
  const InterfaceState& itf = links_.Interface(home);
  std::vector<IpPrefix> missing;
  for (const auto& vip : m.config->virtual_addresses) {
    if (!itf.Has(vip.address)) missing.push_back(vip);
  }
  if (missing.empty()) return;
  // Removed by someone else (`ip addr del`, a network manager): the master
  // would go on advertising, so no backup takes over, while nobody answers
  // for the address. Put it back and tell the clients again.
  for (const auto& vip : missing) {
    Log(LogLevel::kWarn, "instance " + m.config->name + ": " + vip.ToString() +
                             " was removed from " + home +
                             " while master; adding it back");
    m.port->addresses().AddAddress(m.config->interface, vip);
  }
  m.port->Announce(missing);
}

void Router::RemoveLeftoverAddresses(Member& m) {
  const InstanceConfig& config = *m.config;
  // The owner's addresses are its own; a macvlan's are handled when it is
  // adopted (RemoveLeftoverVirtualMacAddresses).
  if (config.is_owner() || config.virtual_mac) return;
  if (!links_.Interface(config.interface).exists()) return;
  // The interface's addresses as last read: no dump per instance at
  // start-up. That may predate a removal whose event is still queued (a
  // re-created instance's predecessor just let go), so when one of ours
  // seems to be there, read them again before believing it.
  auto is_ours = [&](const InterfaceAddress& a) {
    return Lists(config.virtual_addresses, a.prefix.address);
  };
  {
    const auto& present = links_.Interface(config.interface).of(config.family);
    if (std::none_of(present.begin(), present.end(), is_ours)) return;
  }
  links_.RereadAddresses(config.interface, config.family);
  const auto& present = links_.Interface(config.interface).of(config.family);
  // The host's own address is never a leftover, even when (wrongly) listed
  // as a virtual one: IPv4's first primary address (the one we would send
  // from); an IPv6 address not added the way we add ours (nodad), or the
  // only one of its prefix (ours share the prefix of the host's address;
  // a host's own may be nodad too, as in our labs).
  auto own_v4 =
      std::find_if(present.begin(), present.end(),
                   [](const InterfaceAddress& a) { return !a.secondary; });
  std::vector<IpPrefix> stray;
  for (const auto& vip : config.virtual_addresses) {
    auto found = std::find_if(present.begin(), present.end(),
                              [&](const InterfaceAddress& a) {
                                return a.prefix.address == vip.address;
                              });
    if (found == present.end()) continue;
    auto alone_in_prefix = [&] {
      return std::none_of(
          present.begin(), present.end(), [&](const InterfaceAddress& a) {
            return &a != &*found && a.scope == found->scope &&
                   SamePrefix(a.prefix.address, found->prefix.address,
                              found->prefix.prefix_length);
          });
    };
    const bool hosts_own = config.family == Family::kIpv4
                               ? found == own_v4
                               : !found->nodad || alone_in_prefix();
    if (hosts_own) {
      Log(LogLevel::kWarn,
          "instance " + config.name + ": " + vip.ToString() +
              " is one of this host's own addresses on " + config.interface +
              ", not one a previous run left: not removed. A router whose "
              "virtual address is its own is the address owner and must "
              "run at priority 255 (RFC 5798 §1)");
      continue;
    }
    // Not while another instance on this interface has it (a reload's
    // releasing predecessor, or one configured with the same address).
    const bool in_use =
        std::any_of(members_.begin(), members_.end(), [&](const auto& other) {
          return other.get() != &m &&
                 other->config->interface == config.interface &&
                 std::find(other->config->virtual_addresses.begin(),
                           other->config->virtual_addresses.end(),
                           vip) != other->config->virtual_addresses.end();
        });
    if (!in_use) stray.push_back(vip);
  }
  // Removed after the scan: removing may re-read the list it walked.
  for (const auto& vip : stray) {
    Log(LogLevel::kInfo, "instance " + config.name + ": removing " +
                             vip.ToString() + " left on " + config.interface +
                             " by a previous run");
    links_.RemoveStrayAddress(config.interface, vip);
  }
}

void Router::Release(Member& m,
                     std::shared_ptr<const InstanceConfig> successor) {
  m.releasing = true;
  Member* p = &m;
  m.instance->Shutdown([this, p, successor = std::move(successor)] {
    // Destroyed from the loop, not from inside its own callback.
    Defer([this, p, successor] { FinishRelease(p, successor); });
  });
}

void Router::FinishRelease(Member* p,
                           std::shared_ptr<const InstanceConfig> successor) {
  const std::shared_ptr<const InstanceConfig> config = p->config;
  Destroy(p);
  // A successor with the same macvlan (name, base and MAC) adopts it, so it
  // is not deleted and made again. Otherwise the old one goes first: its
  // name may be wanted with another MAC or base, and a new macvlan with its
  // MAC on its base could not come up beside it (EADDRINUSE).
  const bool kept = successor && SameVirtualMac(*successor, *config);
  if (config->virtual_mac && (!kept || shutting_down_)) {
    const bool wanted = std::any_of(
        members_.begin(), members_.end(),
        [&](const auto& o) { return SameVirtualMac(*o->config, *config); });
    if (!wanted) {
      links_.ReleaseVirtualMac(*config);
      // A reload's new instance may have wanted this name with another
      // MAC, or this MAC under another name: try again now.
      for (auto& o : members_) {
        if (o->config->virtual_mac && !o->releasing && !o->vmac_ready) {
          RefreshMember(*o);
        }
      }
    }
  }
  if (successor && !shutting_down_) StartMember(Create(successor));
  Changed();
}

void Router::Defer(std::function<void()> task) {
  deferred_.push_back(std::move(task));
  if (!deferred_timer_) {
    deferred_timer_ = scheduler_.CreateTimer([this] {
      // Tasks may defer more; those run at the next turn.
      auto tasks = std::exchange(deferred_, {});
      for (auto& t : tasks) t();
    });
  }
  if (!deferred_timer_->armed()) deferred_timer_->ArmAt(scheduler_.Now());
}

void Router::Destroy(Member* p) {
  std::erase_if(demux_, [p](const DemuxEntry& e) { return e.member == p; });
  std::erase_if(members_, [p](const auto& u) { return u.get() == p; });
}

bool Router::ReloadInPlace(Member& m, const InstanceConfig& next) {
  if (m.config->RecreatedBy(next)) return false;
  auto updated = std::make_shared<const InstanceConfig>(next);
  m.port->Reconfigure(updated);
  m.instance->Reconfigure(updated);
  m.config = std::move(updated);
  ApplyTracking(m);
  return true;
}

ReloadSummary Router::Reload(const Config& config) {
  ReloadSummary summary;
  if (shutting_down_) return summary;
  groups_.Configure(config.sync_groups);
  std::map<std::string, const InstanceConfig*> wanted;
  for (const auto& ic : config.instances) wanted[ic.name] = &ic;
  std::vector<Member*> current;
  for (auto& m : members_) {
    if (!m->releasing) current.push_back(m.get());
  }
  for (Member* m : current) {
    auto it = wanted.find(m->config->name);
    if (it == wanted.end()) {
      ++summary.removed;
      Log(LogLevel::kInfo, "reload: removing instance " + m->config->name);
      m->removed = true;
      Release(*m, nullptr);
      continue;
    }
    const InstanceConfig& next = *it->second;
    wanted.erase(it);
    const std::string changes = DescribeChanges(*m->config, next);
    if (ReloadInPlace(*m, next)) {
      ++summary.kept;
      if (!changes.empty()) {
        ++summary.updated;
        Log(LogLevel::kInfo,
            "reload: instance " + next.name + " keeps its state; " + changes);
      }
      continue;
    }
    ++summary.recreated;
    Log(LogLevel::kInfo, "reload: re-creating changed instance " + next.name +
                             " (its interface, VRID, family, version, owner "
                             "status or virtual MAC changed)");
    // Start the new one only after the old one let go of its addresses, so
    // the two never fight over them.
    Release(*m, std::make_shared<const InstanceConfig>(next));
  }
  for (const auto& ic : config.instances) {
    if (!wanted.count(ic.name)) continue;
    ++summary.created;
    Log(LogLevel::kInfo, "reload: adding instance " + ic.name);
    StartMember(Create(std::make_shared<const InstanceConfig>(ic)));
  }
  Changed();
  return summary;
}

void Router::Shutdown(std::function<void()> done) {
  shutting_down_ = true;
  auto remaining = std::make_shared<size_t>(0);
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  std::vector<Member*> all;
  for (auto& m : members_) {
    if (!m->releasing) all.push_back(m.get());
  }
  // The macvlans go once every instance has let go of its addresses (in
  // hitless mode, once the new master is heard).
  auto release_vmacs = [this] {
    std::vector<std::shared_ptr<const InstanceConfig>> vmacs;
    for (const auto& m : members_) {
      if (!m->config->virtual_mac) continue;
      if (std::none_of(vmacs.begin(), vmacs.end(), [&](const auto& c) {
            return SameVirtualMac(*c, *m->config);
          })) {
        vmacs.push_back(m->config);
      }
    }
    for (const auto& c : vmacs) links_.ReleaseVirtualMac(*c);
  };
  *remaining = all.size();
  if (all.empty()) {
    release_vmacs();
    if (*finish) (*finish)();
    return;
  }
  for (Member* m : all) {
    m->releasing = true;
    m->instance->Shutdown([remaining, finish, release_vmacs] {
      if (--*remaining != 0) return;
      release_vmacs();
      if (*finish) (*finish)();
    });
  }
}

Instance* Router::Find(const std::string& name) {
  for (const auto& m : members_) {
    if (!m->releasing && m->config->name == name) return m->instance.get();
  }
  return nullptr;
}

void Router::ForEachInstance(
    const std::function<void(const Instance&)>& fn) const {
  for (const auto& m : members_) fn(*m->instance);
}

void Router::OnMalformed(const std::string& interface, ReceiveError error) {
  ++receive_errors_[interface][static_cast<size_t>(error)];
}

void Router::OnDatagram(const std::string& interface, Family family,
                        std::span<const uint8_t> message,
                        const DatagramInfo& info) {
  auto decoded = DecodeAdvertisement(message, info);
  if (!decoded.ok()) {
    ++receive_errors_[interface][static_cast<size_t>(decoded.error())];
    // Attribute it to the virtual router it names, when there is one: the
    // VRID is byte 1 in every version (RFC 5798 §5.2.3, RFC 3768 §5.3.3).
    if (message.size() >= 2) {
      for (Member* m : Targets(interface, family, message[1])) {
        m->instance->CountReceiveError(decoded.error());
      }
    }
    return;
  }
  // §7.1: "MUST verify that the VRID is configured on the receiving
  // interface": the router owns that check, for every instance at once.
  const auto& targets = Targets(interface, family, decoded->advertisement.vrid);
  if (targets.empty()) {
    ++receive_errors_[interface][static_cast<size_t>(ReceiveError::kVrId)];
    return;
  }
  for (Member* m : targets) {
    m->instance->OnAdvertisement(*decoded, info.source);
  }
}

uint16_t Router::InterfaceId(const std::string& name) {
  auto it = std::find(interface_names_.begin(), interface_names_.end(), name);
  if (it != interface_names_.end()) {
    return static_cast<uint16_t>(it - interface_names_.begin());
  }
  interface_names_.push_back(name);
  return static_cast<uint16_t>(interface_names_.size() - 1);
}

Router::DemuxKey Router::KeyOf(const InstanceConfig& config) {
  return {InterfaceId(config.interface), config.family, config.vrid};
}

const std::vector<Router::Member*>& Router::Targets(
    const std::string& interface, Family family, uint8_t vrid) {
  // A copy, reused: an instance may release (and a reload erase) while the
  // caller iterates.
  targets_.clear();
  auto name =
      std::find(interface_names_.begin(), interface_names_.end(), interface);
  if (name == interface_names_.end()) return targets_;
  const DemuxKey key{static_cast<uint16_t>(name - interface_names_.begin()),
                     family, vrid};
  auto [begin, end] = std::equal_range(
      demux_.begin(), demux_.end(), DemuxEntry{key, nullptr},
      [](const DemuxEntry& a, const DemuxEntry& b) { return a.key < b.key; });
  for (auto it = begin; it != end; ++it) targets_.push_back(it->member);
  return targets_;
}

void Router::FillSnapshot(Snapshot& snap) const {
  FillInstances(snap.instances);
  FillSharedState(snap);
}

void Router::FillSharedState(Snapshot& snap) const {
  snap.interface_receive_errors = receive_errors_;
  snap.sync_groups = groups_.Status();
}

void Router::FillInstances(InstanceList& out) const {
  // One entry per configured instance: a re-created instance appears twice
  // while the old one releases, and the newer (later) one is in force; a
  // removed one that is still releasing is not shown.
  std::map<std::string_view, const Member*> newest;
  for (const auto& m : members_) {
    if (m->removed) continue;
    newest[m->config->name] = m.get();
  }
  // A new list: snapshots already published keep theirs.
  out.clear();
  std::vector<InstanceSnapshot>& instances = out.Mutable();
  instances.reserve(newest.size());
  for (const auto& m : members_) {
    auto it = newest.find(m->config->name);
    if (it == newest.end() || it->second != m.get()) continue;
    InstanceSnapshot& i = instances.emplace_back();
    i.config = m->config;
    m->instance->StatusInto(i.status);
    i.stats = m->instance->shared_stats();
    if (tracking_ && !m->config->track.empty()) {
      i.tracking = tracking_->Explain(m->config->track);
    }
    // Whether the kernel really has each address, from the link layer's
    // view (kept current by address events, no dump per snapshot).
    const std::string& home = m->config->virtual_mac
                                  ? m->config->virtual_mac_interface
                                  : m->config->interface;
    const InterfaceState& itf = links_.Interface(home);
    for (const auto& vip : m->config->virtual_addresses) {
      i.vip_present.emplace_back(vip, itf.Has(vip.address));
    }
    i.failover_seconds = Histogram(FailoverBuckets());
    if (const auto* p = metrics_->Find(m->config->name)) {
      i.transitions = p->transitions;
      i.last_transition_unix_seconds = p->last_transition_unix_seconds;
      i.failover_seconds = p->failover;
    }
  }
}

}  // namespace vrrp
