#pragma once

// The Linux VRRP speaker: every configured instance with its sockets,
// addresses and announcements, driven by one EventLoop.
//
// - One raw socket per (interface, family), shared by its instances and
//   demultiplexed by VRID; one announcer (GARP / NA) per interface.
// - The interface's primary IPv4 / link-local IPv6 address (or the unicast
//   source) is re-read on every netlink address event; link events move
//   instances to Fault and back.
// - Reload keeps instances whose settings are unchanged (state, timers and
//   addresses untouched: no flap, no announcement burst), releases removed
//   ones, and re-creates changed ones once the old one has let go.
// - An instance with virtual_mac holds its addresses on a macvlan of its
//   interface with the RFC 5798 §7.3 virtual MAC, made (or adopted after a
//   crash) when the instance and its interface exist, and deleted when the
//   instance is removed or the daemon stops gracefully. It still receives on
//   its interface's socket; see speaker.cc for what it sends where, and the
//   sysctls it sets.

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/instance.h"
#include "vrrp/result.h"
#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/netlink.h"
#include "vrrp/sys/tracker_manager.h"
#include "vrrp/sys/vrrp_socket.h"

namespace vrrp::sys {

enum class LogLevel : uint8_t { kDebug, kInfo, kWarn, kError };
using LogFn = std::function<void(LogLevel, const std::string&)>;

struct ReloadSummary {
  int kept = 0;
  int created = 0;
  int recreated = 0;
  int removed = 0;
};

// Counters of what happened below the instances.
struct SpeakerStats {
  // Datagrams refused before reaching an instance, per interface and reason.
  std::map<std::string, std::array<uint64_t, kReceiveErrorCount>>
      receive_errors;
  uint64_t send_errors = 0;
  uint64_t announce_errors = 0;
  uint64_t address_errors = 0;
};

class Speaker {
 public:
  Speaker(EventLoop& loop, InstanceObserver* observer, LogFn log);
  ~Speaker();

  // Opens netlink and the link monitor, then creates and starts every
  // instance. Instances whose interface is missing start in Fault and come
  // up when it appears.
  Result<Unit, std::string> Start(const Config& config);
  ReloadSummary Reload(const Config& config);
  // Shuts every instance down (§6.4 Shutdown); `done` runs once all have
  // released their addresses.
  void Shutdown(std::function<void()> done);

  std::vector<InstanceStatus> Status() const;
  // Each instance (releasing ones too, oldest first), for a caller that
  // takes one status at a time: the exporter's publish builds its snapshot
  // without a vector of every status alive beside it (issue 3's memory
  // per instance: that vector, grown by doubling, was ~0.5-0.75 KB per
  // instance of peak heap every 100 ms).
  void ForEachInstance(const std::function<void(const Instance&)>& fn) const;
  // The running (not releasing) instance called `name`, or null. For sync
  // groups and trackers, which act on instances between events.
  Instance* Find(const std::string& name);
  const SpeakerStats& stats() const { return stats_; }
  // Trackers (nullptr before Start) and what each instance's track: list
  // amounts to, by instance name (no entry for an instance without one).
  const TrackerManager* trackers() const { return trackers_.get(); }
  std::map<std::string, std::vector<TrackedStatus>> Tracking() const;

  class InstanceIo;
  struct Interface;
  struct Managed;

 private:
  Interface& GetInterface(const std::string& name);
  void RefreshInterface(Interface& itf);
  // Unwatches and closes its sockets and drops its announcer.
  void DropSockets(Interface& itf);
  // As when it does not exist: no sockets, no index, no addresses.
  void MarkGone(Interface& itf);
  void EnsureSocket(Interface& itf, Family family);
  void OnReadable(Interface& itf, Family family);
  void OnLink(const InterfaceInfo& info);
  void OnAddress(int ifindex);
  void RefreshAll();
  void RefreshInstance(Managed& m);
  void EnsureVmac(Managed& m);
  void SetVmacUp(Managed& m);
  void ConfigureVmac(const Managed& m, const InterfaceInfo& vmac);
  void AdoptVmacAddresses(Managed& m, const InterfaceInfo& vmac, bool created);
  void UpdateLink(Managed& m);
  void DropVmac(const InstanceConfig& config);
  void DeleteAllVmacs();
  void ForgetVmacInterface(const std::string& name);
  void RestoreBaseArp(std::string base);
  void WriteSysctl(Family family, const std::string& interface,
                   const std::string& name, int value);
  Managed& Create(const InstanceConfig& config);
  void StartInstance(Managed& m);
  // A non-owner starts as Backup (§6.4.1), which must not answer for the
  // virtual addresses (§6.4.2): any of them already on its interface are a
  // killed run's, and are removed.
  void RemoveLeftoverAddresses(const Managed& m);
  // Logs and removes one virtual address a killed run left on `ifname`.
  void RemoveLeftover(const InstanceConfig& config, int ifindex,
                      const std::string& ifname, const IpPrefix& vip);
  // A master's virtual address removed from under it is added again.
  void RestoreRemovedAddresses(Managed& m, const Interface& itf);
  void StartPending(Managed& m);
  // Shuts `m` down; once it has released its addresses, destroys it and
  // creates and starts `successor` (a reload's changed instance).
  void Release(Managed& m, std::optional<InstanceConfig> successor);
  // Incremental: rebuilding the whole table for each created instance made
  // start-up quadratic (200 instances: 20 000 allocations).
  void AddToDemux(Managed& m);
  void RemoveFromDemux(Managed& m);
  // Tells the instance what its trackers say now (priority delta, Fault).
  void ApplyTracking(Managed& m);
  void Log(LogLevel level, const std::string& message) const;

  EventLoop& loop_;
  InstanceObserver* observer_;
  LogFn log_;
  std::unique_ptr<Netlink> netlink_;
  std::unique_ptr<LinkMonitor> monitor_;
  std::unique_ptr<NetlinkAddressManager> addresses_;
  std::unique_ptr<TrackerManager> trackers_;
  std::map<std::string, std::unique_ptr<Interface>> interfaces_;
  std::vector<std::unique_ptr<Managed>> instances_;
  // (interface, family, vrid) -> instances, releasing ones included.
  std::map<std::tuple<std::string, Family, uint8_t>, std::vector<Managed*>>
      demux_;
  SpeakerStats stats_;
  // Every instance encodes its advertisements here (loop thread only).
  std::vector<uint8_t> send_buffer_;
  bool shutting_down_ = false;
  // (base interface, sysctl) we changed for an IPv4 virtual MAC, with the
  // value to put back once no IPv4 virtual MAC is left on that interface.
  std::map<std::pair<std::string, std::string>, int> saved_base_sysctls_;
};

}  // namespace vrrp::sys
