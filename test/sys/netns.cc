#include "sys/netns.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>

namespace vrrp::testing {

namespace {

std::mutex g_mu;
std::set<std::string>& Live() {
  static auto* s = new std::set<std::string>;
  return *s;
}

void CleanupAll() {
  std::lock_guard<std::mutex> l(g_mu);
  for (const auto& n : Live()) {
    std::string cmd = "ip netns del " + n + " 2>/dev/null";
    (void)std::system(cmd.c_str());
  }
  Live().clear();
}

void OnSignal(int sig) {
  CleanupAll();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string Prefix() {
  static const std::string p = [] {
    std::atexit(CleanupAll);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGABRT}) std::signal(s, OnSignal);
    return "vx" + std::to_string(getpid()) + "-";
  }();
  return p;
}

}  // namespace

int Sh(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

std::string ShOut(const std::string& command) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

void RequireRootAndIproute() {
  if (geteuid() != 0) {
    FAIL() << "this test needs root (network namespaces); run it as root";
  }
  if (Sh("ip -V >/dev/null 2>&1") != 0) {
    FAIL() << "this test needs iproute2's `ip`";
  }
}

void DeleteAllNetNs() { CleanupAll(); }

NetNs::NetNs(const std::string& name) : name_(Prefix() + name) {
  {
    std::lock_guard<std::mutex> l(g_mu);
    Live().insert(name_);
  }
  if (Sh("ip netns add " + name_) != 0) {
    throw std::runtime_error("ip netns add " + name_ + " failed");
  }
  Ip("link set lo up");
}

NetNs::~NetNs() {
  Sh("ip netns del " + name_ + " 2>/dev/null");
  std::lock_guard<std::mutex> l(g_mu);
  Live().erase(name_);
}

int NetNs::Ip(const std::string& args) const {
  return Sh("ip -n " + name_ + " " + args);
}

int NetNs::Exec(const std::string& command) const {
  return Sh("ip netns exec " + name_ + " " + command);
}

NetNs::Enter::Enter(const NetNs& ns) {
  saved_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const std::string path = "/var/run/netns/" + ns.name();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (saved_fd_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("setns into " + ns.name() + " failed");
  }
  close(fd);
}

NetNs::Enter::~Enter() {
  if (saved_fd_ >= 0) {
    (void)setns(saved_fd_, CLONE_NEWNET);
    close(saved_fd_);
  }
}

void Veth(const NetNs& a, const std::string& a_if, const NetNs& b,
          const std::string& b_if) {
  // Create in `a`, move the peer into `b`.
  a.Ip("link add " + a_if + " type veth peer name " + b_if + " netns " +
       b.name());
  for (const auto& [ns, ifn] : {std::pair{&a, a_if}, std::pair{&b, b_if}}) {
    ns->Exec("sysctl -qw net.ipv6.conf." + ifn + ".accept_dad=0");
    ns->Ip("link set " + ifn + " up");
  }
}

}  // namespace vrrp::testing
