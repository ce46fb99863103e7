#pragma once

// The exporter's HTTP(S) server: every route (/metrics, /probe, /) is served
// from one CivetServer, because prometheus-cpp's Exposer owns its own server
// and cannot take extra handlers. TLS and basic auth come from the
// web-config (see web_config.h) and apply to every route.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/auth_limiter.h"
#include "exporter/web_config.h"
#include "vrrp/rate_limited_log.h"
#include "vrrp/result.h"

class CivetServer;
struct mg_connection;
struct mg_context;

namespace vrrp::exporter {

enum class Method { kGet, kPost };

struct Request {
  Method method = Method::kGet;
  std::string path;   // URL-decoded, without the query string
  std::string query;  // as sent, after the '?' (empty if none)
  // Request headers in the order received. Authorization is left out, so a
  // handler that logs headers cannot leak credentials.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // POST only
  std::string remote_address;  // the client's IP address
  std::string user;            // the basic-auth user; empty without auth

  // The first header called `name`, compared case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The first query parameter called `name`, percent-decoded ('+' is a
  // space, as in HTML forms). nullopt if absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers. Content-Type and Content-Length come from the fields
  // above; headers with CR or LF are dropped (header injection).
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  struct Options {
    // "HOST:PORT" or ":PORT" (all IPv4 addresses); port 0 picks a free port
    // (see ports()). IPv6 is not available: Debian's civetweb is built
    // without it.
    std::vector<std::string> listen_addresses;
    WebConfig web;
    int threads = 8;
    // Limit on reading a request's header (in all) and on each network
    // write; a body must arrive within it too. A client that stalls holds a
    // worker thread for this long at most.
    std::chrono::seconds request_timeout{5};
    // POST bodies larger than this are answered with 413.
    size_t max_body_bytes = 1 << 20;
    // Receives civetweb's error messages (failed TLS handshakes and the
    // like) and failed logins once the server runs, at most
    // log_limit.burst lines per reason and window (anyone who reaches the
    // port can cause them), with a count of the suppressed ones. Called from
    // server threads. Unset: they are dropped.
    std::function<void(std::string_view)> log;
    RateLimitedLog::Options log_limit;
    // Failed password checks per client address before it gets 429.
    AuthFailureLimiter::Options auth_limit;
    // Scheduling niceness of the server threads (at least this; 0..19):
    // under load the scheduler favours everything else in the daemon
    // (trackers, notifications) and other processes over HTTP clients.
    int thread_nice = 10;
  };

  // Binds every listen address and starts serving. Errors name the address
  // that failed and civetweb's reason. Never throws.
  static Result<std::unique_ptr<HttpServer>, std::string> Start(
      Options options);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound ports, in the order of listen_addresses (so a test that asked
  // for port 0 learns which one it got). Empty once stopped.
  std::vector<int> ports() const;

  // Serves `method` on exactly `path` (no prefix matching). May be called at
  // any time, also while requests are served; a later call for the same path
  // and method replaces the handler. Another method on a known path gets
  // 405 with an Allow header; an unknown path gets 404 (after the
  // authentication check, so 404 does not reveal paths to strangers).
  // Exceptions from a handler become a 500.
  void Handle(const std::string& path, Method method, Handler handler);

  // Runs the handler registered for request.method on request.path, as a
  // request from the network would (404, 405, 500 on an exception), but
  // without authentication: for a caller that has decided it may (the
  // health listener). Thread-safe.
  Response Dispatch(const Request& request) const;

  // Stops serving and waits for running handlers to return. Idempotent.
  // Takes up to 2 s: civetweb 1.15's accept thread notices the stop only
  // when its poll() returns, which it does every 2 s when idle.
  void Stop();

 private:
  using HandlerPtr = std::shared_ptr<const Handler>;

  explicit HttpServer(Options options);

  static int BeginRequest(mg_connection* conn);
  static int LogMessage(const mg_connection* conn, const char* message);
  static void* InitThread(const mg_context* ctx, int thread_type);
  int Serve(mg_connection* conn);
  bool Authorized(mg_connection* conn, std::string* user) const;
  // Why a line is logged: each has its own rate limit.
  enum class LogReason { kServer, kTls, kAuth, kHandler };
  void Log(LogReason reason, const std::string& message) const;
  // True if the request may go on; otherwise it was answered (401, 429).
  bool Authenticate(mg_connection* conn, const std::string& address,
                    std::string* user);

  Options options_;
  std::unique_ptr<RateLimitedLog> log_limiter_;
  AuthFailureLimiter auth_limiter_;
  mutable std::shared_mutex routes_mu_;
  std::map<std::string, std::map<Method, HandlerPtr>, std::less<>> routes_;
  mutable std::mutex stop_mu_;
  std::unique_ptr<CivetServer> civet_;
};

}  // namespace vrrp::exporter
