// advert_floor: the cheapest possible sender of N VRRPv3 advertisements
// every interval, to measure the floor of what emitting them costs.
//
// failover_bench's resource runs charge the master for utime + stime, and in
// the lab's veth + bridge topology a transmit runs the whole receive path
// (veth, bridge, delivery to the peer's socket) in the sender's softirq,
// charged to the sender's system time. This program emits the same packets
// our daemon and Keepalived emit and does nothing else: the N advertisements
// are built once, at start; then one periodic timerfd wake-up per interval
// and one sendmmsg(2) per burst. Whatever CPU it uses is what the packets
// themselves cost in this lab, so no VRRP implementation can use less. It is
// not a VRRP speaker: no state machine, no receive path, no addresses added,
// no gratuitous ARP; run it only where a real backup listens (its
// advertisements must be valid for that backup to stay Backup).
//
//   advert_floor --interface=eth0 --count=N --interval=10ms --priority=200
//                --source=192.0.2.11 [--mode=packet|raw]
//
// Instance k (1..N) is VRID k with one virtual address, the one
// failover_bench gives instance k: 198.51.100.k, then 203.0.113.(k-254).
//
// Modes:
//   packet (default): complete Ethernet frames on an AF_PACKET socket; the
//     kernel's IP output path (routing, neighbour, header) is skipped.
//   raw: an IPPROTO 112 raw socket, the way our daemon and Keepalived send
//     (the kernel builds the IP and Ethernet headers), still one sendmmsg per
//     burst.
//
// Exit status: 0 after SIGTERM or SIGINT, 1 on a failure to set up or send,
// 2 on a usage error.

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vrrp/config_loader.h"
#include "vrrp/packet.h"

namespace {

using std::chrono::milliseconds;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

enum class Mode { kPacket, kRaw };

struct Options {
  std::string interface;
  int count = 0;
  milliseconds interval{0};
  int priority = 0;
  vrrp::IpAddress source;
  Mode mode = Mode::kPacket;
};

// Thrown for a bad command line (exit 2); anything else is a failure (1).
struct UsageError {
  std::string what;
};

constexpr char kUsage[] =
    "usage: advert_floor --interface=IF --count=N --interval=DURATION\n"
    "                    --priority=P --source=IPv4 [--mode=packet|raw]\n"
    "  Sends N VRRPv3 advertisements (VRIDs 1..N, priority P, one virtual\n"
    "  address each: 198.51.100.k, then 203.0.113.(k-254)) every DURATION\n"
    "  (10ms..40950ms in steps of 10ms, e.g. 10ms or 1s) on IF, from the\n"
    "  IPv4 address --source, until SIGTERM or SIGINT. Root only.\n"
    "  Exit status: 0 when stopped by a signal, 1 on a failure, 2 on a\n"
    "  usage error.\n";

// Whole decimal number in [lo, hi], or a usage error naming the flag.
int ParseInt(std::string_view flag, const std::string& text, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
    throw UsageError{std::string(flag) + ": expected a number in " +
                     std::to_string(lo) + ".." + std::to_string(hi) +
                     ", not \"" + text + "\""};
  }
  return static_cast<int>(v);
}

// The configuration's duration syntax ("10ms", "1s", "0.5s"), limited to
// what VRRPv3's Max_Advert_Int carries: whole centiseconds, 12 bits.
milliseconds ParseInterval(const std::string& text) {
  const auto parsed = vrrp::ParseDuration(text);
  const auto cs = parsed.ok()
                      ? std::chrono::duration_cast<vrrp::Centiseconds>(*parsed)
                      : vrrp::Centiseconds(0);
  if (!parsed.ok() || cs < vrrp::Centiseconds(1) ||
      cs > vrrp::Centiseconds(4095) || vrrp::Duration(cs) != *parsed) {
    throw UsageError{"--interval: 10ms..40950ms in steps of 10ms, not \"" +
                     text + "\""};
  }
  return cs;
}

Options Parse(int argc, char** argv) {
  Options o;
  bool have_interval = false, have_source = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(kExitOk);
    }
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos) {
      throw UsageError{"unknown argument \"" + a + "\""};
    }
    const std::string key = a.substr(0, eq), value = a.substr(eq + 1);
    if (key == "--interface") {
      if (value.empty() || value.size() >= IFNAMSIZ) {
        throw UsageError{"--interface: not an interface name: \"" + value +
                         "\""};
      }
      o.interface = value;
    } else if (key == "--count") {
      // One VRID each; 255 is the last VRID.
      o.count = ParseInt(key, value, 1, 255);
    } else if (key == "--interval") {
      o.interval = ParseInterval(value);
      have_interval = true;
    } else if (key == "--priority") {
      // 0 is a release and 255 the address owner: neither is an ordinary
      // master's advertisement.
      o.priority = ParseInt(key, value, 1, 254);
    } else if (key == "--source") {
      auto ip = vrrp::IpAddress::Parse(value);
      if (!ip || !ip->is_v4() || ip->is_unspecified() || ip->is_multicast()) {
        throw UsageError{"--source: expected a unicast IPv4 address, not \"" +
                         value + "\""};
      }
      o.source = *ip;
      have_source = true;
    } else if (key == "--mode") {
      if (value == "packet") {
        o.mode = Mode::kPacket;
      } else if (value == "raw") {
        o.mode = Mode::kRaw;
      } else {
        throw UsageError{"--mode: packet or raw, not \"" + value + "\""};
      }
    } else {
      throw UsageError{"unknown flag " + key};
    }
  }
  if (o.interface.empty() || o.count == 0 || !have_interval ||
      o.priority == 0 || !have_source) {
    throw UsageError{
        "--interface, --count, --interval, --priority and --source are "
        "required"};
  }
  return o;
}

// A failure with errno's text, for exit status 1.
struct Failure {
  std::string what;
};
[[noreturn]] void Fail(const std::string& what) {
  throw Failure{what + ": " + std::strerror(errno)};
}

// The address failover_bench configures for instance k of many.
vrrp::IpAddress VipFor(int k) {
  const std::string text = k <= 254 ? "198.51.100." + std::to_string(k)
                                    : "203.0.113." + std::to_string(k - 254);
  return *vrrp::IpAddress::Parse(text);
}

// The VRRP message of instance k: the project's encoder, so the checksum
// (RFC 5798 §5.2.8, over the IPv4 pseudo-header, as Keepalived and our
// daemon send it by default) is the one a receiver verifies.
std::vector<uint8_t> VrrpMessage(const Options& o, int k) {
  vrrp::Advertisement adv;
  adv.version = vrrp::Version::kV3;
  adv.vrid = static_cast<uint8_t>(k);
  adv.priority = static_cast<uint8_t>(o.priority);
  adv.max_adver_interval =
      std::chrono::duration_cast<vrrp::Centiseconds>(o.interval);
  adv.addresses = {VipFor(k)};
  return vrrp::EncodeAdvertisement(
      adv, o.source, vrrp::VrrpMulticastGroup(vrrp::Family::kIpv4),
      vrrp::ChecksumForm::kWithPseudoHeader);
}

// 01:00:5e + the low 23 bits of 224.0.0.18 (RFC 1112 §6.4).
constexpr std::array<uint8_t, 6> kVrrpGroupMac = {0x01, 0x00, 0x5e,
                                                  0x00, 0x00, 0x12};

// Ethernet + IPv4 header + VRRP message, as the kernel would put our
// daemon's sendmsg on the wire (TOS 0, DF, TTL 255 per §5.1.1.3) but for the
// IP ID: 0 here, where the kernel counts; any value is valid on a datagram
// that cannot be fragmented (RFC 6864 §4.1), and receivers ignore it.
std::vector<uint8_t> Frame(const Options& o, const std::array<uint8_t, 6>& mac,
                           std::span<const uint8_t> vrrp_message) {
  constexpr size_t kEth = 14, kIp = 20;
  std::vector<uint8_t> f(kEth + kIp + vrrp_message.size(), 0);
  std::memcpy(f.data(), kVrrpGroupMac.data(), 6);
  std::memcpy(f.data() + 6, mac.data(), 6);
  f[12] = ETH_P_IP >> 8;
  f[13] = ETH_P_IP & 0xff;
  uint8_t* ip = f.data() + kEth;
  const size_t total = kIp + vrrp_message.size();
  ip[0] = 0x45;  // version 4, IHL 5
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[6] = 0x40;  // DF; ID (4-5) and fragment offset stay 0
  ip[8] = vrrp::kVrrpTtl;
  ip[9] = vrrp::kIpProtocolVrrp;
  std::memcpy(ip + 12, o.source.bytes().data(), 4);
  std::memcpy(ip + 16,
              vrrp::VrrpMulticastGroup(vrrp::Family::kIpv4).bytes().data(), 4);
  const std::span<const uint8_t> header[] = {{ip, kIp}};
  const uint16_t sum = vrrp::InternetChecksum(header);
  ip[10] = static_cast<uint8_t>(sum >> 8);
  ip[11] = static_cast<uint8_t>(sum);
  std::memcpy(ip + kIp, vrrp_message.data(), vrrp_message.size());
  return f;
}

std::array<uint8_t, 6> MacOf(const std::string& interface) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("socket(AF_INET, SOCK_DGRAM)");
  ifreq r{};
  std::snprintf(r.ifr_name, IFNAMSIZ, "%s", interface.c_str());
  const int rc = ioctl(fd, SIOCGIFHWADDR, &r);
  const int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) Fail("SIOCGIFHWADDR " + interface);
  if (r.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    throw Failure{interface + " is not an Ethernet interface"};
  }
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), r.ifr_hwaddr.sa_data, 6);
  return mac;
}

// The socket and the per-message destinations for one sendmmsg per burst.
struct Sender {
  int fd = -1;
  std::vector<std::vector<uint8_t>> packets;  // frames or VRRP messages
  sockaddr_ll to_link{};
  sockaddr_in to_group{};
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
};

Sender OpenPacket(const Options& o, int ifindex) {
  Sender s;
  // Protocol 0: the socket only sends. With ETH_P_ALL or ETH_P_IP it would
  // also receive, and the kernel would copy every frame on the link to it.
  s.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (s.fd < 0) Fail("socket(AF_PACKET, SOCK_RAW)");
  const auto mac = MacOf(o.interface);
  for (int k = 1; k <= o.count; ++k) {
    s.packets.push_back(Frame(o, mac, VrrpMessage(o, k)));
  }
  s.to_link.sll_family = AF_PACKET;
  s.to_link.sll_protocol = htons(ETH_P_IP);
  s.to_link.sll_ifindex = ifindex;
  s.to_link.sll_halen = 6;
  std::memcpy(s.to_link.sll_addr, kVrrpGroupMac.data(), 6);
  return s;
}

template <typename T>
void SetOption(int fd, int level, int name, const T& value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) Fail(what);
}

Sender OpenRaw(const Options& o, int ifindex) {
  Sender s;
  s.fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, vrrp::kIpProtocolVrrp);
  if (s.fd < 0) Fail("socket(AF_INET, SOCK_RAW, 112)");
  // The same options our daemon's sending socket has (vrrp_socket.cc).
  SetOption(s.fd, IPPROTO_IP, IP_MULTICAST_TTL, int{vrrp::kVrrpTtl},
            "setsockopt(IP_MULTICAST_TTL)");
  SetOption(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP, int{0},
            "setsockopt(IP_MULTICAST_LOOP)");
  if (setsockopt(s.fd, SOL_SOCKET, SO_BINDTODEVICE, o.interface.c_str(),
                 static_cast<socklen_t>(o.interface.size())) != 0) {
    Fail("setsockopt(SO_BINDTODEVICE " + o.interface + ")");
  }
  ip_mreqn mreq{};
  mreq.imr_ifindex = ifindex;
  SetOption(s.fd, IPPROTO_IP, IP_MULTICAST_IF, mreq,
            "setsockopt(IP_MULTICAST_IF)");
  // Bound to the source address, so the kernel writes it into every header
  // (no IP_PKTINFO per message) and, as a side effect, delivers nothing to
  // this socket: a bound raw socket only hears datagrams to that address,
  // and advertisements go to 224.0.0.18. It is a pure sender.
  sockaddr_in local{};
  local.sin_family = AF_INET;
  std::memcpy(&local.sin_addr, o.source.bytes().data(), 4);
  if (bind(s.fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) !=
      0) {
    throw Failure{"bind(" + o.source.ToString() + "): " + std::strerror(errno) +
                  " (--source must be an address of this host in raw mode)"};
  }
  for (int k = 1; k <= o.count; ++k) s.packets.push_back(VrrpMessage(o, k));
  s.to_group.sin_family = AF_INET;
  std::memcpy(&s.to_group.sin_addr,
              vrrp::VrrpMulticastGroup(vrrp::Family::kIpv4).bytes().data(), 4);
  return s;
}

// One mmsghdr per packet, all to the same destination, built once.
void PrepareBurst(Sender& s, Mode mode) {
  s.iov.resize(s.packets.size());
  s.msgs.assign(s.packets.size(), mmsghdr{});
  for (size_t i = 0; i < s.packets.size(); ++i) {
    s.iov[i] = {s.packets[i].data(), s.packets[i].size()};
    msghdr& m = s.msgs[i].msg_hdr;
    m.msg_iov = &s.iov[i];
    m.msg_iovlen = 1;
    if (mode == Mode::kPacket) {
      m.msg_name = &s.to_link;
      m.msg_namelen = sizeof s.to_link;
    } else {
      m.msg_name = &s.to_group;
      m.msg_namelen = sizeof s.to_group;
    }
  }
}

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct Counters {
  uint64_t bursts = 0;
  uint64_t sent = 0;
  uint64_t dropped = 0;       // ENOBUFS / EAGAIN: not queued for later
  uint64_t missed_ticks = 0;  // timer expirations beyond one per wake-up
};

// Sends the whole burst, resuming after a partial sendmmsg. A full queue
// (ENOBUFS, EAGAIN) drops the rest of the burst, as a speaker would: the
// next advertisement is due one interval later anyway.
void SendBurst(Sender& s, Counters& c) {
  size_t done = 0;
  const size_t n = s.msgs.size();
  while (done < n && !g_stop) {
    const int rc = sendmmsg(s.fd, s.msgs.data() + done,
                            static_cast<unsigned int>(n - done), MSG_DONTWAIT);
    if (rc > 0) {
      done += static_cast<size_t>(rc);
      continue;
    }
    if (rc == 0) break;  // cannot happen with n > done; no busy loop
    if (errno == EINTR) continue;
    if (errno == ENOBUFS || errno == EAGAIN) {
      c.dropped += n - done;
      break;
    }
    Fail("sendmmsg");
  }
  c.sent += done;
  ++c.bursts;
}

int Run(const Options& o) {
  // First, so that a stop during set-up exits 0 too. No SA_RESTART: the
  // signal interrupts the blocking read() below, which then sees g_stop. If
  // it lands just before read() is entered, the loop notices at the next
  // expiry, one interval later.
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGTERM, &sa, nullptr) != 0 ||
      sigaction(SIGINT, &sa, nullptr) != 0) {
    Fail("sigaction");
  }
  const int ifindex = static_cast<int>(if_nametoindex(o.interface.c_str()));
  if (ifindex == 0) Fail("interface " + o.interface);
  Sender s =
      o.mode == Mode::kPacket ? OpenPacket(o, ifindex) : OpenRaw(o, ifindex);
  PrepareBurst(s, o.mode);

  // One periodic timer: one wake-up per interval, on a fixed cadence that a
  // late wake-up does not shift. The first burst goes out at once.
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (tfd < 0) Fail("timerfd_create");
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(o.interval);
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
  spec.it_value.tv_nsec = 1;
  if (timerfd_settime(tfd, 0, &spec, nullptr) != 0) Fail("timerfd_settime");

  std::printf(
      "advert_floor: %d VRRPv3 advertisements (VRIDs 1..%d, priority %d) "
      "every %lld ms on %s from %s, %s mode, one sendmmsg per burst\n",
      o.count, o.count, o.priority, static_cast<long long>(o.interval.count()),
      o.interface.c_str(), o.source.ToString().c_str(),
      o.mode == Mode::kPacket ? "packet" : "raw");
  std::fflush(stdout);

  Counters c;
  while (!g_stop) {
    uint64_t expirations = 0;
    if (read(tfd, &expirations, sizeof expirations) !=
        static_cast<ssize_t>(sizeof expirations)) {
      if (errno == EINTR) continue;
      Fail("read(timerfd)");
    }
    // Late by more than an interval (the machine was busy): one burst, not
    // a catch-up, as a speaker's timer would do.
    if (expirations > 1) c.missed_ticks += expirations - 1;
    SendBurst(s, c);
  }
  close(tfd);
  close(s.fd);
  std::printf(
      "advert_floor: stopped: %llu bursts, %llu advertisements sent, %llu "
      "dropped (ENOBUFS/EAGAIN), %llu intervals skipped (late wake-ups)\n",
      static_cast<unsigned long long>(c.bursts),
      static_cast<unsigned long long>(c.sent),
      static_cast<unsigned long long>(c.dropped),
      static_cast<unsigned long long>(c.missed_ticks));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(Parse(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "advert_floor: %s\n%s", e.what.c_str(), kUsage);
    return kExitUsage;
  } catch (const Failure& e) {
    std::fprintf(stderr, "advert_floor: %s\n", e.what.c_str());
    return kExitFailure;
  }
}
