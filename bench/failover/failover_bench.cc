// Failover as a client sees it: our speaker against Keepalived 2.2.7, same
// topology, same VRRPv3 settings, the fault at a random point of the
// advertisement cycle. Also CPU time and resident memory with many instances,
// with a floor for the master's CPU: advert_floor, which only emits the same
// advertisements (advert_floor.cc).
//
// Needs root (network namespaces). Everything runs inside namespaces this
// program creates (test/integration/lab.h): a bridge "sw" (br0), n1 (old
// master, priority 200), n2 (backup, priority 150) and a client "cl";
// documentation prefixes only. See bench/failover/README.md for what each
// figure means and scripts/bench.sh for how it is run.
//
//   failover_bench [--runs=N] [--only=crash,graceful,resources]
//                  [--intervals=10ms,1s] [--impl=ours,keepalived,floor]
//                  [--instances=200] [--resource-interval=10ms] [--window=10s]
//                  [--resource-runs=3]
//                  [--quiet-wait=60s] [--seed=N] [--verbose]
//                  [--daemon=PATH]

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "integration/lab.h"
#include "integration/vrrp_daemon.h"
#include "sys/netns.h"

// <linux/icmp.h> clashes with <net/if.h>: the one constant we need from it.
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ---------------------------------------------------------------------------
// Time: everything is CLOCK_REALTIME nanoseconds, the clock of SO_TIMESTAMPNS.

using Nanos = int64_t;

Nanos RealNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return Nanos{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void SleepUntilReal(Nanos t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000),
              static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr) ==
         EINTR) {
  }
}

double Ms(Nanos d) { return static_cast<double>(d) / 1e6; }

[[noreturn]] void Die(const std::string& what) {
  throw std::runtime_error(
      what +
      (errno ? std::string(": ") + std::strerror(errno) : std::string()));
}

// The measuring threads (prober, captures) run SCHED_FIFO so that other
// load on the machine (the daemons, a build next door) cannot delay a probe
// and pass the delay off as an outage. They use a few percent of a core.
void MakeRealtime() {
  static std::atomic<bool> warned{false};
  sched_param p{};
  p.sched_priority = 50;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) != 0 &&
      !warned.exchange(true)) {
    std::fprintf(stderr,
                 "failover_bench: SCHED_FIFO refused; probes may be "
                 "delayed by load\n");
  }
}

// Kernel receive time of a datagram (SO_TIMESTAMPNS), 0 if none came.
Nanos KernelTime(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return Nanos{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return 0;
}

using Mac = std::array<uint8_t, 6>;

Mac MacOf(const NetNs& ns, const std::string& ifname) {
  std::string out = ShOut("ip -n " + ns.name() + " -o link show dev " + ifname);
  size_t p = out.find("link/ether ");
  Mac m{};
  unsigned v[6];
  if (p == std::string::npos ||
      std::sscanf(out.c_str() + p + 11, "%x:%x:%x:%x:%x:%x", &v[0], &v[1],
                  &v[2], &v[3], &v[4], &v[5]) != 6) {
    throw std::runtime_error("no MAC address for " + ifname + " in " +
                             ns.name());
  }
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint32_t Ip4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) {
    throw std::runtime_error("bad IPv4 address " + text);
  }
  return a.s_addr;  // network order, compared as is
}

// A packet socket bound to `ifname`, opened inside `ns` (a socket stays in
// the namespace it was created in), with kernel receive timestamps.
int OpenPacketSocket(const NetNs& ns, const std::string& ifname,
                     uint16_t protocol) {
  NetNs::Enter in(ns);
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(protocol));
  if (fd < 0) Die("socket(AF_PACKET)");
  int one = 1;
  int buf = 8 << 20;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(protocol);
  sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0 ||
      sll.sll_ifindex == 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    close(fd);
    Die("packet socket on " + ifname + " in " + ns.name());
  }
  return fd;
}

// A thread that reads one socket until stopped (eventfd), handing each
// datagram with its kernel timestamp to `on_packet`.
class Reader {
 public:
  using Handler = std::function<void(Nanos t, const sockaddr_ll& from,
                                     const uint8_t* p, size_t n)>;
  Reader(int fd, Handler on_packet)
      : fd_(fd), on_packet_(std::move(on_packet)) {
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) Die("eventfd");
    thread_ = std::thread([this] { Run(); });
  }
  ~Reader() {
    Stop();
    close(stop_fd_);
    close(fd_);
  }
  void Stop() {
    if (!thread_.joinable()) return;
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    thread_.join();
  }

 private:
  void Run() {
    MakeRealtime();
    std::vector<uint8_t> buf(65536);
    alignas(cmsghdr) char control[256];
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (p[1].revents) return;
      // Drain: everything queued was timestamped by the kernel already.
      for (;;) {
        sockaddr_ll from{};
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
        if (n < 0) break;
        Nanos t = KernelTime(msg);
        if (t == 0) t = RealNow();
        on_packet_(t, from, buf.data(), static_cast<size_t>(n));
      }
    }
  }

  int fd_;
  int stop_fd_;
  Handler on_packet_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// Capture: VRRP advertisements and gratuitous ARP for the VIP, seen on br0.

struct WireEvent {
  enum Kind { kAdvert, kGarp } kind;
  Nanos t;
  uint32_t source;  // IPv4 source (advert) or sender address (ARP)
  Mac mac;
  int vrid = 0;
  int priority = 0;
};

class Capture {
 public:
  Capture(const NetNs& sw, const std::string& ifname)
      : reader_(OpenPacketSocket(sw, ifname, ETH_P_ALL),
                [this](Nanos t, const sockaddr_ll& from, const uint8_t* p,
                       size_t n) { OnPacket(t, from, p, n); }) {}

  // The first advertisement from `source` with priority >= `min_priority`
  // and a time after `after`.
  std::optional<WireEvent> WaitAdvert(uint32_t source, Nanos after,
                                      milliseconds timeout,
                                      int min_priority = 1) {
    std::unique_lock<std::mutex> l(mu_);
    std::optional<WireEvent> found;
    cv_.wait_for(l, timeout, [&] {
      for (size_t i = events_.size(); i-- > 0;) {
        const WireEvent& e = events_[i];
        if (e.t <= after) break;
        if (e.kind == WireEvent::kAdvert && e.source == source &&
            e.priority >= min_priority) {
          found = e;
        }
      }
      return found.has_value();
    });
    return found;
  }
  bool SawAdvertFrom(uint32_t source) {
    std::lock_guard<std::mutex> l(mu_);
    return std::any_of(events_.begin(), events_.end(), [&](const WireEvent& e) {
      return e.kind == WireEvent::kAdvert && e.source == source;
    });
  }
  std::vector<WireEvent> Stop() {
    reader_.Stop();
    std::lock_guard<std::mutex> l(mu_);
    return events_;
  }

 private:
  void OnPacket(Nanos t, const sockaddr_ll& from, const uint8_t* p, size_t n) {
    WireEvent e{};
    e.t = t;
    std::memcpy(e.mac.data(), from.sll_addr, 6);
    const uint16_t proto = ntohs(from.sll_protocol);
    if (proto == ETH_P_IP && n >= 20 + 8) {
      const size_t ihl = (p[0] & 0x0f) * 4u;
      if ((p[0] >> 4) != 4 || p[9] != 112 || n < ihl + 8) return;
      e.kind = WireEvent::kAdvert;
      std::memcpy(&e.source, p + 12, 4);
      e.vrid = p[ihl + 1];
      e.priority = p[ihl + 2];
    } else if (proto == ETH_P_ARP && n >= 28) {
      // htype 1, ptype IPv4, hlen 6, plen 4; gratuitous: SPA == TPA.
      uint16_t ptype;
      std::memcpy(&ptype, p + 2, 2);
      if (p[4] != 6 || p[5] != 4 || ntohs(ptype) != 0x0800) return;
      if (std::memcmp(p + 14, p + 24, 4) != 0) return;
      e.kind = WireEvent::kGarp;
      std::memcpy(&e.source, p + 14, 4);
      std::memcpy(e.mac.data(), p + 8, 6);  // sender hardware address
    } else {
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      events_.push_back(e);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WireEvent> events_;
  Reader reader_;  // last: its thread uses the members above
};

// ---------------------------------------------------------------------------
// Prober: ICMP echo to the VIP every 1 ms from the client namespace. Sent on a
// raw ICMP socket (the kernel resolves the VIP with ARP, as any client's
// would); replies read on a packet socket on the client's eth0, which gives
// the kernel receive timestamp and the MAC address of the host that answered.

uint16_t Checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

constexpr uint32_t kProbeMagic = 0x56584642;  // "VXFB"

struct Reply {
  uint32_t seq;
  Nanos rx;  // kernel receive time at the client
  Mac mac;   // who answered
  Nanos tx;  // when the request was sent (from the echoed payload)
};

class Prober {
 public:
  Prober(const NetNs& client, const std::string& target, uint16_t id)
      : id_(id), target_(Ip4(target)) {
    {
      NetNs::Enter in(client);
      send_fd_ = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
      if (send_fd_ < 0) Die("socket(SOCK_RAW, IPPROTO_ICMP)");
      // Replies are read on the packet socket: this one takes none.
      uint32_t all = ~0u;
      if (setsockopt(send_fd_, SOL_RAW, ICMP_FILTER, &all, sizeof all) != 0) {
        Die("ICMP_FILTER");
      }
    }
    reader_ = std::make_unique<Reader>(
        OpenPacketSocket(client, "eth0", ETH_P_IP),
        [this](Nanos t, const sockaddr_ll& from, const uint8_t* p, size_t n) {
          OnPacket(t, from, p, n);
        });
    sender_ = std::thread([this] { SendLoop(); });
  }
  ~Prober() { Stop(); }

  void Stop() {
    stop_ = true;
    if (sender_.joinable()) sender_.join();
    if (reader_) reader_->Stop();
    if (send_fd_ >= 0) close(send_fd_);
    send_fd_ = -1;
  }
  size_t ReplyCount() {
    std::lock_guard<std::mutex> l(mu_);
    return replies_.size();
  }
  bool HasReplyFrom(const Mac& mac, Nanos after) {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = replies_.size(); i-- > 0;) {
      if (replies_[i].rx <= after) break;
      if (replies_[i].mac == mac) return true;
    }
    return false;
  }
  std::vector<Reply> Replies() {
    std::lock_guard<std::mutex> l(mu_);
    return replies_;
  }
  uint32_t sent() const { return seq_.load(); }
  uint32_t send_errors() const { return send_errors_.load(); }

 private:
  void SendLoop() {
    MakeRealtime();
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = target_;
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    uint8_t pkt[8 + 16];
    while (!stop_) {
      const uint32_t seq = seq_.fetch_add(1);
      std::memset(pkt, 0, sizeof pkt);
      pkt[0] = ICMP_ECHO;
      uint16_t v = htons(id_);
      std::memcpy(pkt + 4, &v, 2);
      v = htons(static_cast<uint16_t>(seq));
      std::memcpy(pkt + 6, &v, 2);
      uint32_t w = htonl(kProbeMagic);
      std::memcpy(pkt + 8, &w, 4);
      w = htonl(seq);
      std::memcpy(pkt + 12, &w, 4);
      const Nanos now = RealNow();
      std::memcpy(pkt + 16, &now, 8);
      v = htons(Checksum(pkt, sizeof pkt));
      std::memcpy(pkt + 2, &v, 2);
      if (sendto(send_fd_, pkt, sizeof pkt, 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) < 0) {
        ++send_errors_;
      }
      // Absolute deadlines: a late wake-up does not shift the cadence, and
      // a very late one does not cause a burst.
      next.tv_nsec += 1'000'000;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      timespec mono{};
      clock_gettime(CLOCK_MONOTONIC, &mono);
      const int64_t behind = (mono.tv_sec - next.tv_sec) * 1'000'000'000LL +
                             (mono.tv_nsec - next.tv_nsec);
      if (behind > 5'000'000) next = mono;
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) ==
             EINTR) {
      }
    }
  }

  void OnPacket(Nanos t, const sockaddr_ll& from, const uint8_t* p, size_t n) {
    if (from.sll_pkttype == PACKET_OUTGOING || n < 20) return;
    const size_t ihl = (p[0] & 0x0f) * 4u;
    if (p[9] != IPPROTO_ICMP || n < ihl + 24) return;
    const uint8_t* icmp = p + ihl;
    uint16_t id;
    uint32_t magic, seq;
    std::memcpy(&id, icmp + 4, 2);
    std::memcpy(&magic, icmp + 8, 4);
    std::memcpy(&seq, icmp + 12, 4);
    if (icmp[0] != ICMP_ECHOREPLY || ntohs(id) != id_ ||
        ntohl(magic) != kProbeMagic) {
      return;
    }
    Reply r{ntohl(seq), t, {}, 0};
    std::memcpy(r.mac.data(), from.sll_addr, 6);
    std::memcpy(&r.tx, icmp + 16, 8);
    std::lock_guard<std::mutex> l(mu_);
    replies_.push_back(r);
  }

  uint16_t id_;
  uint32_t target_;
  int send_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> send_errors_{0};
  std::mutex mu_;
  std::vector<Reply> replies_;
  std::unique_ptr<Reader> reader_;
  std::thread sender_;
};

// ---------------------------------------------------------------------------
// The two implementations, started the same way in a lab node, and the
// floor: advert_floor, which only emits the master's advertisements (for the
// resource runs only; see RunResources).

enum class Impl { kOurs, kKeepalived, kFloor };
enum class Fault { kCrash, kGraceful };

const char* Name(Impl i) {
  switch (i) {
    case Impl::kOurs:
      return "ours";
    case Impl::kKeepalived:
      return "keepalived";
    case Impl::kFloor:
      return "floor";
  }
  return "?";
}
const char* Name(Fault f) { return f == Fault::kCrash ? "crash" : "graceful"; }

std::string IntervalText(int ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s"
                        : std::to_string(ms) + "ms";
}
// Keepalived's advert_int is in seconds: "1", "0.01".
std::string KeepalivedInterval(int ms) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", ms / 1000.0);
  return b;
}

std::string VipFor(int k, int count) {
  // One instance: the lab's 192.0.2.200. Many: 198.51.100.1.. then
  // 203.0.113.1.. (documentation prefixes only).
  if (count == 1) return "192.0.2.200";
  if (k <= 254) return "198.51.100." + std::to_string(k);
  return "203.0.113." + std::to_string(k - 254);
}

// The vrrp_exporter to run: the build's own unless --daemon=PATH.
std::string& DaemonBinary() {
  static std::string path = VrrpExporterBinary();
  return path;
}

std::string AdvertFloorBinary() { return ADVERT_FLOOR_BINARY; }

class Daemon {
 public:
  // `count` instances, VRIDs 1.. (count == 1: VRID 51, VIP 192.0.2.200).
  // kFloor: advert_floor emitting the advertisements of `count` (>= 2)
  // instances with VIPs VipFor(k, count), from the node's address.
  static std::unique_ptr<Daemon> Start(Impl impl, const Lab& lab, int node,
                                       int priority, int interval_ms,
                                       int count) {
    auto d = std::unique_ptr<Daemon>(new Daemon);
    d->impl_ = impl;
    const std::string n = "n" + std::to_string(node);
    if (impl == Impl::kFloor) {
      // advert_floor knows the VIPs of many instances only.
      if (count < 2) throw std::logic_error("floor: 2 instances or more");
      d->log_path_ = lab.dir() + "/advert-floor-" + n + ".log";
      d->process_ =
          Process::Start(lab.node(node),
                         {AdvertFloorBinary(), "--interface=eth0",
                          "--count=" + std::to_string(count),
                          "--interval=" + IntervalText(interval_ms),
                          "--priority=" + std::to_string(priority),
                          "--source=" + Lab::NodeAddress(node, Family::kIpv4),
                          "--mode=packet"},
                         d->log_path_);
    } else if (impl == Impl::kOurs) {
      std::vector<SpeakerInstance> insts;
      for (int k = 1; k <= count; ++k) {
        SpeakerInstance i;
        i.name = "vip" + std::to_string(k);
        i.vrid = count == 1 ? 51 : k;
        i.priority = priority;
        i.interval = IntervalText(interval_ms);
        i.vips = {VipFor(k, count) + "/24"};
        insts.push_back(i);
      }
      const std::string config = lab.dir() + "/vrrp-" + n + ".yml";
      d->log_path_ = lab.dir() + "/vrrp-" + n + ".log";
      std::ofstream(config, std::ios::trunc) << SpeakerConfig(insts);
      // info, not debug: the daemon as a user runs it.
      d->process_ = Process::Start(
          lab.node(node),
          {DaemonBinary(), "--config.file", config, "--log.level", "info"},
          d->log_path_);
    } else {
      std::vector<KeepalivedInstance> insts;
      for (int k = 1; k <= count; ++k) {
        KeepalivedInstance i;
        i.name = "VI_" + std::to_string(k);
        i.vrid = count == 1 ? 51 : k;
        i.priority = priority;
        i.advert_int = KeepalivedInterval(interval_ms);
        i.version = 3;
        i.vips = {VipFor(k, count) + "/24"};
        insts.push_back(i);
      }
      d->keepalived_ = Keepalived::Start(lab, node, KeepalivedConfig(n, insts));
      d->log_path_ = d->keepalived_->log_path();
      d->base_ = lab.dir() + "/keepalived-" + n;
    }
    return d;
  }

  Process& process() {
    return keepalived_ ? keepalived_->process() : *process_;
  }
  int Count(const std::string& s) const { return CountLines(log_path_, s); }
  // For error messages: exit status if it has exited, and the log's end.
  std::string Describe() {
    std::string out;
    if (!process().Running()) {
      const int st = process().Wait(milliseconds(0)).value_or(-1);
      out = st > 128 ? "exited on signal " + std::to_string(st - 128)
                     : "exited with status " + std::to_string(st);
    } else {
      out = "running";
    }
    std::string log = ReadFile(log_path_);
    if (log.size() > 600) log = "..." + log.substr(log.size() - 600);
    return out + "; log " + log_path_ + ":\n" + log;
  }
  // The floor has no states: 0 for both.
  int BackupLines() const {
    if (impl_ == Impl::kFloor) return 0;
    return Count(impl_ == Impl::kOurs ? "-> Backup" : "Entering BACKUP STATE");
  }
  int MasterLines() const {
    if (impl_ == Impl::kFloor) return 0;
    return Count(impl_ == Impl::kOurs ? "-> Master" : "Entering MASTER STATE");
  }
  // Role of each live process of the daemon: "speaker" for ours; "parent",
  // "vrrp", "checkers" for Keepalived; "floor" for advert_floor.
  std::vector<std::pair<std::string, pid_t>> Roles() {
    std::vector<std::pair<std::string, pid_t>> out;
    if (impl_ != Impl::kKeepalived) {
      out.emplace_back(impl_ == Impl::kOurs ? "speaker" : "floor",
                       process().pid());
      return out;
    }
    auto pid_in = [&](const std::string& f) {
      return static_cast<pid_t>(std::atoi(ReadFile(f).c_str()));
    };
    const pid_t vrrp = pid_in(base_ + "-vrrp.pid");
    const pid_t checkers = pid_in(base_ + "-checkers.pid");
    for (pid_t p : process().GroupPids()) {
      std::string role = p == process().pid() ? "parent"
                         : p == vrrp          ? "vrrp"
                         : p == checkers      ? "checkers"
                                              : "other";
      out.emplace_back(role, p);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  Impl impl_{};
  std::unique_ptr<Process> process_;
  std::unique_ptr<Keepalived> keepalived_;
  std::string log_path_;
  std::string base_;
};

// Sets a switch port down at once (an ioctl on a socket made inside the
// switch namespace): a few microseconds, where `ip link` takes milliseconds.
class PortSwitch {
 public:
  explicit PortSwitch(const NetNs& sw) {
    NetNs::Enter in(sw);
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) Die("socket");
  }
  ~PortSwitch() { close(fd_); }
  void Down(const std::string& port) {
    ifreq r{};
    std::snprintf(r.ifr_name, IFNAMSIZ, "%s", port.c_str());
    if (ioctl(fd_, SIOCGIFFLAGS, &r) != 0) Die("SIOCGIFFLAGS " + port);
    r.ifr_flags &= ~IFF_UP;
    if (ioctl(fd_, SIOCSIFFLAGS, &r) != 0) Die("SIOCSIFFLAGS " + port);
  }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------
// Theory (RFC 5798 §6.1), exact rather than in centiseconds.

double SkewMs(int priority, int interval_ms) {
  return (256.0 - priority) * interval_ms / 256.0;
}
double MdiMs(int priority, int interval_ms) {
  return 3.0 * interval_ms + SkewMs(priority, interval_ms);
}

constexpr int kMasterPriority = 200;
constexpr int kBackupPriority = 150;
constexpr char kVip[] = "192.0.2.200";

struct Options {
  int runs = 5;
  std::set<std::string> only = {"crash", "graceful", "resources"};
  std::vector<int> intervals_ms = {1000, 10};
  // kFloor takes part in the resource runs only.
  std::vector<Impl> impls = {Impl::kOurs, Impl::kKeepalived, Impl::kFloor};
  int instances = 200;
  // The resource runs' advertisement interval: 10 ms for the CPU of a busy
  // master, 1 s for the idle cost (issue 11: 251 instances at 1 s).
  int resource_interval_ms = 10;
  int window_s = 10;
  int resource_runs = 3;
  int quiet_wait_s = 60;  // per resource run, for the machine to calm down
  uint64_t seed = 0;
  bool verbose = false;
};

struct Trial {
  double phase_ms = NAN;         // fault - the master's previous advert
  double detection_ms = NAN;     // fault -> new master's first advert
  double backup_timer_ms = NAN;  // last / priority-0 advert -> first advert
  double timer_theory_ms = NAN;  // MDI or Skew_Time
  double outage_ms = NAN;  // largest gap between replies, less prober lateness
  double outage_raw_ms = NAN;  // largest gap between replies, as received
  double outage_theory_ms = NAN;
  double recovery_ms = NAN;  // new master's first advert -> its first reply
  double garp_ms = NAN;      // new master's first advert -> its first GARP
  int lost = 0;              // requests sent in the window, not answered
  std::string note;
};

// One failover: a fresh lab, n1 master, n2 backup, the client probing; the
// fault at a random phase of n1's advertisement cycle.
Trial RunTrial(Impl impl, Fault fault, int interval_ms, double phase_fraction,
               uint16_t probe_id) {
  Trial r;
  const Nanos I = Nanos{interval_ms} * 1'000'000;
  Lab lab(2, true);
  const uint32_t n1_ip = Ip4(Lab::NodeAddress(1, Family::kIpv4));
  const uint32_t n2_ip = Ip4(Lab::NodeAddress(2, Family::kIpv4));
  const Mac n2_mac = MacOf(lab.node(2), "eth0");
  PortSwitch ports(lab.sw());
  Capture capture(lab.sw(), "br0");

  // n1 first, alone, so it is master before n2 exists: with 10 ms intervals
  // the two start-up Master_Down timers are 2 ms apart.
  const Nanos t0 = RealNow();
  auto n1 = Daemon::Start(impl, lab, 1, kMasterPriority, interval_ms, 1);
  const auto startup = milliseconds(
      static_cast<int>(MdiMs(kMasterPriority, interval_ms)) + 5000);
  // In slices, so a daemon that dies at start fails the run at once.
  bool n1_advertised = false;
  for (auto waited = milliseconds(0); waited < startup && !n1_advertised;
       waited += milliseconds(200)) {
    n1_advertised =
        capture.WaitAdvert(n1_ip, t0, milliseconds(200), kMasterPriority)
            .has_value();
    if (!n1->process().Running()) break;
  }
  if (!n1_advertised ||
      !WaitUntil([&] { return HasAddress(lab.node(1), "eth0", kVip); },
                 seconds(5), milliseconds(5))) {
    throw std::runtime_error("n1 did not become master: " + n1->Describe());
  }
  auto n2 = Daemon::Start(impl, lab, 2, kBackupPriority, interval_ms, 1);
  if (!WaitUntil(
          [&] { return n2->BackupLines() > 0 || !n2->process().Running(); },
          seconds(10), milliseconds(5)) ||
      n2->BackupLines() == 0) {
    throw std::runtime_error("n2 did not reach Backup: " + n2->Describe());
  }
  // Two of n1's advertisements reach the running backup.
  std::this_thread::sleep_for(milliseconds(2 * interval_ms + 50));
  if (capture.SawAdvertFrom(n2_ip)) {
    throw std::runtime_error("n2 advertised before the fault");
  }

  Prober prober(lab.client(), kVip, probe_id);
  if (!WaitUntil([&] { return prober.ReplyCount() >= 100; }, seconds(5),
                 milliseconds(5))) {
    throw std::runtime_error("the client gets no replies from the VIP");
  }

  // The fault at a uniformly random point of the advertisement cycle.
  auto adv = capture.WaitAdvert(
      n1_ip, RealNow(), milliseconds(interval_ms + 1000), kMasterPriority);
  if (!adv) throw std::runtime_error("n1 stopped advertising before the fault");
  SleepUntilReal(adv->t +
                 static_cast<Nanos>(phase_fraction * static_cast<double>(I)));
  const Nanos t_fault = RealNow();
  if (fault == Fault::kCrash) {
    // The machine dies: off the network and no process left. The VIP stays
    // configured in n1, unreachable.
    ports.Down("sw1");
    n1->process().SignalGroup(SIGKILL);
  } else {
    n1->process().Signal(SIGTERM);
  }
  if (fault == Fault::kCrash) {
    n1->process().KillGroup();
    lab.CutLink(1);  // confirms: n1 has lost carrier
  }

  const auto takeover_wait = milliseconds(
      static_cast<int>(MdiMs(kBackupPriority, interval_ms)) + 3000);
  auto first = capture.WaitAdvert(n2_ip, t_fault, takeover_wait);
  if (!first) throw std::runtime_error("n2 never advertised after the fault");
  WaitUntil([&] { return prober.HasReplyFrom(n2_mac, first->t); }, seconds(3),
            milliseconds(2));
  std::this_thread::sleep_for(milliseconds(50));
  prober.Stop();
  const uint32_t prober_errors = prober.send_errors();
  const std::vector<WireEvent> events = capture.Stop();
  const std::vector<Reply> replies = prober.Replies();
  if (fault == Fault::kGraceful && !n1->process().Wait(seconds(5))) {
    r.note = "n1 still running 5 s after SIGTERM";
  }

  // --- figures ---
  const WireEvent* last_old = nullptr;  // n1's last advert before the takeover
  const WireEvent* zero = nullptr;      // n1's priority-0 advert
  const WireEvent* garp = nullptr;      // n2's first GARP after its advert
  for (const WireEvent& e : events) {
    if (e.kind == WireEvent::kAdvert && e.source == n1_ip && e.t < first->t) {
      if (e.priority > 0) {
        last_old = &e;
      } else if (!zero && e.t >= t_fault) {
        zero = &e;
      }
    }
    if (e.kind == WireEvent::kGarp && e.mac == n2_mac && e.t >= first->t &&
        !garp) {
      garp = &e;
    }
  }
  if (!last_old) throw std::runtime_error("no advert from n1 in the capture");
  r.phase_ms = Ms(t_fault - last_old->t);
  r.detection_ms = Ms(first->t - t_fault);
  if (fault == Fault::kCrash) {
    r.backup_timer_ms = Ms(first->t - last_old->t);
    r.timer_theory_ms = MdiMs(kBackupPriority, interval_ms);
    r.outage_theory_ms =
        Ms(last_old->t - t_fault) + MdiMs(kBackupPriority, interval_ms);
  } else {
    if (!zero) throw std::runtime_error("no priority-0 advert from n1");
    r.backup_timer_ms = Ms(first->t - zero->t);
    r.timer_theory_ms = SkewMs(kBackupPriority, interval_ms);
    r.outage_theory_ms = 0;  // hitless; RFC-strict would be Skew_Time
  }
  if (garp) r.garp_ms = Ms(garp->t - first->t);

  // Client side: replies in [fault - 100 ms, end], largest gap between
  // consecutive kernel receive times.
  std::vector<Reply> rx;
  std::set<uint32_t> answered;
  const Nanos from = t_fault - 100'000'000;
  for (const Reply& p : replies) {
    if (p.rx >= from) rx.push_back(p);
    answered.insert(p.seq);
  }
  std::sort(rx.begin(), rx.end(),
            [](const Reply& a, const Reply& b) { return a.rx < b.rx; });
  if (rx.size() < 2) throw std::runtime_error("no replies around the fault");
  // A reply gap the prober caused by sending late (its thread was not run:
  // a busy shared machine, a stalled vCPU) is no outage of the VIP: when two
  // replies answer consecutive requests, the time those requests were sent
  // apart beyond 1 ms is taken off their gap. When requests between them
  // went unanswered the outage is real and the gap stands as it is (if the
  // prober was late as well, that errs on the long side).
  auto late = [&](size_t i) {
    if (rx[i].seq != rx[i - 1].seq + 1) return Nanos{0};
    return std::max<Nanos>(0, rx[i].tx - rx[i - 1].tx - 1'000'000);
  };
  size_t at = 1, raw_at = 1;
  for (size_t i = 1; i < rx.size(); ++i) {
    const Nanos gap = rx[i].rx - rx[i - 1].rx;
    if (gap > rx[raw_at].rx - rx[raw_at - 1].rx) raw_at = i;
    if (gap - late(i) > rx[at].rx - rx[at - 1].rx - late(at)) at = i;
  }
  r.outage_raw_ms = Ms(rx[raw_at].rx - rx[raw_at - 1].rx);
  r.outage_ms = Ms(rx[at].rx - rx[at - 1].rx - late(at));
  if (raw_at != at && late(raw_at) > 500'000) {
    char b[120];
    std::snprintf(b, sizeof b,
                  "prober late: replies %.2f ms apart at #%u, requests sent "
                  "%.2f ms late; ",
                  Ms(rx[raw_at].rx - rx[raw_at - 1].rx), rx[raw_at].seq,
                  Ms(late(raw_at)));
    r.note += b;
  }
  {
    auto who = [&](const Mac& m) { return m == n2_mac ? "n2" : "n1"; };
    char b[200];
    std::snprintf(b, sizeof b,
                  "gap: #%u (%s, %+.2f ms) -> #%u (%s, %+.2f ms) from the "
                  "first advert, sent %.2f ms apart",
                  rx[at - 1].seq, who(rx[at - 1].mac),
                  Ms(rx[at - 1].rx - first->t), rx[at].seq, who(rx[at].mac),
                  Ms(rx[at].rx - first->t), Ms(rx[at].tx - rx[at - 1].tx));
    r.note += b;
    if (prober_errors) {
      r.note += "; " + std::to_string(prober_errors) + " send errors";
    }
  }
  for (const Reply& p : replies) {
    if (p.mac == n2_mac && p.rx > first->t) {
      r.recovery_ms = Ms(p.rx - first->t);
      break;
    }
  }
  // Lost requests: from the first one answered after `from` to the last
  // answered (the tail may still be in flight when probing stopped).
  uint32_t lo = UINT32_MAX, hi = 0;
  for (const Reply& p : replies) {
    if (p.rx >= from) {
      lo = std::min(lo, p.seq);
      hi = std::max(hi, p.seq);
    }
  }
  std::map<uint32_t, Nanos> tx_of;
  for (const Reply& p : replies) tx_of[p.seq] = p.tx;
  for (uint32_t s = lo; s <= hi && lo != UINT32_MAX; ++s) {
    if (answered.count(s)) continue;
    if (++r.lost <= 3) {
      // Sent about 1 ms after the answered request before it.
      auto it = tx_of.lower_bound(s);
      if (it != tx_of.begin()) {
        --it;
        char b[80];
        std::snprintf(
            b, sizeof b, "; lost #%u (sent ~%+.1f ms from the first advert)", s,
            Ms(it->second + Nanos{s - it->first} * 1'000'000 - first->t));
        r.note += b;
      }
    }
  }
  return r;
}

// ---------------------------------------------------------------------------
// Resources: CPU and RSS with many instances.

struct ProcSample {
  std::string role;
  pid_t pid;
  double cpu_pct = NAN;   // utime + stime, % of one core
  double user_pct = NAN;  // utime alone
  double wakeups = NAN;   // context switches per second
  long rss_kib = 0;       // VmRSS
  long pss_kib = 0;       // Pss (smaps_rollup): shared pages divided up
};

struct CpuCounters {
  long utime = 0, stime = 0;  // clock ticks, all threads
  long switches = 0;          // voluntary + involuntary
};

// A "Key:   value" line of a /proc file, as a number (0 if absent).
long ProcField(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  }
  return 0;
}

CpuCounters Cpu(pid_t pid) {
  CpuCounters c;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::string s = ReadFile(proc + "/stat");
  size_t r = s.rfind(')');
  if (r == std::string::npos) return c;
  std::istringstream in(s.substr(r + 2));
  std::string tok;
  for (int field = 3; in >> tok; ++field) {
    if (field == 14) c.utime = std::atol(tok.c_str());
    if (field == 15) {
      c.stime = std::atol(tok.c_str());
      break;
    }
  }
  const std::string status = ReadFile(proc + "/status");
  c.switches = ProcField(status, "voluntary_ctxt_switches:") +
               ProcField(status, "nonvoluntary_ctxt_switches:");
  return c;
}

long RssKib(pid_t pid) {
  return ProcField(ReadFile("/proc/" + std::to_string(pid) + "/status"),
                   "VmRSS:");
}

long PssKib(pid_t pid) {
  return ProcField(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"),
                   "Pss:");
}

// 1-minute load average: other work on the machine skews CPU figures.
double LoadAverage() { return std::atof(ReadFile("/proc/loadavg").c_str()); }

// Busy and total jiffies of the whole machine (/proc/stat "cpu" line).
struct MachineTicks {
  long long busy = 0, total = 0;
};
MachineTicks Machine() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string cpu;
  long long v[8] = {};
  in >> cpu;
  for (long long& x : v) in >> x;
  // user nice system idle iowait irq softirq steal
  MachineTicks t;
  t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  t.total = t.busy + v[3] + v[4];
  return t;
}
// Machine-wide busy time between two samples, in % of one core.
double BusyPct(const MachineTicks& a, const MachineTicks& b) {
  if (b.total <= a.total) return NAN;
  return 100.0 * static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) *
         static_cast<double>(b.busy - a.busy) /
         static_cast<double>(b.total - a.total);
}

// Waits (up to `limit`) until the machine is nearly idle, so CPU figures are
// not taken while something else (a build, other tests) competes for the
// cores. Returns the busy % of the last 1 s sample.
double WaitForQuiet(seconds limit, double max_busy_pct = 25.0) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  double busy = NAN;
  do {
    const MachineTicks a = Machine();
    std::this_thread::sleep_for(seconds(1));
    busy = BusyPct(a, Machine());
    if (busy <= max_busy_pct) break;
  } while (std::chrono::steady_clock::now() < deadline);
  return busy;
}

int VipCount(const NetNs& ns, int count) {
  std::istringstream in(
      ShOut("ip -n " + ns.name() + " -4 -o addr show dev eth0"));
  std::set<std::string> want;
  for (int k = 1; k <= count; ++k) want.insert(VipFor(k, count));
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    for (std::string t; w >> t;) {
      if (t == "inet" && w >> t) {
        if (want.count(t.substr(0, t.find('/')))) ++n;
        break;
      }
    }
  }
  return n;
}

struct ResourceRun {
  std::vector<ProcSample> master, backup;
  bool stable = true;
  std::string note;
  double load = NAN;   // load average at the end of the window
  double other = NAN;  // % of a core busy with other work during the window
  double quiet = NAN;  // machine busy % just before the run
};

// n1 master, n2 backup of `count` instances; CPU over the window, memory at
// its end. The floor (impl kFloor): n1 runs advert_floor, which only emits
// the master's advertisements, and n2 runs our daemon as the backup, so the
// path each advertisement takes (veth, bridge, a raw-socket listener on n2)
// is the kind it takes with ours and Keepalived, and n1's CPU is what the
// packets alone cost in this lab.
ResourceRun RunResources(Impl impl, int count, int interval_ms, int window_s,
                         int settle_s, int quiet_wait_s) {
  ResourceRun out;
  const bool is_floor = impl == Impl::kFloor;
  out.quiet = WaitForQuiet(seconds(count == 1 ? 10 : quiet_wait_s));
  Lab lab(2, false);
  auto n1 = Daemon::Start(impl, lab, 1, kMasterPriority, interval_ms, count);
  if (is_floor) {
    // It holds no VIPs: running and past its set-up (its first line) is
    // all there is to wait for.
    if (!WaitUntil(
            [&] {
              return n1->Count("advert_floor: ") > 0 ||
                     !n1->process().Running();
            },
            seconds(10), milliseconds(20)) ||
        !n1->process().Running()) {
      throw std::runtime_error("advert_floor did not start: " + n1->Describe());
    }
  } else if (!WaitUntil(
                 [&] {
                   return VipCount(lab.node(1), count) == count ||
                          !n1->process().Running();
                 },
                 seconds(30), milliseconds(50)) ||
             !n1->process().Running()) {
    throw std::runtime_error("n1 did not become master of all " +
                             std::to_string(count) +
                             " instances: " + n1->Describe());
  }
  auto n2 = Daemon::Start(is_floor ? Impl::kOurs : impl, lab, 2,
                          kBackupPriority, interval_ms, count);
  if (!WaitUntil(
          [&] {
            return n2->BackupLines() >= count || !n2->process().Running();
          },
          seconds(30), milliseconds(50)) ||
      n2->BackupLines() < count) {
    throw std::runtime_error("n2 did not reach Backup for all instances: " +
                             n2->Describe());
  }
  // Past the start-up announcement bursts (ours: a second burst 5 s after
  // becoming master).
  std::this_thread::sleep_for(seconds(settle_s));
  const int masters1 = n1->MasterLines(), masters2 = n2->MasterLines();
  // "-> Backup" is logged at start-up before any advertisement is heard;
  // that n2 is still Backup of every instance after the settling time (it
  // would hold their VIPs as master) shows it accepts the floor's
  // advertisements.
  if (is_floor && VipCount(lab.node(2), count) != 0) {
    throw std::runtime_error(
        "n2 is master of " + std::to_string(VipCount(lab.node(2), count)) +
        " instances before the window: are advert_floor's advertisements "
        "accepted? " +
        n2->Describe());
  }

  auto snap = [](Daemon& d) {
    std::vector<std::pair<ProcSample, CpuCounters>> v;
    for (auto& [role, pid] : d.Roles()) {
      v.push_back({ProcSample{role, pid}, Cpu(pid)});
    }
    return v;
  };
  auto a1 = snap(*n1), a2 = snap(*n2);
  const MachineTicks m0 = Machine();
  const auto w0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(seconds(window_s));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - w0)
          .count();
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto finish = [&](std::vector<std::pair<ProcSample, CpuCounters>>& v) {
    std::vector<ProcSample> s;
    for (auto& [p, c0] : v) {
      const CpuCounters c1 = Cpu(p.pid);
      p.cpu_pct =
          100.0 *
          static_cast<double>(c1.utime + c1.stime - c0.utime - c0.stime) / hz /
          wall;
      p.user_pct = 100.0 * static_cast<double>(c1.utime - c0.utime) / hz / wall;
      p.wakeups = static_cast<double>(c1.switches - c0.switches) / wall;
      p.rss_kib = RssKib(p.pid);
      p.pss_kib = PssKib(p.pid);
      s.push_back(p);
    }
    return s;
  };
  const double busy = BusyPct(m0, Machine());
  out.master = finish(a1);
  out.backup = finish(a2);
  out.load = LoadAverage();
  out.other = busy;
  for (const auto* side : {&out.master, &out.backup}) {
    for (const ProcSample& p : *side) out.other -= p.cpu_pct;
  }
  // The floor holds no VIPs and has no states: only n2 (Backup throughout)
  // and advert_floor still running are checked.
  const bool n1_held = is_floor ? n1->process().Running()
                                : VipCount(lab.node(1), count) == count &&
                                      n1->MasterLines() == masters1;
  if (!n1_held || VipCount(lab.node(2), count) != 0 ||
      n2->MasterLines() != masters2) {
    out.stable = false;
    out.note = "roles changed during the window (" +
               std::to_string(n2->MasterLines() - masters2) +
               " takeovers by the backup)";
    if (is_floor && !n1->process().Running()) {
      out.note += "; advert_floor exited: " + n1->Describe();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reporting.

double Median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(),
                         [](double x) { return std::isnan(x); }),
          v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Num(double x, int prec = 2) {
  if (std::isnan(x)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, x);
  return b;
}

std::string Ratio(double a, double b) {
  if (std::isnan(a) || std::isnan(b) || b == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", a / b);
  return buf;
}

std::string MinMax(const std::vector<double>& v) {
  double lo = INFINITY, hi = -INFINITY;
  for (double x : v) {
    if (std::isnan(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (lo > hi) return "";
  return "[" + Num(lo) + ".." + Num(hi) + "]";
}

Options Parse(int argc, char** argv) {
  Options o;
  if (const char* e = std::getenv("VB_RUNS")) o.runs = std::atoi(e);
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string t; std::getline(in, t, ',');) {
      if (!t.empty()) out.push_back(t);
    }
    return out;
  };
  auto duration_ms = [](const std::string& t) {
    char* end;
    double v = std::strtod(t.c_str(), &end);
    std::string unit = end;
    if (unit == "ms") return static_cast<int>(std::lround(v));
    if (unit == "s" || unit.empty())
      return static_cast<int>(std::lround(v * 1000));
    throw std::invalid_argument("bad duration " + t);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* key) -> std::optional<std::string> {
      std::string k = std::string(key) + "=";
      if (a.rfind(k, 0) == 0) return a.substr(k.size());
      return std::nullopt;
    };
    if (auto v = val("--runs")) {
      o.runs = std::atoi(v->c_str());
    } else if (auto v = val("--only")) {
      o.only.clear();
      for (auto& t : split(*v)) {
        if (t != "crash" && t != "graceful" && t != "resources") {
          throw std::invalid_argument("--only: crash, graceful, resources");
        }
        o.only.insert(t);
      }
    } else if (auto v = val("--intervals")) {
      o.intervals_ms.clear();
      for (auto& t : split(*v)) {
        int ms = duration_ms(t);
        if (ms < 10 || ms % 10 != 0 || ms > 40950) {
          throw std::invalid_argument(
              "--intervals: VRRPv3 needs 10ms..40.95s "
              "in steps of 10ms, not " +
              t);
        }
        o.intervals_ms.push_back(ms);
      }
    } else if (auto v = val("--impl")) {
      o.impls.clear();
      for (auto& t : split(*v)) {
        if (t == "ours") {
          o.impls.push_back(Impl::kOurs);
        } else if (t == "keepalived") {
          o.impls.push_back(Impl::kKeepalived);
        } else if (t == "floor") {
          o.impls.push_back(Impl::kFloor);
        } else {
          throw std::invalid_argument("--impl: ours, keepalived, floor");
        }
      }
    } else if (auto v = val("--resource-interval")) {
      o.resource_interval_ms = duration_ms(*v);
      if (o.resource_interval_ms < 10 || o.resource_interval_ms % 10 != 0) {
        throw std::invalid_argument("--resource-interval: 10ms, 20ms, ... 1s");
      }
    } else if (auto v = val("--instances")) {
      o.instances = std::atoi(v->c_str());
    } else if (auto v = val("--window")) {
      o.window_s = std::max(1, duration_ms(*v) / 1000);
    } else if (auto v = val("--quiet-wait")) {
      o.quiet_wait_s = duration_ms(*v) / 1000;
    } else if (auto v = val("--resource-runs")) {
      o.resource_runs = std::max(1, std::atoi(v->c_str()));
    } else if (auto v = val("--daemon")) {
      DaemonBinary() = *v;
    } else if (auto v = val("--seed")) {
      o.seed = std::strtoull(v->c_str(), nullptr, 10);
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "failover_bench [--runs=N] [--only=crash,graceful,resources]\n"
          "               [--intervals=1s,10ms] "
          "[--impl=ours,keepalived,floor]\n"
          "               [--instances=200] [--resource-interval=10ms] "
          "[--window=10s] "
          "[--resource-runs=3] [--quiet-wait=60s]\n"
          "               [--seed=N] [--verbose]\n"
          "               [--daemon=PATH (default: this build's "
          "vrrp_exporter)]\n"
          "Root only. VB_RUNS sets the default of --runs (5). floor "
          "(advert_floor) is\n"
          "in the resource runs only.\n");
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + a + " (see --help)");
    }
  }
  if (o.runs < 1) throw std::invalid_argument("--runs must be >= 1");
  if (o.instances < 2 || o.instances > 255) {
    throw std::invalid_argument("--instances: 2..255 (one VRID each)");
  }
  return o;
}

struct Key {
  Fault fault;
  int interval_ms;
  Impl impl;
  bool operator<(const Key& o) const {
    return std::tie(fault, interval_ms, impl) <
           std::tie(o.fault, o.interval_ms, o.impl);
  }
};

int Main(int argc, char** argv) {
  const Options opt = Parse(argc, argv);
  if (geteuid() != 0) {
    std::fprintf(stderr,
                 "failover_bench: needs root (it builds network namespaces "
                 "and runs daemons in them); run it with sudo\n");
    return 2;
  }
  if (Sh("ip -V >/dev/null 2>&1") != 0 ||
      Sh("keepalived --version >/dev/null 2>&1") != 0) {
    std::fprintf(stderr,
                 "failover_bench: needs iproute2 and keepalived "
                 "(scripts/install-deps.sh)\n");
    return 2;
  }
  if (access(DaemonBinary().c_str(), X_OK) != 0) {
    std::fprintf(stderr, "failover_bench: %s not built\n",
                 DaemonBinary().c_str());
    return 2;
  }
  const bool with_floor = opt.only.count("resources") &&
                          std::find(opt.impls.begin(), opt.impls.end(),
                                    Impl::kFloor) != opt.impls.end();
  if (with_floor && access(AdvertFloorBinary().c_str(), X_OK) != 0) {
    std::fprintf(stderr, "failover_bench: %s not built\n",
                 AdvertFloorBinary().c_str());
    return 2;
  }
  const uint64_t seed = opt.seed ? opt.seed : std::random_device{}();
  std::mt19937_64 rng(seed);
  const auto started = std::chrono::steady_clock::now();
  std::printf(
      "failover_bench: VRRPv3, n1 priority %d (master) -> n2 "
      "priority %d, VIP %s, %d run(s) per case, seed %llu\n",
      kMasterPriority, kBackupPriority, kVip, opt.runs,
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  std::map<Key, std::vector<Trial>> results;
  std::vector<Fault> faults;
  if (opt.only.count("crash")) faults.push_back(Fault::kCrash);
  if (opt.only.count("graceful")) faults.push_back(Fault::kGraceful);
  uint16_t probe_id = static_cast<uint16_t>(getpid());
  for (Fault f : faults) {
    for (int ims : opt.intervals_ms) {
      // Paired: run k of each implementation faults at the same phase, so
      // their medians compare like with like.
      std::vector<double> phases(static_cast<size_t>(opt.runs));
      std::uniform_real_distribution<double> u(0.0, 1.0);
      for (double& x : phases) x = u(rng);
      for (Impl impl : opt.impls) {
        if (impl == Impl::kFloor) continue;  // resource runs only
        auto& v = results[{f, ims, impl}];
        int failures = 0;
        for (int run = 0; static_cast<int>(v.size()) < opt.runs; ++run) {
          try {
            Trial t = RunTrial(impl, f, ims, phases[v.size()], ++probe_id);
            v.push_back(t);
            if (opt.verbose) {
              std::printf(
                  "  %-8s %-5s %-10s run %zu: phase %7.2f  detection %8.2f  "
                  "timer %8.2f (theory %8.2f)  outage %8.2f  recovery %6.2f  "
                  "garp %6.2f  lost %d %s\n",
                  Name(f), IntervalText(ims).c_str(), Name(impl), v.size(),
                  t.phase_ms, t.detection_ms, t.backup_timer_ms,
                  t.timer_theory_ms, t.outage_ms, t.recovery_ms, t.garp_ms,
                  t.lost, t.note.c_str());
              std::fflush(stdout);
            }
          } catch (const std::exception& e) {
            std::fprintf(stderr, "  %s %s %s: run failed: %s\n", Name(f),
                         IntervalText(ims).c_str(), Name(impl), e.what());
            if (++failures > 2) {
              std::fprintf(stderr, "  giving up on this case\n");
              break;
            }
          }
        }
      }
    }
  }

  if (!results.empty()) {
    std::printf(
        "\nFailover, medians of %d run(s) [min..max]; ms; fault at a uniformly "
        "random point of the advertisement cycle\n",
        opt.runs);
    std::printf(
        "  detection     = fault -> new master's first advertisement (bridge "
        "capture)\n"
        "  backup timer  = old master's last advert (crash) / its priority-0 "
        "advert (graceful) -> new master's first\n"
        "  client outage = largest gap between ICMP replies at the client "
        "(1 ms probes; ~1 ms = nothing lost),\n"
        "                  less any lateness of the prober's own sends "
        "(\"outage, raw\": without that correction)\n"
        "  recovery      = new master's first advert -> client's first reply "
        "from the new master\n"
        "  first GARP    = new master's first advert -> its first gratuitous "
        "ARP\n");
    std::printf("\n%-9s %-6s %-15s %-26s %-26s %-9s %s\n", "fault", "adv",
                "figure", "ours", "keepalived", "ours/ka", "theory");
    for (Fault f : faults) {
      for (int ims : opt.intervals_ms) {
        const auto& ours = results[{f, ims, Impl::kOurs}];
        const auto& ka = results[{f, ims, Impl::kKeepalived}];
        // Theory per figure: crash: the backup fires Master_Down_Interval
        // after the last advert it heard, so from the fault it is MDI minus
        // the fault's phase (median over the runs); graceful: Skew_Time
        // after the priority-0 advert, and no outage when hitless (an
        // RFC-strict release loses Skew_Time).
        auto theory_median = [&](double Trial::*field) {
          std::vector<double> x;
          for (const auto* v : {&ours, &ka}) {
            for (const Trial& t : *v) x.push_back(t.*field);
          }
          return Median(x);
        };
        const bool crash = f == Fault::kCrash;
        const double skew = SkewMs(kBackupPriority, ims);
        const double mdi = MdiMs(kBackupPriority, ims);
        const std::string mdi_phase =
            Num(theory_median(&Trial::outage_theory_ms)) + " (MDI-phase)";
        struct Row {
          const char* name;
          double Trial::*field;
          std::string theory;
        };
        const Row rows[] = {
            {"detection", &Trial::detection_ms,
             crash ? mdi_phase : Num(skew) + " (Skew)"},
            {"backup timer", &Trial::backup_timer_ms,
             crash ? Num(mdi) + " (MDI)" : Num(skew) + " (Skew)"},
            {"client outage", &Trial::outage_ms,
             crash ? mdi_phase : "0 hitless, " + Num(skew) + " strict"},
            {"outage, raw", &Trial::outage_raw_ms, ""},
            {"recovery", &Trial::recovery_ms, "0 (+<=1 probe)"},
            {"first GARP", &Trial::garp_ms, "0"},
            {"fault phase", &Trial::phase_ms,
             "U(0, " + IntervalText(ims) + ")"},
        };
        for (const Row& row : rows) {
          auto col = [&](const std::vector<Trial>& v) {
            std::vector<double> x;
            for (const Trial& t : v) x.push_back(t.*(row.field));
            return x;
          };
          const double mo = Median(col(ours)), mk = Median(col(ka));
          std::printf("%-9s %-6s %-15s %-26s %-26s %-9s %s\n", Name(f),
                      IntervalText(ims).c_str(), row.name,
                      (Num(mo) + " " + MinMax(col(ours))).c_str(),
                      (Num(mk) + " " + MinMax(col(ka))).c_str(),
                      Ratio(mo, mk).c_str(), row.theory.c_str());
        }
        std::vector<double> lo, lk;
        for (const Trial& t : ours) lo.push_back(t.lost);
        for (const Trial& t : ka) lk.push_back(t.lost);
        std::printf("%-9s %-6s %-15s %-26s %-26s %-9s\n", Name(f),
                    IntervalText(ims).c_str(), "lost probes",
                    Num(Median(lo), 1).c_str(), Num(Median(lk), 1).c_str(),
                    Ratio(Median(lo), Median(lk)).c_str());
        std::printf("\n");
      }
    }
    std::fflush(stdout);
  }

  if (opt.only.count("resources")) {
    const int kInterval = opt.resource_interval_ms;
    // Alternating ours / Keepalived / the floor, several times: load that
    // comes and goes on the machine then hits them alike; the table gives
    // medians.
    std::map<std::pair<Impl, int>, std::vector<ResourceRun>> res;
    for (int rep = 0; rep < opt.resource_runs; ++rep) {
      for (Impl impl : opt.impls) {
        for (int count : {1, opt.instances}) {
          if (count == 1 && rep > 0) continue;  // only for the RSS baseline
          // The floor's figure is the master's CPU; it has no memory to
          // compare.
          if (count == 1 && impl == Impl::kFloor) continue;
          try {
            res[{impl, count}].push_back(RunResources(
                impl, count, kInterval, count == 1 ? 2 : opt.window_s,
                count == 1 ? 1 : 6, opt.quiet_wait_s));
          } catch (const std::exception& e) {
            std::fprintf(stderr, "  resources %s %d: failed: %s\n", Name(impl),
                         count, e.what());
          }
        }
      }
    }
    std::printf(
        "Resources: %d instances at %d ms (n1 master of all, n2 backup of "
        "all), VRRPv3, %d s window after convergence, %d run(s) each\n"
        "  CPU = utime+stime (/proc/PID/stat), %% of one core; user = utime "
        "alone; wakeups = context switches/s;\n"
        "  RSS = VmRSS; PSS = Pss (smaps_rollup), shared pages divided among "
        "the processes that map them\n",
        opt.instances, kInterval, opt.window_s, opt.resource_runs);
    if (with_floor) {
      std::printf(
          "  floor = advert_floor on n1 (only emits the same advertisements: "
          "one timerfd wake-up and one\n"
          "  sendmmsg per interval), our daemon as n2's backup: the least any "
          "master can use here\n");
    }
    if (opt.verbose) {
      for (const auto& [k, runs] : res) {
        for (const ResourceRun& run : runs) {
          for (const auto* side : {&run.master, &run.backup}) {
            for (const ProcSample& p : *side) {
              std::printf(
                  "  %-10s %3d inst  %-6s %-8s pid %-7d CPU %6.2f%% (user "
                  "%5.2f%%)  wakeups/s %7.0f  RSS %6ld KiB  PSS %6ld KiB  "
                  "other load %.0f%%\n",
                  Name(k.first), k.second,
                  side == &run.master ? "master" : "backup", p.role.c_str(),
                  p.pid, p.cpu_pct, p.user_pct, p.wakeups, p.rss_kib, p.pss_kib,
                  run.other);
            }
          }
        }
      }
    }
    for (const auto& [k, runs] : res) {
      for (const ResourceRun& run : runs) {
        if (!run.stable) {
          std::printf("  %-10s %3d inst  NOT STABLE: %s\n", Name(k.first),
                      k.second, run.note.c_str());
        }
      }
    }
    using Get = double (*)(const ProcSample&);
    // Median over the runs of the per-run figure: ours' only process or
    // Keepalived's VRRP child ("VRRP process"), or the sum over every
    // process of the daemon ("all", Keepalived's parent too).
    auto fig = [&](Impl impl, int count, bool master, bool all, Get get) {
      auto it = res.find({impl, count});
      if (it == res.end()) return static_cast<double>(NAN);
      std::vector<double> per_run;
      const bool any_stable =
          std::any_of(it->second.begin(), it->second.end(),
                      [](const ResourceRun& r) { return r.stable; });
      for (const ResourceRun& run : it->second) {
        if (any_stable && !run.stable) continue;
        double x = 0;
        bool any = false;
        for (const ProcSample& p : master ? run.master : run.backup) {
          if (all || p.role == "speaker" || p.role == "vrrp" ||
              p.role == "floor") {
            x += get(p);
            any = true;
          }
        }
        if (any) per_run.push_back(x);
      }
      return Median(per_run);
    };
    const Get cpu = [](const ProcSample& p) { return p.cpu_pct; };
    const Get user = [](const ProcSample& p) { return p.user_pct; };
    const Get wake = [](const ProcSample& p) { return p.wakeups; };
    const Get rss = [](const ProcSample& p) {
      return static_cast<double>(p.rss_kib);
    };
    const Get pss = [](const ProcSample& p) {
      return static_cast<double>(p.pss_kib);
    };
    const int N = opt.instances;
    const std::string n = std::to_string(N);
    std::vector<double> others;
    for (const auto& [k, runs] : res) {
      for (const ResourceRun& run : runs) others.push_back(run.other);
    }
    if (!others.empty()) {
      std::printf(
          "  other work on the machine during the windows (all CPU time but "
          "the daemons'): median %s%%, max %s%% of a core%s\n",
          Num(Median(others), 0).c_str(),
          Num(*std::max_element(others.begin(), others.end()), 0).c_str(),
          Median(others) > 25 ? " -- the CPU figures are disturbed" : "");
    }
    std::printf("  medians over the stable runs (all runs if none was)\n");
    // The floor's columns only when it was asked for, so that
    // --impl=ours,keepalived prints the table as before.
    if (with_floor) {
      std::printf("\n%-46s %-12s %-12s %-9s %-12s %-9s %s\n", "figure", "ours",
                  "keepalived", "ours/ka", "floor", "floor/ka", "target");
    } else {
      std::printf("\n%-46s %-12s %-12s %-9s %s\n", "figure", "ours",
                  "keepalived", "ours/ka", "target");
    }
    auto row = [&](const std::string& name, double o, double k, int prec,
                   const std::string& target, double f = NAN) {
      if (with_floor) {
        std::printf("%-46s %-12s %-12s %-9s %-12s %-9s %s\n", name.c_str(),
                    Num(o, prec).c_str(), Num(k, prec).c_str(),
                    Ratio(o, k).c_str(), Num(f, prec).c_str(),
                    Ratio(f, k).c_str(), target.c_str());
      } else {
        std::printf("%-46s %-12s %-12s %-9s %s\n", name.c_str(),
                    Num(o, prec).c_str(), Num(k, prec).c_str(),
                    Ratio(o, k).c_str(), target.c_str());
      }
    };
    // `with_floor`: the master's CPU rows, the only ones the floor measures
    // (its n1 is not a VRRP speaker; its n2 is ours).
    auto line = [&](const std::string& name, int count, bool master, bool all,
                    Get get, int prec, const std::string& target = "",
                    bool with_floor = false) {
      row(name, fig(Impl::kOurs, count, master, all, get),
          fig(Impl::kKeepalived, count, master, all, get), prec, target,
          with_floor ? fig(Impl::kFloor, count, master, all, get) : NAN);
    };
    for (bool master : {true, false}) {
      const std::string who = master ? "master" : "backup";
      line(who + " CPU %, VRRP process", N, master, false, cpu, 2,
           !master           ? ""
           : kInterval == 10 ? "(ours-floor)/(ka-floor) <= 0.25"
                             : "ours <= keepalived",
           master);
      line(who + " CPU %, all processes", N, master, true, cpu, 2, "", master);
      line(who + " user CPU %, VRRP process", N, master, false, user, 2, "",
           master);
      line(who + " wakeups/s, VRRP process", N, master, false, wake, 0, "",
           master);
      line(who + " RSS KiB, VRRP process", N, master, false, rss, 0);
      line(who + " RSS KiB, all processes", N, master, true, rss, 0,
           "ratio <= 1");
      line(who + " PSS KiB, all processes", N, master, true, pss, 0);
      line(who + " RSS KiB, VRRP process, 1 instance", 1, master, false, rss,
           0);
      auto per = [&](Impl impl) {
        return (fig(impl, N, master, false, rss) -
                fig(impl, 1, master, false, rss)) *
               1024.0 / (N - 1);
      };
      row(who + " RSS bytes per added instance", per(Impl::kOurs),
          per(Impl::kKeepalived), 0, "ours < 2048");
    }
    if (with_floor) {
      // Measured in the same run: whether the CPU target can be met at all
      // under this lab's accounting (README, "The floor").
      const double f = fig(Impl::kFloor, N, true, false, cpu);
      const double k = fig(Impl::kKeepalived, N, true, false, cpu);
      if (!std::isnan(f) && !std::isnan(k) && k > 0) {
        std::printf(
            "\n  floor/ka %s: emitting the advertisements alone is %s the "
            "0.25 of Keepalived's master CPU\n"
            "  that the target allows%s\n",
            Ratio(f, k).c_str(), f / k > 0.25 ? "above" : "within",
            f / k > 0.25 ? ": no implementation can meet it in this lab" : "");
      }
    }
  }

  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  std::printf("\nfailover_bench: done in %.0f s\n", took);
  return 0;
}

}  // namespace
}  // namespace vrrp::testing

int main(int argc, char** argv) {
  try {
    return vrrp::testing::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "failover_bench: %s\n", e.what());
    return 1;
  }
}
