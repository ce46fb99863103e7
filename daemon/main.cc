// vrrp_exporter: a VRRP speaker and Prometheus exporter.
//
// Flags follow the Prometheus exporter convention (--config.file,
// --log.level, ...) so the daemon reads like the other exporters beside it.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "vrrp/config_loader.h"

namespace {

// Exit codes: 0 success, 1 configuration or usage error, 2 not runnable yet.
constexpr int kExitOk = 0;
constexpr int kExitConfigError = 1;
constexpr int kExitUsageError = 1;
constexpr int kExitNotImplemented = 2;

struct Flags {
  std::string config_file = "/etc/vrrp_exporter/config.yml";
  std::string config_check;
  std::string log_level = "info";
};

// Loads `path`, printing every error (one per line, FILE:LINE:COLUMN: ...) to
// stderr. Returns the configuration only when it has no errors.
std::optional<vrrp::Config> Load(const std::string& path) {
  auto config = vrrp::LoadConfigFile(path);
  if (config.ok()) return std::move(config).value();
  for (const vrrp::ConfigError& error : config.error()) {
    std::fprintf(stderr, "%s\n", error.ToString().c_str());
  }
  return std::nullopt;
}

int CheckConfig(const std::string& path) {
  auto config = Load(path);
  if (!config) return kExitConfigError;
  std::printf("%s: OK, %zu instance(s)\n", path.c_str(),
              config->instances.size());
  return kExitOk;
}

int Run(const Flags& flags) {
  if (!Load(flags.config_file)) return kExitConfigError;
  // Validating first means a deployment can already ship its configuration
  // and have it checked before the speaker exists.
  std::fprintf(stderr,
               "vrrp_exporter: the Linux speaker is not wired yet (next "
               "milestone); configuration OK\n");
  return kExitNotImplemented;
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
  return Run(flags);
}
