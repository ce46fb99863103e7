#include "vrrp/sys/line_stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "vrrp/sys/event_loop.h"

namespace vrrp::sys {
namespace {

// A consumer that stays blocked is retried at this pace; the loop only
// watches readability, and a short retry costs nothing while idle (the
// timer is armed only while something is queued).
constexpr auto kRetry = std::chrono::milliseconds(50);

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

LineQueue::~LineQueue() {
  if (fd_ >= 0) ::close(fd_);
}

void LineQueue::Push(std::string line) {
  // Never drop a line half written: the reader would see a torn line.
  while (lines_.size() >= limit_ && lines_.size() > (offset_ > 0 ? 1u : 0u)) {
    auto victim = offset_ > 0 ? lines_.begin() + 1 : lines_.begin();
    lines_.erase(victim);
    ++dropped_;
  }
  if (limit_ == 0) {
    ++dropped_;
    return;
  }
  lines_.push_back(std::move(line));
}

LineQueue::Flushed LineQueue::Flush() {
  while (!lines_.empty()) {
    const std::string& line = lines_.front();
    // A client that hung up must not SIGPIPE the daemon: send() with
    // MSG_NOSIGNAL on sockets. FIFOs need write(); we hold their read end
    // ourselves, so they never raise SIGPIPE.
    ssize_t n =
        socket_ ? ::send(fd_, line.data() + offset_, line.size() - offset_,
                         MSG_NOSIGNAL)
                : ::write(fd_, line.data() + offset_, line.size() - offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Flushed::kBlocked;
      return Flushed::kBroken;
    }
    offset_ += static_cast<size_t>(n);
    if (offset_ == line.size()) {
      lines_.pop_front();
      offset_ = 0;
      ++written_;
    }
  }
  return Flushed::kAll;
}

// --- FIFO ------------------------------------------------------------------

Result<std::unique_ptr<FifoStream>, std::string> FifoStream::Open(
    EventLoop& loop, const std::string& path, size_t limit) {
  if (::mkfifo(path.c_str(), 0600) < 0 && errno != EEXIST) {
    return Err(Errno("notify_fifo: mkfifo " + path));
  }
  // O_RDWR on a FIFO (fifo(7)): opening never blocks and writes never fail
  // for lack of a reader. O_NOFOLLOW: no symlink games in /run or /tmp.
  const int fd =
      ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Err(Errno("notify_fifo: open " + path));
  struct stat st {};
  if (::fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    ::close(fd);
    return Err("notify_fifo: " + path + " exists and is not a FIFO");
  }
  return std::unique_ptr<FifoStream>(new FifoStream(loop, path, fd, limit));
}

FifoStream::FifoStream(EventLoop& loop, std::string path, int fd, size_t limit)
    : path_(std::move(path)),
      queue_(fd, limit),
      retry_(loop.CreateTimer([this] { Flush(); })),
      loop_(loop) {}

FifoStream::~FifoStream() = default;

void FifoStream::Send(const std::string& line) {
  queue_.Push(line);
  if (!retry_->armed()) Flush();
}

void FifoStream::Flush() {
  // kBroken cannot happen while we hold the read end ourselves; either way
  // the lines stay queued (bounded) and the retry continues.
  if (queue_.Flush() != LineQueue::Flushed::kAll) {
    retry_->ArmAt(loop_.Now() + kRetry);
  }
}

// --- Unix socket ------------------------------------------------------------

Result<std::unique_ptr<SocketStream>, std::string> SocketStream::Listen(
    EventLoop& loop, const std::string& path, size_t limit) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Err("notify_socket: path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A socket left by a previous run is replaced; anything else is not ours.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Err("notify_socket: " + path + " exists and is not a socket");
    }
    ::unlink(path.c_str());
  }
  const int fd =
      ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Err(Errno("notify_socket: socket"));
  // Created 0600 (umask while binding), so only root can connect unless the
  // administrator changes it.
  const mode_t old = ::umask(0177);
  const int bound =
      ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (bound < 0 || ::listen(fd, 16) < 0) {
    std::string e = Errno("notify_socket: bind/listen " + path);
    ::close(fd);
    return Err(e);
  }
  std::unique_ptr<SocketStream> s(new SocketStream(loop, path, fd, limit));
  if (auto w = loop.WatchFd(fd, [p = s.get()] { p->Accept(); }); !w.ok()) {
    return Err("notify_socket: " + w.error());
  }
  return s;
}

SocketStream::SocketStream(EventLoop& loop, std::string path, int fd,
                           size_t limit)
    : loop_(loop),
      path_(std::move(path)),
      listen_fd_(fd),
      limit_(limit),
      retry_(loop.CreateTimer([this] { FlushAll(); })) {}

SocketStream::~SocketStream() {
  for (auto& c : clients_) loop_.UnwatchFd(c->fd());
  clients_.clear();
  loop_.UnwatchFd(listen_fd_);
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void SocketStream::Accept() {
  for (;;) {
    const int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client that already left
    auto queue = std::make_unique<LineQueue>(fd, limit_, /*socket=*/true);
    if (!loop_.WatchFd(fd, [this, fd] { OnClientReadable(fd); }).ok()) {
      continue;  // the queue's destructor closes it
    }
    clients_.push_back(std::move(queue));
  }
}

void SocketStream::OnClientReadable(int fd) {
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) return;
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i]->fd() == fd) {
      Close(i);
      return;
    }
  }
}

void SocketStream::Close(size_t index) {
  gone_dropped_ += clients_[index]->dropped();
  gone_written_ += clients_[index]->written();
  loop_.UnwatchFd(clients_[index]->fd());
  clients_.erase(clients_.begin() + static_cast<ptrdiff_t>(index));
}

void SocketStream::Send(const std::string& line) {
  for (auto& c : clients_) c->Push(line);
  if (!retry_->armed()) FlushAll();
}

void SocketStream::FlushAll() {
  bool blocked = false;
  for (size_t i = 0; i < clients_.size();) {
    switch (clients_[i]->Flush()) {
      case LineQueue::Flushed::kAll:
        ++i;
        break;
      case LineQueue::Flushed::kBlocked:
        blocked = true;
        ++i;
        break;
      case LineQueue::Flushed::kBroken:
        Close(i);
        break;
    }
  }
  if (blocked) retry_->ArmAt(loop_.Now() + kRetry);
}

uint64_t SocketStream::dropped() const {
  uint64_t n = gone_dropped_;
  for (const auto& c : clients_) n += c->dropped();
  return n;
}

uint64_t SocketStream::written() const {
  uint64_t n = gone_written_;
  for (const auto& c : clients_) n += c->written();
  return n;
}

}  // namespace vrrp::sys
