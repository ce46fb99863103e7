#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vrrp::exporter {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

// A directory of its own per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "http_server_test-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs a shell command, collecting its standard output.
CommandResult Run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed for " << command;
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Runs a command that must succeed (certificate generation and the like).
void MustRun(const std::string& command) {
  const CommandResult result = Run(command + " 2>&1");
  ASSERT_EQ(result.exit_code, 0) << command << "\n" << result.output;
}

struct CurlResult {
  int exit_code = -1;  // curl's: 0 is a completed HTTP exchange
  int status = 0;      // the HTTP status; 0 when there was none
  std::string headers;
  std::string body;
};

// One request with curl. `args` go before the URL, e.g. "-X POST".
CurlResult Curl(const std::string& args, const std::string& url) {
  TempDir dir;
  // --max-time only keeps a broken server from hanging the test; no
  // assertion depends on timing.
  const std::string command = "curl -s --noproxy '*' --max-time 20 -D '" +
                              (dir / "headers") + "' -o '" + (dir / "body") +
                              "' -w '%{http_code}' " + args + " '" + url + "'";
  const CommandResult run = Run(command);
  CurlResult result;
  result.exit_code = run.exit_code;
  result.status = std::atoi(run.output.c_str());
  std::ifstream headers(dir / "headers");
  result.headers.assign(std::istreambuf_iterator<char>(headers), {});
  std::ifstream body(dir / "body");
  result.body.assign(std::istreambuf_iterator<char>(body), {});
  return result;
}

std::string Bcrypt(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    ADD_FAILURE() << "crypt_gensalt_rn failed";
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (hash == nullptr || hash[0] == '*') {
    ADD_FAILURE() << "crypt_r failed";
    return "";
  }
  return hash;
}

WebConfig LoadWeb(const std::string& yaml, const std::string& file) {
  auto loaded = LoadWebConfigString(yaml, file);
  if (!loaded.ok()) {
    ADD_FAILURE() << "web config: " << loaded.error()[0].ToString();
    return WebConfig{};
  }
  return std::move(loaded.value());
}

std::unique_ptr<HttpServer> StartOrFail(HttpServer::Options options) {
  if (options.listen_addresses.empty()) {
    options.listen_addresses = {"127.0.0.1:0"};
  }
  auto started = HttpServer::Start(std::move(options));
  if (!started.ok()) {
    ADD_FAILURE() << "Start failed: " << started.error();
    return nullptr;
  }
  return std::move(started.value());
}

std::string Url(const HttpServer& server, const std::string& path,
                const std::string& scheme = "http") {
  const std::vector<int> ports = server.ports();
  return scheme +
         "://127.0.0.1:" + std::to_string(ports.empty() ? 0 : ports[0]) + path;
}

Response Text(std::string body) {
  Response response;
  response.body = std::move(body);
  return response;
}

// ---------------------------------------------------------------------------
// Plain HTTP

TEST(HttpServerTest, ServesAHandlersBody) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  ASSERT_THAT(server->ports(), SizeIs(1));
  EXPECT_GT(server->ports()[0], 0);

  std::string seen_accept;
  std::optional<std::string> seen_target;
  server->Handle("/metrics", Method::kGet, [&](const Request& request) {
    seen_accept = std::string(request.Header("accept").value_or("(none)"));
    seen_target = request.QueryParam("target");
    Response response = Text("metric_a 1\n");
    response.content_type = "text/plain; version=0.0.4";
    response.headers.emplace_back("X-Test", "yes");
    response.headers.emplace_back("X-Bad", "a\r\nInjected: 1");
    return response;
  });

  const CurlResult result =
      Curl("-H 'Accept: application/openmetrics-text'",
           Url(*server, "/metrics?target=10.0.0.1%3A161&module=if+mib"));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "metric_a 1\n");
  EXPECT_THAT(result.headers,
              HasSubstr("Content-Type: text/plain; version=0.0.4\r\n"));
  EXPECT_THAT(result.headers, HasSubstr("Content-Length: 11\r\n"));
  EXPECT_THAT(result.headers, HasSubstr("X-Test: yes\r\n"));
  EXPECT_THAT(result.headers, Not(HasSubstr("Injected")));
  EXPECT_EQ(seen_accept, "application/openmetrics-text");
  EXPECT_EQ(seen_target, "10.0.0.1:161");
}

TEST(HttpServerTest, QueryParamDecoding) {
  Request request;
  request.query = "a=1&b=x+y%2Fz&c&a=2&bad=%zz";
  EXPECT_EQ(request.QueryParam("a"), "1");
  EXPECT_EQ(request.QueryParam("b"), "x y/z");
  EXPECT_EQ(request.QueryParam("c"), "");
  EXPECT_EQ(request.QueryParam("bad"), "%zz");
  EXPECT_EQ(request.QueryParam("d"), std::nullopt);
}

TEST(HttpServerTest, UnknownPathIs404) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  server->Handle("/metrics", Method::kGet,
                 [](const Request&) { return Text("m\n"); });
  EXPECT_EQ(Curl("", Url(*server, "/nothing")).status, 404);
  // Exact paths: civetweb's own handlers would match this prefix.
  EXPECT_EQ(Curl("", Url(*server, "/metrics/x")).status, 404);
  EXPECT_EQ(Curl("", Url(*server, "/")).status, 404);
}

TEST(HttpServerTest, WrongMethodIs405WithAllow) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  server->Handle("/metrics", Method::kGet,
                 [](const Request&) { return Text("m\n"); });
  const CurlResult post = Curl("-X POST -d x=1", Url(*server, "/metrics"));
  EXPECT_EQ(post.status, 405);
  EXPECT_THAT(post.headers, HasSubstr("Allow: GET\r\n"));

  server->Handle("/-/reload", Method::kPost,
                 [](const Request&) { return Text("ok\n"); });
  const CurlResult put = Curl("-X PUT", Url(*server, "/-/reload"));
  EXPECT_EQ(put.status, 405);
  EXPECT_THAT(put.headers, HasSubstr("Allow: POST\r\n"));

  server->Handle("/-/reload", Method::kGet,
                 [](const Request&) { return Text("use POST\n"); });
  const CurlResult del = Curl("-X DELETE", Url(*server, "/-/reload"));
  EXPECT_EQ(del.status, 405);
  EXPECT_THAT(del.headers, HasSubstr("Allow: GET, POST\r\n"));
}

TEST(HttpServerTest, PostReceivesTheBody) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  server->Handle("/echo", Method::kPost, [](const Request& request) {
    EXPECT_EQ(request.method, Method::kPost);
    return Text("got " + request.body);
  });
  const CurlResult result =
      Curl("--data-binary 'hello body'", Url(*server, "/echo"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "got hello body");
}

TEST(HttpServerTest, OversizedBodyIs413) {
  TempDir dir;
  std::ofstream(dir / "big") << std::string(2048, 'x');
  HttpServer::Options options;
  options.max_body_bytes = 1024;
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  bool called = false;
  server->Handle("/echo", Method::kPost, [&](const Request&) {
    called = true;
    return Text("");
  });
  EXPECT_EQ(
      Curl("--data-binary @" + (dir / "big"), Url(*server, "/echo")).status,
      413);
  EXPECT_FALSE(called);
}

// Sends `request` over a plain TCP connection and returns what the server
// answered before closing (or before the 20 s guard, which only keeps a
// broken server from hanging the test).
std::string RawExchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
      out.append(buffer, static_cast<size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos) break;
    }
  }
  close(fd);
  return out;
}

// A 1 GB Content-Length is refused from the header: the server answers
// without waiting for (or reading) the body.
TEST(HttpServerTest, DeclaredHugeBodyIs413BeforeReadingIt) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  server->Handle("/echo", Method::kPost,
                 [](const Request&) { return Text("called"); });
  const std::string answer = RawExchange(
      server->ports().at(0),
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
}

// A body that stops short of its Content-Length is a 408, and the handler
// never sees the partial body.
TEST(HttpServerTest, StalledBodyIs408) {
  HttpServer::Options options;
  options.request_timeout = std::chrono::seconds(1);
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  bool called = false;
  server->Handle("/echo", Method::kPost, [&](const Request&) {
    called = true;
    return Text("called");
  });
  const std::string answer =
      RawExchange(server->ports().at(0),
                  "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  "100\r\n\r\n0123456789");
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_FALSE(called);
}

TEST(HttpServerTest, RoutesCanBeAddedAndReplacedWhileServing) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Curl("", Url(*server, "/late")).status, 404);
  server->Handle("/late", Method::kGet,
                 [](const Request&) { return Text("one"); });
  EXPECT_EQ(Curl("", Url(*server, "/late")).body, "one");
  server->Handle("/late", Method::kGet,
                 [](const Request&) { return Text("two"); });
  EXPECT_EQ(Curl("", Url(*server, "/late")).body, "two");
}

TEST(HttpServerTest, HandlerStatusAndExceptions) {
  std::vector<std::string> log;
  std::mutex log_mu;
  HttpServer::Options options;
  options.log = [&](std::string_view message) {
    std::lock_guard lock(log_mu);
    log.emplace_back(message);
  };
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  server->Handle("/throws", Method::kGet, [](const Request&) -> Response {
    throw std::runtime_error("boom");
  });
  server->Handle("/teapot", Method::kGet, [](const Request&) {
    Response response = Text("short and stout\n");
    response.status = 418;
    return response;
  });
  server->Handle("/nonsense", Method::kGet, [](const Request&) {
    Response response;
    response.status = 42;
    return response;
  });
  EXPECT_EQ(Curl("", Url(*server, "/throws")).status, 500);
  EXPECT_EQ(Curl("", Url(*server, "/teapot")).status, 418);
  EXPECT_EQ(Curl("", Url(*server, "/nonsense")).status, 500);
  std::lock_guard lock(log_mu);
  EXPECT_THAT(log, Contains(HasSubstr("boom")));
}

TEST(HttpServerTest, ListensOnEveryAddressGiven) {
  HttpServer::Options options;
  options.listen_addresses = {"127.0.0.1:0", ":0"};
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  server->Handle("/", Method::kGet, [](const Request&) { return Text("ok"); });
  const std::vector<int> ports = server->ports();
  ASSERT_THAT(ports, SizeIs(2));
  EXPECT_NE(ports[0], ports[1]);
  for (int port : ports) {
    EXPECT_EQ(Curl("", "http://127.0.0.1:" + std::to_string(port) + "/").body,
              "ok");
  }
}

TEST(HttpServerTest, BindFailureNamesTheAddress) {
  auto first = StartOrFail({});
  ASSERT_NE(first, nullptr);
  const std::string taken = "127.0.0.1:" + std::to_string(first->ports().at(0));
  HttpServer::Options options;
  options.listen_addresses = {"127.0.0.1:0", taken};
  auto second = HttpServer::Start(std::move(options));
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.error(), HasSubstr("cannot bind to " + taken));
  EXPECT_THAT(second.error(), HasSubstr("Address already in use"));
}

TEST(HttpServerTest, BadListenAddresses) {
  for (const std::string address :
       {"", "9100", "[::1]:9100", "::1:9100", "999.1.1.1:80", "127.0.0.1:65536",
        "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:1,127.0.0.1:2"}) {
    HttpServer::Options options;
    options.listen_addresses = {address};
    auto server = HttpServer::Start(std::move(options));
    ASSERT_FALSE(server.ok()) << address;
    EXPECT_THAT(server.error(), HasSubstr("\"" + address + "\"")) << address;
  }
  HttpServer::Options ipv6;
  ipv6.listen_addresses = {"[::1]:0"};
  EXPECT_THAT(HttpServer::Start(std::move(ipv6)).error(), HasSubstr("IPv6"));
  EXPECT_THAT(HttpServer::Start({}).error(), HasSubstr("no listen address"));
}

// The daemon may run its event loop at real-time priority
// (--vrrp.realtime-priority) and starts the server from that thread; the
// server threads must not inherit it, or scrapes would compete with the
// advertisement timer as equals. Needs root (SCHED_RR).
TEST(HttpServerTest, ServerThreadsAreNeverRealTime) {
  sched_param rt{};
  rt.sched_priority = 1;
  ASSERT_EQ(pthread_setschedparam(pthread_self(), SCHED_RR, &rt), 0)
      << "needs root (CAP_SYS_NICE) to test real-time inheritance";
  HttpServer::Options options;
  auto server = StartOrFail(std::move(options));
  sched_param normal{};
  ASSERT_EQ(pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal), 0);
  ASSERT_NE(server, nullptr);
  server->Handle("/policy", Method::kGet, [](const Request&) {
    return Text(std::to_string(sched_getscheduler(0)));
  });
  const CurlResult result = Curl("", Url(*server, "/policy"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, std::to_string(SCHED_OTHER));
}

// HTTP threads run niced, below the rest of the daemon.
TEST(HttpServerTest, ServerThreadsAreNiced) {
  HttpServer::Options options;
  options.thread_nice = 10;
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  server->Handle("/nice", Method::kGet, [](const Request&) {
    errno = 0;
    const int nice =
        getpriority(PRIO_PROCESS,
                    static_cast<id_t>(static_cast<pid_t>(syscall(SYS_gettid))));
    return Text(std::to_string(nice));
  });
  const CurlResult result = Curl("", Url(*server, "/nice"));
  EXPECT_EQ(result.status, 200);
  EXPECT_GE(std::atoi(result.body.c_str()), 10) << result.body;
}

TEST(HttpServerTest, StopClosesThePort) {
  auto server = StartOrFail({});
  ASSERT_NE(server, nullptr);
  server->Handle("/", Method::kGet, [](const Request&) { return Text("ok"); });
  const std::string url = Url(*server, "/");
  EXPECT_EQ(Curl("", url).status, 200);
  server->Stop();
  EXPECT_THAT(server->ports(), IsEmpty());
  const CurlResult after = Curl("", url);
  EXPECT_NE(after.exit_code, 0);
  EXPECT_EQ(after.status, 0);
  server->Stop();  // idempotent
}

// ---------------------------------------------------------------------------
// Basic auth

class BasicAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServer::Options options;
    options.web =
        LoadWeb("basic_auth_users:\n  prometheus: '" + Bcrypt("s3cret") + "'\n",
                "web.yml");
    ASSERT_TRUE(options.web.basic_auth_enabled());
    server_ = StartOrFail(std::move(options));
    ASSERT_NE(server_, nullptr);
    server_->Handle("/metrics", Method::kGet, [](const Request& request) {
      return Text("hello " + request.user + "; authorization header " +
                  (request.Header("Authorization") ? "seen" : "hidden"));
    });
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(BasicAuthTest, RightPasswordIs200) {
  const CurlResult result =
      Curl("-u prometheus:s3cret", Url(*server_, "/metrics"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "hello prometheus; authorization header hidden");
  // The second time comes from the cache, with the same answer.
  EXPECT_EQ(Curl("-u prometheus:s3cret", Url(*server_, "/metrics")).status,
            200);
}

TEST_F(BasicAuthTest, WrongPasswordIs401WithChallenge) {
  const CurlResult result =
      Curl("-u prometheus:wrong", Url(*server_, "/metrics"));
  EXPECT_EQ(result.status, 401);
  EXPECT_THAT(result.headers,
              HasSubstr("WWW-Authenticate: Basic realm=\"vrrp_exporter\"\r\n"));
  EXPECT_THAT(result.body, Not(HasSubstr("hello")));
  EXPECT_EQ(Curl("-u nobody:s3cret", Url(*server_, "/metrics")).status, 401);
}

// Past its failure budget an address gets 429 with Retry-After, and no
// password is hashed for it: a wrong-password flood cannot keep bcrypt (and
// a CPU) busy. Distinct passwords, so the failure cache does not answer.
TEST_F(BasicAuthTest, AddressPastItsFailureBudgetGets429WithoutHashing) {
  const int budget = AuthLimitOptions{}.max_failures;
  for (int i = 0; i < budget; ++i) {
    EXPECT_EQ(Curl("-u prometheus:wrong" + std::to_string(i),
                   Url(*server_, "/metrics"))
                  .status,
              401);
  }
  const uint64_t hashes = PasswordHashCount();
  const CurlResult blocked =
      Curl("-u prometheus:another", Url(*server_, "/metrics"));
  EXPECT_EQ(blocked.status, 429);
  EXPECT_THAT(blocked.headers, HasSubstr("Retry-After: "));
  EXPECT_EQ(PasswordHashCount(), hashes);
}

// A request without credentials is not a failed attempt (a browser asks
// first without), so it never uses up the budget.
TEST_F(BasicAuthTest, MissingCredentialsDoNotCountAsFailures) {
  for (int i = 0; i < AuthLimitOptions{}.max_failures + 2; ++i) {
    EXPECT_EQ(Curl("", Url(*server_, "/metrics")).status, 401);
  }
  EXPECT_EQ(Curl("-u prometheus:s3cret", Url(*server_, "/metrics")).status,
            200);
}

TEST_F(BasicAuthTest, NoCredentialsIs401) {
  const CurlResult result = Curl("", Url(*server_, "/metrics"));
  EXPECT_EQ(result.status, 401);
  EXPECT_THAT(result.headers, HasSubstr("WWW-Authenticate: Basic"));
}

TEST_F(BasicAuthTest, MalformedCredentialsAre401) {
  for (const std::string header :
       {"Bearer abc", "Basic", "Basic !!!!",
        "Basic cHJvbWV0aGV1cw==", "Digest username=\"prometheus\""}) {
    EXPECT_EQ(
        Curl("-H 'Authorization: " + header + "'", Url(*server_, "/metrics"))
            .status,
        401)
        << header;
  }
  // Scheme names are case-insensitive (RFC 7235); base64 of
  // "prometheus:s3cret".
  EXPECT_EQ(Curl("-H 'Authorization: basic cHJvbWV0aGV1czpzM2NyZXQ='",
                 Url(*server_, "/metrics"))
                .status,
            200);
}

// RFC 7617 §2: the user-id ends at the first colon; the password may hold
// more. And base64 must be whole: "u:pa:ss12" is 12 characters of it, and
// one more (6 bits, less than a byte) makes the header malformed rather
// than being dropped.
TEST(BasicAuthColonTest, PasswordMayContainColonsAndBase64MustBeWhole) {
  HttpServer::Options options;
  options.web = LoadWeb("basic_auth_users:\n  u: '" + Bcrypt("pa:ss12") + "'\n",
                        "web.yml");
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  server->Handle("/metrics", Method::kGet,
                 [](const Request& request) { return Text(request.user); });
  const CurlResult ok = Curl("-u u:pa:ss12", Url(*server, "/metrics"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "u");
  EXPECT_EQ(
      Curl("-H 'Authorization: Basic dTpwYTpzczEy'", Url(*server, "/metrics"))
          .status,
      200);
  EXPECT_EQ(
      Curl("-H 'Authorization: Basic dTpwYTpzczEyQ'", Url(*server, "/metrics"))
          .status,
      401);
}

TEST_F(BasicAuthTest, UnknownPathsNeedAuthenticationToo) {
  // Without credentials a stranger cannot tell which paths exist.
  EXPECT_EQ(Curl("", Url(*server_, "/secret-path")).status, 401);
  EXPECT_EQ(Curl("-u prometheus:s3cret", Url(*server_, "/secret-path")).status,
            404);
  EXPECT_EQ(Curl("-X POST", Url(*server_, "/metrics")).status, 401);
  EXPECT_EQ(
      Curl("-X POST -u prometheus:s3cret", Url(*server_, "/metrics")).status,
      405);
}

// ---------------------------------------------------------------------------
// TLS

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The server's certificate is self-signed for 127.0.0.1, with the key in
    // a file of its own (the server then writes a combined PEM for
    // civetweb).
    MustRun("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" +
            (dir_ / "server.key") + "' -out '" + (dir_ / "server.crt") +
            "' -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
            "-days 1");
  }

  // A CA, and a client certificate it signed, under `name`.
  void MakeClientCa(const std::string& name) {
    const std::string ca = dir_ / (name + "-ca");
    const std::string client = dir_ / (name + "-client");
    MustRun(
        "openssl req -x509 -newkey ec -pkeyopt "
        "ec_paramgen_curve:prime256v1 -nodes -keyout '" +
        ca + ".key' -out '" + ca + ".crt' -subj /CN=" + name + "-ca -days 1");
    MustRun(
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -keyout '" +
        client + ".key' -out '" + client + ".csr' -subj /CN=" + name +
        "-client");
    MustRun("openssl x509 -req -in '" + client + ".csr' -CA '" + ca +
            ".crt' -CAkey '" + ca + ".key' -CAcreateserial -out '" + client +
            ".crt' -days 1");
  }

  std::unique_ptr<HttpServer> Start(const std::string& tls_yaml) {
    HttpServer::Options options;
    // Relative paths: resolved against the web-config file's directory.
    options.web = LoadWeb("tls_server_config:\n" + tls_yaml, dir_ / "web.yml");
    if (!options.web.tls) {
      ADD_FAILURE() << "no TLS in the web config";
      return nullptr;
    }
    auto server = StartOrFail(std::move(options));
    if (server != nullptr) {
      server->Handle("/metrics", Method::kGet,
                     [](const Request&) { return Text("secure\n"); });
    }
    return server;
  }

  std::string CaCert() const {
    return "--cacert '" + (dir_ / "server.crt") + "' ";
  }

  TempDir dir_;
};

// Plain HTTP to the TLS port fails a handshake per connection, and civetweb
// says so each time: the server's log is rate-limited per reason.
TEST_F(TlsTest, FailedHandshakesAreRateLimitedInTheLog) {
  std::mutex mu;
  std::vector<std::string> lines;
  HttpServer::Options options;
  options.web = LoadWeb(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
      dir_ / "web.yml");
  options.log_limit.burst = 3;
  options.log = [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  auto server = StartOrFail(std::move(options));
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 30; ++i) Curl("", Url(*server, "/metrics", "http"));
  server->Stop();  // every handshake has been logged (or suppressed)
  std::lock_guard lock(mu);
  EXPECT_GE(lines.size(), 1u) << "civetweb logged no handshake failure";
  EXPECT_LE(lines.size(), 6u) << ::testing::PrintToString(lines);
}

TEST_F(TlsTest, HttpsWorksWithTheCertificate) {
  auto server = Start("  cert_file: server.crt\n  key_file: server.key\n");
  ASSERT_NE(server, nullptr);
  const CurlResult result = Curl(CaCert(), Url(*server, "/metrics", "https"));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "secure\n");
  // Without the CA, curl refuses the self-signed certificate: the server
  // really presents the configured one.
  EXPECT_NE(Curl("", Url(*server, "/metrics", "https")).exit_code, 0);
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortFails) {
  auto server = Start("  cert_file: server.crt\n  key_file: server.key\n");
  ASSERT_NE(server, nullptr);
  const CurlResult result = Curl("", Url(*server, "/metrics", "http"));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.status, 200);
  EXPECT_THAT(result.body, Not(HasSubstr("secure")));
}

TEST_F(TlsTest, CombinedKeyFileIsNotLeftBehind) {
  // The server writes cert+key to a private temporary file for civetweb and
  // removes it once civetweb has loaded it.
  const std::string tmp = dir_ / "tmp";
  std::filesystem::create_directory(tmp);
  const char* old_tmpdir = getenv("TMPDIR");
  const std::string saved = old_tmpdir == nullptr ? "" : old_tmpdir;
  setenv("TMPDIR", tmp.c_str(), 1);
  auto server = Start("  cert_file: server.crt\n  key_file: server.key\n");
  if (old_tmpdir == nullptr) {
    unsetenv("TMPDIR");
  } else {
    setenv("TMPDIR", saved.c_str(), 1);
  }
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  EXPECT_EQ(Curl(CaCert(), Url(*server, "/metrics", "https")).status, 200);
}

TEST_F(TlsTest, CertificateAndKeyInOneFile) {
  MustRun("cat '" + (dir_ / "server.crt") + "' '" + (dir_ / "server.key") +
          "' > '" + (dir_ / "both.pem") + "'");
  auto server = Start("  cert_file: both.pem\n  key_file: both.pem\n");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Curl(CaCert(), Url(*server, "/metrics", "https")).status, 200);
}

TEST_F(TlsTest, MismatchedKeyFailsAtStart) {
  MustRun("openssl genrsa -out '" + (dir_ / "other.key") + "' 2048");
  HttpServer::Options options;
  options.web = LoadWeb(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
      dir_ / "web.yml");
  options.listen_addresses = {"127.0.0.1:0"};
  auto server = HttpServer::Start(std::move(options));
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.error(), HasSubstr("127.0.0.1:0"));
  EXPECT_THAT(server.error(), HasSubstr("mismatch"));
}

TEST_F(TlsTest, MinVersionTls13RefusesTls12) {
  auto server = Start(
      "  cert_file: server.crt\n  key_file: server.key\n"
      "  min_version: TLS13\n");
  ASSERT_NE(server, nullptr);
  const std::string url = Url(*server, "/metrics", "https");
  EXPECT_EQ(Curl(CaCert() + "--tlsv1.3", url).status, 200);
  const CurlResult tls12 = Curl(CaCert() + "--tlsv1.2 --tls-max 1.2", url);
  EXPECT_NE(tls12.exit_code, 0);
  EXPECT_EQ(tls12.status, 0);
}

TEST_F(TlsTest, DefaultMinVersionAcceptsTls12) {
  auto server = Start("  cert_file: server.crt\n  key_file: server.key\n");
  ASSERT_NE(server, nullptr);
  const std::string url = Url(*server, "/metrics", "https");
  EXPECT_EQ(Curl(CaCert() + "--tlsv1.2 --tls-max 1.2", url).status, 200);
  // And nothing older.
  EXPECT_NE(Curl(CaCert() + "--tlsv1.1 --tls-max 1.1", url).exit_code, 0);
}

TEST_F(TlsTest, MutualTls) {
  MakeClientCa("good");
  MakeClientCa("evil");
  auto server = Start(
      "  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: good-ca.crt\n");
  ASSERT_NE(server, nullptr);
  const std::string url = Url(*server, "/metrics", "https");

  const CurlResult without = Curl(CaCert(), url);
  EXPECT_NE(without.exit_code, 0);
  EXPECT_EQ(without.status, 0);

  const CurlResult with =
      Curl(CaCert() + "--cert '" + (dir_ / "good-client.crt") + "' --key '" +
               (dir_ / "good-client.key") + "'",
           url);
  EXPECT_EQ(with.exit_code, 0);
  EXPECT_EQ(with.status, 200);
  EXPECT_EQ(with.body, "secure\n");

  // A certificate from another CA is refused.
  const CurlResult evil =
      Curl(CaCert() + "--cert '" + (dir_ / "evil-client.crt") + "' --key '" +
               (dir_ / "evil-client.key") + "'",
           url);
  EXPECT_NE(evil.exit_code, 0);
  EXPECT_EQ(evil.status, 0);
}

}  // namespace
}  // namespace vrrp::exporter
