// rtnetlink through libmnl. See rtnetlink(7) and netlink(7) for the message
// formats used here. Everything read from the kernel is treated as input:
// lengths are checked before every read and malformed messages are skipped,
// never asserted on.

#include "vrrp/sys/netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// <linux/if.h> (for IF_OPER_UP) must come after <net/if.h>: its
// libc-compat.h then leaves out what glibc has already defined.
// clang-format off
#include <net/if.h>
#include <linux/if.h>
// clang-format on

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace vrrp::sys {

namespace {

// Large enough for any rtnetlink message the kernel builds for us: a dump
// skb never exceeds the largest buffer we have passed to recvmsg() capped at
// 32 KiB (netlink_recvmsg's max_recvmsg_len), and a single RTM_NEWLINK with
// every attribute fits easily. Anything larger is reported as MSG_TRUNC.
constexpr size_t kReceiveBufferSize = 64 * 1024;

// Requests are a header, a fixed struct and a few small attributes (the
// largest, a macvlan's RTM_NEWLINK, is under 100 bytes).
constexpr size_t kRequestBufferSize = 512;

// The kernel always answers a request, but a stuck rtnl_lock elsewhere must
// not freeze the daemon forever; after this long the request fails and its
// late answer is discarded by sequence number.
constexpr time_t kReplyTimeoutSeconds = 10;

// Receive buffer for the event socket. Link and address events come in
// bursts (an interface going down withdraws every address on it); a small
// buffer overflows and the kernel reports ENOBUFS (rtnetlink(7), netlink(7)).
constexpr int kMonitorReceiveBuffer = 1 << 20;

// Datagrams one ProcessEvents() call reads at most (each is one event), so
// an event storm cannot starve the rest of the event loop, VRRP timers
// included. The fd is level-triggered: what is left wakes the loop again.
constexpr int kMaxEventReadsPerCall = 1024;

// A dump that raced with changes is marked NLM_F_DUMP_INTR and may have
// missed entries (netlink(7)); it is repeated up to this many times.
constexpr int kDumpAttempts = 3;

std::string ErrnoText(int error) {
  return std::generic_category().message(error);
}

// Calls `f` for each well-formed attribute after the fixed header of
// `offset` bytes. mnl_attr_ok() checks each attribute's length against what
// is left of the message, so a lying nla_len ends the walk.
template <typename F>
void ForEachAttribute(const nlmsghdr* nlh, size_t offset, F&& f) {
  if (mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(offset)) return;
  const auto* attr =
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  while (mnl_attr_ok(
      attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    f(attr);
    attr = mnl_attr_next(attr);
  }
}

// Calls `f` for each well-formed attribute nested in `nest`, with the same
// length checks as ForEachAttribute.
template <typename F>
void ForEachNested(const nlattr* nest, F&& f) {
  const auto* attr = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
  const auto* tail = static_cast<const char*>(mnl_attr_get_payload(nest)) +
                     mnl_attr_get_payload_len(nest);
  while (mnl_attr_ok(
      attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    f(attr);
    attr = mnl_attr_next(attr);
  }
}

std::span<const uint8_t> AttributeBytes(const nlattr* attr) {
  return {static_cast<const uint8_t*>(mnl_attr_get_payload(attr)),
          mnl_attr_get_payload_len(attr)};
}

std::optional<uint32_t> AttributeU32(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) < sizeof(uint32_t)) return std::nullopt;
  uint32_t value;
  std::memcpy(&value, mnl_attr_get_payload(attr), sizeof value);
  return value;
}

std::optional<uint8_t> AttributeU8(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) < sizeof(uint8_t)) return std::nullopt;
  return *static_cast<const uint8_t*>(mnl_attr_get_payload(attr));
}

// IFLA_IFNAME is NUL-terminated, but we do not rely on it.
std::string AttributeString(const nlattr* attr) {
  const auto bytes = AttributeBytes(attr);
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  return std::string(data, strnlen(data, bytes.size()));
}

// Parses an RTM_NEWLINK/RTM_DELLINK message. nullopt when it is malformed or
// not a plain link message (AF_BRIDGE port messages share RTNLGRP_LINK and
// must not be mistaken for the device itself: a port leaving its bridge sends
// an RTM_DELLINK for a device that still exists).
std::optional<InterfaceInfo> ParseLink(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) return std::nullopt;
  ifinfomsg ifi;
  std::memcpy(&ifi, mnl_nlmsg_get_payload(nlh), sizeof ifi);
  if (ifi.ifi_family != AF_UNSPEC || ifi.ifi_index <= 0) return std::nullopt;

  InterfaceInfo info;
  info.index = ifi.ifi_index;
  info.admin_up = (ifi.ifi_flags & IFF_UP) != 0;
  std::optional<uint8_t> operstate;
  const nlattr* info_data = nullptr;
  ForEachAttribute(nlh, sizeof(ifinfomsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case IFLA_LINK:
        if (auto link = AttributeU32(attr); link && *link <= INT_MAX) {
          info.link_index = static_cast<int>(*link);
        }
        break;
      case IFLA_LINKINFO:
        ForEachNested(attr, [&](const nlattr* nested) {
          if (mnl_attr_get_type(nested) == IFLA_INFO_KIND) {
            info.kind = AttributeString(nested);
          } else if (mnl_attr_get_type(nested) == IFLA_INFO_DATA) {
            info_data = nested;  // its meaning depends on the kind
          }
        });
        break;
      case IFLA_IFNAME:
        info.name = AttributeString(attr);
        break;
      case IFLA_ADDRESS: {
        // Only Ethernet-like links have a 6-byte hardware address; others
        // (IP tunnels, for one) keep the all-zero MAC.
        const auto bytes = AttributeBytes(attr);
        if (bytes.size() == info.mac.size()) {
          std::copy(bytes.begin(), bytes.end(), info.mac.begin());
        }
        break;
      }
      case IFLA_MTU:
        if (auto mtu = AttributeU32(attr)) info.mtu = *mtu;
        break;
      case IFLA_OPERSTATE:
        operstate = AttributeU8(attr);
        break;
      default:
        break;
    }
  });
  if (info_data != nullptr && info.kind == "macvlan") {
    ForEachNested(info_data, [&](const nlattr* nested) {
      if (mnl_attr_get_type(nested) == IFLA_MACVLAN_MODE) {
        if (auto mode = AttributeU32(nested)) info.macvlan_mode = *mode;
      }
    });
  }
  // IFF_RUNNING covers links whose operstate is UNKNOWN (drivers that do not
  // report carrier, e.g. dummy); IF_OPER_UP (RFC 2863 operstate) covers the
  // rest. Either only counts while the link is administratively up: the
  // notification for `ip link set down` is sent before the link watcher has
  // updated the operstate, so it can still say UP.
  info.oper_up = info.admin_up && ((ifi.ifi_flags & IFF_RUNNING) != 0 ||
                                   operstate == IF_OPER_UP);
  return info;
}

std::optional<Family> FamilyFromAf(uint8_t af) {
  if (af == AF_INET) return Family::kIpv4;
  if (af == AF_INET6) return Family::kIpv6;
  return std::nullopt;
}

uint8_t AfFromFamily(Family family) {
  return family == Family::kIpv4 ? AF_INET : AF_INET6;
}

// Parses an RTM_NEWADDR message; nullopt when malformed.
std::optional<InterfaceAddress> ParseAddress(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg)) return std::nullopt;
  ifaddrmsg ifa;
  std::memcpy(&ifa, mnl_nlmsg_get_payload(nlh), sizeof ifa);
  const auto family = FamilyFromAf(ifa.ifa_family);
  if (!family || ifa.ifa_index == 0) return std::nullopt;
  const size_t size = AddressSize(*family);
  if (ifa.ifa_prefixlen > size * 8) return std::nullopt;

  std::optional<IpAddress> local, address;
  uint32_t flags = ifa.ifa_flags;
  ForEachAttribute(nlh, sizeof(ifaddrmsg), [&](const nlattr* attr) {
    const auto type = mnl_attr_get_type(attr);
    if (type == IFA_LOCAL || type == IFA_ADDRESS) {
      const auto bytes = AttributeBytes(attr);
      if (bytes.size() != size) return;
      (type == IFA_LOCAL ? local : address) =
          IpAddress::FromBytes(*family, bytes);
    } else if (type == IFA_FLAGS) {
      // ifa_flags is 8 bits wide; IFA_FLAGS carries all 32 when present.
      if (auto full = AttributeU32(attr)) flags = *full;
    }
  });
  // rtnetlink(7): IFA_LOCAL is the local address and IFA_ADDRESS the peer on
  // point-to-point links. Without a peer, IPv4 sends both (equal) and IPv6
  // sends only IFA_ADDRESS, so "IFA_LOCAL, else IFA_ADDRESS" is the
  // interface's own address in every case.
  const auto& own = local ? local : address;
  if (!own) return std::nullopt;

  InterfaceAddress result;
  result.ifindex = static_cast<int>(ifa.ifa_index);
  result.prefix = IpPrefix{*own, ifa.ifa_prefixlen};
  result.secondary = (flags & IFA_F_SECONDARY) != 0;
  result.tentative = (flags & IFA_F_TENTATIVE) != 0;
  result.nodad = (flags & IFA_F_NODAD) != 0;
  result.scope = ifa.ifa_scope;
  return result;
}

// Receives one datagram. Returns its length, or -1 with errno set; MSG_TRUNC
// becomes EMSGSIZE. Datagrams not sent by the kernel (nl_pid != 0: another
// process can unicast to our port) are reported with *from_kernel = false.
ssize_t Receive(int fd, std::vector<char>& buffer, bool* from_kernel) {
  sockaddr_nl sender{};
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_name = &sender;
  msg.msg_namelen = sizeof sender;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if (msg.msg_flags & MSG_TRUNC) {
    errno = EMSGSIZE;
    return -1;
  }
  *from_kernel = msg.msg_namelen == sizeof sender && sender.nl_pid == 0;
  return n;
}

// Extracts NLMSGERR_ATTR_MSG (netlink(7), NETLINK_EXT_ACK) from the
// extended-ack TLVs that start `offset` bytes into the payload.
std::string ExtAckMessage(const nlmsghdr* nlh, size_t offset) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  std::string message;
  ForEachAttribute(nlh, offset, [&](const nlattr* attr) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) {
      message = AttributeString(attr);
    }
  });
  return message;
}

}  // namespace

// ---------------------------------------------------------------------------
// Netlink

class Netlink::Impl {
 public:
  explicit Impl(mnl_socket* socket)
      : socket_(socket),
        port_id_(mnl_socket_get_portid(socket)),
        // Any start value works; replies are matched against it.
        seq_(static_cast<uint32_t>(time(nullptr))),
        buffer_(std::max<size_t>(kReceiveBufferSize, MNL_SOCKET_BUFFER_SIZE)) {}
  ~Impl() { mnl_socket_close(socket_); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  struct Failure {
    int error = 0;       // errno value
    std::string detail;  // strerror, plus the kernel's extended ack
  };

  // Sends `request` and reads until its NLMSG_ERROR (ack or error) or
  // NLMSG_DONE (end of dump). Each data message answering it goes to
  // `on_data`. Returns nullopt on success. `*interrupted` (if given) tells
  // whether a dump was marked inconsistent.
  template <typename F>
  std::optional<Failure> Transact(nlmsghdr* request, F&& on_data,
                                  bool* interrupted = nullptr) {
    if (interrupted != nullptr) *interrupted = false;
    request->nlmsg_seq = ++seq_;
    request->nlmsg_pid = 0;  // the kernel fills in our port id
    if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) {
      return Fail(errno, "send");
    }
    for (;;) {
      bool from_kernel = false;
      const ssize_t n =
          Receive(mnl_socket_get_fd(socket_), buffer_, &from_kernel);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          return Fail(ETIMEDOUT, "no reply from the kernel");
        }
        return Fail(errno, "receive");
      }
      if (!from_kernel) continue;
      int len = static_cast<int>(n);
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer_.data());
           mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
        // Replies to requests that timed out or were abandoned mid-dump
        // carry older sequence numbers; they are not ours any more.
        if (nlh->nlmsg_seq != seq_ ||
            (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != port_id_)) {
          continue;
        }
        if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && interrupted != nullptr) {
          *interrupted = true;
        }
        switch (nlh->nlmsg_type) {
          case NLMSG_NOOP:
            continue;
          case NLMSG_OVERRUN:
            return Fail(EOVERFLOW, "overrun");
          case NLMSG_ERROR:
            return ErrorMessage(nlh);
          case NLMSG_DONE:
            return DoneMessage(nlh);
          default:
            on_data(nlh);
        }
      }
    }
  }

  // A zeroed request buffer holding a header with `type` and `flags`.
  nlmsghdr* NewRequest(uint16_t type, uint16_t flags) {
    std::fill(request_.begin(), request_.end(), 0);
    nlmsghdr* nlh = mnl_nlmsg_put_header(request_.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
  }
  static constexpr size_t request_size() { return kRequestBufferSize; }

  // RTM_GETLINK by name. Without NLM_F_DUMP the kernel looks the link up by
  // IFLA_IFNAME when ifi_index is 0 (rtnl_getlink); NLM_F_ACK makes the end
  // of the reply explicit: the link message, then an ACK. A missing link is
  // ENODEV.
  std::optional<Failure> GetLink(const std::string& name,
                                 std::optional<InterfaceInfo>* found) {
    nlmsghdr* nlh = NewRequest(RTM_GETLINK, NLM_F_ACK);
    auto* ifi = static_cast<ifinfomsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    // Leave out VF and stats-heavy attributes we never read.
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    if (!mnl_attr_put_strz_check(nlh, request_size(), IFLA_IFNAME,
                                 name.c_str())) {
      return Fail(EMSGSIZE, "request too large");
    }
    found->reset();
    return Transact(nlh, [&](const nlmsghdr* reply) {
      if (reply->nlmsg_type != RTM_NEWLINK || *found) return;
      *found = ParseLink(reply);
    });
  }

 private:
  static Failure MakeFailure(int error, const std::string& what = "") {
    std::string detail = ErrnoText(error);
    if (!what.empty()) detail += " (" + what + ")";
    return Failure{error, std::move(detail)};
  }
  static std::optional<Failure> Fail(int error, const std::string& what) {
    return MakeFailure(error, what);
  }

  // netlink(7): an NLMSG_ERROR with error 0 is an ACK; otherwise error is a
  // negative errno. With NETLINK_CAP_ACK the echoed request is cut to its
  // header (NLM_F_CAPPED); extended-ack TLVs follow it.
  static std::optional<Failure> ErrorMessage(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nlmsgerr)) {
      return Fail(EBADMSG, "short NLMSG_ERROR");
    }
    nlmsgerr err;
    std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof err);
    if (err.error == 0) return std::nullopt;
    size_t offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
        err.msg.nlmsg_len > sizeof(nlmsghdr)) {
      offset += err.msg.nlmsg_len - sizeof(nlmsghdr);
    }
    // A positive error is not something the kernel sends; take it as is
    // rather than trusting its sign.
    const int error = err.error < 0 ? -err.error : err.error;
    return MakeFailure(error, ExtAckMessage(nlh, offset));
  }

  // NLMSG_DONE carries an int: 0, or the negative errno that ended the dump
  // early (netlink_dump_done), then possibly extended-ack TLVs.
  static std::optional<Failure> DoneMessage(const nlmsghdr* nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int)) return std::nullopt;
    int status;
    std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
    if (status >= 0) return std::nullopt;
    return MakeFailure(-status, ExtAckMessage(nlh, sizeof(int)));
  }

  mnl_socket* socket_;
  uint32_t port_id_;
  uint32_t seq_;
  std::vector<char> buffer_;
  alignas(nlmsghdr) std::array<char, kRequestBufferSize> request_{};
};

Netlink::Netlink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Netlink::~Netlink() = default;

Result<std::unique_ptr<Netlink>, std::string> Netlink::Open() {
  // The socket belongs to the network namespace of the calling thread, now
  // and for the rest of its life.
  mnl_socket* socket = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (socket == nullptr) {
    return Err("netlink socket: " + ErrnoText(errno));
  }
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int error = errno;
    mnl_socket_close(socket);
    return Err("netlink bind: " + ErrnoText(error));
  }
  // Best effort, older kernels lack them: NETLINK_EXT_ACK gets the kernel's
  // reason for a rejection as text; NETLINK_CAP_ACK keeps it from echoing
  // our whole request back in every error.
  int on = 1;
  (void)mnl_socket_setsockopt(socket, NETLINK_EXT_ACK, &on, sizeof on);
  (void)mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &on, sizeof on);
  timeval timeout{kReplyTimeoutSeconds, 0};
  (void)setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                   sizeof timeout);
  return std::unique_ptr<Netlink>(new Netlink(std::make_unique<Impl>(socket)));
}

namespace {

// What the kernel could hold as an interface name (and what is safe in a
// /proc/sys path): 1..IFNAMSIZ-1 bytes, no NUL or '/', not "." or "..".
bool UsableInterfaceName(const std::string& name) {
  return !name.empty() && name.size() < IFNAMSIZ &&
         name.find('\0') == std::string::npos &&
         name.find('/') == std::string::npos && name != "." && name != "..";
}

}  // namespace

Result<InterfaceInfo, std::string> Netlink::GetInterface(
    const std::string& name) {
  const std::string what = "get interface \"" + name + "\": ";
  if (!UsableInterfaceName(name)) {
    return Err(what + "invalid interface name");
  }

  std::optional<InterfaceInfo> found;
  auto failure = impl_->GetLink(name, &found);
  if (failure) return Err(what + failure->detail);
  if (!found) return Err(what + "no usable link in the kernel's reply");
  return *found;
}

Result<std::vector<InterfaceAddress>, std::string> Netlink::ListAddresses(
    int ifindex, Family family) {
  nlmsghdr* nlh = impl_->NewRequest(RTM_GETADDR, NLM_F_DUMP);
  auto* ifa = static_cast<ifaddrmsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AfFromFamily(family);
  // Only kernels with NETLINK_GET_STRICT_CHK filter the dump by ifa_index;
  // the others dump every interface, so we filter here as well.
  ifa->ifa_index = ifindex > 0 ? static_cast<uint32_t>(ifindex) : 0;

  const std::string what = "list " + std::string(ToString(family)) +
                           " addresses on ifindex " + std::to_string(ifindex) +
                           ": ";
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    // Transact gives each attempt its own sequence number.
    std::vector<InterfaceAddress> addresses;
    bool interrupted = false;
    auto failure = impl_->Transact(
        nlh,
        [&](const nlmsghdr* reply) {
          if (reply->nlmsg_type != RTM_NEWADDR) return;
          auto address = ParseAddress(reply);
          if (address && address->ifindex == ifindex &&
              address->prefix.address.family() == family) {
            addresses.push_back(*address);
          }
        },
        &interrupted);
    if (failure) return Err(what + failure->detail);
    if (!interrupted) return addresses;
  }
  return Err(what + "the addresses kept changing during the dump");
}

namespace {

// Fills an RTM_NEWADDR/RTM_DELADDR request for `address` on `ifindex`.
void PutAddress(nlmsghdr* nlh, int ifindex, const IpPrefix& address) {
  const bool v4 = address.address.is_v4();
  auto* ifa = static_cast<ifaddrmsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = v4 ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = address.prefix_length;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  // Link-local virtual addresses (RFC 5798 §5.2.9: an IPv6 virtual router's
  // first address is link-local) get link scope; everything else is global.
  ifa->ifa_scope =
      address.address.is_ipv6_link_local() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  const auto bytes = address.address.bytes();
  if (v4) {
    // IPv4 needs both: IFA_LOCAL is the interface address, IFA_ADDRESS the
    // peer, equal on a broadcast link (rtnetlink(7)). RTM_DELADDR matches on
    // both as well.
    mnl_attr_put(nlh, IFA_LOCAL, bytes.size(), bytes.data());
    mnl_attr_put(nlh, IFA_ADDRESS, bytes.size(), bytes.data());
  } else {
    mnl_attr_put(nlh, IFA_ADDRESS, bytes.size(), bytes.data());
  }
}

}  // namespace

Result<Unit, std::string> Netlink::AddAddress(int ifindex,
                                              const IpPrefix& address) {
  nlmsghdr* nlh =
      impl_->NewRequest(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  PutAddress(nlh, ifindex, address);
  if (!address.address.is_v4()) {
    // No duplicate address detection: while DAD runs the address is
    // tentative and unusable, and a master must answer for it at once
    // (RFC 5798 §6.4.1 / §6.4.2). Ownership is VRRP's decision. The 8-bit
    // ifa_flags carries it for kernels older than IFA_FLAGS.
    static_cast<ifaddrmsg*>(mnl_nlmsg_get_payload(nlh))->ifa_flags =
        IFA_F_NODAD;
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  auto failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  // NLM_F_EXCL turns "already there" into EEXIST, which is what we want.
  if (!failure || failure->error == EEXIST) return kOk;
  return Err("add address " + address.ToString() + " on ifindex " +
             std::to_string(ifindex) + ": " + failure->detail);
}

Result<Unit, std::string> Netlink::RemoveAddress(int ifindex,
                                                 const IpPrefix& address) {
  nlmsghdr* nlh = impl_->NewRequest(RTM_DELADDR, NLM_F_ACK);
  PutAddress(nlh, ifindex, address);
  auto failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  // Not there: EADDRNOTAVAIL (both families); ENOENT from some paths.
  // ENODEV (no such interface) stays an error.
  if (!failure || failure->error == EADDRNOTAVAIL || failure->error == ENOENT) {
    return kOk;
  }
  return Err("remove address " + address.ToString() + " on ifindex " +
             std::to_string(ifindex) + ": " + failure->detail);
}

// ---------------------------------------------------------------------------
// Virtual MAC interfaces

Result<Macvlan, std::string> Netlink::CreateMacvlan(const std::string& name,
                                                    int base_ifindex,
                                                    const MacAddress& mac) {
  const std::string what = "create macvlan \"" + name + "\" on ifindex " +
                           std::to_string(base_ifindex) + ": ";
  if (!UsableInterfaceName(name)) return Err(what + "invalid interface name");
  if (base_ifindex <= 0) return Err(what + "invalid base ifindex");

  // ip link add link BASE name NAME address MAC type macvlan mode bridge.
  // Not IFF_UP: the address generation mode (below) and the caller's sysctls
  // must be in place before the link comes up and IPv6 configures it.
  nlmsghdr* nlh =
      impl_->NewRequest(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  auto* ifi = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  const size_t size = Impl::request_size();
  bool fits =
      mnl_attr_put_u32_check(nlh, size, IFLA_LINK,
                             static_cast<uint32_t>(base_ifindex)) &&
      mnl_attr_put_strz_check(nlh, size, IFLA_IFNAME, name.c_str()) &&
      mnl_attr_put_check(nlh, size, IFLA_ADDRESS, mac.size(), mac.data());
  nlattr* linkinfo =
      fits ? mnl_attr_nest_start_check(nlh, size, IFLA_LINKINFO) : nullptr;
  fits = linkinfo != nullptr &&
         mnl_attr_put_strz_check(nlh, size, IFLA_INFO_KIND, "macvlan");
  nlattr* data =
      fits ? mnl_attr_nest_start_check(nlh, size, IFLA_INFO_DATA) : nullptr;
  // Bridge mode: frames between this host's macvlans on one base go
  // directly, so several virtual MACs on one interface reach each other
  // (the default, VEPA, would need a hairpinning switch).
  fits = data != nullptr && mnl_attr_put_u32_check(nlh, size, IFLA_MACVLAN_MODE,
                                                   MACVLAN_MODE_BRIDGE);
  if (!fits) return Err(what + "request too large");
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);

  auto failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  if (failure && failure->error == EEXIST) {
    // NLM_F_EXCL: the name is taken. Ours from a run that crashed is
    // adopted; anything else belongs to someone else.
    std::optional<InterfaceInfo> found;
    if (auto f = impl_->GetLink(name, &found); f || !found) {
      return Err(what + "the name exists but cannot be read: " +
                 (f ? f->detail : "no usable link in the kernel's reply"));
    }
    if (found->kind == "macvlan" && found->link_index == base_ifindex &&
        found->mac == mac) {
      return Macvlan{*found, false};
    }
    return Err(what + "an interface of that name already exists (kind \"" +
               found->kind + "\", on ifindex " +
               std::to_string(found->link_index) + ", MAC " +
               MacToString(found->mac) + ") and is not a macvlan on ifindex " +
               std::to_string(base_ifindex) + " with MAC " + MacToString(mac) +
               "; left untouched");
  }
  // A MAC that another macvlan on the base already has is only refused
  // when the second one comes up (macvlan_open: EADDRINUSE).
  if (failure) return Err(what + failure->detail);

  std::optional<InterfaceInfo> created;
  if (auto f = impl_->GetLink(name, &created); f || !created) {
    return Err(what + "created, but cannot be read back: " +
               (f ? f->detail : "no usable link in the kernel's reply"));
  }

  // RFC 5798 §7.4: the interface identifier must not come from the virtual
  // MAC. Both routers' macvlans have that MAC, so EUI-64 would give them
  // the same link-local address; "random" derives a stable-privacy one
  // (RFC 7217) from a per-interface random secret. A separate request, as
  // `ip link set NAME addrgenmode random` does: the kernel rejects
  // IFLA_AF_SPEC in the creating RTM_NEWLINK with EAFNOSUPPORT (the link
  // has no IPv6 state before it is registered).
  nlh = impl_->NewRequest(RTM_NEWLINK, NLM_F_ACK);
  ifi = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = created->index;
  nlattr* af_spec = mnl_attr_nest_start_check(nlh, size, IFLA_AF_SPEC);
  nlattr* inet6 = af_spec != nullptr
                      ? mnl_attr_nest_start_check(nlh, size, AF_INET6)
                      : nullptr;
  if (inet6 == nullptr ||
      !mnl_attr_put_u8_check(nlh, size, IFLA_INET6_ADDR_GEN_MODE,
                             IN6_ADDR_GEN_MODE_RANDOM)) {
    return Err(what + "request too large");
  }
  mnl_attr_nest_end(nlh, inet6);
  mnl_attr_nest_end(nlh, af_spec);
  failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  // EAFNOSUPPORT: no IPv6 on this link at all (ipv6.disable=1), so no
  // link-local address can be derived from the MAC either.
  if (failure && failure->error != EAFNOSUPPORT) {
    // Never leave behind a macvlan that would come up with the EUI-64
    // address.
    nlh = impl_->NewRequest(RTM_DELLINK, NLM_F_ACK);
    ifi = static_cast<ifinfomsg*>(
        mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = created->index;
    (void)impl_->Transact(nlh, [](const nlmsghdr*) {});
    return Err(what + "setting IPv6 addrgenmode random: " + failure->detail);
  }
  return Macvlan{*created, true};
}

Result<Unit, std::string> Netlink::SetLinkUp(int ifindex, bool up) {
  nlmsghdr* nlh = impl_->NewRequest(RTM_NEWLINK, NLM_F_ACK);
  auto* ifi = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  // ifi_change selects the flags to change (rtnetlink(7)).
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = up ? IFF_UP : 0;
  auto failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  if (!failure) return kOk;
  // EADDRINUSE on up: a macvlan whose MAC another one on the same base
  // already uses (macvlan_open), e.g. one made by hand for another daemon.
  return Err(std::string("set ifindex ") + std::to_string(ifindex) +
             (up ? " up: " : " down: ") + failure->detail +
             (up && failure->error == EADDRINUSE
                  ? " (another interface on the same base has this MAC)"
                  : std::string()));
}

Result<Unit, std::string> Netlink::DeleteMacvlan(const std::string& name,
                                                 const MacAddress& mac) {
  const std::string what = "delete macvlan \"" + name + "\": ";
  if (!UsableInterfaceName(name)) return Err(what + "invalid interface name");
  std::optional<InterfaceInfo> found;
  auto failure = impl_->GetLink(name, &found);
  if (failure && failure->error == ENODEV) return kOk;
  if (failure || !found) {
    return Err(what + (failure ? failure->detail
                               : "no usable link in the kernel's reply"));
  }
  // Only what CreateMacvlan makes: the name may have been given to
  // something else since.
  if (found->kind != "macvlan" || found->mac != mac) {
    return Err(what + "it is not a macvlan with MAC " + MacToString(mac) +
               " (kind \"" + found->kind + "\", MAC " +
               MacToString(found->mac) + "); left untouched");
  }
  nlmsghdr* nlh = impl_->NewRequest(RTM_DELLINK, NLM_F_ACK);
  auto* ifi = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = found->index;
  failure = impl_->Transact(nlh, [](const nlmsghdr*) {});
  // ENODEV: gone in between (its base was deleted, taking it along).
  if (!failure || failure->error == ENODEV) return kOk;
  return Err(what + failure->detail);
}

// ---------------------------------------------------------------------------
// Interface sysctls

namespace {

// "/proc/sys/net/ipv4/conf/eth0/arp_ignore", or nullopt for names that are
// not a plain interface name and a plain setting name (no path tricks).
std::optional<std::string> SysctlPath(Family family,
                                      const std::string& interface,
                                      const std::string& name) {
  const bool plain_name =
      !name.empty() && name.size() <= 64 &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
  if (!UsableInterfaceName(interface) || !plain_name) return std::nullopt;
  return std::string("/proc/sys/net/") +
         (family == Family::kIpv4 ? "ipv4" : "ipv6") + "/conf/" + interface +
         "/" + name;
}

}  // namespace

Result<int, std::string> ReadInterfaceSysctl(Family family,
                                             const std::string& interface,
                                             const std::string& name) {
  const auto path = SysctlPath(family, interface, name);
  if (!path)
    return Err("sysctl " + name + " of \"" + interface + "\": invalid name");
  const int fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err("read " + *path + ": " + ErrnoText(errno));
  char buffer[32];
  ssize_t n;
  do {
    n = read(fd, buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  close(fd);
  if (n < 0) return Err("read " + *path + ": " + ErrnoText(error));
  std::string_view text(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  int value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Err("read " + *path + ": not an integer");
  }
  return value;
}

Result<Unit, std::string> WriteInterfaceSysctl(Family family,
                                               const std::string& interface,
                                               const std::string& name,
                                               int value) {
  const auto path = SysctlPath(family, interface, name);
  if (!path)
    return Err("sysctl " + name + " of \"" + interface + "\": invalid name");
  const int fd = open(path->c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Err("write " + *path + ": " + ErrnoText(errno));
  const std::string text = std::to_string(value) + "\n";
  ssize_t n;
  do {
    n = write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  close(fd);
  if (n < 0) return Err("write " + *path + ": " + ErrnoText(error));
  // A sysctl is written in one go; a short write would be a partial value.
  if (static_cast<size_t>(n) != text.size()) {
    return Err("write " + *path + ": short write");
  }
  return kOk;
}

// ---------------------------------------------------------------------------
// NetlinkAddressManager

NetlinkAddressManager::NetlinkAddressManager(Netlink& netlink,
                                             ErrorHandler on_error,
                                             DoneHandler on_done)
    : netlink_(netlink),
      on_error_(std::move(on_error)),
      on_done_(std::move(on_done)) {}

namespace {

// Resolves on every call: interface indexes are not stable across a
// delete/re-create, and names can be reassigned. if_nametoindex() looks in
// the calling thread's namespace, which must be the Netlink socket's.
std::optional<int> ResolveIndex(const std::string& interface,
                                std::string* error, int* error_number) {
  const unsigned index = if_nametoindex(interface.c_str());
  if (index == 0) {
    *error_number = errno;
    *error = "no interface \"" + interface + "\": " + ErrnoText(*error_number);
    return std::nullopt;
  }
  return static_cast<int>(index);
}

}  // namespace

void NetlinkAddressManager::AddAddress(const std::string& interface,
                                       const IpPrefix& address) {
  std::string error;
  int error_number = 0;
  if (auto index = ResolveIndex(interface, &error, &error_number)) {
    auto result = netlink_.AddAddress(*index, address);
    if (result.ok()) {
      if (on_done_) on_done_(interface, address, /*added=*/true);
      return;
    }
    error = result.error();
  }
  if (on_error_) on_error_(interface, address, error);
}

void NetlinkAddressManager::RemoveAddress(const std::string& interface,
                                          const IpPrefix& address) {
  std::string error;
  int error_number = 0;
  auto index = ResolveIndex(interface, &error, &error_number);
  // The interface is gone, and its addresses went with it: what was asked
  // is done (an interface deleted under a master is not an I/O error).
  if (!index && error_number == ENODEV) return;
  if (index) {
    auto result = netlink_.RemoveAddress(*index, address);
    if (result.ok()) {
      if (on_done_) on_done_(interface, address, /*added=*/false);
      return;
    }
    error = result.error();
  }
  if (on_error_) on_error_(interface, address, error);
}

// ---------------------------------------------------------------------------
// LinkMonitor

class LinkMonitor::Impl {
 public:
  Impl(mnl_socket* socket, Callbacks callbacks)
      : socket_(socket),
        callbacks_(std::move(callbacks)),
        buffer_(std::max<size_t>(kReceiveBufferSize, MNL_SOCKET_BUFFER_SIZE)) {}
  ~Impl() { mnl_socket_close(socket_); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  int fd() const { return mnl_socket_get_fd(socket_); }

  bool ProcessEvents() {
    bool complete = true;
    for (int reads = 0; reads < kMaxEventReadsPerCall; ++reads) {
      bool from_kernel = false;
      const ssize_t n = Receive(fd(), buffer_, &from_kernel);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        // ENOBUFS: the kernel dropped events because our buffer was full
        // (netlink(7)); EMSGSIZE: one did not fit ours. Either way some
        // state change went unseen. Keep draining so the caller starts
        // its re-read from an empty queue.
        complete = false;
        if (errno == ENOBUFS || errno == EMSGSIZE) continue;
        break;  // Anything else: let the event loop call us again.
      }
      if (!from_kernel) continue;
      Dispatch(static_cast<int>(n));
    }
    return complete;
  }

 private:
  void Dispatch(int len) {
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer_.data());
         mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
      switch (nlh->nlmsg_type) {
        case RTM_NEWLINK:
        case RTM_DELLINK: {
          auto info = ParseLink(nlh);
          if (!info) break;
          if (nlh->nlmsg_type == RTM_DELLINK) {
            info->admin_up = info->oper_up = false;
          }
          if (callbacks_.on_link) callbacks_.on_link(*info);
          break;
        }
        case RTM_NEWADDR:
        case RTM_DELADDR: {
          if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifaddrmsg)) break;
          ifaddrmsg ifa;
          std::memcpy(&ifa, mnl_nlmsg_get_payload(nlh), sizeof ifa);
          const auto family = FamilyFromAf(ifa.ifa_family);
          if (!family || ifa.ifa_index == 0) break;
          if (callbacks_.on_address) {
            callbacks_.on_address(static_cast<int>(ifa.ifa_index), *family);
          }
          break;
        }
        default:
          break;
      }
    }
  }

  mnl_socket* socket_;
  Callbacks callbacks_;
  std::vector<char> buffer_;
};

LinkMonitor::LinkMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkMonitor::~LinkMonitor() = default;

Result<std::unique_ptr<LinkMonitor>, std::string> LinkMonitor::Open(
    Callbacks callbacks) {
  mnl_socket* socket =
      mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (socket == nullptr) {
    return Err("netlink monitor socket: " + ErrnoText(errno));
  }
  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN, which
  // a daemon that moves addresses has; SO_RCVBUF is the unprivileged
  // fallback (capped by rmem_max).
  const int size = kMonitorReceiveBuffer;
  const int fd = mnl_socket_get_fd(socket);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  if (mnl_socket_bind(socket,
                      RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                      MNL_SOCKET_AUTOPID) < 0) {
    const int error = errno;
    mnl_socket_close(socket);
    return Err("netlink monitor bind: " + ErrnoText(error));
  }
  return std::unique_ptr<LinkMonitor>(
      new LinkMonitor(std::make_unique<Impl>(socket, std::move(callbacks))));
}

int LinkMonitor::fd() const { return impl_->fd(); }

bool LinkMonitor::ProcessEvents() { return impl_->ProcessEvents(); }

}  // namespace vrrp::sys
