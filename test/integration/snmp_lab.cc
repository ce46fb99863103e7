#include "integration/snmp_lab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sys/netns.h"

namespace vrrp::testing {

using namespace std::chrono_literals;

int FreeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("FreeUdpPort failed");
  }
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::unique_ptr<Snmpd> Snmpd::Start(const Lab& lab, const std::string& name,
                                    const SnmpdOptions& options) {
  auto s = std::make_unique<Snmpd>();
  const std::string base = lab.dir() + "/snmpd-" + name;
  std::string addresses;
  for (int i = 0; i < options.ports; ++i) {
    // In another namespace any port is free; FreeUdpPort only knows ours,
    // which is as good a guess as any there.
    int port = FreeUdpPort();
    while (std::find(s->ports_.begin(), s->ports_.end(), port) !=
           s->ports_.end()) {
      port = FreeUdpPort();
    }
    s->ports_.push_back(port);
    addresses +=
        (i ? "," : "") + std::string("udp:127.0.0.1:") + std::to_string(port);
  }
  s->socket_ = base + "-agentx.sock";
  s->log_ = base + ".log";
  const std::string conf = base + ".conf";
  const std::string state = base + "-state";
  Sh("mkdir -p " + state);
  {
    std::ofstream out(conf);
    out << "agentAddress " << addresses << "\n"
        << "master agentx\n"
        << "agentXSocket unix:" << s->socket_ << "\n"
        << "rocommunity public 127.0.0.1\n"
        << "createUser labv3 SHA \"labauthpass1\" AES \"labprivpass1\"\n"
        << "rouser labv3 priv\n";
    if (!options.trap_sink.empty()) {
      out << "trap2sink " << options.trap_sink << " public\n";
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + conf);
  }
  std::vector<std::string> argv = {"snmpd", "-f",    "-C", "-c",         conf,
                                   "-Lf",   s->log_, "-p", base + ".pid"};
  if (options.ns == nullptr) {
    // In the test's own network namespace (see snmp_lab.h): nsenter execs
    // snmpd in place, so the lab's Process owns and kills it.
    argv.insert(
        argv.begin(),
        {"nsenter", "--net=/proc/" + std::to_string(getpid()) + "/ns/net"});
  }
  s->process_ =
      Process::Start(options.ns ? *options.ns : lab.sw(), argv, s->log_,
                     {"SNMP_PERSISTENT_DIR=" + state, "MIBS="});
  const std::string get = "snmpget -v2c -c public -On -t 0.2 -r 0 " +
                          s->target() + " 1.3.6.1.2.1.1.3.0 >/dev/null 2>&1";
  if (!WaitUntil(
          [&] { return (options.ns ? options.ns->Exec(get) : Sh(get)) == 0; },
          10s, 50ms)) {
    throw std::runtime_error("snmpd " + name + " did not answer:\n" +
                             ReadFile(s->log_));
  }
  return s;
}

std::vector<std::string> Snmpd::targets() const {
  std::vector<std::string> t;
  for (int p : ports_) t.push_back("127.0.0.1:" + std::to_string(p));
  return t;
}

std::unique_ptr<Process> StartKeepalivedAgentX(const Lab& lab, int node,
                                               const std::string& config_text,
                                               const std::string& socket) {
  const NetNs& ns = lab.node(node);
  const std::string base = lab.dir() + "/keepalived-x-n" + std::to_string(node);
  {
    std::ofstream out(base + ".conf");
    out << config_text;
    if (!out.flush()) throw std::runtime_error("cannot write " + base);
  }
  if (ns.Exec("keepalived -t -f " + base + ".conf >" + base +
              "-check.out 2>&1") != 0) {
    throw std::runtime_error("keepalived rejected " + base + ".conf:\n" +
                             ReadFile(base + "-check.out"));
  }
  return Process::Start(
      ns,
      {"keepalived", "-n", "-D", "-l", "-G", "-x", "-A", socket, "-f",
       base + ".conf", "-p", base + ".pid", "-r", base + "-vrrp.pid", "-c",
       base + "-checkers.pid"},
      base + ".log");
}

ProbeServer::ProbeServer() {
  auto m = snmp::ParseModules(R"(modules:
  v2c:
    version: 2c
    community: public
    timeout: 1s
    retries: 1
  fast:
    version: 2c
    community: public
    timeout: 300ms
    retries: 1
  v3:
    version: 3
    username: labv3
    security_level: authPriv
    auth_protocol: SHA
    auth_password: labauthpass1
    priv_protocol: AES
    priv_password: labprivpass1
    timeout: 500ms
    retries: 1
  v3_wrong:
    version: 3
    username: labv3
    security_level: authPriv
    auth_protocol: SHA
    auth_password: not-the-password
    priv_protocol: AES
    priv_password: labprivpass1
    timeout: 500ms
    retries: 1
)",
                              "test-modules.yml");
  if (!m.ok()) throw std::runtime_error("modules: " + m.error().front());
  modules_ = std::move(m.value());
  auto e = snmp::StartSnmpEngine({});
  if (!e.ok()) throw std::runtime_error("engine: " + e.error());
  engine_ = std::move(e.value());
  exporter::HttpServer::Options o;
  o.listen_addresses = {"127.0.0.1:0"};
  o.threads = 16;
  auto s = exporter::HttpServer::Start(std::move(o));
  if (!s.ok()) throw std::runtime_error("http: " + s.error());
  server_ = std::move(s.value());
  exporter::ProbeOptions p;
  p.modules = &modules_;
  p.engine = engine_.get();
  exporter::RegisterProbeRoute(*server_, p);
  port_ = server_->ports().at(0);
}

ProbeServer::~ProbeServer() {
  server_->Stop();
  server_.reset();
  engine_.reset();
}

std::string ProbeServer::Probe(const std::string& target,
                               const std::string& module) {
  return ShOut("curl -s -m 20 'http://127.0.0.1:" + std::to_string(port_) +
               "/probe?target=" + target + "&module=" + module + "'");
}

double Sample(const std::string& body, const std::string& series) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() &&
        line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nan("");
}

}  // namespace vrrp::testing
