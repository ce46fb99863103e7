#include "exporter/speaker_collector.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <map>
#include <string>

#include "exporter/tracker_metrics.h"

namespace vrrp::exporter {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// A family under construction.
class Family {
 public:
  Family(std::string name, std::string help, MetricType type) {
    f_.name = std::move(name);
    f_.help = std::move(help);
    f_.type = type;
  }
  void Add(Labels labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    switch (f_.type) {
      case MetricType::Counter:
        m.counter.value = value;
        break;
      case MetricType::Gauge:
        m.gauge.value = value;
        break;
      default:
        m.untyped.value = value;
    }
    f_.metric.push_back(std::move(m));
  }
  void AddHistogram(Labels labels, const Histogram& h) {
    ClientMetric m;
    m.label = std::move(labels);
    m.histogram.sample_count = h.count;
    m.histogram.sample_sum = h.sum;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.CountAt(i);
      m.histogram.bucket.push_back({cumulative, h.bounds[i]});
    }
    m.histogram.bucket.push_back(
        {h.count, std::numeric_limits<double>::infinity()});
    f_.metric.push_back(std::move(m));
  }
  MetricFamily Take() { return std::move(f_); }

 private:
  MetricFamily f_;
};

Labels With(Labels base, std::initializer_list<ClientMetric::Label> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}

double Seconds(vrrp::Duration d) {
  return std::chrono::duration<double>(d).count();
}

// Our own labels: `vrrp_instance` (never `instance`, which Prometheus
// renames on scrape), interface, VRID and family identify a virtual router.
Labels InstanceLabels(const InstanceSnapshot& i) {
  return {{"vrrp_instance", i.config->name},
          {"interface", i.config->interface},
          {"vrid", std::to_string(i.config->vrid)},
          {"family", std::string(vrrp::ToString(i.config->family))}};
}

constexpr vrrp::State kStates[] = {vrrp::State::kInitialize,
                                   vrrp::State::kBackup, vrrp::State::kMaster,
                                   vrrp::State::kFault};

void SpeakerFamilies(const Snapshot& s, double now,
                     std::vector<MetricFamily>& out) {
  Family info("vrrp_instance_info",
              "Configured virtual routers (value 1), with their settings.",
              MetricType::Gauge);
  Family state("vrrp_instance_state",
               "Current state: 0 Initialize, 1 Backup, 2 Master, 3 Fault "
               "(the Keepalived numbering).",
               MetricType::Gauge);
  Family in_state("vrrp_instance_in_state",
                  "1 for the state the instance is in, 0 for the others, so "
                  "alerts need no magic numbers.",
                  MetricType::Gauge);
  Family base_prio("vrrp_instance_priority",
                   "Configured priority (255: address owner).",
                   MetricType::Gauge);
  Family eff_prio("vrrp_instance_effective_priority",
                  "Priority advertised: configured plus tracker deltas, "
                  "clamped to 1..254 for non-owners.",
                  MetricType::Gauge);
  Family master_prio("vrrp_instance_master_priority",
                     "Priority of the current master as last heard (ours "
                     "when Master; 0 when unknown).",
                     MetricType::Gauge);
  Family master_info("vrrp_instance_master_info",
                     "The current master's address (value 1); absent while "
                     "no master is known.",
                     MetricType::Gauge);
  Family adv_int("vrrp_instance_advert_interval_seconds",
                 "Configured advertisement interval.", MetricType::Gauge);
  Family master_int("vrrp_instance_master_advert_interval_seconds",
                    "Master_Adver_Interval: learned from the master in "
                    "VRRPv3 (RFC 5798 §6.4.2).",
                    MetricType::Gauge);
  Family mdi("vrrp_instance_master_down_interval_seconds",
             "Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time.",
             MetricType::Gauge);
  Family transitions("vrrp_instance_transitions_total",
                     "State transitions by from, to and reason.",
                     MetricType::Counter);
  Family last_transition("vrrp_instance_last_transition_timestamp_seconds",
                         "Unix time of the last state transition.",
                         MetricType::Gauge);
  Family failover("vrrp_instance_failover_seconds",
                  "Silence of the previous master before each takeover "
                  "(Master_Down_Interval on a crash, Skew_Time on a graceful "
                  "handover).",
                  MetricType::Histogram);
  Family sent("vrrp_instance_advertisements_sent_total", "Advertisements sent.",
              MetricType::Counter);
  Family received("vrrp_instance_advertisements_received_total",
                  "Advertisements received that passed every check.",
                  MetricType::Counter);
  Family prio0_sent("vrrp_instance_priority_zero_sent_total",
                    "Priority-0 advertisements sent (graceful release).",
                    MetricType::Counter);
  Family prio0_recv("vrrp_instance_priority_zero_received_total",
                    "Priority-0 advertisements received.", MetricType::Counter);
  Family errors("vrrp_instance_receive_errors_total",
                "Advertisements for this router refused, by reason (the "
                "RFC 6527 / RFC 2787 counters and our extensions).",
                MetricType::Counter);
  Family checksum("vrrp_instance_received_checksum_form_total",
                  "Accepted advertisements by the VRRPv3 checksum form they "
                  "used (IPv4 pseudo-header or not).",
                  MetricType::Counter);
  Family peer("vrrp_instance_peer_priority",
              "Priority last advertised by each router heard on this VRID, "
              "with its checksum form.",
              MetricType::Gauge);
  Family vip("vrrp_instance_address_present",
             "1 when the virtual address is configured on the interface, "
             "read from the kernel at snapshot time.",
             MetricType::Gauge);
  Family announcements("vrrp_instance_announcements_total",
                       "Gratuitous ARP / unsolicited NA schedules started "
                       "(becoming master, split-brain healing).",
                       MetricType::Counter);
  Family lateness("vrrp_instance_advert_timer_lateness_seconds",
                  "How late the advertisement timer fired.",
                  MetricType::Histogram);
  Family releasing("vrrp_instance_releasing",
                   "1 while a stopped master keeps its addresses until the "
                   "new master is heard (hitless shutdown).",
                   MetricType::Gauge);

  for (const InstanceSnapshot& i : s.instances) {
    const Labels l = InstanceLabels(i);
    const auto& st = i.status;
    const vrrp::InstanceStats& c = i.counters();
    info.Add(
        With(l, {{"version", std::string(vrrp::ToString(i.config->version))},
                 {"preempt", i.config->preempt ? "true" : "false"},
                 {"accept", i.config->accept ? "true" : "false"},
                 {"shutdown",
                  std::string(vrrp::ToString(i.config->shutdown_mode))},
                 {"unicast", i.config->unicast ? "true" : "false"}}),
        1);
    state.Add(l, static_cast<double>(st.state));
    for (vrrp::State x : kStates) {
      in_state.Add(With(l, {{"state", Lower(vrrp::ToString(x))}}),
                   st.state == x ? 1 : 0);
    }
    base_prio.Add(l, st.base_priority);
    eff_prio.Add(l, st.effective_priority);
    master_prio.Add(l, st.master_priority);
    if (st.master_address) {
      master_info.Add(
          With(l, {{"master_address", st.master_address->ToString()}}), 1);
    }
    adv_int.Add(l, Seconds(st.advert_interval));
    master_int.Add(l, Seconds(st.master_advert_interval));
    mdi.Add(l, Seconds(st.master_down_interval));
    for (const auto& [key, n] : i.transitions) {
      const auto& [from, to, why] = key;
      transitions.Add(With(l, {{"from", Lower(vrrp::ToString(from))},
                               {"to", Lower(vrrp::ToString(to))},
                               {"reason", std::string(vrrp::ToString(why))}}),
                      static_cast<double>(n));
    }
    last_transition.Add(l, i.last_transition_unix_seconds.value_or(0));
    failover.AddHistogram(l, i.failover_seconds);
    sent.Add(l, static_cast<double>(c.advertisements_sent));
    received.Add(l, static_cast<double>(c.advertisements_received));
    prio0_sent.Add(l, static_cast<double>(c.priority_zero_sent));
    prio0_recv.Add(l, static_cast<double>(c.priority_zero_received));
    for (size_t e = 0; e < vrrp::kReceiveErrorCount; ++e) {
      const auto reason = static_cast<vrrp::ReceiveError>(e);
      errors.Add(With(l, {{"reason", std::string(vrrp::ToString(reason))}}),
                 static_cast<double>(c.receive_errors[e]));
    }
    checksum.Add(With(l, {{"form", "with-pseudo-header"}}),
                 static_cast<double>(c.received_with_pseudo_header));
    checksum.Add(With(l, {{"form", "without-pseudo-header"}}),
                 static_cast<double>(c.received_without_pseudo_header));
    for (const auto& [addr, p] : st.peers) {
      peer.Add(With(l, {{"peer", addr.ToString()},
                        {"checksum_form",
                         std::string(vrrp::ToString(p.checksum_form))}}),
               p.priority);
    }
    for (const auto& [prefix, present] : i.vip_present) {
      vip.Add(With(l, {{"address", prefix.ToString()}}), present ? 1 : 0);
    }
    announcements.Add(l, static_cast<double>(c.announcements));
    lateness.AddHistogram(l, i.lateness());
    releasing.Add(l, st.releasing ? 1 : 0);
  }
  for (Family* f :
       {&info,        &state,           &in_state, &base_prio,  &eff_prio,
        &master_prio, &master_info,     &adv_int,  &master_int, &mdi,
        &transitions, &last_transition, &failover, &sent,       &received,
        &prio0_sent,  &prio0_recv,      &errors,   &checksum,   &peer,
        &vip,         &announcements,   &lateness, &releasing}) {
    out.push_back(f->Take());
  }

  Family if_errors("vrrp_receive_errors_total",
                   "Datagrams refused before reaching an instance (malformed, "
                   "or for a VRID not configured here), by interface and "
                   "reason.",
                   MetricType::Counter);
  for (const auto& [itf, counts] : s.interface_receive_errors) {
    for (size_t e = 0; e < vrrp::kReceiveErrorCount; ++e) {
      if_errors.Add(
          {{"interface", itf},
           {"reason",
            std::string(vrrp::ToString(static_cast<vrrp::ReceiveError>(e)))}},
          static_cast<double>(counts[e]));
    }
  }
  out.push_back(if_errors.Take());
  Family io_errors("vrrp_io_errors_total",
                   "Failures to send advertisements or announcements, or to "
                   "change addresses.",
                   MetricType::Counter);
  io_errors.Add({{"operation", "send"}}, static_cast<double>(s.send_errors));
  io_errors.Add({{"operation", "announce"}},
                static_cast<double>(s.announce_errors));
  io_errors.Add({{"operation", "address"}},
                static_cast<double>(s.address_errors));
  out.push_back(io_errors.Take());
  Family age("vrrp_snapshot_age_seconds",
             "Age of the state snapshot this scrape reports.",
             MetricType::Gauge);
  age.Add({}, std::max(0.0, now - s.taken_at_unix_seconds));
  out.push_back(age.Take());
}

// Hooks, line streams, webhooks and sync groups.
void NotificationFamilies(const Snapshot& s, std::vector<MetricFamily>& out) {
  const vrrp::NotificationStats& n = s.notifications;
  Family runs("vrrp_notification_runs_total",
              "Notifications delivered, by kind (exec, fifo, socket, webhook) "
              "and outcome (exec: success, failure, signaled, timeout, "
              "spawn_failed; webhook: success, http_error, failure, timeout; "
              "fifo/socket: written).",
              MetricType::Counter);
  // Every known series from the start, at 0, so rate() and alerts work
  // before the first failure.
  std::map<std::pair<std::string, std::string>, uint64_t> all = {
      {{vrrp::kNotifyExec, "success"}, 0},
      {{vrrp::kNotifyExec, "failure"}, 0},
      {{vrrp::kNotifyExec, "signaled"}, 0},
      {{vrrp::kNotifyExec, "timeout"}, 0},
      {{vrrp::kNotifyExec, "spawn_failed"}, 0},
      {{vrrp::kNotifyWebhook, "success"}, 0},
      {{vrrp::kNotifyWebhook, "http_error"}, 0},
      {{vrrp::kNotifyWebhook, "failure"}, 0},
      {{vrrp::kNotifyWebhook, "timeout"}, 0},
      {{vrrp::kNotifyFifo, "written"}, 0},
      {{vrrp::kNotifySocket, "written"}, 0}};
  for (const auto& [key, count] : n.runs) all[key] += count;
  for (const auto& [key, count] : all) {
    runs.Add({{"kind", key.first}, {"outcome", key.second}},
             static_cast<double>(count));
  }
  out.push_back(runs.Take());

  Family dropped("vrrp_notification_dropped_total",
                 "Notifications dropped because a stream's bounded queue was "
                 "full (a stalled FIFO reader, socket client or webhook "
                 "receiver, or hooks slower than the transitions).",
                 MetricType::Counter);
  for (const char* kind : {vrrp::kNotifyExec, vrrp::kNotifyFifo,
                           vrrp::kNotifySocket, vrrp::kNotifyWebhook}) {
    auto it = n.dropped.find(kind);
    dropped.Add({{"kind", kind}},
                static_cast<double>(it == n.dropped.end() ? 0 : it->second));
  }
  out.push_back(dropped.Take());

  MetricFamily duration;
  duration.name = "vrrp_notification_duration_seconds";
  duration.help = "Time each hook run (spawn to exit) or webhook request took.";
  duration.type = MetricType::Summary;
  Family last("vrrp_notification_last_duration_seconds",
              "Duration of the last hook run or webhook request.",
              MetricType::Gauge);
  for (const char* kind : {vrrp::kNotifyExec, vrrp::kNotifyWebhook}) {
    ClientMetric m;
    m.label = {{"kind", kind}};
    if (auto it = n.duration_seconds.find(kind);
        it != n.duration_seconds.end()) {
      m.summary.sample_sum = it->second.first;
      m.summary.sample_count = it->second.second;
    }
    duration.metric.push_back(std::move(m));
    auto it = n.last_duration.find(kind);
    last.Add({{"kind", kind}},
             it == n.last_duration.end() ? 0 : Seconds(it->second));
  }
  out.push_back(std::move(duration));
  out.push_back(last.Take());

  Family clients("vrrp_notify_socket_clients",
                 "Clients connected to notify_socket.", MetricType::Gauge);
  clients.Add({}, static_cast<double>(n.socket_clients));
  out.push_back(clients.Take());

  Family state("vrrp_sync_group_state",
               "Sync group state: 0 Initialize (all stopped), 1 Backup (not "
               "all Master), 2 Master (all Master), 3 Fault (any in Fault).",
               MetricType::Gauge);
  Family members("vrrp_sync_group_members",
                 "Instances configured in the sync group.", MetricType::Gauge);
  Family faulted("vrrp_sync_group_faulted_members",
                 "Members in Fault for a reason of their own, holding the "
                 "rest of the group in Fault.",
                 MetricType::Gauge);
  Family transitions("vrrp_sync_group_transitions_total",
                     "Changes of the sync group's state.", MetricType::Counter);
  for (const vrrp::SyncGroupStatus& g : s.sync_groups) {
    const Labels l = {{"sync_group", g.name}};
    state.Add(l, static_cast<double>(g.state));
    members.Add(l, static_cast<double>(g.members.size()));
    faulted.Add(l, static_cast<double>(g.faulted_members.size()));
    transitions.Add(l, static_cast<double>(g.transitions));
  }
  for (Family* f : {&state, &members, &faulted, &transitions}) {
    out.push_back(f->Take());
  }
}

// mehdy/keepalived-exporter's names and labels, from the same snapshot.
void KeepalivedFamilies(const Snapshot& s, std::vector<MetricFamily>& out) {
  Family up("keepalived_up",
            "Status of the VRRP speaker (always 1: it is "
            "this process).",
            MetricType::Gauge);
  up.Add({}, 1);
  out.push_back(up.Take());
  Family state("keepalived_vrrp_state",
               "State of vrrp: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
               MetricType::Gauge);
  struct Counter {
    const char* name;
    const char* help;
    uint64_t (*get)(const vrrp::InstanceStats&);
  };
  using RE = vrrp::ReceiveError;
  const Counter counters[] = {
      {"keepalived_advertisements_received_total", "Advertisements received",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.advertisements_received;
       }},
      {"keepalived_advertisements_sent_total", "Advertisements sent",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.advertisements_sent;
       }},
      {"keepalived_become_master_total", "Became master",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.become_master;
       }},
      {"keepalived_release_master_total", "Released master",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.release_master;
       }},
      {"keepalived_packet_length_errors_total", "Packet length errors",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.errors(RE::kPacketLength) + x.errors(RE::kTruncated);
       }},
      {"keepalived_advertisements_interval_errors_total",
       "Advertisement interval errors",
       [](const vrrp::InstanceStats& x) { return x.errors(RE::kAdvInterval); }},
      {"keepalived_ip_ttl_errors_total", "TTL errors",
       [](const vrrp::InstanceStats& x) { return x.errors(RE::kIpTtl); }},
      {"keepalived_invalid_type_received_total", "Invalid type errors",
       [](const vrrp::InstanceStats& x) { return x.errors(RE::kInvalidType); }},
      {"keepalived_address_list_errors_total", "Address list errors",
       [](const vrrp::InstanceStats& x) { return x.errors(RE::kAddressList); }},
      {"keepalived_authentication_invalid_total", "Authentication invalid",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.errors(RE::kInvalidAuthType);
       }},
      {"keepalived_authentication_mismatch_total", "Authentication mismatch",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.errors(RE::kAuthTypeMismatch);
       }},
      {"keepalived_authentication_failure_total", "Authentication failure",
       [](const vrrp::InstanceStats& x) { return x.errors(RE::kAuthFailure); }},
      {"keepalived_priority_zero_received_total", "Priority zero received",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.priority_zero_received;
       }},
      {"keepalived_priority_zero_sent_total", "Priority zero sent",
       [](const vrrp::InstanceStats& x) -> uint64_t {
         return x.priority_zero_sent;
       }},
  };
  std::vector<Family> families;
  for (const auto& c : counters) {
    families.emplace_back(c.name, c.help, MetricType::Counter);
  }
  for (const InstanceSnapshot& i : s.instances) {
    const Labels l = {{"iname", i.config->name},
                      {"intf", i.config->interface},
                      {"vrid", std::to_string(i.config->vrid)}};
    // One series per virtual address, as keepalived-exporter does.
    for (const auto& vip : i.config->virtual_addresses) {
      state.Add(With(l, {{"ip_address", vip.ToString()}}),
                static_cast<double>(i.status.state));
    }
    for (size_t k = 0; k < families.size(); ++k) {
      families[k].Add(l, static_cast<double>(counters[k].get(i.counters())));
    }
  }
  out.push_back(state.Take());
  for (auto& f : families) out.push_back(f.Take());
}

}  // namespace

std::vector<MetricFamily> SpeakerCollector::Families(const Snapshot& snapshot,
                                                     bool keepalived_compat,
                                                     double now) {
  std::vector<MetricFamily> out;
  SpeakerFamilies(snapshot, now, out);
  NotificationFamilies(snapshot, out);
  if (keepalived_compat) KeepalivedFamilies(snapshot, out);
  TrackerFamilies(snapshot, keepalived_compat, out);
  return out;
}

std::vector<MetricFamily> SpeakerCollector::Collect() const {
  auto snapshot = store_.Latest();
  if (!snapshot) return {};
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  return Families(*snapshot, keepalived_compat_, now);
}

}  // namespace vrrp::exporter
