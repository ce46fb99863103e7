#pragma once

// Counters of the notification side (hooks, line streams, webhooks), kept
// on the event loop and copied into the exporter's snapshot.

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "vrrp/time.h"

namespace vrrp {

// Where a notification went. Strings are metric label values.
inline constexpr const char* kNotifyExec = "exec";
inline constexpr const char* kNotifyFifo = "fifo";
inline constexpr const char* kNotifySocket = "socket";
inline constexpr const char* kNotifyWebhook = "webhook";

struct NotificationStats {
  // (kind, outcome) -> runs. Exec outcomes: success, failure (non-zero
  // exit), signaled, timeout, spawn_failed. Webhook: success, http_error,
  // failure (transport), timeout. FIFO / socket: written.
  std::map<std::pair<std::string, std::string>, uint64_t> runs;
  // kind -> events dropped because that stream's bounded queue was full.
  std::map<std::string, uint64_t> dropped;
  // kind -> duration of the last completed run (exec, webhook).
  std::map<std::string, Duration> last_duration;
  // kind -> sum and count of run durations (a summary without quantiles).
  std::map<std::string, std::pair<double, uint64_t>> duration_seconds;
  uint64_t socket_clients = 0;  // connected to notify_socket now
};

}  // namespace vrrp
