// The exporter port must never hurt failover (issue 14): what a hostile
// client on the same network can do to the HTTP port, against a master at a
// 10 ms interval with a backup, with the daemons as shipped (no
// --vrrp.realtime-priority: the default puts the loop at real-time priority
// where permitted, and the lab runs as root).
//
// Gaps are measured on the wire, as the kernel timestamps the
// advertisements leaving the master's eth0 (advert_capture.h); the bound is
// the issue's, interval + 2 ms. A shared 2-core VM can stall any process for
// a few ms: a phase that exceeds it is run once more, and only a second
// excess fails (HTTP load that really delays the loop does so every time).

#include <arpa/inet.h>
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/advert_capture.h"
#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kInterval{10};
constexpr milliseconds kSlack{2};
constexpr int kPort = 9687;
constexpr milliseconds kFloodPeriod{5};

std::string Bcrypt(const std::string& password, int cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') {
    throw std::runtime_error("crypt_r failed");
  }
  return hash;
}

std::string Base64(const std::string& in) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// One GET from inside `ns`; the HTTP status, 0 if there was no answer in
// `timeout`.
int Get(const NetNs& ns, const std::string& address, const std::string& path,
        const std::string& user_password, milliseconds timeout,
        int port = kPort) {
  int fd;
  {
    NetNs::Enter enter(ns);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return 0;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return 0;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + address +
                        "\r\nConnection: close\r\n";
  if (!user_password.empty()) {
    request += "Authorization: Basic " + Base64(user_password) + "\r\n";
  }
  request += "\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while (response.size() < 12 &&
         (n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

// Transition lines of a daemon's log (LoggingObserver: "A -> B (reason)").
int Transitions(const VrrpDaemon& d, const std::string& text) {
  return d.Count(text);
}

struct Pair {
  std::unique_ptr<Lab> lab;
  std::unique_ptr<VrrpDaemon> master, backup;
};

// n1 master (priority 200) and n2 backup (100) at a 10 ms interval; n1
// serves HTTP on all its addresses with the flags `flags_for` returns (it
// may write files into the lab's directory).
Pair StartPair(
    const std::function<std::vector<std::string>(const Lab&)>& flags_for) {
  Pair p;
  p.lab = std::make_unique<Lab>(2);
  std::vector<std::string> flags = flags_for(*p.lab);
  SpeakerInstance inst;
  inst.interval = "10ms";
  inst.priority = 200;
  flags.insert(flags.begin(),
               {"--web.listen-address", ":" + std::to_string(kPort)});
  p.master = VrrpDaemon::Start(*p.lab, 1, SpeakerConfig({inst}), {}, flags);
  inst.priority = 100;
  p.backup = VrrpDaemon::Start(*p.lab, 2, SpeakerConfig({inst}), {},
                               {"--web.listen-address", "127.0.0.1:9687"});
  if (!WaitUntil(
          [&] { return HasAddress(p.lab->node(1), "eth0", "192.0.2.200"); },
          seconds(5)) ||
      !p.backup->WaitForLog("-> Backup", seconds(5))) {
    throw std::runtime_error("the pair did not settle:\n" + p.master->Log() +
                             p.backup->Log());
  }
  return p;
}

// A flood from `threads` client threads for `duration`; counts answers.
struct Flood {
  std::atomic<int> answered{0}, unauthorized{0}, limited{0}, none{0};
  void Reset() { answered = unauthorized = limited = none = 0; }
  void Run(const NetNs& ns, int threads, std::chrono::nanoseconds duration,
           const std::function<std::string(int, int)>& credentials) {
    const auto end = steady_clock::now() + duration;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        auto next = steady_clock::now();
        for (int i = 0; steady_clock::now() < end; ++i) {
          // Paced: the attacker shares this host's 2 CPUs with the daemons,
          // and an unpaced loop of connects measures the test's own CPU
          // use, not the daemon (scrape_isolation_test.cc says the same).
          // 16 x 200/s is still ten times the rate the flood
          // reached (each attempt then cost a ~54 ms hash).
          next += kFloodPeriod;
          std::this_thread::sleep_until(next);
          const int status = Get(ns, Lab::NodeAddress(1, Family::kIpv4),
                                 "/metrics", credentials(t, i), seconds(2));
          ++answered;
          if (status == 401) ++unauthorized;
          if (status == 429) ++limited;
          if (status == 0) ++none;
        }
      });
    }
    for (auto& th : pool) th.join();
  }
};

TEST(AbuseTest, WrongPasswordFloodCausesNoFailover) {
  RequireRootAndIproute();
  // The hash as the issue measured it: bcrypt cost 10, ~50 ms a check.
  const std::string hash = Bcrypt("s3cret", 10);
  Pair p = StartPair([&](const Lab& lab) -> std::vector<std::string> {
    const std::string web = lab.dir() + "/web.yml";
    FILE* f = std::fopen(web.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + web);
    std::fprintf(f, "basic_auth_users:\n  prometheus: '%s'\n", hash.c_str());
    std::fclose(f);
    return {"--web.config.file", web};
  });
  const Lab& lab = *p.lab;
  AdvertCapture sent(lab.node(1), "eth0", Lab::NodeAddress(1, Family::kIpv4),
                     true);
  const std::chrono::nanoseconds bound = kInterval + kSlack;
  const int master_before = Transitions(*p.master, "Master -> ");
  const int backup_before = Transitions(*p.backup, "-> Master");

  // A legitimate scraper elsewhere (the node itself) with the right
  // password keeps getting its metrics during the flood.
  std::atomic<bool> stop{false};
  std::atomic<int> legit_ok{0}, legit_failed{0};
  std::thread legit([&] {
    while (!stop) {
      const int status = Get(lab.node(1), "127.0.0.1", "/metrics",
                             "prometheus:s3cret", seconds(5));
      (status == 200 ? legit_ok : legit_failed)++;
      std::this_thread::sleep_for(milliseconds(250));
    }
  });

  GapFigures flood_gaps;
  Flood flood;
  for (int attempt = 0; attempt < 2; ++attempt) {
    sent.Reset();
    flood.Reset();
    // Distinct wrong passwords, so no cache answers for the server: only
    // the per-address limit and the single-flight hash stand between the
    // flood and the CPU.
    flood.Run(lab.client(), 16, seconds(10), [](int t, int i) {
      return "prometheus:wrong-" + std::to_string(t) + "-" + std::to_string(i);
    });
    flood_gaps = Gaps(sent.Stamps());
    std::printf(
        "[ figures  ] wrong-password flood, 16 threads x 10 s (200/s each): "
        "%zu adverts, "
        "max gap %.3f ms; %d requests: %d x 401, %d x 429, %d unanswered\n",
        flood_gaps.adverts, Ms(flood_gaps.max_gap), flood.answered.load(),
        flood.unauthorized.load(), flood.limited.load(), flood.none.load());
    std::fflush(stdout);
    if (flood_gaps.max_gap <= bound) break;
  }
  stop = true;
  legit.join();

  EXPECT_GT(flood_gaps.adverts, 800u);  // ~1000 at 10 ms
  EXPECT_LE(flood_gaps.max_gap, bound);
  EXPECT_EQ(Transitions(*p.master, "Master -> "), master_before)
      << p.master->Log();
  EXPECT_EQ(Transitions(*p.backup, "-> Master"), backup_before)
      << p.backup->Log();
  // The limiter answered most of the flood without a hash.
  EXPECT_GT(flood.limited.load(), flood.unauthorized.load());
  EXPECT_GT(legit_ok.load(), 10);
  EXPECT_EQ(legit_failed.load(), 0);
  // Failed logins are logged, but a few lines, not one per attempt.
  EXPECT_LE(p.master->Count("authentication failed"), 10);
}

// Connections from `ns` to address:port that send half a request header
// and say nothing more; re-opened when the server closes them, for as long
// as Run() runs.
class Stallers {
 public:
  Stallers(const NetNs& ns, std::string address, int port, int count)
      : ns_(ns), address_(std::move(address)), port_(port) {
    fds_.assign(static_cast<size_t>(count), -1);
  }
  ~Stallers() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  // Until `end`: opens every missing connection, then polls for closed
  // ones. Returns how many times the server closed one.
  int Run(steady_clock::time_point end) {
    int reopened = 0;
    while (steady_clock::now() < end) {
      for (int& fd : fds_) {
        if (fd >= 0) continue;
        if (steady_clock::now() >= end) break;
        // Re-opens paced at 1 per ms per group: unpaced, the attacker's
        // own connect loop (tens of thousands a second once the health
        // listener evicts) loads this host's 2 CPUs, and the measurement
        // would be of the test client, not of the daemon.
        if (opened_ >= static_cast<int>(fds_.size())) {
          next_open_ =
              std::max(next_open_, steady_clock::now()) + milliseconds(1);
          std::this_thread::sleep_until(next_open_);
        }
        fd = Open();
        ++opened_;
      }
      std::vector<pollfd> p;
      for (int fd : fds_) p.push_back({fd, POLLIN, 0});
      if (poll(p.data(), p.size(), 50) <= 0) continue;
      for (size_t i = 0; i < p.size(); ++i) {
        if (p[i].revents == 0 || fds_[i] < 0) continue;
        char c[256];
        if (recv(fds_[i], c, sizeof(c), MSG_DONTWAIT) <= 0 ||
            (p[i].revents & (POLLHUP | POLLERR)) != 0) {
          close(fds_[i]);
          fds_[i] = -1;
          ++reopened;
        }
      }
    }
    return reopened;
  }

 private:
  int Open() {
    int fd;
    {
      NetNs::Enter enter(ns_);
      fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, address_.c_str(), &addr.sin_addr);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    // A server whose backlog is full does not complete the handshake:
    // give up on this one soon, so Run() keeps to its end time.
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 100) != 1) {
      close(fd);
      return -1;
    }
    const std::string half = "GET /metrics HTTP/1.1\r\nHost: 192.0";
    send(fd, half.data(), half.size(), MSG_NOSIGNAL);
    return fd;
  }

  const NetNs& ns_;
  const std::string address_;
  const int port_;
  std::vector<int> fds_;
  int opened_ = 0;
  steady_clock::time_point next_open_{};
};

// One 10 s phase of stalled connections with probes and scrapes; the gaps
// of the master's advertisements during it.
GapFigures StallPhase(const Lab& lab, const std::string& master,
                      AdvertCapture& sent, std::atomic<int>& probes,
                      std::atomic<int>& probes_ok) {
  const auto end = steady_clock::now() + seconds(10);
  std::atomic<int> reopened{0};
  std::thread main_port([&] {
    Stallers s(lab.client(), master, kPort, 500);
    reopened += s.Run(end);
  });
  std::thread health_port([&] {
    Stallers s(lab.client(), master, 9688, 100);
    reopened += s.Run(end);
  });
  // Let the stallers connect before probing.
  std::this_thread::sleep_for(seconds(1));
  sent.Reset();
  std::atomic<int> scrapes{0}, scrapes_ok{0};
  // As a kubelet in the host network probes: from the node, 1 s timeout,
  // here every 200 ms.
  std::thread prober([&] {
    while (steady_clock::now() < end - milliseconds(500)) {
      ++probes;
      if (Get(lab.node(1), master, "/-/healthy", "", seconds(1), 9688) == 200) {
        ++probes_ok;
      }
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  // Prometheus elsewhere (node 2) scraping the main port.
  while (steady_clock::now() < end - milliseconds(500)) {
    ++scrapes;
    if (Get(lab.node(2), master, "/metrics", "", seconds(2)) == 200) {
      ++scrapes_ok;
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  prober.join();
  const GapFigures gaps = Gaps(sent.Stamps());
  main_port.join();
  health_port.join();
  std::printf(
      "[ figures  ] 500 + 100 stalled connections x 10 s: %zu adverts, max "
      "gap %.3f ms; health probes %d/%d within 1 s; /metrics on the main "
      "port %d/%d within 2 s; %d stalled sockets closed by the servers\n",
      gaps.adverts, Ms(gaps.max_gap), probes_ok.load(), probes.load(),
      scrapes_ok.load(), scrapes.load(), reopened.load());
  std::fflush(stdout);
  return gaps;
}

// 500 stalled connections on the metrics port (and 100 on the health
// port) for 10 s: probes shaped like a kubelet's (1 s timeout) on the
// health listener all pass, advertisements keep their interval, nobody
// fails over. /metrics on the main port is reported, not asserted: CivetWeb
// gives each connection a worker, so stalled sockets delay it (README,
// Reliability).
TEST(AbuseTest, StalledConnectionsDoNotFailHealthProbes) {
  RequireRootAndIproute();
  Pair p = StartPair([](const Lab&) -> std::vector<std::string> {
    return {"--web.health-listen-address", ":9688"};
  });
  const Lab& lab = *p.lab;
  const std::string master = Lab::NodeAddress(1, Family::kIpv4);
  ASSERT_EQ(Get(lab.node(1), "127.0.0.1", "/-/healthy", "", seconds(1), 9688),
            200)
      << p.master->Log();
  AdvertCapture sent(lab.node(1), "eth0", master, true);
  const int master_before = Transitions(*p.master, "Master -> ");
  const int backup_before = Transitions(*p.backup, "-> Master");
  std::this_thread::sleep_for(seconds(2));
  const GapFigures quiet = Gaps(sent.Stamps());
  std::printf("[ figures  ] quiet: %zu adverts, max gap %.3f ms\n",
              quiet.adverts, Ms(quiet.max_gap));

  // A phase whose gaps exceed the bound runs once more (see the top).
  GapFigures gaps;
  std::atomic<int> probes{0}, probes_ok{0};
  for (int attempt = 0; attempt < 2; ++attempt) {
    probes = probes_ok = 0;
    gaps = StallPhase(lab, master, sent, probes, probes_ok);
    if (gaps.max_gap <= kInterval + kSlack) break;
  }
  EXPECT_GT(probes, 10);
  EXPECT_EQ(probes_ok.load(), probes.load());
  EXPECT_LE(gaps.max_gap, kInterval + kSlack);
  EXPECT_EQ(Transitions(*p.master, "Master -> "), master_before);
  EXPECT_EQ(Transitions(*p.backup, "-> Master"), backup_before);
}

// Secrets planted in the configuration (and in a rejected one) never show
// in any output; lines an outside party can cause are bounded.
constexpr const char* kSecrets[] = {"PLANTEDURLPW", "PLANTEDBEARER77",
                                    "Pl4nt3d1", "PLANTEDFTPPW",
                                    "PLANTEDLONGPASS9"};

std::string Webhook() {
  return "webhooks:\n"
         "  - url: http://hookuser:PLANTEDURLPW@203.0.113.9:1/hook\n"
         "    timeout: 1s\n"
         "    headers:\n"
         "      Authorization: Bearer PLANTEDBEARER77\n";
}

void ExpectNoSecret(const std::string& where, const std::string& text) {
  for (const char* secret : kSecrets) {
    EXPECT_EQ(text.find(secret), std::string::npos)
        << where << " shows " << secret << ":\n"
        << text;
  }
}

TEST(AbuseTest, LogFloodsAreBoundedAndSecretsNeverShown) {
  RequireRootAndIproute();
  Lab lab(1);
  const std::string dir = lab.dir();
  // TLS on the metrics port (self-signed, for the handshake failures).
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " +
                         dir + "/tls.key -out " + dir +
                         "/tls.crt -subj /CN=vrrp -days 1 2>/dev/null")
                            .c_str()),
            0)
      << "openssl is needed";
  {
    FILE* f = std::fopen((dir + "/web.yml").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f,
                 "tls_server_config:\n  cert_file: tls.crt\n  key_file: "
                 "tls.key\n");
    std::fclose(f);
  }
  SpeakerInstance inst;
  inst.version = 2;
  inst.auth_pass = "Pl4nt3d1";
  inst.interval = "1s";
  const std::string good = SpeakerConfig({inst}) + Webhook();
  auto d = VrrpDaemon::Start(
      lab, 1, good, {},
      {"--web.listen-address", ":" + std::to_string(kPort), "--web.config.file",
       dir + "/web.yml", "--web.enable-lifecycle",
       "--web.health-listen-address", "127.0.0.1:9688"});
  ASSERT_TRUE(d->WaitForLog("-> Master", seconds(10))) << d->Log();

  // Plain HTTP against the TLS port: one failed handshake each.
  const std::string master = Lab::NodeAddress(1, Family::kIpv4);
  for (int i = 0; i < 2000; ++i) {
    Get(lab.client(), master, "/metrics", "", seconds(1));
  }
  // A rejected configuration of thousands of errors, with secrets in them.
  std::string bad = "instances:\n";
  bad +=
      "  - name: vip1\n    interface: eth0\n    vrid: 51\n"
      "    version: 2\n    authentication:\n      type: pass\n"
      "      password: PLANTEDLONGPASS9\n"
      "    virtual_addresses: [192.0.2.200/24]\n";
  for (int i = 0; i < 3000; ++i) {
    bad += "  - name: bad" + std::to_string(i) + "\n    vrid: 999\n";
  }
  bad += "webhooks:\n  - url: ftp://ftpuser:PLANTEDFTPPW@203.0.113.9/x\n";
  d->WriteConfig(bad);
  d->process().Signal(SIGHUP);
  ASSERT_TRUE(d->WaitForLog("the running configuration stays", seconds(20)))
      << d->Log();

  const std::string log = d->Log();
  const int tls_lines = d->Count("http: ");
  const int reload_lines = d->Count("reload rejected");
  std::printf(
      "[ figures  ] 2000 plain-HTTP connections to the TLS port: %d log "
      "lines; rejected configuration of 3000+ errors: %d lines; whole log "
      "%zu bytes\n",
      tls_lines, reload_lines, log.size());
  std::fflush(stdout);
  EXPECT_LE(tls_lines, 10);
  EXPECT_GE(reload_lines, 2);
  EXPECT_LE(reload_lines, 13);
  EXPECT_LT(log.size(), 20000u);

  // Every output: the log, the status API, the landing page, the metrics
  // (from the node, over TLS), the health listener, --config.check on the
  // rejected file.
  ExpectNoSecret("log", log);
  for (const std::string path : {"/api/v1/status", "/", "/metrics"}) {
    ExpectNoSecret(path, Curl(lab.node(1), "-k https://127.0.0.1:" +
                                               std::to_string(kPort) + path));
  }
  ExpectNoSecret("health", Curl(lab.node(1), "http://127.0.0.1:9688/-/ready"));
  const std::string check =
      ShOut(VrrpExporterBinary() + " --config.check --config.file " +
            d->config_path() + " 2>&1");
  EXPECT_NE(check.find("ftp://<redacted>@203.0.113.9"), std::string::npos)
      << check.substr(0, 2000);
  ExpectNoSecret("--config.check", check);
  // POST /-/reload answers with the errors too.
  ExpectNoSecret("/-/reload",
                 Curl(lab.node(1), "-k -X POST https://127.0.0.1:" +
                                       std::to_string(kPort) + "/-/reload"));
}

}  // namespace
}  // namespace vrrp::testing
