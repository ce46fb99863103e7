#include "integration/frr.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace vrrp::testing {

namespace {

using namespace std::chrono_literals;

constexpr char kZebra[] = "/usr/lib/frr/zebra";
constexpr char kVrrpd[] = "/usr/lib/frr/vrrpd";
constexpr char kUser[] = "frr";
// lib/zlog.c of FRR 8.4: TMPBASEDIR, then "NAME.PID" per daemon.
constexpr char kFrrTmpDir[] = "/var/tmp/frr/";

void Must(int rc, const std::string& what) {
  if (rc != 0) {
    throw std::runtime_error("frr: `" + what + "` failed (" +
                             std::to_string(rc) + ")");
  }
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("frr: cannot write " + path);
}

bool IsSocket(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

std::string Hex2(int v) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02x", v & 0xff);
  return buf;
}

}  // namespace

std::string FrrRouter::MacvlanName() const {
  return (family == Family::kIpv4 ? "vrrp4-" : "vrrp6-") + std::to_string(vrid);
}

std::string FrrRouter::VirtualMac() const {
  // RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID}.
  return std::string("00:00:5e:00:") +
         (family == Family::kIpv4 ? "01:" : "02:") + Hex2(vrid);
}

std::string FrrRouter::Text() const {
  const std::string v = " vrrp " + std::to_string(vrid);
  std::string s = "interface eth0\n";
  s += v + " version " + std::to_string(version) + "\n";
  s += v + " priority " + std::to_string(priority) + "\n";
  s += v + " advertisement-interval " + std::to_string(interval.count()) + "\n";
  for (const auto& p : vips) {
    s += v + (family == Family::kIpv4 ? " ip " : " ipv6 ") +
         p.substr(0, p.find('/')) + "\n";
  }
  return s;
}

std::unique_ptr<Frr> Frr::Start(const Lab& lab, int node,
                                const FrrRouter& router) {
  for (const char* bin : {kZebra, kVrrpd}) {
    if (access(bin, X_OK) != 0) {
      throw std::runtime_error(std::string("frr: ") + bin +
                               " missing: install Debian's frr "
                               "(scripts/install-deps.sh)");
    }
  }
  const passwd* pw = getpwnam(kUser);
  if (pw == nullptr) {
    throw std::runtime_error(
        "frr: no user `frr` (made by Debian's frr package)");
  }

  std::unique_ptr<Frr> f(new Frr);
  f->ns_ = &lab.node(node);
  f->router_ = router;
  const NetNs& ns = *f->ns_;
  const std::string n = "n" + std::to_string(node);
  f->dir_ = lab.dir() + "/frr-" + n;
  f->zebra_log_ = lab.dir() + "/frr-zebra-" + n + ".log";
  f->vrrpd_log_ = lab.dir() + "/frr-vrrpd-" + n + ".log";

  // The daemons run as `frr`: they must reach their directory.
  if (chmod(lab.dir().c_str(), 0711) != 0) {
    throw std::runtime_error("frr: chmod " + lab.dir() + ": " +
                             std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::create_directory(f->dir_, ec);
  if (ec || chown(f->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
      chmod(f->dir_.c_str(), 0755) != 0) {
    throw std::runtime_error("frr: cannot prepare " + f->dir_);
  }

  // The macvlan vrrpd runs the router on (doc/user/vrrp.rst, "System
  // Configuration"). Bridge mode: a backup must still receive the master's
  // advertisements on eth0. A leftover of an earlier FRR on this node goes
  // first, so its protodown state does not carry over.
  const std::string mv = router.MacvlanName();
  const bool v4 = router.family == Family::kIpv4;
  ns.Exec("ip link del " + mv + " 2>/dev/null");
  Must(ns.Ip("link add " + mv + " link eth0 type macvlan mode bridge"),
       "macvlan " + mv);
  Must(ns.Ip("link set dev " + mv + " address " + router.VirtualMac()),
       mv + " address");
  // §7.4: the IPv6 link-local must not come from the (shared) virtual MAC.
  Must(ns.Ip("link set dev " + mv + " addrgenmode random"),
       mv + " addrgenmode");
  // The sysctls our daemon sets for its own virtual_mac (see
  // docs/configuration.md): only the master answers for a virtual address,
  // and only with the virtual MAC. Without arp_ignore=1 on eth0 a backup
  // FRR node would answer ARP for the address its protodown macvlan holds,
  // with its own MAC, and the client's pings would prove nothing.
  std::string sysctls;
  if (v4) {
    for (const std::string& itf : {std::string("eth0"), mv}) {
      sysctls += " net.ipv4.conf." + itf + ".arp_ignore=1 net.ipv4.conf." +
                 itf + ".arp_announce=2";
    }
    sysctls += " net.ipv4.conf." + mv + ".rp_filter=0 net.ipv6.conf." + mv +
               ".disable_ipv6=1";
  } else {
    sysctls += " net.ipv6.conf." + mv + ".accept_ra=0 net.ipv6.conf." + mv +
               ".accept_dad=0";
  }
  Must(ns.Exec("sysctl -qw" + sysctls), "sysctl -w" + sysctls);
  for (const auto& p : router.vips) {
    Must(ns.Ip("addr add " + p + " dev " + mv + (v4 ? "" : " nodad")),
         p + " on " + mv);
  }
  Must(ns.Ip("link set dev " + mv + " up"), mv + " up");
  // vrrpd 8.4 started while the macvlan's link-local address is still
  // tentative (for a moment even with accept_dad=0) finds no source
  // address ("Failed to find address to bind on vrrp6-51") and, once
  // Master, never advertises: wait for a usable one first.
  if (!v4 && !WaitUntil(
                 [&] {
                   const std::string a =
                       ShOut("ip -n " + ns.name() + " -6 -o addr show dev " +
                             mv + " scope link");
                   return a.find("inet6 fe80:") != std::string::npos &&
                          a.find("tentative") == std::string::npos;
                 },
                 5s)) {
    throw std::runtime_error("frr: no usable link-local on " + mv);
  }

  WriteText(f->dir_ + "/zebra.conf", "hostname zebra-" + n +
                                         "\n"
                                         "log stdout informational\n"
                                         "log timestamp precision 3\n");
  // `debug vrrp packets` logs every datagram vrrpd refuses ("Datagram
  // invalid: ..."), which is how the test sees FRR complain about ours.
  WriteText(f->dir_ + "/vrrpd.conf", "hostname vrrpd-" + n +
                                         "\n"
                                         "log stdout debugging\n"
                                         "log timestamp precision 3\n"
                                         "debug vrrp protocol\n"
                                         "debug vrrp packets\n" +
                                         router.Text());

  // -P 0: no TCP vty; -z: zebra's API socket here, not /var/run/frr, so a
  // system FRR (or another lab) is neither used nor disturbed.
  f->zebra_ =
      Process::Start(ns,
                     {kZebra, "-f", f->dir_ + "/zebra.conf", "-i",
                      f->dir_ + "/zebra.pid", "--vty_socket", f->dir_, "-z",
                      f->dir_ + "/zserv.api", "-P", "0", "--log", "stdout"},
                     f->zebra_log_);
  f->tmp_dirs_.push_back(kFrrTmpDir + std::string("zebra.") +
                         std::to_string(f->zebra_->pid()));
  // vrrpd would retry the connection only after a while: wait for zebra.
  if (!WaitUntil(
          [&] {
            return IsSocket(f->dir_ + "/zserv.api") || !f->zebra_->Running();
          },
          10s) ||
      !f->zebra_->Running()) {
    throw std::runtime_error("frr: zebra did not come up:\n" +
                             ReadFile(f->zebra_log_));
  }
  f->StartVrrpd();
  return f;
}

void Frr::StartVrrpd() {
  // The log is appended to across restarts: count this start's line.
  const int started = CountVrrpd("Initialize -> Backup");
  vrrpd_ = Process::Start(*ns_,
                          {kVrrpd, "-f", dir_ + "/vrrpd.conf", "-i",
                           dir_ + "/vrrpd.pid", "--vty_socket", dir_, "-z",
                           dir_ + "/zserv.api", "-P", "0", "--log", "stdout"},
                          vrrpd_log_);
  tmp_dirs_.push_back(kFrrTmpDir + std::string("vrrpd.") +
                      std::to_string(vrrpd_->pid()));
  // Until vrrpd has its router running, the macvlan we made is up and holds
  // the addresses as if FRR were Master: return once vrrpd has taken it
  // (Initialize -> Backup asks zebra for protodown).
  if (!WaitUntil(
          [&] {
            return CountVrrpd("Initialize -> Backup") > started ||
                   !vrrpd_->Running();
          },
          10s) ||
      !vrrpd_->Running()) {
    throw std::runtime_error("frr: vrrpd did not start its router:\n" +
                             VrrpdLog());
  }
}

Frr::~Frr() {
  vrrpd_.reset();
  zebra_.reset();
  for (const auto& d : tmp_dirs_) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
  }
}

bool Frr::Active() const {
  const std::string out =
      ShOut("ip -n " + ns_->name() + " -d -o link show dev " +
            router_.MacvlanName() + " 2>/dev/null");
  const size_t open = out.find('<'), close = out.find('>');
  if (open == std::string::npos || close == std::string::npos) return false;
  const std::string flags = "," + out.substr(open + 1, close - open - 1) + ",";
  return flags.find(",UP,") != std::string::npos &&
         flags.find(",LOWER_UP,") != std::string::npos &&
         out.find("protodown on") == std::string::npos;
}

std::optional<int> Frr::StopVrrpd(std::chrono::milliseconds timeout) {
  vrrpd_->Signal(SIGTERM);
  return vrrpd_->Wait(timeout);
}

void Frr::RestartVrrpd() { StartVrrpd(); }

void Frr::Crash() {
  vrrpd_->KillGroup();
  zebra_->KillGroup();
}

bool Frr::WaitForVrrpdLog(const std::string& text,
                          std::chrono::milliseconds timeout) const {
  return WaitUntil([&] { return CountVrrpd(text) > 0; }, timeout);
}

}  // namespace vrrp::testing
