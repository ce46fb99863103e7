#pragma once

// A real Prometheus (Debian's /usr/bin/prometheus) for exporter tests: run
// inside a lab namespace, so it scrapes daemons over the lab's own links or
// loopback and its API port never meets anything outside the test.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "integration/lab.h"

namespace vrrp::testing {

// One element of an instant vector.
struct PromSample {
  std::map<std::string, std::string> labels;  // __name__ included
  double value = 0;
};

class Prometheus {
 public:
  // The port its API listens on, on 127.0.0.1 inside the namespace (a
  // private loopback, so a fixed port cannot clash).
  static constexpr int kPort = 9090;
  static constexpr std::chrono::milliseconds kScrapeInterval{500};

  // Writes lab.dir()/<name>.yml with a global scrape interval of
  // kScrapeInterval and `scrape_configs` (YAML list items, indented two
  // spaces, e.g. "  - job_name: vrrp\n    static_configs: ..."), checks it
  // with `promtool check config`, starts Prometheus in `ns` and waits until
  // it is ready. Throws std::runtime_error (with promtool's or Prometheus's
  // complaint) on failure.
  static std::unique_ptr<Prometheus> Start(const Lab& lab, const NetNs& ns,
                                           const std::string& name,
                                           const std::string& scrape_configs);

  // GET /api/v1/query. Throws std::runtime_error if the API does not answer
  // with status "success" and an instant vector.
  std::vector<PromSample> Query(const std::string& promql) const;
  // Polls Query(promql) until `accept` says yes or `timeout` expires; returns
  // whether it did. The last result is left in *last if given.
  bool WaitFor(
      const std::string& promql,
      const std::function<bool(const std::vector<PromSample>&)>& accept,
      std::chrono::milliseconds timeout,
      std::vector<PromSample>* last = nullptr) const;
  // Polls until `promql` gives exactly one sample equal to `value`.
  bool WaitForValue(const std::string& promql, double value,
                    std::chrono::milliseconds timeout) const;

  std::string Log() const { return ReadFile(log_path_); }

 private:
  Prometheus(const NetNs& ns) : ns_(ns) {}
  const NetNs& ns_;
  std::unique_ptr<Process> process_;
  std::string log_path_;
};

// `text` in single quotes for /bin/sh.
std::string ShellQuote(const std::string& text);

// Test certificates, made with openssl in `dir`: ca.crt/ca.key (a CA),
// server.crt/server.key (signed by it, for IP 127.0.0.1 and the given extra
// IP addresses), client.crt/client.key (signed by it). Throws on failure.
void MakeTestCertificates(const std::string& dir,
                          const std::vector<std::string>& extra_ips = {});

// A bcrypt hash of `password` (libxcrypt, cost 4: tests only).
std::string BcryptHash(const std::string& password);

}  // namespace vrrp::testing
