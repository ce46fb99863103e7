// vrrp_exporter: a VRRP speaker and Prometheus exporter.
//
// Flags follow the Prometheus exporter convention (--config.file,
// --log.level, ...) so the daemon reads like the other exporters beside it.
// This file wires the parts together; each part is tested on its own.

#include <fmt/format.h>
#include <malloc.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config_load.h"
#include "exporter/http_server.h"
#include "exporter/probe.h"
#include "exporter/routes.h"
#include "exporter/snapshot.h"
#include "exporter/web_config.h"
#include "health.h"
#include "log_setup.h"
#include "logging_observer.h"
#include "priorities.h"
#include "reload_coordinator.h"
#include "snapshot_publisher.h"
#include "snmp/agentx_model.h"
#include "snmp/engine.h"
#include "snmp/module.h"
#include "vrrp/router.h"
#include "vrrp/sys/curl_library.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/link_layer.h"
#include "vrrp/sys/notifier.h"
#include "vrrp/sys/tracker_manager.h"

namespace {

using vrrp::daemon::Log;

// Exit codes: 0 success, 1 configuration, usage or start-up error.
constexpr int kExitOk = 0;
constexpr int kExitConfigError = 1;
constexpr int kExitUsageError = 1;
constexpr int kExitStartError = 1;

// A graceful stop waits for hitless releases, which are bounded by about
// two advertisement intervals; past this something is wrong and we go.
constexpr auto kShutdownDeadline = std::chrono::seconds(90);

// How often the counters in the published snapshot are refreshed when no
// event (transition, reload, link or address change) republishes it first.
constexpr auto kSnapshotPeriod = std::chrono::milliseconds(100);

struct Flags {
  std::string config_file = "/etc/vrrp_exporter/config.yml";
  std::string config_check;
  std::string log_level = "info";
  int realtime_priority = vrrp::daemon::kAutoRealtimePriority;
  // Port 9687: not used by the Keepalived exporters (9165, 9650) nor by
  // snmp_exporter (9116).
  std::vector<std::string> listen_addresses = {":9687"};
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  std::string health_listen_address;
  bool disable_exporter_metrics = false;
  bool enable_lifecycle = false;
  bool keepalived_compat = true;
  // SNMP modules for /probe (remote Keepalived daemons); empty: no /probe.
  std::string snmp_config_file;
  // AgentX master's socket (snmpd's agentXSocket); empty: no subagent.
  std::string snmp_agentx_socket;
};

void LogError(const std::string& e) { spdlog::error("{}", e); }
void LogWarn(const std::string& w) { spdlog::warn("{}", w); }

// libcurl is loaded on demand (sys/curl_library.h); a configuration that
// will use it loads it here, before the loop runs, rather than in its first
// check, whose timeout would count the loading (tens of ms on a busy host)
// and could mark a healthy service down at start-up.
void LoadCurlIfUsed(const vrrp::Config& config) {
  const bool uses_curl =
      !config.notifications.webhooks.empty() ||
      std::any_of(config.trackers.begin(), config.trackers.end(),
                  [](const vrrp::TrackerConfig& t) {
                    return t.type == vrrp::TrackerType::kHttp;
                  });
  if (!uses_curl) return;
  if (auto curl = vrrp::sys::LoadCurl(); !curl.ok()) {
    spdlog::error("HTTP checks and webhooks will fail: {}", curl.error());
  }
}

// The web config and the listening sockets. They come before the router
// starts: once it runs, an instance may already be master with its
// addresses, its macvlan and the base's sysctls set; exiting then would leave
// them behind for nobody to advertise (a service manager restarting us on a
// busy port would repeat it every few seconds).
std::unique_ptr<vrrp::exporter::HttpServer> StartHttp(const Flags& flags) {
  vrrp::exporter::WebConfig web;
  if (!flags.web_config_file.empty()) {
    auto w = vrrp::exporter::LoadWebConfigFile(flags.web_config_file);
    if (!w.ok()) {
      for (const auto& e : w.error()) spdlog::error("{}", e.ToString());
      return nullptr;
    }
    web = std::move(w.value());
  }
  vrrp::exporter::HttpServer::Options http;
  http.listen_addresses = flags.listen_addresses;
  http.web = std::move(web);
  http.log = [](std::string_view m) { spdlog::warn("http: {}", m); };
  // civetweb serves one request per worker, and a probe of a silent target
  // holds its worker for the module's timeout: more workers, so that a
  // fleet's dead targets cannot starve /metrics and the live targets.
  if (!flags.snmp_config_file.empty()) http.threads = 48;
  auto server = vrrp::exporter::HttpServer::Start(std::move(http));
  if (!server.ok()) {
    spdlog::error("http: {}", server.error());
    return nullptr;
  }
  return std::move(server.value());
}

// POST /-/reload: loaded on the reload worker and applied on the loop; the
// HTTP thread waits, the loop does not.
std::function<vrrp::Result<std::string, std::string>()> HttpReload(
    vrrp::sys::EventLoop& loop, vrrp::daemon::ReloadCoordinator& reloads) {
  return [&loop, &reloads]() -> vrrp::Result<std::string, std::string> {
    using Outcome = vrrp::daemon::ReloadCoordinator::Outcome;
    auto done = std::make_shared<std::promise<Outcome>>();
    auto result = done->get_future();
    loop.Post([&reloads, done] {
      reloads.Request("POST /-/reload",
                      [done](const Outcome& r) { done->set_value(r); });
    });
    if (result.wait_for(std::chrono::seconds(10)) !=
        std::future_status::ready) {
      return vrrp::Err(std::string("reload timed out"));
    }
    return result.get();
  };
}

int Run(const Flags& flags) {
  auto config = vrrp::daemon::Load(flags.config_file, LogError, LogWarn);
  if (!config) return kExitConfigError;
  vrrp::snmp::Modules snmp_modules;
  if (!flags.snmp_config_file.empty()) {
    auto m = vrrp::snmp::LoadModules(flags.snmp_config_file);
    if (!m.ok()) {
      for (const auto& e : m.error()) spdlog::error("{}", e);
      return kExitConfigError;
    }
    snmp_modules = std::move(m.value());
  }
  LoadCurlIfUsed(*config);
  auto loop_or = vrrp::sys::EventLoop::Create();
  if (!loop_or.ok()) {
    spdlog::error("event loop: {}", loop_or.error());
    return kExitStartError;
  }
  auto& loop = *loop_or.value();
  // Signals are blocked and read through the loop from here on: before any
  // thread starts (HTTP workers, trackers), since a thread that does not
  // block them would take SIGTERM's default action and kill the daemon
  // without releasing anything. What they do is set once it exists.
  std::function<void(const char*)> on_stop = [](const char*) {};
  std::function<void()> on_reload = [] {};
  for (auto [sig, fn] : {std::pair<int, std::function<void()>>{
                             SIGTERM, [&] { on_stop("SIGTERM"); }},
                         {SIGINT, [&] { on_stop("SIGINT"); }},
                         {SIGHUP, [&] { on_reload(); }}}) {
    if (auto r = loop.OnSignal(sig, fn); !r.ok()) {
      spdlog::error("signals: {}", r.error());
      return kExitStartError;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  auto server = StartHttp(flags);
  if (!server) return kExitStartError;
  bool health_failed = false;
  auto health = vrrp::daemon::StartHealthListener(flags.health_listen_address,
                                                  *server, &health_failed);
  if (health_failed) return kExitStartError;
  auto links_or = vrrp::sys::LinuxLinkLayer::Open(loop, Log);
  if (!links_or.ok()) {
    spdlog::error("start: {}", links_or.error());
    return kExitStartError;
  }
  auto& links = *links_or.value();

  vrrp::sys::TrackerManager trackers(loop, Log, [&](const std::string& name) {
    return links.netlink().GetInterface(name);
  });
  links.on_any_link = [&] { trackers.OnLinkEvent(); };
  vrrp::sys::Notifier notifier(loop, Log);
  vrrp::daemon::LoggingObserver logging;
  vrrp::ObserverFanout observer({&logging, &notifier});
  vrrp::daemon::SnapshotPublisher* publisher_ptr = nullptr;
  vrrp::Router router(
      loop, links,
      {.observer = &observer,
       .log = Log,
       .on_group_transition =
           [&](const vrrp::SyncGroupConfig& g, const vrrp::GroupTransition& t) {
             spdlog::info("sync group {}: {} -> {} ({})", g.name,
                          ToString(t.from), ToString(t.to), t.reason);
             notifier.OnGroupTransition(g, t);
           },
       .on_change =
           [&] {
             if (publisher_ptr) publisher_ptr->Request();
           },
       .unix_now = {}});
  router.SetTracking(&trackers);
  trackers.on_change = [&] { router.TrackingChanged(); };
  vrrp::exporter::SnapshotStore store;
  vrrp::daemon::SnapshotPublisher publisher(loop, router, links, trackers,
                                            notifier, store);
  publisher_ptr = &publisher;
  auto configure_notifications = [&](const vrrp::Config& c) {
    auto n = notifier.Configure(c, vrrp::daemon::ScriptUser(c));
    if (!n.ok()) spdlog::error("notifications: {}", n.error());
  };

  vrrp::daemon::ReloadCoordinator reloads(
      loop, flags.config_file,
      [](const std::string& path,
         const std::function<void(const std::string&)>& report) {
        return vrrp::daemon::Load(path, report, LogWarn);
      },
      [&](vrrp::Config& c) {
        // Trackers first: unchanged ones keep their state, so kept
        // instances see no change; new ones answer before long.
        trackers.Configure(c);
        const vrrp::ReloadSummary s = router.Reload(c);
        configure_notifications(c);
        publisher.Publish();
        malloc_trim(0);  // the parse's peak, as at start-up
        std::string msg = fmt::format(
            "reload done: {} kept, {} added, {} re-created, {} removed{}",
            s.kept, s.created, s.recreated, s.removed,
            s.updated == 0
                ? ""
                : fmt::format("; {} of the kept changed in place", s.updated));
        spdlog::info("{}", msg);
        return msg;
      });

  bool stopping = false;
  auto deadline = loop.CreateTimer([&] {
    spdlog::error("shutdown did not finish in {} s; exiting",
                  kShutdownDeadline.count());
    loop.Stop();
  });
  auto stop = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    reloads.Stop();
    spdlog::info("{}: sending priority 0 and releasing addresses", why);
    deadline->ArmAt(loop.Now() + kShutdownDeadline);
    router.Shutdown([&] {
      spdlog::info("all instances released; finishing notifications");
      // notify_stop hooks and the last webhooks run before we exit (the
      // shutdown deadline above still bounds it).
      notifier.Drain([&] {
        spdlog::info("exiting");
        loop.Stop();
      });
    });
  };
  on_stop = stop;
  on_reload = [&] { reloads.Request("SIGHUP", [](const auto&) {}); };

  vrrp::daemon::SetLoopPriority(flags.realtime_priority);
  // Trackers before the instances, so each starts with what they say.
  trackers.Configure(*config);
  configure_notifications(*config);
  router.Start(*config);
  publisher.Publish();
  publisher.PublishEvery(kSnapshotPeriod);

  vrrp::exporter::RouteOptions routes;
  routes.telemetry_path = flags.telemetry_path;
  routes.disable_exporter_metrics = flags.disable_exporter_metrics;
  routes.keepalived_compat = flags.keepalived_compat;
  routes.version = VRRP_EXPORTER_VERSION;
  routes.store = &store;
  // /probe and the AgentX subagent: net-snmp on its own thread (started
  // here, after the signals were blocked), never on the loop nor on the
  // HTTP workers. The subagent reads the published snapshots, as /metrics.
  std::unique_ptr<vrrp::snmp::SnmpEngine> snmp_engine;
  vrrp::exporter::ProbeStats probe_stats;
  std::unique_ptr<vrrp::snmp::AgentXModel> agentx;
  if (!flags.snmp_config_file.empty() || !flags.snmp_agentx_socket.empty()) {
    vrrp::snmp::EngineOptions eo;
    eo.log = [](const std::string& m) { spdlog::warn("{}", m); };
    if (!flags.snmp_agentx_socket.empty()) {
      agentx = std::make_unique<vrrp::snmp::AgentXModel>(
          [&store] { return store.Latest(); },
          std::string("vrrp_exporter ") + VRRP_EXPORTER_VERSION,
          vrrp::snmp::InterfaceIndex);
      eo.agentx_socket = flags.snmp_agentx_socket;
      eo.agentx_view = [&agentx] { return agentx->View(); };
      eo.agentx_notifications = [&agentx] { return agentx->Poll(); };
    }
    auto e = vrrp::snmp::StartSnmpEngine(std::move(eo));
    if (!e.ok()) {
      spdlog::error("snmp: {}", e.error());
      server->Stop();
      return kExitStartError;
    }
    snmp_engine = std::move(e.value());
    if (agentx) {
      spdlog::info("snmp: AgentX subagent on {}", flags.snmp_agentx_socket);
    }
  }
  if (!flags.snmp_config_file.empty()) {
    vrrp::exporter::ProbeOptions probe;
    probe.modules = &snmp_modules;
    probe.engine = snmp_engine.get();
    probe.stats = &probe_stats;
    probe.log = [](const std::string& m) { spdlog::debug("{}", m); };
    vrrp::exporter::RegisterProbeRoute(*server, probe);
    for (const auto& [name, m] : snmp_modules) {
      spdlog::info("snmp module {}", m.Describe());
    }
  }
  if (!flags.disable_exporter_metrics && snmp_engine) {
    routes.extra_families =
        [&probe_stats, engine = snmp_engine.get(),
         probing = !flags.snmp_config_file.empty()](auto& families) {
          vrrp::exporter::AppendSnmpSelfFamilies(
              probing ? &probe_stats : nullptr,
              probing ? &engine->stats() : nullptr, engine->agentx_stats(),
              families);
        };
  }
  if (flags.enable_lifecycle) routes.reload = HttpReload(loop, reloads);
  vrrp::exporter::RegisterRoutes(*server, routes);
  std::string ports;
  for (int p : server->ports()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  }
  spdlog::info(
      "vrrp_exporter {} running {} instance(s) from {}; HTTP on port(s) {}",
      VRRP_EXPORTER_VERSION, config->instances.size(), flags.config_file,
      ports);
  // Everything that needs the loaded configuration copied what it keeps;
  // a reload loads its own. The heap's peak is the parse (yaml-cpp's node
  // tree, then the loaded copy): handing its pages back once, here and after
  // each reload, is one pass, not a recurring cost.
  config.reset();
  malloc_trim(0);
  loop.Run();
  health.reset();
  server->Stop();
  // /metrics' renderer reads the SNMP counters, and the SNMP thread calls
  // into the subagent and reads the snapshot store: both stop before those
  // go.
  server.reset();
  snmp_engine.reset();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vrrp_exporter: VRRP speaker and Prometheus exporter"};
  Flags flags;
  app.add_option("--config.file", flags.config_file,
                 "Configuration file to run with")
      ->capture_default_str();
  // The path is optional: `--config.check --config.file F` (the form
  // Prometheus' own tools suggest) and a bare `--config.check` check
  // --config.file; a following option is never taken for the path.
  CLI::Option* check =
      app.add_option("--config.check", flags.config_check,
                     "Validate this configuration file (default: the one "
                     "--config.file names), print every error and exit (0: "
                     "valid, 1: errors)")
          ->expected(0, 1);
  app.add_option("--log.level", flags.log_level,
                 "Only log messages with this severity or above")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--vrrp.realtime-priority", flags.realtime_priority,
                 "SCHED_RR priority of the event loop (1..99; 0: normal "
                 "scheduling; -1: 50 where permitted, the default)")
      ->check(CLI::Range(-1, 99))
      ->capture_default_str();
  app.add_option("--web.listen-address", flags.listen_addresses,
                 "Address to serve metrics and status on (repeatable; "
                 "host:port, :port, port 0 for any free port)")
      ->capture_default_str();
  app.add_option("--web.health-listen-address", flags.health_listen_address,
                 "Also answer /-/healthy and /-/ready (only) on this "
                 "host:port, plain HTTP without authentication, on a thread "
                 "of its own: probes pass while slow clients hold every "
                 "worker of the main port (off when empty)");
  app.add_option("--web.telemetry-path", flags.telemetry_path,
                 "Path of the metrics")
      ->capture_default_str();
  app.add_option("--web.config.file", flags.web_config_file,
                 "web-config.yml for TLS and basic auth (exporter-toolkit "
                 "format)");
  app.add_flag("--web.enable-lifecycle", flags.enable_lifecycle,
               "Allow POST /-/reload (off: anyone who reaches the port could "
               "make the daemon re-read its configuration)");
  app.add_flag("--web.disable-exporter-metrics", flags.disable_exporter_metrics,
               "Leave out the exporter's own metrics (vrrp_exporter_*)");
  app.add_option("--snmp.config.file", flags.snmp_config_file,
                 "SNMP modules (YAML) for /probe?target=HOST&module=NAME, "
                 "which scrapes remote Keepalived daemons through their SNMP "
                 "agents; unset: no /probe");
  app.add_option("--snmp.agentx-socket", flags.snmp_agentx_socket,
                 "Serve the instances over SNMP as an AgentX subagent of the "
                 "snmpd listening on this socket (its agentXSocket, e.g. "
                 "/var/agentx/master), with vrrpv3NewMaster traps; unset: "
                 "off");
  app.add_option("--metrics.keepalived-compat", flags.keepalived_compat,
                 "Also publish keepalived-exporter's names (keepalived_*)")
      ->capture_default_str();
  app.set_version_flag("--version",
                       std::string("vrrp_exporter ") + VRRP_EXPORTER_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive here too, with exit code 0. CLI11's own
    // codes for usage errors (105, 109, ...) would mean nothing to a service
    // manager; 1 is what Prometheus exporters return.
    return app.exit(e) == 0 ? kExitOk : kExitUsageError;
  }

  if (check->count() > 0) {
    int rc = vrrp::daemon::CheckConfig(
        flags.config_check.empty() ? flags.config_file : flags.config_check);
    if (!flags.snmp_config_file.empty()) {
      // FILE:LINE:COL like the main file's errors; secrets never printed.
      auto m = vrrp::snmp::LoadModules(flags.snmp_config_file);
      if (!m.ok()) {
        for (const auto& e : m.error()) std::fprintf(stderr, "%s\n", e.c_str());
        rc = kExitConfigError;
      } else {
        std::printf("%s: OK, %zu SNMP module(s)\n",
                    flags.snmp_config_file.c_str(), m->size());
      }
    }
    return rc;
  }
  vrrp::daemon::SetUpLogging(flags.log_level);
  return Run(flags);
}
