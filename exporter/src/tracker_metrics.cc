#include "exporter/tracker_metrics.h"

#include <chrono>
#include <string>

namespace vrrp::exporter {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily NewFamily(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void Add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

constexpr vrrp::CheckFailure kFailures[] = {
    vrrp::CheckFailure::kExitStatus, vrrp::CheckFailure::kSignaled,
    vrrp::CheckFailure::kTimeout,    vrrp::CheckFailure::kSpawnFailed,
    vrrp::CheckFailure::kInsecure,   vrrp::CheckFailure::kConnect,
    vrrp::CheckFailure::kHttpStatus, vrrp::CheckFailure::kHttpBody,
    vrrp::CheckFailure::kTransport,  vrrp::CheckFailure::kLinkDown,
    vrrp::CheckFailure::kMissing,    vrrp::CheckFailure::kBadValue};
static_assert(std::size(kFailures) == vrrp::kCheckFailureCount);

}  // namespace

void TrackerFamilies(const Snapshot& s, bool keepalived_compat,
                     std::vector<MetricFamily>& out) {
  if (s.trackers.empty()) return;  // no tracker configured: no families
  MetricFamily info = NewFamily(
      "vrrp_tracker_info", "Configured trackers (value 1), with their type.",
      MetricType::Gauge);
  MetricFamily up = NewFamily(
      "vrrp_tracker_up",
      "1 while the tracker is up after its rise/fall hysteresis, 0 while down "
      "or before its first result (see vrrp_tracker_checks_total).",
      MetricType::Gauge);
  MetricFamily last_ok =
      NewFamily("vrrp_tracker_last_check_success",
                "Whether the last check succeeded, before hysteresis.",
                MetricType::Gauge);
  MetricFamily running =
      NewFamily("vrrp_tracker_check_running", "1 while a check is in progress.",
                MetricType::Gauge);
  MetricFamily last_time = NewFamily(
      "vrrp_tracker_last_check_timestamp_seconds",
      "Unix time of the last check result (0: none yet).", MetricType::Gauge);
  MetricFamily duration = NewFamily(
      "vrrp_tracker_check_duration_seconds",
      "How long the last check took (a timed-out check: its timeout).",
      MetricType::Gauge);
  MetricFamily checks = NewFamily("vrrp_tracker_checks_total",
                                  "Check results (for interface trackers: "
                                  "link state changes).",
                                  MetricType::Counter);
  MetricFamily failures =
      NewFamily("vrrp_tracker_failures_total", "Failed checks by reason.",
                MetricType::Counter);
  MetricFamily value = NewFamily(
      "vrrp_tracker_file_value",
      "File trackers: the number last read from the file (0 when unread).",
      MetricType::Gauge);
  for (const TrackerSnapshot& t : s.trackers) {
    const vrrp::TrackerStatus& st = t.status;
    const Labels labels = {{"tracker", st.name}};
    Add(info,
        {{"tracker", st.name}, {"type", std::string(vrrp::ToString(st.type))}},
        1);
    Add(up, labels, st.health == vrrp::TrackerHealth::kUp ? 1 : 0);
    Add(last_ok, labels, st.checks > 0 && st.last_ok ? 1 : 0);
    Add(running, labels, st.running ? 1 : 0);
    Add(last_time, labels, t.last_check_unix_seconds.value_or(0));
    Add(duration, labels,
        std::chrono::duration<double>(st.last_duration).count());
    Add(checks, labels, static_cast<double>(st.checks));
    for (vrrp::CheckFailure f : kFailures) {
      Add(failures,
          {{"tracker", st.name}, {"reason", std::string(vrrp::ToString(f))}},
          static_cast<double>(st.failures[static_cast<size_t>(f)]));
    }
    if (st.type == vrrp::TrackerType::kFile) {
      Add(value, labels, static_cast<double>(st.value.value_or(0)));
    }
  }
  for (MetricFamily* f : {&info, &up, &last_ok, &running, &last_time, &duration,
                          &checks, &failures, &value}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }

  // Per instance: why its effective priority is what it is.
  MetricFamily delta = NewFamily(
      "vrrp_instance_tracker_priority_delta",
      "What each tracked tracker adds to the instance's priority now "
      "(weight while up if positive, while down if negative; file: value x "
      "weight).",
      MetricType::Gauge);
  MetricFamily fault = NewFamily(
      "vrrp_instance_tracker_fault",
      "1 while this tracker puts the instance in Fault (weight 0 and down).",
      MetricType::Gauge);
  MetricFamily weight = NewFamily("vrrp_instance_tracker_weight",
                                  "The weight of each tracker for the "
                                  "instance (0: Fault when down).",
                                  MetricType::Gauge);
  for (const InstanceSnapshot& i : s.instances) {
    for (const vrrp::TrackedStatus& t : i.tracking) {
      const Labels labels = {
          {"vrrp_instance", i.config->name},
          {"interface", i.config->interface},
          {"vrid", std::to_string(i.config->vrid)},
          {"family", std::string(vrrp::ToString(i.config->family))},
          {"tracker", t.tracker}};
      Add(delta, labels, t.effect.delta);
      Add(fault, labels, t.effect.fault ? 1 : 0);
      Add(weight, labels, t.weight);
    }
  }
  for (MetricFamily* f : {&delta, &fault, &weight}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }

  if (!keepalived_compat) return;
  // mehdy/keepalived-exporter: keepalived_script_status{name} 0 BAD 1 GOOD,
  // keepalived_script_state{name} 0 idle 1 running 2 requested termination
  // 3 forcing termination. Keepalived has only scripts; every tracker of
  // ours is one here, so an alert on keepalived_script_status == 0 covers
  // the HTTP and TCP checks that replace curl scripts. A check is killed
  // at once at its timeout, so 2 and 3 never show.
  MetricFamily status = NewFamily("keepalived_script_status",
                                  "Tracker Script Status", MetricType::Gauge);
  MetricFamily state = NewFamily("keepalived_script_state",
                                 "Tracker Script State", MetricType::Gauge);
  for (const TrackerSnapshot& t : s.trackers) {
    const Labels labels = {{"name", t.status.name}};
    // Before the first result a tracker counts as up (CombineTracks), as
    // Keepalived's scripts start GOOD without init_fail.
    Add(status, labels, t.status.health != vrrp::TrackerHealth::kDown ? 1 : 0);
    Add(state, labels, t.status.running ? 1 : 0);
  }
  out.push_back(std::move(status));
  out.push_back(std::move(state));
}

}  // namespace vrrp::exporter
