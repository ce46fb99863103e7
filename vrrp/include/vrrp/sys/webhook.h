#pragma once

// POSTs notification JSON to one HTTP(S) endpoint with libcurl, on a
// worker thread of its own so a slow receiver never touches the event loop
// or the other webhooks. Order is preserved (one request at a time); the
// queue is bounded and drops its oldest event when full. Each result is
// posted back to the loop. No retries: a notification is a report of a
// moment, and the next one carries the current state.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "vrrp/notify_config.h"
#include "vrrp/time.h"

namespace vrrp::sys {

class EventLoop;

enum class WebhookOutcome : uint8_t {
  kSuccess,    // 2xx
  kHttpError,  // any other status
  kFailure,    // no response: connection refused, DNS, TLS, ...
  kTimeout,
};
std::string_view ToString(WebhookOutcome outcome);

struct WebhookResult {
  WebhookOutcome outcome = WebhookOutcome::kFailure;
  long status = 0;
  std::string error;  // libcurl's message when not kSuccess
  Duration duration{0};
};

class Webhook {
 public:
  using Done = std::function<void(const WebhookResult&)>;

  // `done` runs on the loop thread for every request that was attempted.
  // `dropped` runs on the loop thread (from Send) for each event dropped.
  Webhook(EventLoop& loop, WebhookConfig config, size_t limit, Done done);
  // Aborts a request in flight (its progress callback sees the stop flag)
  // and joins the thread.
  ~Webhook();
  Webhook(const Webhook&) = delete;
  Webhook& operator=(const Webhook&) = delete;

  // Queues `json` for POSTing; returns false if an older event was dropped
  // to make room.
  bool Send(std::string json);
  const WebhookConfig& config() const { return config_; }

 private:
  void Run();
  WebhookResult Post(const std::string& body);

  EventLoop& loop_;
  WebhookConfig config_;
  size_t limit_;
  Done done_;
  std::shared_ptr<bool> alive_;  // loop thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::atomic<bool> abort_{false};
  std::thread thread_;
};

}  // namespace vrrp::sys
