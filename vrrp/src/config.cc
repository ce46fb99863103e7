#include "vrrp/config.h"

namespace vrrp {

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

}  // namespace vrrp
