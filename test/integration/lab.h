#pragma once

// Integration-test harness: a small layer-2 network of namespaces ("a lab")
// and real daemons running inside it.
//
//   namespace n1: eth0 <-veth-> sw1 -+
//   namespace n2: eth0 <-veth-> sw2 -+- br0 in namespace "sw" (no STP,
//   ...                              |  multicast flooded)
//   namespace cl: eth0 <-veth-> swc -+
//
// Addresses (documentation prefixes only):
//   node i  : 192.0.2.(10+i)/24 and 2001:db8::(10+i)/64, where the IPv6
//             suffix is the same decimal digits written as hex text, so
//             node 1 is 192.0.2.11 and 2001:db8::11 (0x11), node 2 is
//             192.0.2.12 and 2001:db8::12.
//   client  : 192.0.2.100/24 and 2001:db8::100/64.
// Leave 192.0.2.200-254 and 2001:db8::200-2fe for virtual addresses.
//
// Cleanup: namespaces die with the Lab (and with the process-wide
// atexit/signal cleanup in sys/netns.cc); every Process is SIGKILLed with its
// whole process group by its destructor and by an atexit/signal cleanup of
// its own, and gets PR_SET_PDEATHSIG(SIGKILL) in case the test process is
// killed outright (then the namespaces stay: nothing runs in a SIGKILLed
// process). SIGPIPE (`test | head`) is handled too. The harness makes the
// test process a child subreaper, so the orphaned children of killed daemons
// are reaped by the harness. The lab directory goes on the same paths, unless
// VX_KEEP_LAB is set; on a failed test the Lab destructor prints the end of
// every *.log in it.
//
// Only one Lab may exist at a time in a process (the namespace names are
// fixed per process), and a Process must be started from a thread that
// outlives it (PR_SET_PDEATHSIG fires when the forking thread exits).

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sys/netns.h"
#include "vrrp/ip_address.h"

namespace vrrp::testing {

class Lab {
 public:
  // Builds the switch, `nodes` nodes (1..80) and, if asked, the client.
  // Throws std::runtime_error (a loud test failure) if any step fails.
  explicit Lab(int nodes, bool with_client = true);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  int nodes() const { return static_cast<int>(nodes_.size()); }
  const NetNs& node(int i) const;  // 1-based
  const NetNs& client() const;     // throws if built without a client
  const NetNs& sw() const { return *sw_; }

  // Node i's own address on eth0, without the prefix length.
  static std::string NodeAddress(int i, Family family);
  static std::string ClientAddress(Family family);
  // The node's fe80:: address on eth0 (without "/64"), "" if none.
  std::string LinkLocal(int i) const;

  // Scratch directory for configs and logs: /tmp/vx-lab-XXXXXX. Removed by
  // the destructor unless VX_KEEP_LAB is set in the environment.
  const std::string& dir() const { return dir_; }

  // Sets swN down / up in the switch, so node i's eth0 loses / regains
  // carrier. Returns once the node sees the change (bounded wait; throws if
  // it does not happen).
  void CutLink(int i);
  void RestoreLink(int i);

 private:
  std::string dir_;
  std::unique_ptr<NetNs> sw_;
  std::vector<std::unique_ptr<NetNs>> nodes_;
  std::unique_ptr<NetNs> client_;
};

// A command running inside a namespace, in its own process group, with
// stdout and stderr appended to a log file and stdin from /dev/null.
class Process {
 public:
  // Forks; the child enters /var/run/netns/NAME (and, like `ip netns exec`,
  // a private mount namespace with that namespace's /sys), then execvp()s
  // argv[0]. `extra_env` entries ("K=V") are added to (or replace) the
  // inherited environment. Throws std::runtime_error if the command could
  // not be started (the child reports exec failures back before Start
  // returns).
  static std::unique_ptr<Process> Start(
      const NetNs& ns, std::vector<std::string> argv,
      const std::string& log_path, std::vector<std::string> extra_env = {});
  ~Process();  // SIGKILL to the whole group, then reap.
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // To the started process only (e.g. SIGTERM for a graceful daemon stop).
  void Signal(int sig) const;
  // To its whole process group (the daemon and any children it forked).
  void SignalGroup(int sig) const;
  // False once the started process has exited (its children may live on).
  bool Running();
  // Exit status, 128+N if killed by signal N; nullopt if still running when
  // `timeout` expires.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL to the whole group; returns once no member of it is left but
  // the (unreaped) leader, or throws after a bounded wait.
  void KillGroup();
  // Live PIDs in the process group (the process and its children, unless
  // they moved to another group).
  std::vector<pid_t> GroupPids() const;

 private:
  Process(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  bool Poll();  // Records the exit status if the process is a zombie.

  pid_t pid_;
  int pidfd_;  // -1 if pidfd_open is unavailable: Wait() then polls.
  std::optional<int> status_;
};

// True if `address` (no prefix length; any textual form, compared as an
// address) is configured on `ifname` in `ns`. Exact: "192.0.2.20" does not
// match "192.0.2.200".
bool HasAddress(const NetNs& ns, const std::string& ifname,
                const std::string& address);

// Polls `cond` every `step` until it holds or `timeout` expires; returns the
// last result. `cond` is always evaluated at least once, and once more at the
// deadline.
bool WaitUntil(const std::function<bool()>& cond,
               std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = std::chrono::milliseconds(20));

// `ping -c 1 -W 1` (ping -6 for IPv6 addresses) from `from`, repeated until
// one succeeds or `timeout` expires.
bool Ping(const NetNs& from, const std::string& address,
          std::chrono::milliseconds timeout);

// `curl -s -m 5 ARGS` inside `ns` (its own loopback, so ports never clash
// between nodes); what it printed.
std::string Curl(const NetNs& ns, const std::string& args);

// Whole file ("" if it cannot be read).
std::string ReadFile(const std::string& path);
// Number of lines of `path` containing `substring`.
int CountLines(const std::string& path, const std::string& substring);

// One keepalived vrrp_instance block.
struct KeepalivedInstance {
  std::string name = "VI_1";
  std::string interface = "eth0";
  int vrid = 51;
  int priority = 100;
  std::string advert_int = "1";  // seconds, as keepalived reads it: "0.01"
  int version = 3;
  // One family per instance (keepalived's rule), with prefix length:
  // "192.0.2.200/24", "2001:db8::200/64".
  std::vector<std::string> vips;
  std::string state = "BACKUP";
  std::string auth_pass;  // VRRPv2 only; empty means no authentication
  bool nopreempt = false;
  std::string unicast_src;  // empty: multicast
  std::vector<std::string> unicast_peers;

  std::string Text() const;
};

// A global_defs block keepalived 2.2.7 accepts (checked with `keepalived -t`):
// router_id, script security on with root as the script user, and no delayed
// second gratuitous-ARP burst (so captures only hold what the test caused).
// `extra` lines are inserted verbatim.
std::string KeepalivedGlobalDefs(const std::string& router_id,
                                 const std::string& extra = "");
// Global defs plus the instances.
std::string KeepalivedConfig(const std::string& router_id,
                             const std::vector<KeepalivedInstance>& instances);

// Keepalived running in one lab node (VRRP subsystem; no syslog; detailed
// log to lab.dir()/keepalived-nN.log; config lab.dir()/keepalived-nN.conf).
class Keepalived {
 public:
  // Writes the config, checks it with `keepalived -t` inside the node (throws
  // std::runtime_error with keepalived's complaint if it is rejected: unknown
  // keywords, bad values, missing interfaces), then starts keepalived.
  static std::unique_ptr<Keepalived> Start(const Lab& lab, int node,
                                           const std::string& config_text);

  Process& process() { return *process_; }
  pid_t pid() const { return process_->pid(); }
  const std::string& log_path() const { return log_path_; }
  const std::string& config_path() const { return config_path_; }
  std::string Log() const { return ReadFile(log_path_); }

  // SIGTERM (keepalived releases its VIPs and sends priority 0), then waits
  // for the exit status.
  std::optional<int> Stop(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // SIGKILL to keepalived and its children, as in a crash: the VIPs stay
  // configured in the node.
  void Crash() { process_->KillGroup(); }

 private:
  Keepalived() = default;
  std::unique_ptr<Process> process_;
  std::string log_path_;
  std::string config_path_;
};

}  // namespace vrrp::testing
