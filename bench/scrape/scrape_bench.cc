// scrape_bench: /metrics latency and throughput with many instances.
//
// The real HttpServer (CivetWeb) with the real routes and SpeakerCollector,
// in-process, over a SnapshotStore holding `--instances` virtual routers
// whose every counter is non-zero and every per-instance series is present
// (peers, master, transitions, histograms with observations). A publisher
// thread replaces the snapshot every 100 ms with counters moved on, as the
// daemon's event loop does, so scrapes see fresh snapshots at the daemon's
// rate. Clients are HTTP/1.1 keep-alive connections on 127.0.0.1, each
// sending the next request as soon as the previous response is read in full.
//
//   scrape_bench [--instances=1000] [--concurrency=1,4] [--duration=5s]
//                [--gzip]
//
// Prints, per concurrency level: scrapes/s, latency p50 / p99 / max (from
// writing the request to reading the last byte of the body), and the
// exposition size. Nothing is asserted: the targets are printed alongside.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/metrics_body.h"
#include "exporter/routes.h"
#include "exporter/snapshot.h"

namespace {

using namespace std::chrono_literals;
using vrrp::IpAddress;
using vrrp::IpPrefix;
using vrrp::exporter::FailoverBuckets;
using vrrp::exporter::Histogram;
using vrrp::exporter::InstanceSnapshot;
using vrrp::exporter::LatenessBuckets;
using vrrp::exporter::Snapshot;

// Instance k: four interfaces of 250 VRIDs each, IPv4 for the first half and
// IPv6 for the second (documentation prefixes only), one VIP each, as a
// backup that hears a master (so the peer and master series exist).
std::shared_ptr<Snapshot> MakeSnapshot(int count, uint64_t tick) {
  auto s = std::make_shared<Snapshot>();
  s->taken_at_unix_seconds =
      std::chrono::duration<double>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  s->instances.Mutable().reserve(static_cast<size_t>(count));
  for (int k = 0; k < count; ++k) {
    const bool v6 = k >= count / 2;
    const int vrid = k % 250 + 1;
    InstanceSnapshot i;
    auto st = std::make_shared<vrrp::InstanceStats>();
    i.stats = st;
    auto config = std::make_shared<vrrp::InstanceConfig>();
    i.config = config;
    config->name = "vip" + std::to_string(k + 1);
    config->interface = "eth" + std::to_string(k / 250);
    config->vrid = static_cast<uint8_t>(vrid);
    config->family = v6 ? vrrp::Family::kIpv6 : vrrp::Family::kIpv4;
    config->priority = 150;
    const std::string vip = v6 ? "2001:db8:1::" + std::to_string(k + 1) + "/64"
                               : (k < 250 ? "198.51.100." : "203.0.113.") +
                                     std::to_string(vrid) + "/24";
    config->virtual_addresses = {*IpPrefix::Parse(vip)};
    i.status.name = config->name;
    i.status.state = vrrp::State::kBackup;
    i.status.base_priority = 150;
    i.status.effective_priority = 150;
    const auto master = *IpAddress::Parse(v6 ? "fe80::11" : "192.0.2.11");
    i.status.master_address = master;
    i.status.master_priority = 200;
    i.status.advert_interval = vrrp::Centiseconds(100);
    i.status.master_advert_interval = vrrp::Centiseconds(100);
    i.status.skew_time = std::chrono::microseconds(414062);
    i.status.master_down_interval = std::chrono::microseconds(3414062);
    st->advertisements_sent = 1000 + tick;
    st->advertisements_received = 100000 + 10 * tick + static_cast<uint64_t>(k);
    st->priority_zero_sent = 3;
    st->priority_zero_received = 2;
    st->become_master = 4;
    st->release_master = 3;
    st->announcements = 4;
    for (auto& e : st->receive_errors) e = 1 + tick % 7;
    st->received_with_pseudo_header = st->advertisements_received.get();
    st->received_without_pseudo_header = 1;
    vrrp::PeerInfo p;
    p.priority = 200;
    p.advertisements = st->advertisements_received.get();
    i.status.peers[master] = p;
    i.vip_present = {{config->virtual_addresses[0], false}};
    i.last_transition_unix_seconds = s->taken_at_unix_seconds - 3600;
    i.transitions[{vrrp::State::kInitialize, vrrp::State::kBackup,
                   vrrp::TransitionReason::kStartup}] = 1;
    i.transitions[{vrrp::State::kBackup, vrrp::State::kMaster,
                   vrrp::TransitionReason::kMasterDownTimer}] = 4;
    i.transitions[{vrrp::State::kMaster, vrrp::State::kBackup,
                   vrrp::TransitionReason::kHigherPriorityMaster}] = 3;
    i.failover_seconds = Histogram(FailoverBuckets());
    i.failover_seconds.Observe(3.4140625);
    i.failover_seconds.Observe(0.4140625);
    for (uint64_t n = 0; n < 20 + tick % 5; ++n) {
      st->advert_lateness.Observe(0.00002 * static_cast<double>(n));
    }
    s->instances.push_back(std::move(i));
  }
  s->interface_receive_errors["eth0"][0] = 5 + tick;
  s->send_errors = 1;
  return s;
}

// One keep-alive connection.
class Client {
 public:
  Client(int port, bool gzip) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      throw std::runtime_error(std::string("connect: ") + strerror(errno));
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    request_ =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
        "keep-alive\r\n";
    if (gzip) request_ += "Accept-Encoding: gzip\r\n";
    request_ += "\r\n";
  }
  ~Client() { close(fd_); }

  // One request; returns the body size. Throws on anything unexpected.
  size_t Scrape() {
    if (send(fd_, request_.data(), request_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request_.size())) {
      throw std::runtime_error("send");
    }
    buf_.clear();
    size_t header_end = std::string::npos;
    size_t want = 0;
    char chunk[65536];
    for (;;) {
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) throw std::runtime_error("connection closed");
      buf_.append(chunk, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = buf_.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        if (buf_.compare(0, 12, "HTTP/1.1 200") != 0) {
          throw std::runtime_error("status: " + buf_.substr(0, 40));
        }
        const auto cl = buf_.find("Content-Length: ");
        if (cl == std::string::npos || cl > header_end) {
          throw std::runtime_error("no Content-Length");
        }
        want =
            header_end + 4 + std::strtoul(buf_.c_str() + cl + 16, nullptr, 10);
      }
      if (buf_.size() >= want) {
        if (buf_.size() > want) throw std::runtime_error("pipelined bytes");
        return want - header_end - 4;
      }
    }
  }

 private:
  int fd_ = -1;
  std::string request_;
  std::string buf_;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

struct Options {
  int instances = 1000;
  std::vector<int> concurrency = {1, 4};
  std::chrono::milliseconds duration{5000};
  bool gzip = false;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int k = 1; k < argc; ++k) {
    const std::string a = argv[k];
    auto val = [&](const std::string& name) -> const char* {
      return a.rfind(name + "=", 0) == 0 ? a.c_str() + name.size() + 1
                                         : nullptr;
    };
    if (const char* v = val("--instances")) {
      o.instances = std::atoi(v);
    } else if (const char* v = val("--concurrency")) {
      o.concurrency.clear();
      for (const char* p = v; *p;) {
        o.concurrency.push_back(std::atoi(p));
        p = std::strchr(p, ',');
        if (!p) break;
        ++p;
      }
    } else if (const char* v = val("--duration")) {
      o.duration =
          std::chrono::milliseconds(static_cast<long>(std::atof(v) * 1000));
    } else if (a == "--gzip") {
      o.gzip = true;
    } else {
      std::fprintf(stderr,
                   "usage: scrape_bench [--instances=1000] "
                   "[--concurrency=1,4] [--duration=SECONDS] [--gzip]\n");
      std::exit(2);
    }
  }
  if (o.instances < 1 || o.concurrency.empty()) {
    std::fprintf(stderr, "scrape_bench: bad arguments\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = Parse(argc, argv);
  vrrp::exporter::SnapshotStore store;
  store.Publish(MakeSnapshot(opt.instances, 0));

  vrrp::exporter::HttpServer::Options so;
  so.listen_addresses = {"127.0.0.1:0"};
  auto server_or = vrrp::exporter::HttpServer::Start(so);
  if (!server_or.ok()) {
    std::fprintf(stderr, "scrape_bench: %s\n", server_or.error().c_str());
    return 1;
  }
  auto& server = *server_or.value();
  vrrp::exporter::RouteOptions ro;
  ro.version = "bench";
  ro.store = &store;
  vrrp::exporter::RegisterRoutes(server, ro);
  const int port = server.ports().at(0);

  // The daemon republishes every 100 ms; so does this.
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    uint64_t tick = 0;
    auto next = std::chrono::steady_clock::now();
    while (!stop) {
      next += 100ms;
      std::this_thread::sleep_until(next);
      store.Publish(MakeSnapshot(opt.instances, ++tick));
    }
  });

  size_t body_size = 0;
  {
    Client c(port, opt.gzip);
    body_size = c.Scrape();
  }
  std::printf(
      "scrape_bench: %d instances, every series present, snapshot replaced "
      "every 100 ms; %s; %.1f s per level\n",
      opt.instances, opt.gzip ? "Accept-Encoding: gzip" : "no compression",
      std::chrono::duration<double>(opt.duration).count());
  std::printf("exposition: %zu bytes%s\n", body_size,
              opt.gzip ? " (as sent)" : "");
  {
    // What a scrape of a snapshot not rendered yet costs on its own: the
    // median of 5 renderings into a fresh MetricsBody (so no reuse).
    auto snap = MakeSnapshot(opt.instances, 1);
    std::vector<double> ms;
    for (int k = 0; k < 5; ++k) {
      vrrp::exporter::MetricsBody fresh(ro);
      const auto t0 = std::chrono::steady_clock::now();
      fresh.Render(snap, opt.gzip, snap->taken_at_unix_seconds);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::printf("rendering a new snapshot%s: %.1f ms (median of 5)\n",
                opt.gzip ? " and compressing it" : "", Percentile(ms, 0.5));
  }
  std::printf("\n");
  std::printf("%-11s %10s %9s %9s %9s %9s\n", "concurrency", "scrapes/s",
              "p50 ms", "p99 ms", "max ms", "scrapes");
  int status = 0;
  for (int conc : opt.concurrency) {
    std::vector<std::vector<double>> lat(static_cast<size_t>(conc));
    std::atomic<bool> failed{false};
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + opt.duration;
    std::vector<std::thread> threads;
    for (int t = 0; t < conc; ++t) {
      threads.emplace_back([&, t] {
        try {
          Client c(port, opt.gzip);
          auto& mine = lat[static_cast<size_t>(t)];
          while (std::chrono::steady_clock::now() < end) {
            const auto t0 = std::chrono::steady_clock::now();
            c.Scrape();
            mine.push_back(std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - t0)
                               .count());
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "client: %s\n", e.what());
          failed = true;
        }
      });
    }
    for (auto& th : threads) th.join();
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::vector<double> all;
    for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
    const double mx =
        all.empty() ? 0 : *std::max_element(all.begin(), all.end());
    const double p50 = Percentile(all, 0.50);
    const double p99 = Percentile(all, 0.99);
    std::printf("%-11d %10.0f %9.3f %9.3f %9.3f %9zu%s\n", conc,
                static_cast<double>(all.size()) / took, p50, p99, mx,
                all.size(), failed ? "  (a client failed)" : "");
    if (failed) status = 1;
  }
  std::printf(
      "\ntarget (issue 4): p99 < 5 ms and >= 1000 scrapes/s with "
      "1000 instances\n");
  stop = true;
  publisher.join();
  server.Stop();
  return status;
}
