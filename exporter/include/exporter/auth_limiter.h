#pragma once

// A limit on failed basic-auth attempts per client address: past
// max_failures failures in a window, the address gets 429 without a
// password check until the window ends. Each check is a bcrypt of ~50 ms
// (cost 10); without this, anyone who reaches the port could keep the
// server's hash (and a CPU) busy for as long as they like.

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vrrp::exporter {

struct AuthLimitOptions {
  int max_failures = 10;
  std::chrono::seconds window{60};
  // Addresses remembered; when full, expired ones go first, then the one
  // whose window started earliest.
  size_t max_addresses = 4096;
};

class AuthFailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Options = AuthLimitOptions;

  explicit AuthFailureLimiter(Options options = {},
                              std::function<Clock::time_point()> now = {});

  // How long `address` must still wait; zero if it may try now.
  std::chrono::seconds Blocked(const std::string& address);
  void RecordFailure(const std::string& address);
  // A success clears the address's failures (a client that typed its
  // password wrong a few times is not held to them).
  void RecordSuccess(const std::string& address);
  size_t size() const;

 private:
  struct Entry {
    Clock::time_point window_start;
    int failures = 0;
  };
  void MakeRoom(Clock::time_point now);

  const Options options_;
  const std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace vrrp::exporter
