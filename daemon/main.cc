// vrrp_exporter: a VRRP speaker and Prometheus exporter.
//
// Flags follow the Prometheus exporter convention (--config.file,
// --log.level, ...) so the daemon reads like the other exporters beside it.

#include <malloc.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/routes.h"
#include "exporter/snapshot.h"
#include "exporter/web_config.h"
#include "vrrp/config_loader.h"
#include "vrrp/sync_group.h"
#include "vrrp/sys/checkers.h"
#include "vrrp/sys/curl_library.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/netlink.h"
#include "vrrp/sys/notifier.h"
#include "vrrp/sys/speaker.h"
#include "vrrp/sys/tracker_manager.h"

namespace {

// Exit codes: 0 success, 1 configuration, usage or start-up error.
constexpr int kExitOk = 0;
constexpr int kExitConfigError = 1;
constexpr int kExitUsageError = 1;
constexpr int kExitStartError = 1;

// A graceful stop waits for hitless releases, which are bounded by about
// two advertisement intervals; past this something is wrong and we go.
constexpr auto kShutdownDeadline = std::chrono::seconds(90);

struct Flags {
  std::string config_file = "/etc/vrrp_exporter/config.yml";
  std::string config_check;
  std::string log_level = "info";
  int realtime_priority = 0;
  // Port 9687: not used by the Keepalived exporters (9165, 9650) nor by
  // snmp_exporter (9116).
  std::vector<std::string> listen_addresses = {":9687"};
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  bool disable_exporter_metrics = false;
  bool enable_lifecycle = false;
  bool keepalived_compat = true;
};

// How often the event loop republishes the state scrapes read (and at once
// after every transition). Counters lag by at most this much.
constexpr auto kSnapshotPeriod = std::chrono::milliseconds(100);

// Loads `path`, reporting every error (FILE:LINE:COLUMN: ...) through
// `report`. Returns the configuration only when it has no errors.
// Warnings (legal but probably not meant: a tracker weight that cannot move
// the master) are logged at warn at every load, never refused.
template <typename Report>
std::optional<vrrp::Config> Load(
    const std::string& path, Report report,
    const std::function<void(const std::string&)>& warn =
        [](const std::string& w) { spdlog::warn("{}", w); }) {
  auto config = vrrp::LoadConfigFile(path);
  if (!config.ok()) {
    for (const vrrp::ConfigError& error : config.error()) {
      report(error.ToString());
    }
    return std::nullopt;
  }
  // What needs the system, not just the file: script_user exists, every
  // hook program is there and safe to run (script security).
  auto programs = vrrp::sys::CheckNotificationPrograms(config.value());
  if (!programs.ok()) {
    for (const vrrp::ConfigError& error : programs.error()) {
      report(error.ToString());
    }
    return std::nullopt;
  }
  // And every exec tracker's (its user exists; script security).
  auto refused = vrrp::sys::CheckTrackerPrograms(*config);
  if (!refused.empty()) {
    for (const vrrp::ConfigError& error : refused) report(error.ToString());
    return std::nullopt;
  }
  for (const vrrp::ConfigWarning& w : config->warnings) warn(w.ToString());
  return std::move(config).value();
}

// The script user of a configuration that passed Load().
std::optional<vrrp::sys::ProcessUser> ScriptUser(const vrrp::Config& config) {
  if (!config.script_user) return std::nullopt;
  auto user = vrrp::sys::LookupUser(*config.script_user);
  if (!user.ok()) return std::nullopt;
  return std::move(user).value();
}

int CheckConfig(const std::string& path) {
  auto print = [](const std::string& e) {
    std::fprintf(stderr, "%s\n", e.c_str());
  };
  auto config = Load(path, print, print);
  if (!config) return kExitConfigError;
  std::printf("%s: OK, %zu instance(s), %zu tracker(s)\n", path.c_str(),
              config->instances.size(), config->trackers.size());
  return kExitOk;
}

// Logs what the instances do: transitions at info, refused advertisements
// at debug (they can be a flood), late advertisement timers at warn.
class LoggingObserver : public vrrp::InstanceObserver {
 public:
  void OnTransition(const vrrp::Instance& i,
                    const vrrp::Transition& t) override {
    std::string extra;
    if (t.master_silence) {
      extra = fmt::format(
          ", master silent for {:.3f} ms",
          std::chrono::duration<double, std::milli>(*t.master_silence).count());
    }
    spdlog::info("instance {}: {} -> {} ({}){}", i.name(), ToString(t.from),
                 ToString(t.to), ToString(t.reason), extra);
  }
  void OnReceiveError(const vrrp::Instance& i, vrrp::ReceiveError e,
                      const vrrp::IpAddress& source,
                      vrrp::ReceiveErrorAction action) override {
    // A peer on our VRID whose settings disagree with ours is a
    // misconfiguration that usually means two masters (Keepalived's
    // default VRRPv2 against our v3 is the common one): said at warn once
    // per instance, peer and reason, so it is seen without --log.level
    // debug; then at debug like any other refused advertisement.
    const char* what = action == vrrp::ReceiveErrorAction::kFollowed
                           ? "mismatched"
                           : "dropped";
    if (IsPeerMismatch(e) && warned_.size() >= kMaxWarned && !capped_) {
      capped_ = true;
      spdlog::warn(
          "{} peers with settings differing from ours were warned about; "
          "further ones are logged at debug only (a flood of forged "
          "sources?)",
          kMaxWarned);
    }
    if (IsPeerMismatch(e) && warned_.size() < kMaxWarned &&
        warned_.emplace(i.name(), source.ToString(), e).second) {
      std::string hint;
      if (e == vrrp::ReceiveError::kVersionMismatch) {
        hint = fmt::format(
            "; this instance runs VRRPv{}: set the same version on both "
            "(Keepalived defaults to 2) or both will be master",
            i.config().version == vrrp::Version::kV2 ? 2 : 3);
      }
      spdlog::warn(
          "instance {}: {} advertisement from {}: {}: the peer's settings "
          "differ from ours{}; further ones are logged at debug",
          i.name(), what, source.ToString(), ToString(e), hint);
      return;
    }
    spdlog::debug("instance {}: {} advertisement from {}: {}", i.name(), what,
                  source.ToString(), ToString(e));
  }
  void OnAdvertTimerLateness(const vrrp::Instance& i,
                             vrrp::Duration lateness) override {
    // Half an interval late risks a backup's false takeover (the
    // "thread timer expired" class of Keepalived reports).
    if (lateness * 2 > vrrp::Duration(i.config().advert_interval)) {
      spdlog::warn(
          "instance {}: advertisement timer fired {} us late", i.name(),
          std::chrono::duration_cast<std::chrono::microseconds>(lateness)
              .count());
    }
  }

 private:
  static bool IsPeerMismatch(vrrp::ReceiveError e) {
    switch (e) {
      case vrrp::ReceiveError::kAdvInterval:
      case vrrp::ReceiveError::kAddressList:
      case vrrp::ReceiveError::kAuthTypeMismatch:
      case vrrp::ReceiveError::kAuthFailure:
      case vrrp::ReceiveError::kVersionMismatch:
      case vrrp::ReceiveError::kUnicastPeer:
      case vrrp::ReceiveError::kIpTtl:  // unicast to a multicast instance
        return true;
      default:
        return false;
    }
  }
  // Bounded: past this many (instance, peer, reason) triples, a flood of
  // forged sources, new ones go to debug after one line saying so.
  static constexpr size_t kMaxWarned = 1024;
  bool capped_ = false;
  std::set<std::tuple<std::string, std::string, vrrp::ReceiveError>> warned_;
};

void Log(vrrp::sys::LogLevel level, const std::string& message) {
  switch (level) {
    case vrrp::sys::LogLevel::kDebug:
      spdlog::debug("{}", message);
      break;
    case vrrp::sys::LogLevel::kInfo:
      spdlog::info("{}", message);
      break;
    case vrrp::sys::LogLevel::kWarn:
      spdlog::warn("{}", message);
      break;
    case vrrp::sys::LogLevel::kError:
      spdlog::error("{}", message);
      break;
  }
}

int Run(const Flags& flags) {
  auto config = Load(flags.config_file,
                     [](const std::string& e) { spdlog::error("{}", e); });
  if (!config) return kExitConfigError;

  // libcurl is loaded on demand (sys/curl_library.h); a configuration that
  // will use it loads it here, before the loop runs, rather than in its
  // first check, whose timeout would count the loading (tens of ms on a
  // busy host) and could mark a healthy service down at start-up.
  const bool uses_curl =
      !config->notifications.webhooks.empty() ||
      std::any_of(config->trackers.begin(), config->trackers.end(),
                  [](const vrrp::TrackerConfig& t) {
                    return t.type == vrrp::TrackerType::kHttp;
                  });
  if (uses_curl) {
    if (auto curl = vrrp::sys::LoadCurl(); !curl.ok()) {
      spdlog::error("HTTP checks and webhooks will fail: {}", curl.error());
    }
  }
  auto loop_or = vrrp::sys::EventLoop::Create();
  if (!loop_or.ok()) {
    spdlog::error("event loop: {}", loop_or.error());
    return kExitStartError;
  }
  auto& loop = *loop_or.value();
  LoggingObserver logging;
  vrrp::exporter::MetricsObserver metrics;
  // Publishes after every transition too, coalesced into one loop task.
  class PublishOnTransition : public vrrp::InstanceObserver {
   public:
    std::function<void()> request;
    void OnTransition(const vrrp::Instance&, const vrrp::Transition&) override {
      if (request) request();
    }
  } on_transition;
  vrrp::sys::Notifier notifier(loop, Log);
  // Declared before the speaker it looks into, destroyed after it: the
  // speaker's instances report their last transitions on destruction.
  vrrp::sys::Speaker* speaker_ptr = nullptr;
  vrrp::SyncGroups groups(
      loop,
      [&](const std::string& name) -> vrrp::Instance* {
        return speaker_ptr != nullptr ? speaker_ptr->Find(name) : nullptr;
      },
      [&](const vrrp::SyncGroupConfig& g, const vrrp::GroupTransition& t) {
        spdlog::info("sync group {}: {} -> {} ({})", g.name, ToString(t.from),
                     ToString(t.to), t.reason);
        notifier.OnGroupTransition(g, t);
        if (on_transition.request) on_transition.request();
      });
  vrrp::exporter::ObserverFanout observer(
      {&logging, &metrics, &on_transition, &notifier, &groups});
  vrrp::sys::Speaker speaker(loop, &observer, Log);
  speaker_ptr = &speaker;
  auto configure_notifications = [&](const vrrp::Config& c) {
    auto n = notifier.Configure(c, ScriptUser(c));
    if (!n.ok()) spdlog::error("notifications: {}", n.error());
    groups.Configure(c.sync_groups);
  };
  configure_notifications(*config);

  // The configuration in force, by instance name, for the snapshots: one
  // immutable copy per instance that every published snapshot shares
  // (issue 3's memory per instance: a copy per snapshot was ~420 bytes).
  // It is the speaker's own copy whenever that has the same settings (all
  // the exporter shows; a reload keeps a kept instance's notify: hooks as
  // they were, so the two can differ): one copy in the daemon instead of
  // two, ~780 bytes per instance. Filled after the speaker started or
  // reloaded.
  std::map<std::string, std::shared_ptr<const vrrp::InstanceConfig>> running;
  auto remember = [&](const vrrp::Config& c) {
    // The speaker's copies by name, in one pass; a later instance of the
    // same name (re-created while the old one releases) is the one in force.
    std::map<std::string_view, std::shared_ptr<const vrrp::InstanceConfig>>
        speakers;
    speaker.ForEachInstance([&](const vrrp::Instance& instance) {
      speakers[instance.name()] = instance.shared_config();
    });
    running.clear();
    for (const auto& i : c.instances) {
      auto it = speakers.find(i.name);
      running[i.name] = it != speakers.end() && it->second->SameSettings(i)
                            ? it->second
                            : std::make_shared<const vrrp::InstanceConfig>(i);
    }
  };

  vrrp::exporter::SnapshotStore store;
  std::unique_ptr<vrrp::sys::Netlink> reader;
  if (auto nl = vrrp::sys::Netlink::Open(); nl.ok()) {
    reader = std::move(nl.value());
  } else {
    spdlog::warn("netlink for address checks: {}", nl.error());
  }
  auto publish = [&] {
    // Refilled in place when the store has one back (see SnapshotStore):
    // every field below is assigned, so nothing of the previous contents
    // survives, and the assignments reuse its allocations.
    auto snap = store.TakeReusable();
    if (!snap) snap = std::make_shared<vrrp::exporter::Snapshot>();
    snap->taken_at_unix_seconds =
        std::chrono::duration<double>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
    // Kernel addresses per interface and family, read once per snapshot.
    std::map<std::pair<std::string, vrrp::Family>, std::set<vrrp::IpAddress>>
        present;
    auto has = [&](const std::string& itf, const vrrp::IpAddress& a) {
      auto key = std::make_pair(itf, a.family());
      auto it = present.find(key);
      if (it == present.end()) {
        std::set<vrrp::IpAddress> addrs;
        const unsigned index = if_nametoindex(itf.c_str());
        if (reader && index != 0) {
          auto list =
              reader->ListAddresses(static_cast<int>(index), a.family());
          if (list.ok()) {
            for (const auto& x : list.value()) addrs.insert(x.prefix.address);
          }
        }
        it = present.emplace(key, std::move(addrs)).first;
      }
      return it->second.count(a) > 0;
    };
    // Keys view the names in `running`, which outlives this publish.
    std::map<std::string_view, size_t> index_of;
    auto tracking = speaker.Tracking();
    // At most one entry per configured instance: reserved at its final
    // size, no growth by doubling and no second buffer alive while it
    // grows (issue 3's memory per instance). Statuses are taken one at a
    // time, not as a vector of all of them beside the snapshot.
    auto& instances = snap->instances;
    instances.reserve(running.size());
    size_t filled = 0;
    speaker.ForEachInstance([&](const vrrp::Instance& instance) {
      auto cfg = running.find(instance.name());
      if (cfg == running.end()) return;  // removed, still releasing
      // A re-created instance appears twice while the old one releases:
      // the newer (later) one is the one in force.
      auto [at, fresh] = index_of.emplace(cfg->first, filled);
      if (fresh) {
        if (filled == instances.size()) instances.emplace_back();
        ++filled;
      }
      vrrp::exporter::InstanceSnapshot& i = instances[at->second];
      i.config = cfg->second;
      instance.StatusInto(i.status);
      if (auto t = tracking.find(i.status.name); t != tracking.end()) {
        i.tracking = t->second;
      } else {
        i.tracking.clear();
      }
      i.vip_present.clear();
      for (const auto& vip : i.config->virtual_addresses) {
        // With a virtual MAC the addresses live on the macvlan.
        const std::string& itf = i.config->virtual_mac
                                     ? i.config->virtual_mac_interface
                                     : i.config->interface;
        i.vip_present.emplace_back(vip, has(itf, vip.address));
      }
      if (const auto* m = metrics.Find(i.config->name)) {
        i.transitions = m->transitions;
        i.last_transition_unix_seconds = m->last_transition_unix_seconds;
        i.failover_seconds = m->failover;
        i.advert_lateness_seconds = m->lateness;
      } else {
        i.transitions.clear();
        i.last_transition_unix_seconds.reset();
        i.failover_seconds =
            vrrp::exporter::Histogram(vrrp::exporter::FailoverBuckets());
        i.advert_lateness_seconds =
            vrrp::exporter::Histogram(vrrp::exporter::LatenessBuckets());
      }
    });
    // Instances removed since the snapshot was last filled.
    instances.erase(instances.begin() + static_cast<std::ptrdiff_t>(filled),
                    instances.end());
    const auto& ss = speaker.stats();
    snap->interface_receive_errors = ss.receive_errors;
    snap->send_errors = ss.send_errors;
    snap->announce_errors = ss.announce_errors;
    snap->address_errors = ss.address_errors;
    snap->trackers.clear();
    if (const auto* trackers = speaker.trackers()) {
      // The trackers' clock is monotonic; the metric is a Unix time.
      const auto mono_now = vrrp::Clock::now();
      const auto wall_now = std::chrono::system_clock::now();
      for (auto& st : trackers->Status()) {
        vrrp::exporter::TrackerSnapshot t;
        if (st.last_check) {
          t.last_check_unix_seconds =
              std::chrono::duration<double>(
                  (wall_now - (mono_now - *st.last_check)).time_since_epoch())
                  .count();
        }
        t.status = std::move(st);
        snap->trackers.push_back(std::move(t));
      }
    }
    snap->sync_groups = groups.Status();
    snap->notifications = notifier.stats();
    store.PublishReusable(std::move(snap));
  };
  bool publish_pending = false;
  on_transition.request = [&] {
    if (publish_pending) return;
    publish_pending = true;
    loop.Post([&] {
      publish_pending = false;
      publish();
    });
  };
  std::unique_ptr<vrrp::Timer> publisher;
  std::function<void()> tick = [&] {
    publish();
    publisher->ArmAt(loop.Now() + kSnapshotPeriod);
  };
  publisher = loop.CreateTimer([&] { tick(); });

  bool stopping = false;
  auto deadline = loop.CreateTimer([&] {
    spdlog::error("shutdown did not finish in {} s; exiting",
                  kShutdownDeadline.count());
    loop.Stop();
  });
  auto stop = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("{}: sending priority 0 and releasing addresses", why);
    deadline->ArmAt(loop.Now() + kShutdownDeadline);
    speaker.Shutdown([&] {
      spdlog::info("all instances released; finishing notifications");
      // notify_stop hooks and the last webhooks run before we exit (the
      // shutdown deadline above still bounds it).
      notifier.Drain([&] {
        spdlog::info("exiting");
        loop.Stop();
      });
    });
  };
  // Reloads: SIGHUP, or POST /-/reload through Post. The file is read,
  // parsed and checked on a worker thread, and only the finished
  // configuration is applied on the loop: parsing a large file (a 15 MB
  // one took 1.3 s) on the loop held the advertisement timer past a
  // backup's Master_Down_Interval, and the backup took over on every
  // reload. One load at a time; a request during a load gets the result of
  // one more load that starts after it (the file may have changed since
  // the running one read it). The loop-side state below is the loop's only.
  using ReloadResult = vrrp::Result<std::string, std::string>;
  using ReloadDone = std::function<void(const ReloadResult&)>;
  struct ReloadState {
    bool running = false;
    std::vector<ReloadDone> waiting;  // for the running load
    std::vector<ReloadDone> next;     // for the one after it
    std::string next_why;
    std::thread worker;
    ~ReloadState() {
      if (worker.joinable()) worker.join();
    }
  };
  ReloadState reloads;
  std::function<void(const char*)> start_load;
  // What the worker hands to the loop.
  struct Loaded {
    std::optional<vrrp::Config> config;  // none: rejected
    std::string errors;                  // one FILE:LINE:... per line
  };
  auto apply = [&](Loaded& loaded) {
    ReloadResult result = vrrp::Err(std::string("shutting down"));
    if (stopping) {
      // The speaker is releasing; nothing to apply.
    } else if (!loaded.config) {
      spdlog::error("reload rejected; the running configuration stays");
      result = vrrp::Err(loaded.errors +
                         "reload rejected; the running configuration stays");
    } else {
      auto s = speaker.Reload(*loaded.config);
      remember(*loaded.config);
      configure_notifications(*loaded.config);
      loaded.config.reset();
      publish();
      malloc_trim(0);  // the parse's peak, as at start-up
      std::string msg = fmt::format(
          "reload done: {} kept, {} added, {} re-created, {} removed", s.kept,
          s.created, s.recreated, s.removed);
      spdlog::info("{}", msg);
      result = msg;
    }
    reloads.running = false;
    // Stopping, those waiting for the next load get "shutting down" too.
    auto answered = std::exchange(reloads.waiting, {});
    if (stopping) {
      for (auto& done : std::exchange(reloads.next, {})) {
        answered.push_back(std::move(done));
      }
    }
    for (auto& done : answered) done(result);
    if (reloads.next.empty()) return;
    reloads.waiting = std::exchange(reloads.next, {});
    start_load(reloads.next_why.c_str());
  };
  start_load = [&](const char* why) {
    reloads.running = true;
    spdlog::info("{}: reloading {}", why, flags.config_file);
    // The previous worker posted its result and returned before we got
    // here (its result is what ended `running`).
    if (reloads.worker.joinable()) reloads.worker.join();
    reloads.worker = std::thread([&, path = flags.config_file] {
      // Created by the loop, it would inherit SCHED_RR
      // (--vrrp.realtime-priority) and compete with it.
      sched_param normal{};
      pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
      // Shared: Post takes a copyable function.
      auto loaded = std::make_shared<Loaded>();
      loaded->config = Load(path, [&](const std::string& e) {
        spdlog::error("reload rejected: {}", e);
        loaded->errors += e + "\n";
      });
      loop.Post([&, loaded] { apply(*loaded); });
    });
  };
  // On the loop thread.
  auto request_reload = [&](const char* why, ReloadDone done) {
    if (stopping) {
      done(vrrp::Err(std::string("shutting down")));
      return;
    }
    if (reloads.running) {
      reloads.next.push_back(std::move(done));
      reloads.next_why = why;
      return;
    }
    reloads.waiting.push_back(std::move(done));
    start_load(why);
  };
  auto reload = [&] { request_reload("SIGHUP", [](const ReloadResult&) {}); };
  for (auto [sig, fn] : {std::pair<int, std::function<void()>>{
                             SIGTERM, [&] { stop("SIGTERM"); }},
                         {SIGINT, [&] { stop("SIGINT"); }},
                         {SIGHUP, reload}}) {
    auto r = loop.OnSignal(sig, fn);
    if (!r.ok()) {
      spdlog::error("signals: {}", r.error());
      return kExitStartError;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);

  // Everything that can fail at start-up without touching the network comes
  // first: the web config and the listening sockets. Once the speaker runs,
  // an instance may already be master with its addresses, its macvlan and
  // the base's sysctls set; exiting then would leave them behind for
  // nobody to advertise (a service manager restarting us on a busy port
  // would repeat it every few seconds).
  vrrp::exporter::WebConfig web;
  if (!flags.web_config_file.empty()) {
    auto w = vrrp::exporter::LoadWebConfigFile(flags.web_config_file);
    if (!w.ok()) {
      for (const auto& e : w.error()) spdlog::error("{}", e.ToString());
      return kExitConfigError;
    }
    web = std::move(w.value());
  }
  vrrp::exporter::HttpServer::Options http;
  http.listen_addresses = flags.listen_addresses;
  http.web = std::move(web);
  http.log = [](std::string_view m) { spdlog::warn("http: {}", m); };
  auto server_or = vrrp::exporter::HttpServer::Start(std::move(http));
  if (!server_or.ok()) {
    spdlog::error("http: {}", server_or.error());
    return kExitStartError;
  }
  auto& server = *server_or.value();

  if (flags.realtime_priority > 0) {
    // Keepalived's vrrp_rt_priority: a loaded host must not delay the
    // advertisement timer into a false takeover.
    sched_param p{};
    p.sched_priority = flags.realtime_priority;
    if (sched_setscheduler(0, SCHED_RR, &p) != 0) {
      spdlog::warn("could not set real-time priority {}: {}",
                   flags.realtime_priority, std::strerror(errno));
    }
  }

  auto started = speaker.Start(*config);
  if (!started.ok()) {
    spdlog::error("start: {}", started.error());
    return kExitStartError;
  }
  remember(*config);
  tick();

  vrrp::exporter::RouteOptions routes;
  routes.telemetry_path = flags.telemetry_path;
  routes.disable_exporter_metrics = flags.disable_exporter_metrics;
  routes.keepalived_compat = flags.keepalived_compat;
  routes.version = VRRP_EXPORTER_VERSION;
  routes.store = &store;
  if (flags.enable_lifecycle) {
    routes.reload = [&]() -> vrrp::Result<std::string, std::string> {
      // Loaded on the reload worker and applied on the loop; this HTTP
      // thread waits, the loop does not.
      auto done = std::make_shared<
          std::promise<vrrp::Result<std::string, std::string>>>();
      auto result = done->get_future();
      loop.Post([&, done] {
        request_reload("POST /-/reload",
                       [done](const ReloadResult& r) { done->set_value(r); });
      });
      if (result.wait_for(std::chrono::seconds(10)) !=
          std::future_status::ready) {
        return vrrp::Err(std::string("reload timed out"));
      }
      return result.get();
    };
  }
  vrrp::exporter::RegisterRoutes(server, routes);
  std::string ports;
  for (int p : server.ports())
    ports += (ports.empty() ? "" : ",") + std::to_string(p);
  spdlog::info(
      "vrrp_exporter {} running {} instance(s) from {}; HTTP on port(s) {}",
      VRRP_EXPORTER_VERSION, config->instances.size(), flags.config_file,
      ports);
  // Everything that needs the loaded configuration copied what it keeps
  // (speaker, running map, notifier, sync groups); holding it for the
  // daemon's life cost a fourth copy of every instance's configuration
  // (issue 3's memory per instance). A reload loads its own.
  config.reset();
  // The heap's peak is the configuration's parse (yaml-cpp holds the whole
  // document as a node tree, then the loaded copy); its freed pages would
  // stay resident for the daemon's life. Handing them back once, here and
  // after each reload, is one pass, not a recurring cost (issue 3's
  // resident memory; the publish's own churn is not trimmed).
  malloc_trim(0);
  loop.Run();
  server.Stop();
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
                 "SCHED_RR priority for the daemon (1..99; 0: normal "
                 "scheduling)")
      ->check(CLI::Range(0, 99))
      ->capture_default_str();
  app.add_option("--web.listen-address", flags.listen_addresses,
                 "Address to serve metrics and status on (repeatable; "
                 "host:port, :port, port 0 for any free port)")
      ->capture_default_str();
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
    return CheckConfig(flags.config_check.empty() ? flags.config_file
                                                  : flags.config_check);
  }
  if (flags.log_level == "debug") {
    spdlog::set_level(spdlog::level::debug);
  } else if (flags.log_level == "warn") {
    spdlog::set_level(spdlog::level::warn);
  } else if (flags.log_level == "error") {
    spdlog::set_level(spdlog::level::err);
  } else {
    spdlog::set_level(spdlog::level::info);
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  return Run(flags);
}
