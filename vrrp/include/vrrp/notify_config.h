#pragma once

// Configuration of what the daemon tells the outside world about state
// changes: exec hooks, the FIFO / Unix socket line stream, webhooks, and the
// sync groups whose members change state together.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vrrp/source_location.h"
#include "vrrp/time.h"

namespace vrrp {

// A program and its arguments, executed without a shell: argv[0] is an
// absolute path. The notification's own arguments are appended.
struct Command {
  std::vector<std::string> argv;
  SourceLocation location;

  bool operator==(const Command& o) const { return argv == o.argv; }
};

// Exec hooks for one instance or sync group. Like Keepalived's
// notify_master / notify_backup / notify_fault / notify_stop / notify.
struct NotifyHooks {
  std::optional<Command> master;
  std::optional<Command> backup;
  std::optional<Command> fault;
  std::optional<Command> stop;
  std::optional<Command> any;  // every transition, after the specific one
  // After this the hook's whole process group is killed.
  Duration timeout = std::chrono::seconds(10);

  bool empty() const { return !master && !backup && !fault && !stop && !any; }
  bool operator==(const NotifyHooks& o) const {
    return master == o.master && backup == o.backup && fault == o.fault &&
           stop == o.stop && any == o.any && timeout == o.timeout;
  }
};

// An instance's hooks, immutable once loaded and shared by every copy of the
// instance's configuration. Most instances have none, and a NotifyHooks is
// ~370 bytes inline (five optional commands), which was nearly half of an
// InstanceConfig (issue 3: resident memory per added instance). Reads as a
// const NotifyHooks (`hooks->master`, `*hooks`); an empty one holds nothing.
class SharedNotifyHooks {
 public:
  SharedNotifyHooks() = default;
  // Implicit, so that `config.notify = hooks;` reads like the value it
  // stands for.
  SharedNotifyHooks(NotifyHooks hooks);  // NOLINT(google-explicit-constructor)

  const NotifyHooks& operator*() const { return hooks_ ? *hooks_ : Default(); }
  const NotifyHooks* operator->() const { return &**this; }
  bool operator==(const SharedNotifyHooks& o) const { return **this == *o; }

 private:
  static const NotifyHooks& Default();
  std::shared_ptr<const NotifyHooks> hooks_;  // null: NotifyHooks{}
};

struct WebhookConfig {
  std::string url;  // http:// or https://
  Duration timeout = std::chrono::seconds(5);
  std::vector<std::pair<std::string, std::string>> headers;
  SourceLocation location;
};

// Keepalived's vrrp_sync_group.
struct SyncGroupConfig {
  std::string name;
  std::vector<std::string> instances;  // names of instances, at least 2
  NotifyHooks notify;
  SourceLocation location;
};

struct NotificationConfig {
  // Keepalived's notify_fifo: a named pipe, created if missing.
  std::optional<std::string> fifo;
  // The same lines to every client of a Unix stream socket we listen on.
  std::optional<std::string> socket;
  std::vector<WebhookConfig> webhooks;
  // Events queued per stream (FIFO, socket client, webhook) before the
  // oldest are dropped and counted: a stalled reader never grows memory.
  size_t queue_limit = 1024;
};

}  // namespace vrrp
