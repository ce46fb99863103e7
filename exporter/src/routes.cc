#include "exporter/routes.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exporter/metrics_body.h"

namespace vrrp::exporter {

namespace {

double NowUnix() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Seconds(vrrp::Duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string MetricsText(const Snapshot* snapshot, const RouteOptions& options,
                        double now) {
  // Not owned: the caller keeps `snapshot` alive for the call.
  std::shared_ptr<const Snapshot> view(std::shared_ptr<const Snapshot>(),
                                       snapshot);
  return MetricsBody(options).Render(view, false, now).bytes;
}

std::string StatusJson(const Snapshot& s, const std::string& version) {
  using nlohmann::json;
  json out;
  out["version"] = version;
  out["snapshot_unix_seconds"] = s.taken_at_unix_seconds;
  out["instances"] = json::array();
  for (const InstanceSnapshot& i : s.instances) {
    const auto& st = i.status;
    json j;
    j["name"] = i.config->name;
    j["interface"] = i.config->interface;
    j["vrid"] = i.config->vrid;
    j["family"] = std::string(ToString(i.config->family));
    j["version"] = static_cast<int>(i.config->version);
    j["state"] = std::string(ToString(st.state));
    j["base_priority"] = st.base_priority;
    j["effective_priority"] = st.effective_priority;
    j["master"] = st.master_address
                      ? json{{"address", st.master_address->ToString()},
                             {"priority", st.master_priority}}
                      : json(nullptr);
    j["advert_interval_seconds"] = Seconds(st.advert_interval);
    j["master_advert_interval_seconds"] = Seconds(st.master_advert_interval);
    j["skew_time_seconds"] = Seconds(st.skew_time);
    j["master_down_interval_seconds"] = Seconds(st.master_down_interval);
    j["releasing"] = st.releasing;
    j["link_up"] = st.link_up;
    j["tracker_fault"] = st.tracker_fault;
    j["preempt"] = i.config->preempt;
    j["shutdown"] = std::string(ToString(i.config->shutdown_mode));
    j["addresses"] = json::array();
    for (const auto& [prefix, present] : i.vip_present) {
      j["addresses"].push_back(
          {{"address", prefix.ToString()}, {"present", present}});
    }
    if (st.last_transition) {
      const auto& t = *st.last_transition;
      j["last_transition"] = {
          {"from", std::string(ToString(t.from))},
          {"to", std::string(ToString(t.to))},
          {"reason", std::string(ToString(t.reason))},
          {"unix_seconds", i.last_transition_unix_seconds.value_or(0)}};
      if (t.master_silence) {
        j["last_transition"]["master_silence_seconds"] =
            Seconds(*t.master_silence);
      }
    } else {
      j["last_transition"] = nullptr;
    }
    j["transitions"] = json::array();
    for (const auto& [key, n] : i.transitions) {
      const auto& [from, to, why] = key;
      j["transitions"].push_back({{"from", std::string(ToString(from))},
                                  {"to", std::string(ToString(to))},
                                  {"reason", std::string(ToString(why))},
                                  {"count", n}});
    }
    const InstanceStats& c = i.counters();
    j["counters"] = {
        {"advertisements_sent", c.advertisements_sent.get()},
        {"advertisements_received", c.advertisements_received.get()},
        {"priority_zero_sent", c.priority_zero_sent.get()},
        {"priority_zero_received", c.priority_zero_received.get()},
        {"become_master", c.become_master.get()},
        {"release_master", c.release_master.get()},
        {"announcements", c.announcements.get()}};
    json errors = json::object();
    for (size_t e = 0; e < kReceiveErrorCount; ++e) {
      errors[std::string(ToString(static_cast<ReceiveError>(e)))] =
          c.receive_errors[e].get();
    }
    j["receive_errors"] = errors;
    j["peers"] = json::array();
    for (const auto& [addr, p] : st.peers) {
      j["peers"].push_back(
          {{"address", addr.ToString()},
           {"priority", p.priority},
           {"advert_interval_seconds", Seconds(p.advert_interval)},
           {"checksum_form", std::string(ToString(p.checksum_form))},
           {"advertisements", p.advertisements}});
    }
    // Each tracked tracker and what it contributes now: the answer to
    // "why is the effective priority what it is".
    j["trackers"] = json::array();
    for (const TrackedStatus& t : i.tracking) {
      j["trackers"].push_back({{"tracker", t.tracker},
                               {"weight", t.weight},
                               {"health", std::string(ToString(t.health))},
                               {"priority_delta", t.effect.delta},
                               {"fault", t.effect.fault}});
    }
    out["instances"].push_back(std::move(j));
  }
  out["trackers"] = json::array();
  for (const TrackerSnapshot& ts : s.trackers) {
    const TrackerStatus& t = ts.status;
    json failures = json::object();
    for (size_t f = 0; f < kCheckFailureCount; ++f) {
      failures[std::string(ToString(static_cast<CheckFailure>(f)))] =
          t.failures[f];
    }
    json j = {{"name", t.name},
              {"type", std::string(ToString(t.type))},
              {"health", std::string(ToString(t.health))},
              {"running", t.running},
              {"checks", t.checks},
              {"consecutive_successes", t.consecutive_ok},
              {"consecutive_failures", t.consecutive_failures},
              {"failures", failures}};
    if (t.checks > 0) {
      j["last_check"] = {
          {"success", t.last_ok},
          {"reason", t.last_ok ? json(nullptr)
                               : json(std::string(ToString(t.last_failure)))},
          {"detail", t.last_detail},
          {"duration_seconds", Seconds(t.last_duration)},
          {"unix_seconds", ts.last_check_unix_seconds.value_or(0)}};
    } else {
      j["last_check"] = nullptr;
    }
    if (t.type == TrackerType::kFile) {
      j["value"] = t.value ? json(*t.value) : json(nullptr);
    }
    out["trackers"].push_back(std::move(j));
  }
  return out.dump(2) + "\n";
}

std::string LandingPage(const Snapshot* s, const RouteOptions& o) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
       "<title>vrrp_exporter</title><style>body{font-family:sans-serif;"
       "margin:2em}table{border-collapse:collapse}td,th{border:1px solid "
       "#ccc;padding:4px 8px;text-align:left}.Master{color:#070}.Fault{"
       "color:#b00}</style></head><body>\n<h1>vrrp_exporter</h1>\n<p>VRRP "
       "speaker and Prometheus exporter, version "
    << Html(o.version) << ".</p>\n<ul><li><a href=\"" << Html(o.telemetry_path)
    << "\">Metrics</a></li><li><a href=\"/api/v1/status\">Status "
       "(JSON)</a></li><li><a href=\"/-/healthy\">Health</a></li><li><a "
       "href=\"/-/ready\">Readiness</a></li></ul>\n";
  if (!s) {
    h << "<p>Starting: no state published yet.</p>\n";
  } else {
    h << "<table><tr><th>instance</th><th>interface</th><th>VRID</th>"
         "<th>state</th><th>priority (effective)</th><th>master</th>"
         "<th>addresses</th></tr>\n";
    for (const auto& i : s->instances) {
      const auto& st = i.status;
      const std::string state(ToString(st.state));
      h << "<tr><td>" << Html(i.config->name) << "</td><td>"
        << Html(i.config->interface) << "</td><td>"
        << static_cast<int>(i.config->vrid) << "</td><td class=\"" << state
        << "\">" << state << (st.releasing ? " (releasing)" : "") << "</td><td>"
        << static_cast<int>(st.base_priority) << " ("
        << static_cast<int>(st.effective_priority) << ")</td><td>"
        << (st.master_address ? Html(st.master_address->ToString()) + " (" +
                                    std::to_string(st.master_priority) + ")"
                              : std::string("unknown"))
        << "</td><td>";
      for (const auto& [prefix, present] : i.vip_present) {
        h << Html(prefix.ToString()) << (present ? " &#10003;" : "") << "<br>";
      }
      h << "</td></tr>\n";
    }
    h << "</table>\n";
    if (!s->trackers.empty()) {
      h << "<h2>Trackers</h2>\n<table><tr><th>tracker</th><th>type</th>"
           "<th>health</th><th>last check</th><th>checks</th></tr>\n";
      for (const auto& t : s->trackers) {
        const auto& st = t.status;
        h << "<tr><td>" << Html(st.name) << "</td><td>" << ToString(st.type)
          << "</td><td class=\""
          << (st.health == TrackerHealth::kDown ? "Fault" : "") << "\">"
          << ToString(st.health) << "</td><td>"
          << (st.checks == 0
                  ? std::string("none yet")
                  : Html(st.last_detail.empty()
                             ? std::string(st.last_ok ? "ok" : "failed")
                             : st.last_detail))
          << "</td><td>" << st.checks << "</td></tr>\n";
      }
      h << "</table>\n";
    }
  }
  h << "</body></html>\n";
  return h.str();
}

void RegisterRoutes(HttpServer& server, const RouteOptions& o) {
  const RouteOptions opts = o;
  // Shared by every scrape thread: one rendering per published snapshot.
  auto metrics = std::make_shared<MetricsBody>(opts);
  server.Handle(opts.telemetry_path, Method::kGet,
                [opts, metrics](const Request& request) {
                  Response r;
                  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                  const auto accept = request.Header("Accept-Encoding");
                  auto body = metrics->Render(opts.store->Latest(),
                                              accept && AcceptsGzip(*accept),
                                              NowUnix());
                  r.body = std::move(body.bytes);
                  if (body.gzip)
                    r.headers.emplace_back("Content-Encoding", "gzip");
                  r.headers.emplace_back("Vary", "Accept-Encoding");
                  return r;
                });
  server.Handle("/", Method::kGet, [opts](const Request&) {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    auto snap = opts.store->Latest();
    r.body = LandingPage(snap.get(), opts);
    return r;
  });
  server.Handle("/api/v1/status", Method::kGet, [opts](const Request&) {
    Response r;
    auto snap = opts.store->Latest();
    if (!snap) {
      r.status = 503;
      r.body = "no state published yet\n";
      return r;
    }
    r.content_type = "application/json";
    r.body = StatusJson(*snap, opts.version);
    return r;
  });
  server.Handle("/-/healthy", Method::kGet, [opts](const Request&) {
    Response r;
    auto snap = opts.store->Latest();
    const double age = snap ? NowUnix() - snap->taken_at_unix_seconds : 0;
    if (snap && age > static_cast<double>(opts.max_snapshot_age.count())) {
      r.status = 503;
      r.body =
          "event loop stalled: state is " + std::to_string(age) + " s old\n";
    } else {
      r.body = "OK\n";
    }
    return r;
  });
  server.Handle("/-/ready", Method::kGet, [opts](const Request&) {
    Response r;
    if (opts.store->Latest()) {
      r.body = "OK\n";
    } else {
      r.status = 503;
      r.body = "starting\n";
    }
    return r;
  });
  server.Handle("/-/reload", Method::kPost, [opts](const Request&) {
    Response r;
    if (!opts.reload) {
      // Off by default, as Prometheus' own --web.enable-lifecycle: anyone
      // who reaches the metrics port could otherwise make the loop parse
      // the file again and again.
      r.status = 403;
      r.body =
          "reload over HTTP is disabled; start with --web.enable-lifecycle "
          "to allow it (SIGHUP always reloads)\n";
      return r;
    }
    auto result = opts.reload();
    if (result.ok()) {
      r.body = result.value() + "\n";
    } else {
      r.status = 500;
      r.body = result.error() + "\n";
    }
    return r;
  });
}

}  // namespace vrrp::exporter
