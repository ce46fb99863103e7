#pragma once

// SNMP peers for the lab tests: snmpd as AgentX master on 127.0.0.1 (a
// port chosen at run time), Keepalived with its AgentX subagent (`-x`) in a
// lab node, and our /probe route served from the test process (HTTP on
// 127.0.0.1, port 0). snmpd runs in the test's own network namespace (so
// that 127.0.0.1 is the test's), started through the lab's Process, which
// gives it the same cleanup as every lab daemon; Keepalived reaches it
// through a unix socket in the lab directory, which works across network
// namespaces.

#include <memory>
#include <string>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/probe.h"
#include "integration/lab.h"
#include "snmp/engine.h"
#include "snmp/module.h"

namespace vrrp::testing {

// A UDP port on 127.0.0.1 that was free a moment ago.
int FreeUdpPort();

struct SnmpdOptions {
  std::string trap_sink;  // "127.0.0.1:PORT": trap2sink, SNMPv2c "public"
  // Run inside this namespace (its 127.0.0.1) instead of the test's own.
  const NetNs* ns = nullptr;
  // UDP ports to listen on (all on 127.0.0.1): several targets, one agent.
  int ports = 1;
};

class Snmpd {
 public:
  // v2c community "public" and v3 user "labv3" (SHA "labauthpass1", AES
  // "labprivpass1"); `name` distinguishes files when several run. Throws
  // unless snmpd answers within 10 s.
  static std::unique_ptr<Snmpd> Start(const Lab& lab, const std::string& name,
                                      const SnmpdOptions& options = {});
  int port() const { return ports_.at(0); }
  std::string target() const { return "127.0.0.1:" + std::to_string(port()); }
  // One "127.0.0.1:PORT" per listening port.
  std::vector<std::string> targets() const;
  const std::string& agentx_socket() const { return socket_; }
  const std::string& log_path() const { return log_; }
  Process& process() { return *process_; }

 private:
  std::vector<int> ports_;
  std::string socket_;
  std::string log_;
  std::unique_ptr<Process> process_;
};

// `keepalived -x -A SOCKET` in node `node` with `config_text` (checked with
// `keepalived -t` first, like Keepalived::Start).
std::unique_ptr<Process> StartKeepalivedAgentX(const Lab& lab, int node,
                                               const std::string& config_text,
                                               const std::string& socket);

// The /probe route on 127.0.0.1:0 in this process, with modules
// "v2c" (community public), "v3" (labv3, right keys), "v3_wrong" (wrong
// auth key) and "fast" (v2c, 300 ms x 2 tries).
class ProbeServer {
 public:
  ProbeServer();
  ~ProbeServer();
  // The body of GET /probe?target=T&module=M.
  std::string Probe(const std::string& target, const std::string& module);
  int port() const { return port_; }

 private:
  snmp::Modules modules_;
  std::unique_ptr<snmp::SnmpEngine> engine_;
  std::unique_ptr<exporter::HttpServer> server_;
  int port_ = 0;
};

// The value of the sample `series` (name with its labels, exactly as
// written) in a text exposition, or NaN if absent.
double Sample(const std::string& body, const std::string& series);

}  // namespace vrrp::testing
