#include "integration/vrrp_daemon.h"

#include <fstream>

namespace vrrp::testing {

std::string VrrpExporterBinary() {
  return std::string(VRRP_BINARY_DIR) + "/daemon/vrrp_exporter";
}

std::string SpeakerInstance::Yaml() const {
  std::string y = "  - name: " + name + "\n";
  y += "    interface: " + interface + "\n";
  y += "    vrid: " + std::to_string(vrid) + "\n";
  y += "    version: " + std::to_string(version) + "\n";
  y += "    priority: " + std::to_string(priority) + "\n";
  y += "    advert_interval: " + interval + "\n";
  y += "    virtual_ipaddresses:\n";
  for (const auto& v : vips) y += "      - " + v + "\n";
  y += std::string("    preempt: ") + (preempt ? "true" : "false") + "\n";
  if (!preempt_delay.empty()) y += "    preempt_delay: " + preempt_delay + "\n";
  if (!unicast_peers.empty()) {
    y += "    unicast:\n";
    if (!unicast_source.empty()) {
      y += "      source: " + unicast_source + "\n";
    }
    y += "      peers:\n";
    for (const auto& p : unicast_peers) y += "        - " + p + "\n";
  }
  if (!auth_pass.empty()) {
    y += "    authentication:\n      type: pass\n      password: " + auth_pass +
         "\n";
  }
  if (!shutdown.empty()) y += "    shutdown: " + shutdown + "\n";
  if (virtual_mac) y += "    virtual_mac: true\n";
  if (!virtual_mac_interface.empty()) {
    y += "    virtual_mac_interface: " + virtual_mac_interface + "\n";
  }
  return y;
}

std::string SpeakerConfig(const std::vector<SpeakerInstance>& instances) {
  std::string y = "instances:\n";
  for (const auto& i : instances) y += i.Yaml();
  return y;
}

std::unique_ptr<VrrpDaemon> VrrpDaemon::Start(const Lab& lab, int node,
                                              const std::string& yaml,
                                              std::vector<std::string> wrapper,
                                              std::vector<std::string> flags) {
  auto d = std::unique_ptr<VrrpDaemon>(new VrrpDaemon);
  const std::string n = "n" + std::to_string(node);
  d->config_path_ = lab.dir() + "/vrrp-" + n + ".yml";
  d->log_path_ = lab.dir() + "/vrrp-" + n + ".log";
  d->WriteConfig(yaml);
  std::vector<std::string> argv = std::move(wrapper);
  for (const auto& a :
       {VrrpExporterBinary(), std::string("--config.file"), d->config_path_,
        std::string("--log.level"), std::string("debug")}) {
    argv.push_back(a);
  }
  for (auto& f : flags) argv.push_back(std::move(f));
  d->process_ = Process::Start(lab.node(node), argv, d->log_path_);
  return d;
}

void VrrpDaemon::WriteConfig(const std::string& yaml) {
  std::ofstream(config_path_, std::ios::trunc) << yaml;
}

bool VrrpDaemon::WaitForLog(const std::string& text,
                            std::chrono::milliseconds timeout) const {
  return WaitUntil([&] { return Count(text) > 0; }, timeout);
}

}  // namespace vrrp::testing
