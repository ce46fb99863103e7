#include "integration/prometheus.h"

#include <crypt.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace vrrp::testing {

namespace {

std::string Url(const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(Prometheus::kPort) + path;
}

void MustSh(const std::string& command) {
  if (Sh(command + " >/dev/null 2>&1") != 0) {
    throw std::runtime_error("command failed: " + command);
  }
}

}  // namespace

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::unique_ptr<Prometheus> Prometheus::Start(
    const Lab& lab, const NetNs& ns, const std::string& name,
    const std::string& scrape_configs) {
  auto p = std::unique_ptr<Prometheus>(new Prometheus(ns));
  const std::string config = lab.dir() + "/" + name + ".yml";
  const std::string data = lab.dir() + "/" + name + "-data";
  p->log_path_ = lab.dir() + "/" + name + ".log";
  const auto interval = std::to_string(kScrapeInterval.count()) + "ms";
  std::ofstream(config) << "global:\n"
                        << "  scrape_interval: " << interval << "\n"
                        << "  scrape_timeout: " << interval << "\n"
                        << "  evaluation_interval: " << interval << "\n"
                        << "scrape_configs:\n"
                        << scrape_configs;
  const std::string check = ShOut("promtool check config " +
                                  ShellQuote(config) + " 2>&1; echo rc=$?");
  if (check.find("rc=0") == std::string::npos) {
    throw std::runtime_error("promtool rejects " + config + ":\n" + check);
  }
  std::filesystem::create_directories(data);
  p->process_ = Process::Start(
      ns,
      {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + data,
       "--web.listen-address=127.0.0.1:" + std::to_string(kPort),
       "--log.level=info"},
      p->log_path_);
  const bool ready = WaitUntil(
      [&] {
        return ShOut("ip netns exec " + ns.name() + " curl -s -m 2 " +
                     Url("/-/ready"))
                   .find("Ready") != std::string::npos;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  if (!ready) {
    throw std::runtime_error("Prometheus did not become ready:\n" + p->Log());
  }
  return p;
}

std::vector<PromSample> Prometheus::Query(const std::string& promql) const {
  const std::string body =
      ShOut("ip netns exec " + ns_.name() + " curl -s -m 5 -G " +
            Url("/api/v1/query") + " --data-urlencode " +
            ShellQuote("query=" + promql));
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded() || !json.is_object() ||
      json.value("status", "") != "success" ||
      json["data"].value("resultType", "") != "vector") {
    throw std::runtime_error("query " + promql + " failed: " + body);
  }
  std::vector<PromSample> samples;
  for (const auto& item : json["data"]["result"]) {
    PromSample s;
    for (const auto& [k, v] : item["metric"].items()) {
      s.labels[k] = v.get<std::string>();
    }
    s.value = std::stod(item["value"][1].get<std::string>());
    samples.push_back(std::move(s));
  }
  return samples;
}

bool Prometheus::WaitFor(
    const std::string& promql,
    const std::function<bool(const std::vector<PromSample>&)>& accept,
    std::chrono::milliseconds timeout, std::vector<PromSample>* last) const {
  std::vector<PromSample> result;
  const bool ok = WaitUntil(
      [&] {
        result = Query(promql);
        return accept(result);
      },
      timeout, std::chrono::milliseconds(200));
  if (last != nullptr) *last = std::move(result);
  return ok;
}

bool Prometheus::WaitForValue(const std::string& promql, double value,
                              std::chrono::milliseconds timeout) const {
  return WaitFor(
      promql,
      [&](const std::vector<PromSample>& r) {
        return r.size() == 1 && r[0].value == value;
      },
      timeout);
}

void MakeTestCertificates(const std::string& dir,
                          const std::vector<std::string>& extra_ips) {
  const auto q = [&](const std::string& file) {
    return ShellQuote(dir + "/" + file);
  };
  std::string san = "subjectAltName=IP:127.0.0.1";
  for (const auto& ip : extra_ips) san += ",IP:" + ip;
  // Test-only keys, made per run and removed with the lab directory.
  MustSh(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -keyout " +
      q("ca.key") + " -out " + q("ca.crt") +
      " -subj /CN=vrrp-exporter-test-ca -days 1");
  for (const std::string name : {"server", "client"}) {
    MustSh(
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout " +
        q(name + ".key") + " -out " + q(name + ".csr") +
        " -subj /CN=vrrp-exporter-test-" + name);
    std::ofstream(dir + "/" + name + ".ext")
        << (name == "server" ? san + "\nextendedKeyUsage=serverAuth\n"
                             : std::string("extendedKeyUsage=clientAuth\n"));
    MustSh("openssl x509 -req -in " + q(name + ".csr") + " -CA " + q("ca.crt") +
           " -CAkey " + q("ca.key") + " -CAcreateserial -out " +
           q(name + ".crt") + " -days 1 -extfile " + q(name + ".ext"));
  }
}

std::string BcryptHash(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof(setting)) ==
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

}  // namespace vrrp::testing
