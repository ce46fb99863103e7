#pragma once

// Test-only network namespaces: created with a per-run prefix, entered by
// the calling thread with setns(), removed in the destructor (and by the
// atexit/signal cleanup for every namespace this process created).
//
// Only documentation prefixes are ever configured: 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.

#include <string>
#include <vector>

namespace vrrp::testing {

// Runs `command` with /bin/sh; returns its exit status. Output goes to the
// test's stderr when it fails.
int Sh(const std::string& command);
// Runs `command` and returns its stdout ("" on failure).
std::string ShOut(const std::string& command);

// Dies loudly (test failure, not skip) unless we are root and `ip` exists.
void RequireRootAndIproute();

// Deletes every namespace this process created and still has, as the
// atexit/signal cleanup does; for cleanups of other exit paths (e.g. the
// integration harness's SIGPIPE handler).
void DeleteAllNetNs();

class NetNs {
 public:
  // Creates namespace "<prefix><name>" where prefix is unique to this
  // process (e.g. "vx12345-"), with its loopback up.
  explicit NetNs(const std::string& name);
  ~NetNs();
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;

  const std::string& name() const { return name_; }
  // `ip -n NAME ...` convenience: Ip("addr add 192.0.2.1/24 dev eth0").
  int Ip(const std::string& args) const;
  // Runs a shell command inside the namespace.
  int Exec(const std::string& command) const;

  // Switches the calling thread into this namespace until the guard dies.
  class Enter {
   public:
    explicit Enter(const NetNs& ns);
    ~Enter();

   private:
    int saved_fd_;
  };

 private:
  std::string name_;
};

// A veth pair between two namespaces, named `a_if` in `a` and `b_if` in `b`,
// both up. IPv6 DAD is switched off on both ends so addresses are usable at
// once.
void Veth(const NetNs& a, const std::string& a_if, const NetNs& b,
          const std::string& b_if);

}  // namespace vrrp::testing
