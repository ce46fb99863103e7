#include "vrrp/sys/notifier.h"

#include <unistd.h>

#include <utility>

#include "vrrp/sys/event_loop.h"
#include "vrrp/sys/script_security.h"

namespace vrrp::sys {
namespace {

// Hooks of one subject waiting behind the running one. A subject that
// flaps faster than its hooks finish loses the oldest waiting runs (the
// latest state is what matters) and counts them.
constexpr size_t kHookQueueLimit = 16;

// Enough for a hook's error message in the log.
constexpr size_t kHookOutputLimit = 4096;

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string ExecOutcome(const ProcessResult& r) {
  switch (r.outcome) {
    case ProcessOutcome::kExited:
      return r.exit_code == 0 ? "success" : "failure";
    case ProcessOutcome::kSignaled:
      return "signaled";
    case ProcessOutcome::kTimedOut:
      return "timeout";
    case ProcessOutcome::kSpawnFailed:
      return "spawn_failed";
  }
  return "failure";
}

void ForEachHook(
    const NotifyHooks& hooks,
    const std::function<void(std::string_view, const Command&)>& fn) {
  if (hooks.master) fn("master", *hooks.master);
  if (hooks.backup) fn("backup", *hooks.backup);
  if (hooks.fault) fn("fault", *hooks.fault);
  if (hooks.stop) fn("stop", *hooks.stop);
  if (hooks.any) fn("any", *hooks.any);
}

const std::optional<Command>& HookFor(const NotifyHooks& hooks, State to) {
  switch (to) {
    case State::kMaster:
      return hooks.master;
    case State::kBackup:
      return hooks.backup;
    case State::kFault:
      return hooks.fault;
    case State::kInitialize:
      return hooks.stop;
  }
  return hooks.stop;
}

}  // namespace

Result<std::optional<ProcessUser>, std::vector<ConfigError>>
CheckNotificationPrograms(const Config& config) {
  std::vector<ConfigError> errors;
  std::optional<ProcessUser> user;
  if (config.script_user) {
    auto u = LookupUser(*config.script_user);
    if (u.ok()) {
      user = std::move(u).value();
    } else {
      errors.push_back(
          ConfigError{config.script_user_location, "script_user", u.error()});
    }
  }
  const ScriptCheckOptions options = DefaultScriptCheckOptions(user);
  auto check = [&](const NotifyHooks& hooks, const std::string& path) {
    ForEachHook(hooks, [&](std::string_view key, const Command& command) {
      auto r = CheckScript(command.argv[0], options);
      if (!r.ok()) {
        errors.push_back(ConfigError{command.location,
                                     path + ".notify." + std::string(key),
                                     r.error().message});
      }
    });
  };
  for (size_t i = 0; i < config.instances.size(); ++i) {
    check(*config.instances[i].notify, "instances[" + std::to_string(i) + "]");
  }
  for (size_t i = 0; i < config.sync_groups.size(); ++i) {
    check(config.sync_groups[i].notify,
          "sync_groups[" + std::to_string(i) + "]");
  }
  if (!errors.empty()) return Err(std::move(errors));
  return user;
}

Notifier::Notifier(EventLoop& loop, LogFn log)
    : loop_(loop),
      log_(std::move(log)),
      hostname_(Hostname()),
      runner_(loop),
      alive_(std::make_shared<bool>(true)) {}

Notifier::~Notifier() { *alive_ = false; }

Result<Unit, std::string> Notifier::Configure(const Config& config,
                                              std::optional<ProcessUser> user) {
  user_ = std::move(user);
  queue_limit_ = config.notifications.queue_limit;
  instance_hooks_.clear();
  // Only instances with a hook: one without is looked up as NotifyHooks{}
  // anyway, and an entry per instance was ~430 bytes each (issue 3: under
  // 2 KiB per added instance).
  for (const auto& i : config.instances) {
    if (!i.notify->empty()) instance_hooks_[i.name] = *i.notify;
  }
  group_hooks_.clear();
  for (const auto& g : config.sync_groups) group_hooks_[g.name] = g.notify;

  std::string errors;
  const auto& n = config.notifications;
  if (!n.fifo || (fifo_ && fifo_->path() != *n.fifo)) {
    if (fifo_) stats_.dropped[kNotifyFifo] += fifo_->dropped();
    if (fifo_) stats_.runs[{kNotifyFifo, "written"}] += fifo_->written();
    fifo_.reset();
  }
  if (n.fifo && !fifo_) {
    auto f = FifoStream::Open(loop_, *n.fifo, queue_limit_);
    if (f.ok()) {
      fifo_ = std::move(f).value();
    } else {
      errors += f.error() + "; ";
    }
  }
  if (!n.socket || (socket_ && socket_->path() != *n.socket)) {
    if (socket_) stats_.dropped[kNotifySocket] += socket_->dropped();
    if (socket_) stats_.runs[{kNotifySocket, "written"}] += socket_->written();
    socket_.reset();
  }
  if (n.socket && !socket_) {
    auto s = SocketStream::Listen(loop_, *n.socket, queue_limit_);
    if (s.ok()) {
      socket_ = std::move(s).value();
    } else {
      errors += s.error() + "; ";
    }
  }
  // Webhooks: keep the ones whose settings are unchanged (their queues and
  // threads), start new ones, stop removed ones.
  std::vector<WebhookEntry> next;
  for (const WebhookConfig& w : n.webhooks) {
    WebhookEntry kept;
    for (auto& old : webhooks_) {
      if (old.hook && old.hook->config().url == w.url &&
          old.hook->config().timeout == w.timeout &&
          old.hook->config().headers == w.headers) {
        kept = std::move(old);
        break;
      }
    }
    if (!kept.hook) {
      kept.hook = std::make_unique<Webhook>(
          loop_, w, queue_limit_,
          [this, pending = kept.pending](const WebhookResult& r) {
            if (*pending > 0) --*pending;
            stats_.runs[{kNotifyWebhook, std::string(ToString(r.outcome))}]++;
            stats_.last_duration[kNotifyWebhook] = r.duration;
            auto& [sum, count] = stats_.duration_seconds[kNotifyWebhook];
            sum += std::chrono::duration<double>(r.duration).count();
            ++count;
            if (r.outcome != WebhookOutcome::kSuccess) {
              log_(LogLevel::kWarn, "webhook: " + r.error);
            }
            CheckDrained();
          });
    }
    next.push_back(std::move(kept));
  }
  webhooks_ = std::move(next);
  if (!errors.empty()) return Err(errors);
  return kOk;
}

void Notifier::OnTransition(const Instance& instance, const Transition& t) {
  Notification n;
  n.subject = NotificationSubject::kInstance;
  n.name = instance.name();
  n.from = t.from;
  n.to = t.to;
  n.reason = std::string(ToString(t.reason));
  n.priority = instance.effective_priority();
  n.vrid = instance.config().vrid;
  n.interface = instance.config().interface;
  n.wall_time = std::chrono::system_clock::now();
  n.sequence = ++sequence_;
  // Hooks as configured now: a reload between the event and its delivery
  // must not change what this event runs.
  auto it = instance_hooks_.find(n.name);
  NotifyHooks hooks = it != instance_hooks_.end() ? it->second : NotifyHooks{};
  loop_.Post(
      [this, alive = alive_, n = std::move(n), hooks = std::move(hooks)] {
        if (*alive) Deliver(n, hooks);
      });
}

void Notifier::OnGroupTransition(const SyncGroupConfig& group,
                                 const GroupTransition& t) {
  Notification n;
  n.subject = NotificationSubject::kGroup;
  n.name = group.name;
  n.from = t.from;
  n.to = t.to;
  n.reason = t.reason;
  n.members = group.instances;
  n.wall_time = std::chrono::system_clock::now();
  n.sequence = ++sequence_;
  NotifyHooks hooks = group.notify;
  loop_.Post(
      [this, alive = alive_, n = std::move(n), hooks = std::move(hooks)] {
        if (*alive) Deliver(n, hooks);
      });
}

void Notifier::Deliver(const Notification& n, const NotifyHooks& hooks) {
  const std::string line = FifoLine(n);
  if (fifo_) fifo_->Send(line);
  if (socket_) socket_->Send(line);
  if (!webhooks_.empty()) {
    const std::string json = NotificationJson(n, hostname_);
    for (auto& w : webhooks_) {
      if (w.hook->Send(json)) {
        ++*w.pending;
      } else {
        // The dropped event's report will never come; this one's will.
        stats_.dropped[kNotifyWebhook]++;
      }
    }
  }
  const bool instance = n.subject == NotificationSubject::kInstance;
  const std::string subject = (instance ? "instance " : "group ") + n.name;
  if (const auto& specific = HookFor(hooks, n.to)) {
    QueueHook(subject, n, *specific, hooks,
              subject + " notify." +
                  std::string(n.to == State::kInitialize ? "stop"
                              : n.to == State::kMaster   ? "master"
                              : n.to == State::kBackup   ? "backup"
                                                         : "fault"));
  }
  if (hooks.any)
    QueueHook(subject, n, *hooks.any, hooks, subject + " notify.any");
}

void Notifier::QueueHook(const std::string& subject, const Notification& n,
                         const Command& command, const NotifyHooks& hooks,
                         const std::string& what) {
  Pending p;
  p.what = what;
  p.spec.argv = command.argv;
  for (auto& a : HookArguments(n)) p.spec.argv.push_back(std::move(a));
  p.spec.env = HookEnvironment(n);
  p.spec.user = user_;
  p.spec.timeout = hooks.timeout;
  p.spec.max_output = kHookOutputLimit;
  Subject& s = subjects_[subject];
  while (s.queue.size() >= kHookQueueLimit) {
    log_(LogLevel::kWarn, s.queue.front().what +
                              ": dropped, the hooks before it are still "
                              "running");
    s.queue.pop_front();
    stats_.dropped[kNotifyExec]++;
  }
  s.queue.push_back(std::move(p));
  if (!s.running) RunNext(subject);
}

void Notifier::RunNext(const std::string& subject) {
  Subject& s = subjects_[subject];
  if (s.queue.empty()) {
    s.running = false;
    subjects_.erase(subject);
    CheckDrained();
    return;
  }
  s.running = true;
  Pending p = std::move(s.queue.front());
  s.queue.pop_front();
  runner_.Run(std::move(p.spec), [this, subject,
                                  what = p.what](const ProcessResult& r) {
    const std::string outcome = ExecOutcome(r);
    stats_.runs[{kNotifyExec, outcome}]++;
    stats_.last_duration[kNotifyExec] = r.duration;
    auto& [sum, count] = stats_.duration_seconds[kNotifyExec];
    sum += std::chrono::duration<double>(r.duration).count();
    ++count;
    std::string output = r.output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    if (outcome == "success") {
      log_(LogLevel::kDebug,
           what + ": " + r.Describe() + (output.empty() ? "" : ": " + output));
    } else {
      log_(LogLevel::kWarn,
           what + ": " + r.Describe() + (output.empty() ? "" : ": " + output));
    }
    RunNext(subject);
  });
}

bool Notifier::Idle() const {
  if (!subjects_.empty()) return false;
  for (const auto& w : webhooks_) {
    if (*w.pending > 0) return false;
  }
  return true;
}

void Notifier::CheckDrained() {
  if (drained_.empty() || !Idle()) return;
  auto callbacks = std::move(drained_);
  drained_.clear();
  for (auto& fn : callbacks) fn();
}

void Notifier::Drain(std::function<void()> done) {
  // Posted: deliveries posted before this call (the STOP transitions of a
  // shutdown) are queued first.
  loop_.Post([this, alive = alive_, done = std::move(done)]() mutable {
    if (!*alive) return;
    drained_.push_back(std::move(done));
    CheckDrained();
  });
}

NotificationStats Notifier::stats() const {
  NotificationStats s = stats_;
  if (fifo_) {
    s.dropped[kNotifyFifo] += fifo_->dropped();
    s.runs[{kNotifyFifo, "written"}] += fifo_->written();
  }
  if (socket_) {
    s.dropped[kNotifySocket] += socket_->dropped();
    s.runs[{kNotifySocket, "written"}] += socket_->written();
    s.socket_clients = socket_->clients();
  }
  return s;
}

}  // namespace vrrp::sys
