#pragma once

#include <cstdint>
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

// What a tracker checks (see vrrp/tracker.h and the README's "Trackers").
enum class TrackerType : uint8_t {
  kExec,       // a command, argv without a shell, as a configured user
  kHttp,       // HTTP(S) GET: expected status, optional body substring
  kTcp,        // TCP connect
  kInterface,  // link up with carrier (netlink events)
  kFile,       // an integer in a file: value x weight (Keepalived track_file)
  kProcess,    // a process by name, or the pid in a pidfile
};
std::string_view ToString(TrackerType type);

// One entry of the top-level `trackers:` map.
struct TrackerConfig {
  std::string name;
  TrackerType type = TrackerType::kExec;
  Duration interval = std::chrono::seconds(2);
  Duration timeout = std::chrono::seconds(1);
  int rise = 1;
  int fall = 1;
  int weight = 0;  // the default for instances that track it
  // exec
  std::vector<std::string> command;
  std::string user;  // empty: script_user, else the daemon's own user
  // http / tcp
  std::string url;
  int expect_status = 200;
  std::string expect_body;
  bool tls_verify = true;
  std::optional<IpAddress> address;  // tcp
  uint16_t port = 0;                 // tcp
  // interface
  std::string interface;
  // file
  std::string path;
  // process: a name (comm, or argv[0]'s base name) or a pidfile
  std::string process;
  std::string pidfile;

  SourceLocation location;

  // Equality ignoring where it was written: a reload keeps the state of a
  // tracker whose settings are unchanged.
  bool SameSettings(const TrackerConfig& other) const;
};

// An instance's `track:` entry.
struct TrackRef {
  std::string tracker;
  int weight = 0;  // the tracker's weight unless overridden
  SourceLocation location;
  bool operator==(const TrackRef& o) const {
    return tracker == o.tracker && weight == o.weight;
  }
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
  SharedNotifyHooks notify;

  // Trackers feeding the effective priority / Fault. Not part of
  // SameSettings: a reload re-evaluates them without re-creating the
  // instance (no flap for a changed weight).
  std::vector<TrackRef> track;
  // The priorities of the other routers of this virtual router, if given:
  // only used to warn about weights that cannot change the election.
  std::vector<uint8_t> peer_priorities;

  SourceLocation location;  // where the instance was defined

  bool is_owner() const { return priority == 255; }
  // Configuration equality ignoring where it was written; a reload keeps the
  // state of instances whose configuration is unchanged.
  bool SameSettings(const InstanceConfig& other) const;
  // True when a reload to `next` needs a new instance: another virtual
  // router (interface, VRID, family, version), the address owner's own
  // rules (§6.4.1 start as Master, §6.4.3) gained or lost, or the
  // addresses moving to or from a virtual-MAC macvlan. Anything else is
  // applied to the running instance (Instance::Reconfigure).
  bool RecreatedBy(const InstanceConfig& next) const;
};

// Something legal but probably not what was meant ("FILE:LINE:COLUMN:
// warning: FIELD: MESSAGE"): logged at load, printed by --config.check.
struct ConfigWarning {
  SourceLocation location;
  std::string field;
  std::string message;

  std::string ToString() const;
};

struct Config {
  std::vector<InstanceConfig> instances;
  std::vector<TrackerConfig> trackers;
  std::vector<ConfigWarning> warnings;
  // The user every script runs as (hooks and exec checks) unless one says
  // otherwise; nullopt: the daemon's own user. Keepalived's script_user.
  std::optional<std::string> script_user;
  SourceLocation script_user_location;
  NotificationConfig notifications;  // FIFO, socket, webhooks
  std::vector<SyncGroupConfig> sync_groups;
  std::string file;
};

}  // namespace vrrp
