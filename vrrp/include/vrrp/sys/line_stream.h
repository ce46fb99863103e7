#pragma once

// Ordered line streams for local consumers: Keepalived's notify_fifo (a
// named pipe) and a Unix stream socket with any number of clients. Writes
// are non-blocking; each destination has a bounded queue, so a reader that
// stalls costs at most `limit` lines of memory: beyond that the oldest
// queued lines are dropped (the latest state is what a late reader needs)
// and counted. Order is preserved for whatever is delivered.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "vrrp/result.h"
#include "vrrp/scheduler.h"

namespace vrrp::sys {

class EventLoop;

// One descriptor's queue.
class LineQueue {
 public:
  LineQueue(int fd, size_t limit, bool socket = false)
      : fd_(fd), limit_(limit), socket_(socket) {}
  ~LineQueue();
  LineQueue(const LineQueue&) = delete;
  LineQueue& operator=(const LineQueue&) = delete;

  void Push(std::string line);
  enum class Flushed : uint8_t { kAll, kBlocked, kBroken };
  Flushed Flush();

  int fd() const { return fd_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t written() const { return written_; }
  bool empty() const { return lines_.empty(); }

 private:
  int fd_;
  size_t limit_;
  bool socket_;
  std::deque<std::string> lines_;
  size_t offset_ = 0;  // bytes of lines_.front() already written
  uint64_t dropped_ = 0;
  uint64_t written_ = 0;
};

// Keepalived's notify_fifo. The FIFO is created (mode 0600) if missing and
// opened read-write, as Keepalived does, so the daemon never blocks on or
// fails for a missing reader; lines wait in the pipe (64 KiB) and then in
// our queue.
class FifoStream {
 public:
  static Result<std::unique_ptr<FifoStream>, std::string> Open(
      EventLoop& loop, const std::string& path, size_t limit);
  ~FifoStream();

  void Send(const std::string& line);
  uint64_t dropped() const { return queue_.dropped(); }
  uint64_t written() const { return queue_.written(); }
  const std::string& path() const { return path_; }

 private:
  FifoStream(EventLoop& loop, std::string path, int fd, size_t limit);
  void Flush();

  std::string path_;
  LineQueue queue_;
  std::unique_ptr<Timer> retry_;
  EventLoop& loop_;
};

// A Unix stream socket (mode 0600) every client of which gets every line
// from the moment it connects. What clients send is read and ignored.
class SocketStream {
 public:
  static Result<std::unique_ptr<SocketStream>, std::string> Listen(
      EventLoop& loop, const std::string& path, size_t limit);
  ~SocketStream();

  void Send(const std::string& line);
  size_t clients() const { return clients_.size(); }
  // Dropped for clients still connected and for ones gone.
  uint64_t dropped() const;
  uint64_t written() const;
  const std::string& path() const { return path_; }

 private:
  SocketStream(EventLoop& loop, std::string path, int fd, size_t limit);
  void Accept();
  void OnClientReadable(int fd);
  void FlushAll();
  void Close(size_t index);

  EventLoop& loop_;
  std::string path_;
  int listen_fd_;
  size_t limit_;
  std::vector<std::unique_ptr<LineQueue>> clients_;
  std::unique_ptr<Timer> retry_;
  uint64_t gone_dropped_ = 0;
  uint64_t gone_written_ = 0;
};

}  // namespace vrrp::sys
