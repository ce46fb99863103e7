#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vrrp/announcement_schedule.h"
#include "vrrp/ip_address.h"
#include "vrrp/notify_config.h"
#include "vrrp/packet.h"
#include "vrrp/source_location.h"
#include "vrrp/time.h"

namespace vrrp {

// What a leaving master does with its addresses (VRRP-NOTES.md, "Hitless
// shutdown"). kStrict is RFC 5798 §6.4.3: remove them with the priority-0
// advertisement. kHitless keeps them until the new master is heard, bounded.
enum class ShutdownMode : uint8_t { kHitless, kStrict };

std::string_view ToString(ShutdownMode mode);

struct UnicastConfig {
  std::optional<IpAddress> source;  // nullopt: the interface's primary address
  std::vector<IpAddress> peers;
};

// One virtual router (RFC 5798 §6.1 parameters plus our options).
struct InstanceConfig {
  std::string name;
  std::string interface;
  uint8_t vrid = 0;
  Version version = Version::kV3;
  Family family = Family::kIpv4;
  // 255 only for the address owner; 1..254 otherwise (§6.1).
  uint8_t priority = 100;
  // §6.1 Advertisement_Interval. VRRPv2: whole seconds, 1..255 s.
  // VRRPv3: 1..4095 centiseconds.
  Centiseconds advert_interval{100};
  std::vector<IpPrefix> virtual_addresses;
  bool preempt = true;  // §6.1 Preempt_Mode; false is Keepalived's nopreempt
  // Keepalived's preempt_delay: see Instance for the exact semantics.
  Duration preempt_delay{0};
  bool accept = false;  // §6.1 Accept_Mode, honoured by the I/O layer
  std::optional<UnicastConfig> unicast;
  // VRRPv2 authentication (RFC 3768 §5.3.6); password at most 8 bytes.
  AuthType auth_type = AuthType::kNone;
  std::string auth_password;
  // VRRPv3 over IPv4 only: what we transmit. We accept both on receive.
  ChecksumForm checksum_form = ChecksumForm::kWithPseudoHeader;
  ShutdownMode shutdown_mode = ShutdownMode::kHitless;
  // Gratuitous ARP / unsolicited NA repeats and refresh while Master.
  AnnounceConfig announce;
  // Keepalived's use_vmac: the virtual addresses live on a macvlan of
  // `interface` whose MAC is the virtual router MAC of RFC 5798 §7.3
  // (00-00-5E-00-01-VRID, 00-00-5E-00-02-VRID for IPv6), so a failover moves
  // the MAC with the addresses and no client's ARP/ND cache has to change.
  bool virtual_mac = false;
  // The macvlan's name when virtual_mac is set: as configured, or vrrp.VRID
  // (IPv4) / vrrp6.VRID (IPv6). Empty when virtual_mac is false.
  std::string virtual_mac_interface;
  // Exec hooks on this instance's transitions (notify: and notify_timeout:).
  NotifyHooks notify;

  SourceLocation location;  // where the instance was defined

  bool is_owner() const { return priority == 255; }
  // Configuration equality ignoring where it was written; a reload keeps the
  // state of instances whose configuration is unchanged.
  bool SameSettings(const InstanceConfig& other) const;
};

struct Config {
  std::vector<InstanceConfig> instances;
  // The user every script runs as (hooks and exec checks) unless one says
  // otherwise; nullopt: the daemon's own user. Keepalived's script_user.
  std::optional<std::string> script_user;
  SourceLocation script_user_location;
  NotificationConfig notifications;  // FIFO, socket, webhooks
  std::vector<SyncGroupConfig> sync_groups;
  std::string file;
};

}  // namespace vrrp
