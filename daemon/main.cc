// vrrp_exporter: a VRRP speaker and Prometheus exporter.
//
// Flags follow the Prometheus exporter convention (--config.file,
// --log.level, ...) so the daemon reads like the other exporters beside it.

#include <sched.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "vrrp/config_loader.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/speaker.h"

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
};

// Loads `path`, reporting every error (FILE:LINE:COLUMN: ...) through
// `report`. Returns the configuration only when it has no errors.
template <typename Report>
std::optional<vrrp::Config> Load(const std::string& path, Report report) {
  auto config = vrrp::LoadConfigFile(path);
  if (config.ok()) return std::move(config).value();
  for (const vrrp::ConfigError& error : config.error()) {
    report(error.ToString());
  }
  return std::nullopt;
}

int CheckConfig(const std::string& path) {
  auto config = Load(path, [](const std::string& e) {
    std::fprintf(stderr, "%s\n", e.c_str());
  });
  if (!config) return kExitConfigError;
  std::printf("%s: OK, %zu instance(s)\n", path.c_str(),
              config->instances.size());
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
                      const vrrp::IpAddress& source) override {
    spdlog::debug("instance {}: dropped advertisement from {}: {}", i.name(),
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

  auto loop_or = vrrp::sys::EventLoop::Create();
  if (!loop_or.ok()) {
    spdlog::error("event loop: {}", loop_or.error());
    return kExitStartError;
  }
  auto& loop = *loop_or.value();
  LoggingObserver observer;
  vrrp::sys::Speaker speaker(loop, &observer, Log);

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
      spdlog::info("all instances released; exiting");
      loop.Stop();
    });
  };
  auto reload = [&] {
    if (stopping) return;
    spdlog::info("SIGHUP: reloading {}", flags.config_file);
    auto next = Load(flags.config_file, [](const std::string& e) {
      spdlog::error("reload rejected: {}", e);
    });
    if (!next) {
      spdlog::error("reload rejected; the running configuration stays");
      return;
    }
    auto s = speaker.Reload(*next);
    spdlog::info("reload done: {} kept, {} added, {} re-created, {} removed",
                 s.kept, s.created, s.recreated, s.removed);
  };
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
  spdlog::info("vrrp_exporter {} running {} instance(s) from {}",
               VRRP_EXPORTER_VERSION, config->instances.size(),
               flags.config_file);
  loop.Run();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vrrp_exporter: VRRP speaker and Prometheus exporter"};
  Flags flags;
  app.add_option("--config.file", flags.config_file,
                 "Configuration file to run with")
      ->capture_default_str();
  CLI::Option* check =
      app.add_option("--config.check", flags.config_check,
                     "Validate this configuration file, print every error and "
                     "exit (0: valid, 1: errors)");
  app.add_option("--log.level", flags.log_level,
                 "Only log messages with this severity or above")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--vrrp.realtime-priority", flags.realtime_priority,
                 "SCHED_RR priority for the daemon (1..99; 0: normal "
                 "scheduling)")
      ->check(CLI::Range(0, 99))
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

  if (check->count() > 0) return CheckConfig(flags.config_check);
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
