#include "exporter/http_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <civetweb.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <system_error>
#include <thread>

#include "exporter/openssl_shims.h"

namespace vrrp::exporter {

namespace {

constexpr char kRealm[] = "vrrp_exporter";

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return Lower(x) == Lower(y); });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding. A '%' not followed by two hex
// digits is kept as it is, as browsers do.
std::string FormDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out +=
          static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// RFC 4648 base64, padding optional. nullopt on any other byte.
std::optional<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (IsDigit(c)) {
      value = c - '0' + 52;
    } else if (c == '+') {
      value = 62;
    } else if (c == '/') {
      value = 63;
    } else {
      return std::nullopt;
    }
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  // A single leftover character carries fewer than 8 bits: not base64.
  if (count >= 6) return std::nullopt;
  return out;
}

std::string MethodName(Method method) {
  return method == Method::kGet ? "GET" : "POST";
}

std::optional<Method> ParseMethod(std::string_view name) {
  if (name == "GET") return Method::kGet;
  if (name == "POST") return Method::kPost;
  return std::nullopt;
}

bool HasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// Turns one listen address into civetweb's listening_ports syntax.
// civetweb's own parser accepts more than it should ("999.1.1.1:80" binds
// some other address; ":9165" fails to resolve an empty host), so the
// address is checked here and errors name it as the user wrote it.
Result<std::string, std::string> CivetPort(const std::string& address,
                                           bool tls) {
  const std::string prefix = "listen address \"" + address + "\" ";
  if (address.empty()) return Err(prefix + "is empty");
  if (address.find_first_of(", \t\r\n") != std::string::npos) {
    return Err(prefix + "must not contain spaces or commas");
  }
  if (address.front() == '[' ||
      std::count(address.begin(), address.end(), ':') > 1) {
    return Err(prefix +
               "is IPv6, which Debian's civetweb build cannot listen on; use "
               "an IPv4 address or :PORT");
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Err(prefix + "must be HOST:PORT or :PORT");
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), IsDigit) ||
      std::stoi(port) > 65535) {
    return Err(prefix + "has an invalid port; it must be 0 to 65535");
  }
  const bool numeric =
      !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return IsDigit(c) || c == '.';
      });
  in_addr parsed{};
  if (numeric && inet_pton(AF_INET, host.c_str(), &parsed) != 1) {
    return Err(prefix + "has an invalid IPv4 address");
  }
  // A bare port listens on every IPv4 address; a host name is resolved by
  // civetweb (IPv4 only).
  return (host.empty() ? port : host + ":" + port) + (tls ? "s" : "");
}

// Where to connect to reach a listener of `address` (as given to
// CivetPort) bound to `port`: the numeric host, or 127.0.0.1 for a bare port
// or 0.0.0.0. nullopt for a host name (resolved by civetweb, not here).
std::optional<sockaddr_in> LocalTarget(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) return std::nullopt;
  return sin;
}

// Opens a TCP connection to `target` and closes it at once, without
// waiting more than a few milliseconds for it.
void Knock(const sockaddr_in& target) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target),
                sizeof target) != 0 &&
      errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    (void)::poll(&p, 1, 20);
  }
  ::close(fd);
}

// Reads a whole (small) file; errors as text.
Result<std::string, std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Err("cannot read " + path + ": " + ErrnoText(errno));
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      explicit_bzero(buffer, sizeof(buffer));
      return Err("cannot read " + path + ": " + ErrnoText(error));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  explicit_bzero(buffer, sizeof(buffer));
  return text;
}

// A private file holding the certificate (chain) followed by the key.
// civetweb loads both from one PEM file (ssl_certificate), while web-configs
// name them separately. Removed by the destructor, and wiped from memory.
class CombinedPem {
 public:
  ~CombinedPem() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  static Result<std::unique_ptr<CombinedPem>, std::string> Write(
      const std::string& cert_file, const std::string& key_file) {
    auto cert = ReadFile(cert_file);
    if (!cert.ok()) return Err(cert.error());
    auto key = ReadFile(key_file);
    if (!key.ok()) return Err(key.error());
    std::string pem = std::move(cert.value());
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
    pem += key.value();
    explicit_bzero(key.value().data(), key.value().size());

    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    std::string path = (dir / "vrrp_exporter-tls-XXXXXX").string();
    // mkstemp creates the file with mode 0600 and O_EXCL: nobody else can
    // read the key copy, nor have planted the file in advance.
    const int fd = ::mkstemp(path.data());
    if (fd < 0) {
      const int error = errno;
      explicit_bzero(pem.data(), pem.size());
      return Err("cannot create a temporary file in " + dir.string() +
                 " for the TLS certificate and key: " + ErrnoText(error));
    }
    auto result = std::unique_ptr<CombinedPem>(new CombinedPem(path));
    size_t written = 0;
    int error = 0;
    while (written < pem.size()) {
      const ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = errno;
        break;
      }
      written += static_cast<size_t>(n);
    }
    if (::close(fd) != 0 && error == 0) error = errno;
    explicit_bzero(pem.data(), pem.size());
    if (error != 0) {
      return Err("cannot write " + path + ": " + ErrnoText(error));
    }
    return result;
  }

  const std::string& path() const { return path_; }

 private:
  explicit CombinedPem(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// civetweb's TLS initialization, once per process, by the first HTTPS
// server: the OpenSSL shims are loaded first (exporter/openssl_shims.h), so
// civetweb's dlopen() of libssl.so and libcrypto.so gets them. A process
// that only serves plain HTTP never maps OpenSSL.
Result<Unit, std::string> InitCivetwebTls() {
  static const Result<Unit, std::string> result =
      []() -> Result<Unit, std::string> {
    if (auto shims = LoadOpenSslShims(); !shims.ok()) return shims;
    if ((mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
      return Err(
          std::string("civetweb could not load OpenSSL through the shims "
                      "(civetweb/civetweb#1334)"));
    }
    return kOk;
  }();
  return result;
}

// civetweb's messages while Start() runs on this thread, to explain a
// failure; worker threads leave it null.
thread_local std::vector<std::string>* t_startup_messages = nullptr;

HttpServer* ServerOfContext(const mg_context* ctx) {
  auto* civet = static_cast<CivetServer*>(mg_get_user_data(ctx));
  if (civet == nullptr) return nullptr;
  return static_cast<HttpServer*>(const_cast<void*>(civet->getUserContext()));
}

HttpServer* ServerOf(const mg_connection* conn) {
  const mg_context* ctx = mg_get_context(conn);
  if (ctx == nullptr) return nullptr;
  auto* civet = static_cast<CivetServer*>(mg_get_user_data(ctx));
  if (civet == nullptr) return nullptr;
  return static_cast<HttpServer*>(const_cast<void*>(civet->getUserContext()));
}

void SendResponse(mg_connection* conn, const Response& response) {
  mg_response_header_start(conn, response.status);
  if (!response.content_type.empty() && !HasLineBreak(response.content_type)) {
    mg_response_header_add(conn, "Content-Type", response.content_type.c_str(),
                           -1);
  }
  const std::string length = std::to_string(response.body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find(':') != std::string::npos ||
        EqualsIgnoreCase(name, "Content-Length") ||
        EqualsIgnoreCase(name, "Content-Type")) {
      continue;
    }
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_send(conn);
  if (!response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
}

Response TextResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace

// ---------------------------------------------------------------------------
// Request

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view()
                                         : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string()
                                        : FormDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(Options options)
    : options_(std::move(options)), auth_limiter_(options_.auth_limit) {
  log_limiter_ = std::make_unique<RateLimitedLog>(
      options_.log_limit, [this](LogLevel, const std::string& line) {
        if (!options_.log) return;
        try {
          options_.log(line);
        } catch (...) {
          // A failing logger must not take a server thread down.
        }
      });
}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>, std::string> HttpServer::Start(
    Options options) {
  try {
    if (options.listen_addresses.empty()) {
      return Err(std::string("no listen address given"));
    }
    if (options.threads < 1) {
      return Err(
          std::string("the number of server threads must be at least 1"));
    }
    // A copy: `options` moves into the server below.
    const std::optional<TlsServerConfig> tls = options.web.tls;
    std::string ports;
    for (const std::string& address : options.listen_addresses) {
      auto port = CivetPort(address, tls.has_value());
      if (!port.ok()) return Err(port.error());
      ports += (ports.empty() ? "" : ",") + port.value();
    }
    const std::string addresses = [&] {
      std::string joined;
      for (const std::string& address : options.listen_addresses) {
        joined += (joined.empty() ? "" : ", ") + address;
      }
      return joined;
    }();

    if (tls) {
      // Checked here because civetweb would not stop us: after a failed
      // OpenSSL load its next attempt reports success (a reference count is
      // already up), the server starts, and the first handshake calls a
      // null function pointer. Debian 12's civetweb 1.15 would get there
      // without exporter/openssl_shim: built for the OpenSSL 1.1 API, it
      // looks up SSL_get_peer_certificate, which OpenSSL 3 no longer exports
      // (civetweb/civetweb#1334).
      if (auto ready = InitCivetwebTls(); !ready.ok()) {
        return Err("cannot serve HTTPS on " + addresses + ": " + ready.error());
      }
    }

    std::vector<std::string> civet_options = {
        "listening_ports",
        ports,
        "num_threads",
        std::to_string(options.threads),
        "request_timeout_ms",
        std::to_string(
            std::chrono::milliseconds(options.request_timeout).count()),
        "enable_keep_alive",
        "yes",
    };
    std::unique_ptr<CombinedPem> combined;
    if (tls) {
      std::string pem = tls->cert_file;
      if (tls->key_file != tls->cert_file) {
        auto written = CombinedPem::Write(tls->cert_file, tls->key_file);
        if (!written.ok()) return Err(written.error());
        combined = std::move(written.value());
        pem = combined->path();
      }
      const bool verify =
          tls->client_auth == ClientAuth::kRequireAndVerifyClientCert;
      civet_options.insert(
          civet_options.end(),
          {
              "ssl_certificate",
              pem,
              // civetweb 1.15: 4 = TLS 1.2 and later, 5 = TLS 1.3 only.
              "ssl_protocol_version",
              tls->min_version == TlsVersion::kTls13 ? "5" : "4",
              "ssl_verify_peer",
              verify ? "yes" : "no",
              // Trust exactly client_ca_file: with the default "yes" any
              // certificate from a public CA would pass as a client.
              "ssl_default_verify_paths",
              "no",
          });
      if (verify) {
        civet_options.insert(civet_options.end(),
                             {"ssl_ca_file", tls->client_ca_file});
      }
    }

    // Constructed before civetweb starts, so the callbacks (which find it
    // through the CivetServer's user context) see it from the first request.
    auto server =
        std::unique_ptr<HttpServer>(new HttpServer(std::move(options)));
    CivetCallbacks callbacks;  // its constructor zeroes every callback
    // begin_request rather than per-path handlers: civetweb's handlers match
    // prefixes ("/metrics" would serve "/metrics/x") and never see unknown
    // paths, which must be authenticated too.
    callbacks.begin_request = &HttpServer::BeginRequest;
    callbacks.log_message = &HttpServer::LogMessage;
    callbacks.init_thread = &HttpServer::InitThread;

    std::vector<std::string> messages;
    t_startup_messages = &messages;
    try {
      server->civet_ = std::make_unique<CivetServer>(civet_options, &callbacks,
                                                     server.get());
    } catch (const std::exception& e) {
      t_startup_messages = nullptr;
      std::string reason;
      for (const std::string& message : messages) {
        reason += (reason.empty() ? "" : "; ") + message;
      }
      if (reason.empty()) reason = e.what();
      return Err("cannot start the HTTP server on " + addresses + ": " +
                 reason);
    }
    t_startup_messages = nullptr;
    // civetweb has loaded the certificate and key into OpenSSL and never
    // rereads them (ssl_short_trust is off), so the key copy goes now rather
    // than at shutdown: a crash cannot leave it behind.
    combined.reset();
    return server;
  } catch (const std::exception& e) {
    t_startup_messages = nullptr;
    return Err(std::string("cannot start the HTTP server: ") + e.what());
  }
}

std::vector<int> HttpServer::ports() const {
  std::lock_guard lock(stop_mu_);
  std::vector<int> result;
  if (civet_ == nullptr || civet_->getContext() == nullptr) return result;
  mg_server_port ports[32];
  const int n = mg_get_server_ports(civet_->getContext(), 32, ports);
  for (int i = 0; i < n; ++i) result.push_back(ports[i].port);
  return result;
}

void HttpServer::Handle(const std::string& path, Method method,
                        Handler handler) {
  auto shared = std::make_shared<const Handler>(std::move(handler));
  std::unique_lock lock(routes_mu_);
  routes_[path][method] = std::move(shared);
}

Response HttpServer::Dispatch(const Request& request) const {
  HandlerPtr handler;
  {
    std::shared_lock lock(routes_mu_);
    auto route = routes_.find(request.path);
    if (route == routes_.end()) return TextResponse(404, "Not Found\n");
    auto it = route->second.find(request.method);
    if (it == route->second.end()) {
      return TextResponse(405, "Method Not Allowed\n");
    }
    handler = it->second;
  }
  try {
    Response response = (*handler)(request);
    if (response.status < 100 || response.status > 599) {
      return TextResponse(500, "Internal Server Error\n");
    }
    return response;
  } catch (...) {
    return TextResponse(500, "Internal Server Error\n");
  }
}

void HttpServer::Stop() {
  std::lock_guard lock(stop_mu_);
  if (civet_ == nullptr) return;
  // civetweb's master thread sees the stop flag only between polls of its
  // listening sockets, and each poll waits up to 2 s (1.15's
  // SOCKET_TIMEOUT_QUANTUM): every stop took 2 s, a daemon's exit after
  // SIGTERM included. A connection opened and closed at once wakes that
  // poll, and the worker it is handed to reads EOF at once; a knocker
  // thread repeats it every 20 ms until mg_stop has returned.
  std::vector<sockaddr_in> targets;
  if (civet_->getContext() != nullptr) {
    mg_server_port ports[32];
    const int n = mg_get_server_ports(civet_->getContext(), 32, ports);
    for (int i = 0;
         i < n && i < static_cast<int>(options_.listen_addresses.size()); ++i) {
      if (auto t = LocalTarget(options_.listen_addresses[i], ports[i].port)) {
        targets.push_back(*t);
      }
    }
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  std::thread knocker([&] {
    std::unique_lock lock(mu);
    while (!stopped) {
      for (const sockaddr_in& t : targets) Knock(t);
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  });
  // mg_stop joins the worker threads: no handler runs after this.
  civet_->close();
  {
    std::lock_guard lock(mu);
    stopped = true;
  }
  cv.notify_one();
  knocker.join();
  civet_.reset();
}

int HttpServer::BeginRequest(mg_connection* conn) {
  HttpServer* server = ServerOf(conn);
  if (server == nullptr) return 0;
  // An exception must not unwind into civetweb's C code; Serve only throws
  // when memory runs out, and then a 500 is the most we can try.
  try {
    return server->Serve(conn);
  } catch (...) {
    try {
      SendResponse(conn, TextResponse(500, "Internal Server Error\n"));
    } catch (...) {
    }
    return 500;
  }
}

void* HttpServer::InitThread(const mg_context* ctx, int) {
  // Server threads inherit the scheduling of the thread that started the
  // server, which is real-time when the daemon runs with
  // --vrrp.realtime-priority. A burst of scrapes at the same real-time
  // priority as the event loop would hold the advertisement timer off a CPU
  // (SCHED_RR slices are 100 ms), so HTTP always runs at normal priority.
  int policy = SCHED_OTHER;
  sched_param param{};
  if (pthread_getschedparam(pthread_self(), &policy, &param) == 0 &&
      policy != SCHED_OTHER) {
    param = sched_param{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
  }
  // And below normal: a flood of requests competes with the rest of the
  // daemon (and the host) as a nice 10 process does. Raising one's own
  // niceness needs no privilege; lowering it would, so it only goes up.
  const HttpServer* server = ctx == nullptr ? nullptr : ServerOfContext(ctx);
  const int wanted = server == nullptr ? 10 : server->options_.thread_nice;
  const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno == 0 && current < wanted) {
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), wanted);
  }
  return nullptr;
}

int HttpServer::LogMessage(const mg_connection* conn, const char* message) {
  const std::string_view text = message == nullptr ? "" : message;
  if (t_startup_messages != nullptr) {
    t_startup_messages->emplace_back(text);
    return 1;
  }
  const HttpServer* server = conn == nullptr ? nullptr : ServerOf(conn);
  // civetweb 1.15's TLS messages name OpenSSL ("SSL_accept", "ssl"...):
  // one per failed handshake, so plain HTTP sent to the TLS port is a flood.
  const bool tls = text.find("SSL") != std::string_view::npos ||
                   text.find("ssl") != std::string_view::npos ||
                   text.find("TLS") != std::string_view::npos;
  if (server != nullptr) {
    server->Log(tls ? LogReason::kTls : LogReason::kServer, std::string(text));
  }
  // Handled: civetweb has no error_log_file to write to anyway.
  return 1;
}

void HttpServer::Log(LogReason reason, const std::string& message) const {
  static constexpr const char* kNames[] = {"http server", "tls handshake",
                                           "authentication", "handler"};
  log_limiter_->Log(LogLevel::kWarn, kNames[static_cast<int>(reason)], message);
}

bool HttpServer::Authenticate(mg_connection* conn, const std::string& address,
                              std::string* user) {
  auto refuse = [&](int status, std::string body) {
    Response response = TextResponse(status, std::move(body));
    response.headers.emplace_back(
        "WWW-Authenticate", std::string("Basic realm=\"") + kRealm + "\"");
    return response;
  };
  // An address past its failure budget is answered before any hashing.
  if (const auto wait = auth_limiter_.Blocked(address); wait.count() > 0) {
    Response response = refuse(429, "Too Many Requests\n");
    response.headers.emplace_back("Retry-After", std::to_string(wait.count()));
    SendResponse(conn, response);
    return false;
  }
  if (Authorized(conn, user)) {
    auth_limiter_.RecordSuccess(address);
    return true;
  }
  // A request without credentials (a browser's first) costs no hash and is
  // not a failed attempt.
  if (mg_get_header(conn, "Authorization") != nullptr) {
    auth_limiter_.RecordFailure(address);
    Log(LogReason::kAuth, "authentication failed for a client at " + address);
  }
  SendResponse(conn, refuse(401, "Unauthorized\n"));
  return false;
}

bool HttpServer::Authorized(mg_connection* conn, std::string* user) const {
  const char* header = mg_get_header(conn, "Authorization");
  if (header == nullptr) return false;
  std::string_view text = header;
  constexpr std::string_view kScheme = "basic ";
  if (text.size() < kScheme.size() ||
      !EqualsIgnoreCase(text.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  text.remove_prefix(kScheme.size());
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::optional<std::string> decoded = Base64Decode(text);
  if (!decoded) return false;
  const size_t colon = decoded->find(':');
  bool ok = false;
  if (colon != std::string::npos) {
    const std::string_view name = std::string_view(*decoded).substr(0, colon);
    const std::string_view password =
        std::string_view(*decoded).substr(colon + 1);
    ok = CheckPassword(options_.web, name, password);
    if (ok) *user = std::string(name);
  }
  explicit_bzero(decoded->data(), decoded->size());
  return ok;
}

int HttpServer::Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  if (info == nullptr) return 0;

  Request request;
  const std::string address =
      info->remote_addr[0] != '\0' ? info->remote_addr : "unknown";
  if (options_.web.basic_auth_enabled() &&
      !Authenticate(conn, address, &request.user)) {
    return 401;
  }

  // local_uri is null when the request names another host (an absolute URI
  // for a proxy): nothing here serves that.
  if (info->local_uri == nullptr) {
    SendResponse(conn, TextResponse(404, "Not Found\n"));
    return 404;
  }
  request.path = info->local_uri;
  const std::optional<Method> method =
      ParseMethod(info->request_method == nullptr ? "" : info->request_method);

  HandlerPtr handler;
  std::string allow;
  {
    std::shared_lock lock(routes_mu_);
    auto route = routes_.find(request.path);
    if (route == routes_.end()) {
      lock.unlock();
      SendResponse(conn, TextResponse(404, "Not Found\n"));
      return 404;
    }
    if (method) {
      auto it = route->second.find(*method);
      if (it != route->second.end()) handler = it->second;
    }
    if (handler == nullptr) {
      for (const auto& [m, h] : route->second) {
        allow += (allow.empty() ? "" : ", ") + MethodName(m);
      }
    }
  }
  if (handler == nullptr) {
    Response response = TextResponse(405, "Method Not Allowed\n");
    response.headers.emplace_back("Allow", allow);
    SendResponse(conn, response);
    return 405;
  }

  request.method = *method;
  request.query = info->query_string == nullptr ? "" : info->query_string;
  request.remote_address = info->remote_addr;
  for (int i = 0; i < info->num_headers; ++i) {
    const mg_header& header = info->http_headers[i];
    if (header.name == nullptr || header.value == nullptr ||
        EqualsIgnoreCase(header.name, "Authorization")) {
      continue;
    }
    request.headers.emplace_back(header.name, header.value);
  }
  if (request.method == Method::kPost) {
    if (info->content_length > 0 &&
        static_cast<unsigned long long>(info->content_length) >
            options_.max_body_bytes) {
      SendResponse(conn, TextResponse(413, "Request body too large\n"));
      return 413;
    }
    // civetweb bounds each read, not the body: one byte every few seconds
    // would hold the worker for as long as the client likes.
    const auto deadline =
        std::chrono::steady_clock::now() + options_.request_timeout;
    char buffer[8192];
    while (true) {
      if (std::chrono::steady_clock::now() > deadline) {
        SendResponse(conn, TextResponse(408, "Request Timeout\n"));
        return 408;
      }
      const int n = mg_read(conn, buffer, sizeof(buffer));
      if (n <= 0) break;
      request.body.append(buffer, static_cast<size_t>(n));
      if (request.body.size() > options_.max_body_bytes) {
        SendResponse(conn, TextResponse(413, "Request body too large\n"));
        return 413;
      }
    }
    // A read that timed out ends the loop as the body's end does: a body
    // shorter than announced is a client that stalled, not a request.
    if (info->content_length > 0 &&
        request.body.size() <
            static_cast<unsigned long long>(info->content_length)) {
      SendResponse(conn, TextResponse(408, "Request Timeout\n"));
      return 408;
    }
  }

  Response response;
  try {
    response = (*handler)(request);
  } catch (const std::exception& e) {
    Log(LogReason::kHandler,
        "handler for " + request.path + " failed: " + e.what());
    response = TextResponse(500, "Internal Server Error\n");
  } catch (...) {
    Log(LogReason::kHandler, "handler for " + request.path + " failed");
    response = TextResponse(500, "Internal Server Error\n");
  }
  if (response.status < 100 || response.status > 599) {
    response = TextResponse(500,
                            "Internal Server Error: handler returned "
                            "status " +
                                std::to_string(response.status) + "\n");
  }
  SendResponse(conn, response);
  return response.status;
}

}  // namespace vrrp::exporter
