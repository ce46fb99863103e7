#include "exporter/health_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <system_error>

namespace vrrp::exporter {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestBytes = 4096;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

struct Connection {
  int fd = -1;
  std::string address;
  Clock::time_point deadline;
  uint64_t order = 0;  // accept order: the smallest is the oldest
  std::string data;
};

std::string StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

// Best effort, non-blocking: the answer is a few hundred bytes, which fit
// in a fresh socket's send buffer.
void Reply(int fd, const Response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    StatusText(r.status) +
                    "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n\r\n" + r.body;
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

Result<std::unique_ptr<HealthListener>, std::string> HealthListener::Start(
    Options options, std::function<Response(const Request&)> answer) {
  const std::string& address = options.listen_address;
  const std::string prefix = "health listen address \"" + address + "\" ";
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos ||
      address.find(':') != colon) {  // IPv6 is not supported here either
    return Err(prefix + "must be HOST:PORT or :PORT (IPv4)");
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port_text) > 65535) {
    return Err(prefix + "has an invalid port");
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(std::stoi(port_text)));
  if (host.empty()) host = "0.0.0.0";
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) {
    return Err(prefix + "needs a numeric IPv4 address");
  }
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(prefix + ": socket: " + ErrnoText(errno));
  const int on = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 ||
      ::listen(fd, 128) != 0) {
    const int error = errno;
    ::close(fd);
    return Err("cannot bind to " + address + ": " + ErrnoText(error));
  }
  socklen_t len = sizeof(sin);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    const int error = errno;
    ::close(fd);
    return Err("eventfd: " + ErrnoText(error));
  }
  auto listener = std::unique_ptr<HealthListener>(new HealthListener(
      std::move(options), std::move(answer), fd, wake, ntohs(sin.sin_port)));
  listener->thread_ = std::thread([l = listener.get()] { l->Run(); });
  return listener;
}

HealthListener::HealthListener(Options options,
                               std::function<Response(const Request&)> answer,
                               int listen_fd, int wake_fd, int port)
    : options_(std::move(options)),
      answer_(std::move(answer)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      port_(port) {}

HealthListener::~HealthListener() {
  const uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

uint64_t HealthListener::evicted() const { return evicted_.load(); }

void HealthListener::Run() {
  std::vector<Connection> conns;
  // Whatever ends the loop, no socket stays open.
  struct CloseAll {
    std::vector<Connection>& conns;
    ~CloseAll() {
      for (const Connection& c : conns) ::close(c.fd);
    }
  } close_all{conns};
  uint64_t accepted = 0;
  auto close_at = [&](size_t i) {
    ::close(conns[i].fd);
    conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
  };
  auto evict_oldest = [&](const std::string* address) {
    size_t victim = conns.size();
    for (size_t i = 0; i < conns.size(); ++i) {
      if (address != nullptr && conns[i].address != *address) continue;
      if (victim == conns.size() || conns[i].order < conns[victim].order) {
        victim = i;
      }
    }
    if (victim < conns.size()) {
      close_at(victim);
      ++evicted_;
    }
  };
  while (true) {
    std::vector<pollfd> fds;
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Connection& c : conns) fds.push_back({c.fd, POLLIN, 0});
    int timeout_ms = -1;
    const auto now = Clock::now();
    for (const Connection& c : conns) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(c.deadline - now);
      const int ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      return;
    }
    if (fds[0].revents != 0) return;  // stopping
    // Requests first, then timeouts, then new connections (so an eviction
    // never closes a socket whose poll result is still to be read).
    for (size_t i = fds.size(); i-- > 2;) {
      const size_t ci = i - 2;
      if (fds[i].revents == 0) continue;
      char buffer[1024];
      const ssize_t n =
          ::recv(conns[ci].fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        close_at(ci);
        continue;
      }
      Connection& c = conns[ci];
      c.data.append(buffer, static_cast<size_t>(n));
      const size_t end = c.data.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.data.size() > kMaxRequestBytes) {
          Reply(c.fd, Text(400, "Bad Request\n"));
          close_at(ci);
        }
        continue;
      }
      // "GET /path HTTP/1.x"
      const std::string line = c.data.substr(0, c.data.find("\r\n"));
      const size_t sp1 = line.find(' ');
      const size_t sp2 = line.find(' ', sp1 + 1);
      Response response;
      if (sp1 == std::string::npos || sp2 == std::string::npos) {
        response = Text(400, "Bad Request\n");
      } else if (line.substr(0, sp1) != "GET") {
        response = Text(405, "Method Not Allowed\n");
      } else {
        std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
        path = path.substr(0, path.find('?'));
        if (std::find(options_.paths.begin(), options_.paths.end(), path) ==
            options_.paths.end()) {
          response = Text(404, "Not Found\n");
        } else {
          Request request;
          request.method = Method::kGet;
          request.path = path;
          request.remote_address = c.address;
          try {
            response = answer_(request);
          } catch (...) {
            response = Text(500, "Internal Server Error\n");
          }
        }
      }
      Reply(c.fd, response);
      close_at(ci);
    }
    const auto after = Clock::now();
    for (size_t i = conns.size(); i-- > 0;) {
      if (after >= conns[i].deadline) close_at(i);
    }
    if (fds[1].revents != 0) {
      // Several at a time: a burst of connects must not starve the probe.
      for (int k = 0; k < 64; ++k) {
        sockaddr_in peer{};
        socklen_t len = sizeof(peer);
        const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer),
                                 &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        char text[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
        Connection c{.fd = fd,
                     .address = text,
                     .deadline = after + options_.header_timeout,
                     .order = accepted++,
                     .data = {}};
        const size_t same = static_cast<size_t>(std::count_if(
            conns.begin(), conns.end(),
            [&](const auto& o) { return o.address == c.address; }));
        if (same >= options_.max_per_address) evict_oldest(&c.address);
        if (conns.size() >= options_.max_connections) evict_oldest(nullptr);
        conns.push_back(std::move(c));
      }
    }
  }
}

}  // namespace vrrp::exporter
