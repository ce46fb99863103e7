#pragma once

// Runs our vrrp_exporter in a lab node, with a YAML configuration built from
// a few fields, the way a user would start it.

#include <memory>
#include <string>
#include <vector>

#include "integration/lab.h"

namespace vrrp::testing {

struct SpeakerInstance {
  std::string name = "vip1";
  std::string interface = "eth0";
  int vrid = 51;
  int version = 3;
  int priority = 100;
  std::string interval = "100ms";
  std::vector<std::string> vips = {"192.0.2.200/24"};
  bool preempt = true;
  std::string preempt_delay;  // empty: default
  std::vector<std::string> unicast_peers;
  std::string unicast_source;  // empty: default (with unicast_peers only)
  std::string auth_pass;       // VRRPv2 PASS
  std::string shutdown;        // empty: default (hitless)
  bool virtual_mac = false;
  std::string virtual_mac_interface;  // empty: the default name

  std::string Yaml() const;
};

std::string SpeakerConfig(const std::vector<SpeakerInstance>& instances);

class VrrpDaemon {
 public:
  // Writes lab.dir()/vrrp-nN.yml and starts the daemon in node N with
  // --log.level debug, logging to lab.dir()/vrrp-nN.log. `wrapper` is put
  // before the binary (e.g. setpriv ... to drop privileges); `flags` after
  // it (e.g. --web.listen-address ...).
  static std::unique_ptr<VrrpDaemon> Start(
      const Lab& lab, int node, const std::string& yaml,
      std::vector<std::string> wrapper = {},
      std::vector<std::string> flags = {});
  // Rewrites the configuration file (for reload tests).
  void WriteConfig(const std::string& yaml);
  Process& process() { return *process_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& config_path() const { return config_path_; }
  std::string Log() const { return ReadFile(log_path_); }
  // Lines of the log containing `text`.
  int Count(const std::string& text) const {
    return CountLines(log_path_, text);
  }
  // Waits until the log has a line containing `text`.
  bool WaitForLog(const std::string& text,
                  std::chrono::milliseconds timeout) const;

 private:
  std::unique_ptr<Process> process_;
  std::string log_path_;
  std::string config_path_;
};

std::string VrrpExporterBinary();

}  // namespace vrrp::testing
