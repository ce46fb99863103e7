#pragma once

// Kernel timestamps of advertisements on the wire, for lab tests that
// measure gaps (the same capture as scrape_isolation_test.cc's).

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "integration/lab.h"

namespace vrrp::testing {

using std::chrono::nanoseconds;
using std::chrono::seconds;

// Kernel timestamps of the advertisements one source sends, collected by a
// thread from a packet socket in a namespace: only those the interface
// transmits (`outgoing`) or only those it receives.
class AdvertCapture {
  // In the kernel, only IP protocol 112: a flood of HTTP through the same
  // interface would otherwise fill the socket's buffer and advertisements
  // would be dropped from the capture (gaps of exact multiples of the
  // interval that the wire never had). SOCK_DGRAM: offset 0 is the IP
  // header.
  static constexpr sock_filter kVrrpCode[] = {
      {BPF_LD | BPF_B | BPF_ABS, 0, 0, 9},
      {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 112},
      {BPF_RET | BPF_K, 0, 0, 0xffff},
      {BPF_RET | BPF_K, 0, 0, 0},
  };
  static inline const sock_fprog kVrrpOnly = {
      4, const_cast<sock_filter*>(kVrrpCode)};

 public:
  AdvertCapture(const NetNs& ns, const std::string& ifname,
                const std::string& source, bool outgoing)
      : outgoing_(outgoing) {
    NetNs::Enter enter(ns);
    // ETH_P_ALL: sockets bound to one protocol never see transmitted frames.
    fd_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd_ < 0) throw std::runtime_error("packet socket: needs root");
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    const int on = 1;
    if (addr.sll_ifindex == 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &kVrrpOnly,
                   sizeof(kVrrpOnly)) != 0) {
      throw std::runtime_error("packet socket setup failed");
    }
    inet_pton(AF_INET, source.c_str(), &source_);
    thread_ = std::thread([this] { Run(); });
  }
  ~AdvertCapture() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  // Starts a new measurement window.
  void Reset() {
    std::lock_guard lock(mu_);
    stamps_.clear();
    vrids_.clear();
  }
  // The stamps of each VRID's advertisements (index: VRID).
  std::vector<std::vector<nanoseconds>> StampsByVrid() const {
    std::lock_guard lock(mu_);
    std::vector<std::vector<nanoseconds>> out(256);
    for (size_t i = 0; i < stamps_.size(); ++i) {
      out[vrids_[i]].push_back(stamps_[i]);
    }
    return out;
  }
  std::vector<nanoseconds> Stamps() const {
    std::lock_guard lock(mu_);
    return stamps_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      unsigned char packet[256];
      char control[256];
      iovec iov{packet, sizeof(packet)};
      sockaddr_ll from{};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof(from);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
      if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
      if (from.sll_protocol != htons(ETH_P_IP) ||
          (from.sll_pkttype == PACKET_OUTGOING) != outgoing_) {
        continue;
      }
      iphdr ip;
      std::copy_n(packet, sizeof(ip), reinterpret_cast<unsigned char*>(&ip));
      if (ip.protocol != 112 || ip.saddr != source_.s_addr) continue;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::copy_n(CMSG_DATA(c), sizeof(ts),
                      reinterpret_cast<unsigned char*>(&ts));
          std::lock_guard lock(mu_);
          stamps_.push_back(seconds(ts.tv_sec) + nanoseconds(ts.tv_nsec));
          const size_t vrid_at = static_cast<size_t>(ip.ihl) * 4 + 1;
          vrids_.push_back(vrid_at < static_cast<size_t>(n) ? packet[vrid_at]
                                                            : 0);
        }
      }
    }
  }

  const bool outgoing_;
  int fd_ = -1;
  in_addr source_{};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<nanoseconds> stamps_;
  std::vector<unsigned char> vrids_;
  std::thread thread_;
};

struct GapFigures {
  size_t adverts = 0;
  nanoseconds max_gap{0};
};

inline GapFigures Gaps(const std::vector<nanoseconds>& stamps) {
  GapFigures f;
  f.adverts = stamps.size();
  for (size_t i = 1; i < stamps.size(); ++i) {
    f.max_gap = std::max(f.max_gap, stamps[i] - stamps[i - 1]);
  }
  return f;
}

inline double Ms(nanoseconds d) { return d.count() / 1e6; }

}  // namespace vrrp::testing
