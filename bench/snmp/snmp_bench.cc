// Scrape time of one Keepalived with 50 instances through its SNMP agent:
// our /probe against prometheus-snmp-exporter (Debian's, with
// /work/shared/data/snmp_exporter_keepalived.yml or --snmp-exporter-config)
// against the same snmpd in the same run, 20 scrapes each, medians, series
// counts and the ratio; snmpbulkwalk of the same subtrees as the agent's
// floor. Then a fleet: 100 targets (several Keepalived namespaces, each
// behind its own snmpd listening on several ports) probed concurrently by
// our daemon, with its CPU time and memory.
//
// Layout (lab namespaces, documentation prefixes only):
//   n1: the monitoring host: snmpd(s) on its 127.0.0.1, our vrrp_exporter
//       daemon (--snmp.config.file), prometheus-snmp-exporter, the clients;
//   n2..: one `keepalived -x` each, 50 VRRPv3 instances, AgentX over a unix
//       socket to its snmpd in n1.
// Needs root, keepalived, snmpd, snmpbulkwalk, prometheus-snmp-exporter.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/lab.h"
#include "integration/snmp_lab.h"
#include "integration/vrrp_daemon.h"
#include "sys/netns.h"

using namespace vrrp::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  int scrapes = 20;
  int instances = 50;
  int fleet_nodes = 4;  // Keepalived daemons behind the 100 targets
  int fleet_targets = 100;
  int hold_seconds = 0;  // keep the lab up this long after set-up
  std::string snmp_exporter_config =
      "/work/shared/data/snmp_exporter_keepalived.yml";
};

// GET http://127.0.0.1:port/path in the calling thread's namespace; the
// body ("" on failure).
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) close(fd);
    return "";
  }
  const std::string req = "GET " + path +
                          " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: "
                          "close\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, n);
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.1 200", 0) != 0 &&
      resp.rfind("HTTP/1.0 200", 0) != 0) {
    return "";
  }
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

int Series(const std::string& body) {
  int n = 0;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') ++n;
  }
  return n;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string KeepalivedFleetConfig(int node, int instances) {
  std::string s = KeepalivedGlobalDefs("bench-n" + std::to_string(node));
  // Distinct VRIDs and VIPs per node: every node masters its own.
  const int k = node - 2;
  const std::string prefix = k < 2 ? "198.51.100." : "203.0.113.";
  for (int i = 1; i <= instances; ++i) {
    const int vrid = k * instances + i;
    s += "vrrp_instance VI_" + std::to_string(i) + " {\n" +
         "    state BACKUP\n    interface eth0\n" + "    virtual_router_id " +
         std::to_string(vrid) + "\n" +
         "    priority 100\n    advert_int 1\n    version 3\n" +
         "    virtual_ipaddress {\n        " + prefix +
         std::to_string((k % 2) * 100 + i) + "/24\n    }\n}\n";
  }
  return s;
}

// utime + stime of `pid`, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  const size_t close = all.rfind(')');
  std::istringstream f(all.substr(close + 2));
  std::string x;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15; ++i) {
    f >> x;
    if (i == 14) utime = std::stol(x);
    if (i == 15) stime = std::stol(x);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

std::string StatusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string v = line.substr(field.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "?";
}

int ParseInt(const char* arg, const char* name) {
  const size_t n = std::strlen(name);
  return std::atoi(arg + n);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--scrapes=", 0) == 0) {
      args.scrapes = ParseInt(argv[i], "--scrapes=");
    } else if (a.rfind("--instances=", 0) == 0) {
      args.instances = ParseInt(argv[i], "--instances=");
    } else if (a.rfind("--fleet-nodes=", 0) == 0) {
      args.fleet_nodes = ParseInt(argv[i], "--fleet-nodes=");
    } else if (a.rfind("--fleet-targets=", 0) == 0) {
      args.fleet_targets = ParseInt(argv[i], "--fleet-targets=");
    } else if (a.rfind("--hold=", 0) == 0) {
      args.hold_seconds = ParseInt(argv[i], "--hold=");
    } else if (a.rfind("--snmp-exporter-config=", 0) == 0) {
      args.snmp_exporter_config =
          a.substr(std::strlen("--snmp-exporter-config="));
    } else {
      std::cerr << "usage: snmp_bench [--scrapes=20] [--instances=50] "
                   "[--fleet-nodes=4] [--fleet-targets=100] "
                   "[--snmp-exporter-config=FILE]\n";
      return 2;
    }
  }
  if (args.fleet_nodes < 1 || args.fleet_nodes > 4 || args.instances > 50) {
    std::cerr << "snmp_bench: 1-4 fleet nodes, at most 50 instances\n";
    return 2;
  }
  try {
    RequireRootAndIproute();
    Lab lab(1 + args.fleet_nodes, /*with_client=*/false);
    const NetNs& mon = lab.node(1);
    const int ports_per_agent =
        (args.fleet_targets + args.fleet_nodes - 1) / args.fleet_nodes;
    std::vector<std::unique_ptr<Snmpd>> agents;
    std::vector<std::unique_ptr<Process>> keepaliveds;
    for (int k = 0; k < args.fleet_nodes; ++k) {
      SnmpdOptions o;
      o.ns = &mon;
      o.ports = ports_per_agent;
      agents.push_back(Snmpd::Start(lab, "agent" + std::to_string(k), o));
      keepaliveds.push_back(StartKeepalivedAgentX(
          lab, k + 2, KeepalivedFleetConfig(k + 2, args.instances),
          agents.back()->agentx_socket()));
    }
    // Our daemon in n1: a one-instance speaker (it is a speaker first) and
    // /probe.
    const std::string modules = lab.dir() + "/snmp.yml";
    std::ofstream(modules) << "modules:\n  keepalived:\n    version: 2c\n"
                              "    community: public\n    timeout: 2s\n"
                              "    retries: 1\n    max_repetitions: 25\n";
    const int ours_port = 19687;
    SpeakerInstance speaker;
    speaker.vrid = 250;
    speaker.vips = {"192.0.2.250/24"};
    auto daemon = VrrpDaemon::Start(
        lab, 1, SpeakerConfig({speaker}), {},
        {"--web.listen-address=127.0.0.1:" + std::to_string(ours_port),
         "--snmp.config.file=" + modules});
    const int se_port = 19116;
    auto se = Process::Start(
        mon,
        {"prometheus-snmp-exporter",
         "--config.file=" + args.snmp_exporter_config,
         "--web.listen-address=127.0.0.1:" + std::to_string(se_port)},
        lab.dir() + "/snmp_exporter.log");

    NetNs::Enter in_mon(mon);
    const std::string target = agents[0]->target();
    const std::string ours_path = "/probe?module=keepalived&target=" + target;
    const std::string se_path = "/snmp?module=keepalived&target=" + target;
    // Every instance of the first Keepalived master, and both exporters up.
    std::string body;
    if (!WaitUntil(
            [&] {
              body = HttpGet(ours_port, ours_path);
              int masters = 0;
              std::istringstream in(body);
              std::string line;
              while (std::getline(in, line)) {
                if (line.rfind("keepalived_vrrp_state{", 0) == 0 &&
                    line.size() > 2 && line.substr(line.size() - 2) == " 2") {
                  ++masters;
                }
              }
              return masters == args.instances;
            },
            60s, 500ms)) {
      std::cerr << "snmp_bench: Keepalived's instances did not all become "
                   "master:\n"
                << body << "\n";
      return 1;
    }
    if (!WaitUntil([&] { return !HttpGet(se_port, se_path).empty(); }, 20s,
                   200ms)) {
      std::cerr << "snmp_bench: snmp_exporter did not answer:\n"
                << ReadFile(lab.dir() + "/snmp_exporter.log") << "\n";
      return 1;
    }

    if (args.hold_seconds > 0) {
      // For looking at the agent by hand: ip netns exec NS snmpbulkwalk ...
      std::printf(
          "holding %d s: namespace %s, target %s, /probe on port %d, "
          "snmp_exporter on port %d\n",
          args.hold_seconds, mon.name().c_str(), target.c_str(), ours_port,
          se_port);
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::seconds(args.hold_seconds));
    }
    std::printf(
        "SNMP scrape of one Keepalived 2.2.7 with %d instances "
        "(snmpd %s, %d scrapes each, serial)\n",
        args.instances, target.c_str(), args.scrapes);
    // Two warm-up scrapes each (net-snmp and Go first-use costs), then
    // interleaved rounds, so that a change in the host's load hits both.
    for (int i = 0; i < 2; ++i) {
      HttpGet(ours_port, ours_path);
      HttpGet(se_port, se_path);
    }
    int ours_series = 0, se_series = 0;
    std::vector<double> ours_ms, se_ms;
    const int rounds = 4;
    for (int r = 0; r < rounds; ++r) {
      const int per = args.scrapes / rounds + (r < args.scrapes % rounds);
      for (int i = 0; i < per; ++i) {
        const auto t0 = Clock::now();
        const std::string b = HttpGet(ours_port, ours_path);
        ours_ms.push_back(Ms(Clock::now() - t0));
        if (b.find("keepalived_up 1\n") == std::string::npos) {
          throw std::runtime_error("our probe failed:\n" + b);
        }
      }
      for (int i = 0; i < per; ++i) {
        const auto t0 = Clock::now();
        const std::string b = HttpGet(se_port, se_path);
        se_ms.push_back(Ms(Clock::now() - t0));
        if (b.empty()) throw std::runtime_error("snmp_exporter failed");
        se_series = Series(b);
      }
    }
    ours_series = Series(HttpGet(ours_port, ours_path));
    const double ours_med = Median(ours_ms), se_med = Median(se_ms);
    std::printf("  %-34s median %7.1f ms  min %7.1f  max %7.1f  %5d series\n",
                "vrrp_exporter /probe", ours_med,
                *std::min_element(ours_ms.begin(), ours_ms.end()),
                *std::max_element(ours_ms.begin(), ours_ms.end()), ours_series);
    std::printf("  %-34s median %7.1f ms  min %7.1f  max %7.1f  %5d series\n",
                "prometheus-snmp-exporter /snmp", se_med,
                *std::min_element(se_ms.begin(), se_ms.end()),
                *std::max_element(se_ms.begin(), se_ms.end()), se_series);
    std::printf("  ratio ours / snmp_exporter: %.3f (target <= 0.25)\n",
                ours_med / se_med);

    // The agent's floor: snmpbulkwalk (one process per walk, serial) of
    // snmp_exporter's subtrees, and of the columns we walk.
    const char* se_walks[] = {
        "1.3.6.1.2.1.207.1.2.5",      "1.3.6.1.2.1.68.2.4",
        "1.3.6.1.4.1.9586.100.5.2.1", "1.3.6.1.4.1.9586.100.5.2.3",
        "1.3.6.1.4.1.9586.100.5.3.1", "1.3.6.1.4.1.9586.100.5.3.3",
        "1.3.6.1.4.1.9586.100.5.3.4"};
    std::string cmd = "";
    for (const char* w : se_walks) {
      cmd += "snmpbulkwalk -v2c -c public -On -Cr25 " + target + " " + w +
             " >/dev/null; ";
    }
    std::vector<double> floor_ms;
    for (int i = 0; i < std::min(args.scrapes, 10); ++i) {
      const auto t0 = Clock::now();
      Sh("MIBS= sh -c '" + cmd + "'");
      floor_ms.push_back(Ms(Clock::now() - t0));
    }
    std::printf(
        "  %-34s median %7.1f ms (7 subtrees, serial, incl. process "
        "start)\n",
        "snmpbulkwalk, snmp_exporter's walks", Median(floor_ms));

    // The fleet: every target at once, from as many client threads.
    std::vector<std::string> fleet;
    for (const auto& a : agents) {
      for (const auto& t : a->targets()) {
        if (static_cast<int>(fleet.size()) < args.fleet_targets) {
          fleet.push_back(t);
        }
      }
    }
    const pid_t pid = daemon->process().pid();
    const double cpu0 = CpuSeconds(pid);
    const auto t0 = Clock::now();
    std::vector<std::future<std::pair<double, bool>>> probes;
    for (const auto& t : fleet) {
      probes.push_back(std::async(std::launch::async, [&mon, t, ours_port] {
        NetNs::Enter e(mon);
        const auto s = Clock::now();
        const std::string b =
            HttpGet(ours_port, "/probe?module=keepalived&target=" + t);
        return std::make_pair(Ms(Clock::now() - s),
                              b.find("keepalived_up 1\n") != std::string::npos);
      }));
    }
    std::vector<double> fleet_ms;
    int up = 0;
    for (auto& f : probes) {
      auto [ms, ok] = f.get();
      fleet_ms.push_back(ms);
      up += ok;
    }
    const double wall = Ms(Clock::now() - t0);
    const double cpu = CpuSeconds(pid) - cpu0;
    std::printf(
        "Fleet: %zu targets (%d Keepalived x %d instances behind %d "
        "snmpd, %d ports each) probed concurrently by one "
        "vrrp_exporter\n",
        fleet.size(), args.fleet_nodes, args.instances, args.fleet_nodes,
        ports_per_agent);
    std::printf(
        "  all done in %.0f ms (budget 15000 ms); %d/%zu up; per "
        "probe median %.0f ms, max %.0f ms\n",
        wall, up, fleet.size(), Median(fleet_ms),
        *std::max_element(fleet_ms.begin(), fleet_ms.end()));
    std::printf("  exporter CPU %.2f s for the round; RSS %s, peak %s\n", cpu,
                StatusField(pid, "VmRSS").c_str(),
                StatusField(pid, "VmHWM").c_str());
    return up == static_cast<int>(fleet.size()) && wall < 15000 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "snmp_bench: " << e.what() << "\n";
    return 1;
  }
}
