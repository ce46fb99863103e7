#pragma once

// SNMP modules: how to talk to a class of targets (version, credentials,
// timeout, retries, GETBULK size), named in /probe?module=NAME. They live in
// their own small YAML file (--snmp.config.file), so the speaker's
// configuration loader does not change:
//
//   modules:
//     keepalived_v2c:
//       version: 2c
//       community: public
//       timeout: 2s
//       retries: 1
//       max_repetitions: 25
//     keepalived_v3:
//       version: 3
//       username: monitor
//       security_level: authPriv       # noAuthNoPriv | authNoPriv | authPriv
//       auth_protocol: SHA             # SHA | SHA-256 | SHA-512 | MD5
//       auth_password: "..."
//       priv_protocol: AES             # AES | DES
//       priv_password: "..."
//
// Errors read "FILE:LINE:COL: message", like the main configuration's.
// Secrets (community, passwords) are never in an error, a log line or a
// status page: Describe() leaves them out.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "vrrp/result.h"

namespace vrrp::snmp {

enum class SnmpVersion : uint8_t { kV2c, kV3 };
enum class SecurityLevel : uint8_t { kNoAuthNoPriv, kAuthNoPriv, kAuthPriv };
enum class AuthProtocol : uint8_t { kMd5, kSha1, kSha256, kSha512 };
enum class PrivProtocol : uint8_t { kDes, kAes128 };

struct Module {
  std::string name;
  SnmpVersion version = SnmpVersion::kV2c;
  std::string community = "public";
  std::string username;
  SecurityLevel security_level = SecurityLevel::kNoAuthNoPriv;
  AuthProtocol auth_protocol = AuthProtocol::kSha1;
  std::string auth_password;
  PrivProtocol priv_protocol = PrivProtocol::kAes128;
  std::string priv_password;
  std::string context_name;
  // Per request; a request is sent (retries + 1) times at most. The
  // defaults give a dead target 2 s, well inside a 15 s scrape interval
  // (net-snmp's own defaults, 1 s x 6 tries, would not be).
  std::chrono::milliseconds timeout{1000};
  int retries = 1;
  // GETBULK max-repetitions (not named max_repetitions: net-snmp #defines
  // that name to errindex).
  int bulk_repetitions = 25;

  // The longest a probe with this module can take: every walk runs in
  // parallel, but a walk is several requests in a row.
  std::chrono::milliseconds WorstCase() const {
    return timeout * (retries + 1);
  }
  // "keepalived_v3: SNMPv3 user monitor authPriv SHA/AES, timeout 1s x 2":
  // no secrets.
  std::string Describe() const;
};

using Modules = std::map<std::string, Module, std::less<>>;

// Parses the module file. Every problem, "FILE:LINE:COL: ...".
Result<Modules, std::vector<std::string>> LoadModules(const std::string& path);
Result<Modules, std::vector<std::string>> ParseModules(
    const std::string& text, const std::string& file_name);

// "HOST", "HOST:PORT", "[V6]:PORT" -> net-snmp peer name "udp:HOST:PORT" /
// "udp6:[V6]:PORT". Only the characters of host names and addresses are
// accepted, so a target cannot carry a transport specifier of its own.
Result<std::string, std::string> PeerName(const std::string& target);

}  // namespace vrrp::snmp
