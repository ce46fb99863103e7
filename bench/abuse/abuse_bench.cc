// Advertisement lateness under HTTP abuse (issue 14): a master with 50
// instances at a 10 ms interval and a backup, in a namespace lab (root),
// idle and under each abuse from the client namespace:
//   - a scrape storm: 100 concurrent clients scraping /metrics back to back
//     (with the right password: cached after the first check);
//   - 500 stalled connections (half a request header, re-opened when the
//     server closes them);
//   - a wrong-password flood: 16 threads, each a request every 5 ms
//     (abuse_clients.h says why it is paced), bcrypt cost 10.
// Lateness is measured on the wire: for every instance, each gap between
// two of its advertisements leaving the master's eth0 (kernel timestamps)
// minus the 10 ms interval. p99 and max over all instances' gaps.
//
//   bench/abuse_bench [--seconds N] [--realtime-priority P]
//
// --realtime-priority 0 runs the daemons without a real-time event loop,
// to show what it buys (the default is the daemon's default).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "integration/abuse_clients.h"
#include "integration/advert_capture.h"
#include "integration/lab.h"
#include "integration/vrrp_daemon.h"

namespace vrrp::testing {
namespace {

using namespace abuse;
using std::chrono::nanoseconds;

constexpr int kInstances = 50;
constexpr milliseconds kInterval{10};

struct Row {
  std::string phase;
  size_t gaps = 0;
  double p99_ms = 0, max_ms = 0;
  int backup_takeovers = 0;
  std::string load;
};

Row Measure(const std::string& phase, AdvertCapture& capture,
            const VrrpDaemon& backup,
            const std::function<std::string()>& load) {
  const int before = backup.Count("-> Master");
  capture.Reset();
  Row row;
  row.phase = phase;
  row.load = load();
  std::vector<double> lateness;
  const auto by_vrid = capture.StampsByVrid();
  for (int vrid = 1; vrid <= kInstances; ++vrid) {
    const auto& s = by_vrid[static_cast<size_t>(vrid)];
    for (size_t i = 1; i < s.size(); ++i) {
      lateness.push_back(std::max(0.0, Ms(s[i] - s[i - 1] - kInterval)));
    }
  }
  std::sort(lateness.begin(), lateness.end());
  row.gaps = lateness.size();
  if (!lateness.empty()) {
    row.p99_ms =
        lateness[std::min(lateness.size() - 1, lateness.size() * 99 / 100)];
    row.max_ms = lateness.back();
  }
  row.backup_takeovers = backup.Count("-> Master") - before;
  return row;
}

int Main(int argc, char** argv) {
  int secs = 5;
  std::string rt;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) secs = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--realtime-priority") == 0) rt = argv[i + 1];
  }
  const seconds phase_time(secs);
  RequireRootAndIproute();
  Lab lab(2);
  const std::string hash = Bcrypt("s3cret", 10);
  {
    FILE* f = std::fopen((lab.dir() + "/web.yml").c_str(), "w");
    std::fprintf(f, "basic_auth_users:\n  prometheus: '%s'\n", hash.c_str());
    std::fclose(f);
  }
  std::vector<SpeakerInstance> instances;
  for (int i = 1; i <= kInstances; ++i) {
    SpeakerInstance inst;
    inst.name = "vip" + std::to_string(i);
    inst.vrid = i;
    inst.interval = "10ms";
    inst.priority = 200;
    inst.vips = {"192.0.2." + std::to_string(199 + i) + "/24"};
    instances.push_back(inst);
  }
  std::vector<std::string> flags = {
      "--web.listen-address",        ":" + std::to_string(kPort),
      "--web.config.file",           lab.dir() + "/web.yml",
      "--web.health-listen-address", ":9688"};
  if (!rt.empty()) flags.insert(flags.end(), {"--vrrp.realtime-priority", rt});
  auto master = VrrpDaemon::Start(lab, 1, SpeakerConfig(instances), {}, flags);
  for (auto& inst : instances) inst.priority = 100;
  std::vector<std::string> backup_flags = {"--web.listen-address",
                                           "127.0.0.1:9687"};
  if (!rt.empty()) {
    backup_flags.insert(backup_flags.end(), {"--vrrp.realtime-priority", rt});
  }
  auto backup =
      VrrpDaemon::Start(lab, 2, SpeakerConfig(instances), {}, backup_flags);
  if (!WaitUntil([&] { return master->Count("-> Master") >= kInstances; },
                 seconds(10))) {
    std::fprintf(stderr, "the master did not take every instance\n%s",
                 master->Log().c_str());
    return 1;
  }
  std::this_thread::sleep_for(seconds(1));
  const std::string address = Lab::NodeAddress(1, Family::kIpv4);
  AdvertCapture capture(lab.node(1), "eth0", address, true);
  std::vector<Row> rows;

  rows.push_back(Measure("idle", capture, *backup, [&] {
    std::this_thread::sleep_for(phase_time);
    return std::string("-");
  }));
  rows.push_back(Measure("scrape storm, 100 clients", capture, *backup, [&] {
    std::atomic<int> ok{0}, failed{0};
    const auto end = steady_clock::now() + phase_time;
    std::vector<std::thread> pool;
    for (int t = 0; t < 100; ++t) {
      pool.emplace_back([&] {
        while (steady_clock::now() < end) {
          (Get(lab.client(), address, "/metrics", "prometheus:s3cret",
               seconds(5)) == 200
               ? ok
               : failed)++;
        }
      });
    }
    for (auto& t : pool) t.join();
    return std::to_string(ok.load()) + " scrapes, " +
           std::to_string(failed.load()) + " failed";
  }));
  rows.push_back(Measure("500 stalled connections", capture, *backup, [&] {
    std::atomic<int> probes{0}, probes_ok{0};
    const auto end = steady_clock::now() + phase_time;
    std::thread prober([&] {
      while (steady_clock::now() < end) {
        ++probes;
        if (Get(lab.node(1), address, "/-/healthy", "", seconds(1), 9688) ==
            200) {
          ++probes_ok;
        }
        std::this_thread::sleep_for(milliseconds(200));
      }
    });
    Stallers s(lab.client(), address, kPort, 500);
    s.Run(end);
    prober.join();
    return "health probes " + std::to_string(probes_ok.load()) + "/" +
           std::to_string(probes.load()) + " within 1 s";
  }));
  rows.push_back(
      Measure("wrong-password flood, 16 threads", capture, *backup, [&] {
        Flood flood;
        flood.Run(lab.client(), 16, phase_time, [](int t, int i) {
          return "prometheus:wrong-" + std::to_string(t) + "-" +
                 std::to_string(i);
        });
        return std::to_string(flood.answered.load()) + " requests, " +
               std::to_string(flood.limited.load()) + " x 429";
      }));

  std::printf(
      "\n50 instances at 10 ms, %d s per phase, loop priority: %s\n"
      "| phase | gaps | lateness p99 | lateness max | backup takeovers | "
      "load |\n|---|---:|---:|---:|---:|---|\n",
      secs, rt.empty() ? "daemon default (SCHED_RR 50)" : rt.c_str());
  for (const Row& r : rows) {
    std::printf("| %s | %zu | %.3f ms | %.3f ms | %d | %s |\n", r.phase.c_str(),
                r.gaps, r.p99_ms, r.max_ms, r.backup_takeovers, r.load.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace vrrp::testing

int main(int argc, char** argv) {
  try {
    return vrrp::testing::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "abuse_bench: %s\n", e.what());
    return 1;
  }
}
