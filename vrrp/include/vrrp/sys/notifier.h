#pragma once

// The notification dispatcher: turns every instance and sync group
// transition into exec hooks, lines on the FIFO / Unix socket, and webhook
// POSTs. Nothing here runs inside the transition: OnTransition() records
// the event and posts its delivery to the loop, so the advertisement that
// the same timer sends goes out first, and every delivery is asynchronous
// (hooks through the ProcessRunner, webhooks on their own threads, streams
// non-blocking) and bounded (queues drop their oldest and count it).
//
// Hooks of one subject (instance or group) run one at a time, in order:
// notify_backup of a flap never overtakes the notify_master before it.
// Different subjects run in parallel.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/config_loader.h"
#include "vrrp/instance.h"
#include "vrrp/log.h"
#include "vrrp/notification_stats.h"
#include "vrrp/result.h"
#include "vrrp/sync_group.h"
#include "vrrp/sys/line_stream.h"
#include "vrrp/sys/notification.h"
#include "vrrp/sys/process_runner.h"
#include "vrrp/sys/webhook.h"

namespace vrrp::sys {

// Load-time checks that need the system: script_user exists, and every
// hook program exists, is executable by the user it runs as and passes
// the script-security rules (CheckScript). Returns the resolved user.
Result<std::optional<ProcessUser>, std::vector<ConfigError>>
CheckNotificationPrograms(const Config& config);

class Notifier : public InstanceObserver {
 public:
  Notifier(EventLoop& loop, LogFn log);
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // At start and on reload (after CheckNotificationPrograms). Streams and
  // webhooks whose settings did not change are kept, with their queues.
  Result<Unit, std::string> Configure(const Config& config,
                                      std::optional<ProcessUser> user);

  void OnTransition(const Instance& instance,
                    const Transition& transition) override;
  void OnGroupTransition(const SyncGroupConfig& group,
                         const GroupTransition& transition);

  // Runs `done` once every queued hook has finished and every webhook
  // event has been attempted (the daemon's graceful stop, so notify_stop
  // hooks are not killed by the exit). Bounded by the hooks' timeouts.
  void Drain(std::function<void()> done);

  NotificationStats stats() const;
  std::string hostname() const { return hostname_; }

 private:
  struct Pending {
    ProcessSpec spec;
    std::string what;  // "instance web notify.master", for logs
  };
  struct Subject {
    std::deque<Pending> queue;
    bool running = false;
  };

  void Deliver(const Notification& n, const NotifyHooks& hooks);
  void QueueHook(const std::string& subject, const Notification& n,
                 const Command& command, const NotifyHooks& hooks,
                 const std::string& what);
  void RunNext(const std::string& subject);
  void CheckDrained();
  bool Idle() const;

  EventLoop& loop_;
  LogFn log_;
  std::string hostname_;
  ProcessRunner runner_;
  std::optional<ProcessUser> user_;
  std::map<std::string, NotifyHooks> instance_hooks_;
  std::map<std::string, NotifyHooks> group_hooks_;
  std::map<std::string, Subject> subjects_;
  std::unique_ptr<FifoStream> fifo_;
  std::unique_ptr<SocketStream> socket_;
  struct WebhookEntry {
    std::unique_ptr<Webhook> hook;
    // Events sent and not yet reported back, for Drain().
    std::shared_ptr<size_t> pending = std::make_shared<size_t>(0);
  };
  std::vector<WebhookEntry> webhooks_;
  size_t queue_limit_ = 1024;
  uint64_t sequence_ = 0;
  std::vector<std::function<void()>> drained_;
  NotificationStats stats_;  // runs, durations; dropped of gone streams
  std::shared_ptr<bool> alive_;
};

}  // namespace vrrp::sys
