#pragma once

// The --web.config.file of Prometheus exporters (the exporter-toolkit
// format), so a web-config written for node_exporter works here unchanged:
//
//   tls_server_config:
//     cert_file: server.crt          # relative to this file's directory
//     key_file: server.key
//     min_version: TLS12             # TLS12 (default) | TLS13
//     client_auth_type: NoClientCert # | RequireAndVerifyClientCert
//     client_ca_file: clients-ca.crt
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt, e.g. htpasswd -nBC 10 USER
//
// Only this subset is supported; every other key is an error, so a setting
// that we would ignore (say max_version) never looks as if it took effect.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrp/config_loader.h"
#include "vrrp/result.h"

namespace vrrp::exporter {

enum class TlsVersion { kTls12, kTls13 };

enum class ClientAuth { kNoClientCert, kRequireAndVerifyClientCert };

struct TlsServerConfig {
  // Paths as resolved at load: relative ones are joined to the web-config
  // file's directory.
  std::string cert_file;
  std::string key_file;
  TlsVersion min_version = TlsVersion::kTls12;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  std::string client_ca_file;  // set iff client_auth requires certificates
};

// Remembers recent successful password checks; see CheckPassword.
class PasswordCache;

struct WebConfig {
  std::string file;  // the file it came from; empty for the default
  std::optional<TlsServerConfig> tls;  // nullopt: plain HTTP
  // User name -> bcrypt hash. Empty: no authentication.
  std::map<std::string, std::string, std::less<>> basic_auth_users;
  // Shared by copies of this config (the HTTP server keeps one). Null
  // disables caching, e.g. for a WebConfig built by hand.
  std::shared_ptr<PasswordCache> password_cache;
  // Recent failed checks, the same way: a client repeating a wrong password
  // (a flood, or a Prometheus with a stale one) is answered without bcrypt.
  std::shared_ptr<PasswordCache> failure_cache;

  bool basic_auth_enabled() const { return !basic_auth_users.empty(); }
};

// Loads a web-config file. An empty path means "no file": plain HTTP without
// authentication, as does an empty file. Files the config names are checked
// for readability now, so a typo fails at startup rather than at the first
// TLS handshake. Errors use the config loader's "FILE:LINE:COLUMN: FIELD:
// MESSAGE" form; all of them are reported, not only the first.
Result<WebConfig, std::vector<ConfigError>> LoadWebConfigFile(
    const std::string& path);
// As above from text; relative paths are resolved against the directory of
// file_name.
Result<WebConfig, std::vector<ConfigError>> LoadWebConfigString(
    std::string_view yaml, const std::string& file_name);

// True if `password` is the password of `user`. Takes the time of one bcrypt
// check whether or not the user exists, so response times do not reveal user
// names. (A remembered success answers faster, but only to someone who
// already knows the password.) Successful checks are remembered for a minute
// (at most 1000 of them) in config.password_cache: bcrypt costs 50-100 ms at
// cost 10, which every scrape would otherwise pay. Failed checks are
// remembered the same way in config.failure_cache. At most one bcrypt runs
// at a time in the process: a flood of wrong passwords from many threads
// costs one core at most, never all of them, so the advertisement timer and
// cached scrapes keep a CPU. Thread-safe.
// The bcrypt cost a check for an unknown user runs at: the highest cost in
// use, so that the time a check takes does not tell whether a user exists.
int UnknownUserHashCost(const WebConfig& config);

bool CheckPassword(const WebConfig& config, std::string_view user,
                   std::string_view password);

// bcrypt computations so far, and the most that ever ran at once (1 unless
// the single-flight rule is broken), for tests and self-metrics.
uint64_t PasswordHashCount();
int MaxConcurrentPasswordHashes();

// The cache behind CheckPassword. Exposed for tests, which control its clock.
class PasswordCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxEntries = 1000;
  static constexpr std::chrono::seconds kLifetime{60};

  PasswordCache();
  ~PasswordCache();
  PasswordCache(const PasswordCache&) = delete;
  PasswordCache& operator=(const PasswordCache&) = delete;

  // The key under which a check of (user, stored hash, password) is kept: a
  // salted SHA-256-crypt of the password, so the cache never holds
  // passwords. Costs about half a millisecond, a hundredth of bcrypt.
  // Empty if no key could be made (then nothing is cached).
  std::string Key(std::string_view user, std::string_view stored_hash,
                  std::string_view password) const;
  // True if `key` was inserted less than kLifetime ago.
  bool Contains(const std::string& key);
  void Insert(std::string key);
  size_t size() const;

  void SetClockForTest(std::function<Clock::time_point()> now);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vrrp::exporter
