#include "vrrp/config.h"

namespace vrrp {

std::string_view ToString(TrackerType type) {
  switch (type) {
    case TrackerType::kExec:
      return "exec";
    case TrackerType::kHttp:
      return "http";
    case TrackerType::kTcp:
      return "tcp";
    case TrackerType::kInterface:
      return "interface";
    case TrackerType::kFile:
      return "file";
    case TrackerType::kProcess:
      return "process";
  }
  return "unknown";
}

bool TrackerConfig::SameSettings(const TrackerConfig& o) const {
  return name == o.name && type == o.type && interval == o.interval &&
         timeout == o.timeout && rise == o.rise && fall == o.fall &&
         weight == o.weight && command == o.command && user == o.user &&
         url == o.url && expect_status == o.expect_status &&
         expect_body == o.expect_body && tls_verify == o.tls_verify &&
         address == o.address && port == o.port && interface == o.interface &&
         path == o.path && process == o.process && pidfile == o.pidfile;
}

std::string ConfigWarning::ToString() const {
  std::string out = location.file.empty() ? "<config>" : location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line);
    if (location.column > 0) out += ":" + std::to_string(location.column);
  }
  out += ": warning: ";
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

std::string_view ToString(ShutdownMode mode) {
  return mode == ShutdownMode::kHitless ? "hitless" : "strict";
}

namespace {
bool SameUnicast(const std::optional<UnicastConfig>& a,
                 const std::optional<UnicastConfig>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->source == b->source && a->peers == b->peers);
}
}  // namespace

bool InstanceConfig::SameSettings(const InstanceConfig& o) const {
  return name == o.name && interface == o.interface && vrid == o.vrid &&
         version == o.version && family == o.family && priority == o.priority &&
         advert_interval == o.advert_interval &&
         virtual_addresses == o.virtual_addresses && preempt == o.preempt &&
         preempt_delay == o.preempt_delay && accept == o.accept &&
         SameUnicast(unicast, o.unicast) && auth_type == o.auth_type &&
         auth_password == o.auth_password && checksum_form == o.checksum_form &&
         shutdown_mode == o.shutdown_mode && announce == o.announce &&
         virtual_mac == o.virtual_mac &&
         virtual_mac_interface == o.virtual_mac_interface;
}

bool InstanceConfig::RecreatedBy(const InstanceConfig& next) const {
  return name != next.name || interface != next.interface ||
         vrid != next.vrid || version != next.version ||
         family != next.family || is_owner() != next.is_owner() ||
         virtual_mac != next.virtual_mac ||
         virtual_mac_interface != next.virtual_mac_interface;
}

}  // namespace vrrp
