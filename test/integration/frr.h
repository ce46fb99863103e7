#pragma once

// FRRouting's vrrpd (Debian's frr 8.4) as a second interop peer in a lab
// node: zebra and vrrpd started by the test inside the node's namespace,
// with their configs, PID files, vty sockets and zebra's API socket in a
// directory of the lab, so nothing is shared with a system-wide FRR.
//
// What FRR needs that Keepalived does not (FRR's doc/user/vrrp.rst):
// - vrrpd does not create the macvlan of a virtual router nor its
//   addresses: a macvlan in bridge mode with the RFC 5798 §7.3 virtual MAC
//   (00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6) must exist
//   on the interface, carrying the virtual addresses, before vrrpd starts.
//   The IPv6 one needs `addrgenmode random` (advertisements are sent from
//   its link-local address, which must differ between routers).
// - A backup keeps the addresses: vrrpd asks zebra to set the macvlan
//   `protodown on` (no carrier), a master sets it off. So "FRR holds the
//   virtual address" means "its macvlan is up and not protodown".
// - Over IPv6, the first advertisement after becoming Master is lost:
//   while the macvlan is protodown zebra reports its addresses as deleted,
//   and when vrrpd lifts protodown it sends before the link-local address
//   is reported again ("Failed to find address to bind on vrrp6-51"); the
//   next one, an interval later, goes out.
// - zebra refuses to run as root unless root is in the frrvty group, so the
//   daemons run as they do in production: started as root, dropping to the
//   `frr` user with the capabilities they keep (the Debian package creates
//   the user). Their directory belongs to `frr`; the lab directory gets
//   o+x so they can reach it.
// - Each daemon keeps a per-process directory /var/tmp/frr/NAME.PID (its log
//   buffer); a daemon that is killed leaves it, so the destructor removes
//   the directories of the PIDs it started. (A test process killed by a
//   signal still kills the daemons and removes its namespaces and lab
//   directory, but leaves these two small directories.)

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/lab.h"

namespace vrrp::testing {

// One `vrrp VRID` router of vrrpd on a node's eth0.
struct FrrRouter {
  int vrid = 51;
  int version = 3;  // FRR: VRRPv2 is IPv4 only and has no authentication
  int priority = 100;
  // FRR takes milliseconds in multiples of 10 (centiseconds on the wire);
  // VRRPv2 sends whole seconds.
  std::chrono::milliseconds interval{100};
  Family family = Family::kIpv4;
  // With prefix length, all of `family`: "192.0.2.200/24".
  std::vector<std::string> vips;

  // "vrrp4-51" / "vrrp6-51": the macvlan the router runs on.
  std::string MacvlanName() const;
  // 00:00:5e:00:01:33 for IPv4 VRID 51.
  std::string VirtualMac() const;
  // The `interface eth0` block of vrrpd.conf.
  std::string Text() const;
};

class Frr {
 public:
  // Creates the router's macvlan in node `node` (replacing one left by an
  // earlier FRR), sets the sysctls that make only the master answer for the
  // virtual addresses, writes zebra.conf and vrrpd.conf, starts zebra, waits
  // for its API socket, then starts vrrpd and waits until its router runs
  // (Initialize -> Backup). Throws std::runtime_error (a loud
  // failure) if FRR or the user it runs as is missing or a step fails.
  static std::unique_ptr<Frr> Start(const Lab& lab, int node,
                                    const FrrRouter& router);
  // SIGKILLs what is still running and removes the daemons' /var/tmp/frr
  // directories. The macvlan stays (it goes with the namespace), so a new
  // Frr may be started on the node before this one is destroyed.
  ~Frr();
  Frr(const Frr&) = delete;
  Frr& operator=(const Frr&) = delete;

  // True when the macvlan is up, has carrier and is not protodown: vrrpd is
  // Master (or was killed while Master).
  bool Active() const;

  // SIGTERM to vrrpd only (it sends priority 0 when Master and asks zebra
  // for protodown), then waits for its exit status. zebra keeps running.
  std::optional<int> StopVrrpd(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // vrrpd again, with the same configuration, next to the running zebra.
  // Like Start, returns once vrrpd has started its router (in Backup).
  void RestartVrrpd();
  // SIGKILL to vrrpd and zebra, as in a crash: the macvlan keeps its state.
  void Crash();

  const std::string& vrrpd_log_path() const { return vrrpd_log_; }
  std::string VrrpdLog() const { return ReadFile(vrrpd_log_); }
  // Lines of vrrpd's log containing `text`.
  int CountVrrpd(const std::string& text) const {
    return CountLines(vrrpd_log_, text);
  }
  bool WaitForVrrpdLog(const std::string& text,
                       std::chrono::milliseconds timeout) const;

 private:
  Frr() = default;
  void StartVrrpd();

  const NetNs* ns_ = nullptr;
  FrrRouter router_;
  std::string dir_;  // owned by the frr user
  std::string zebra_log_;
  std::string vrrpd_log_;
  std::unique_ptr<Process> zebra_;
  std::unique_ptr<Process> vrrpd_;
  std::vector<std::string> tmp_dirs_;  // /var/tmp/frr/NAME.PID to remove
};

}  // namespace vrrp::testing
