#pragma once

// One state change as the outside world is told about it, and its two
// wire forms: Keepalived's notify_fifo line and the webhook's JSON body.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "vrrp/instance.h"

namespace vrrp::sys {

enum class NotificationSubject : uint8_t { kInstance, kGroup };

struct Notification {
  NotificationSubject subject = NotificationSubject::kInstance;
  std::string name;  // instance or sync group
  State from = State::kInitialize;
  State to = State::kInitialize;
  std::string reason;  // ToString(TransitionReason), or a group's reason
  int priority = 0;    // effective priority; 0 for a group
  // Instances only.
  uint8_t vrid = 0;
  std::string interface;
  // Groups only.
  std::vector<std::string> members;
  std::chrono::system_clock::time_point wall_time{};
  uint64_t sequence = 0;  // per daemon, increasing: consumers spot gaps
};

// Keepalived's names: MASTER, BACKUP, FAULT, and STOP for Initialize (an
// instance that stopped).
std::string_view KeepalivedStateName(State state);

// Keepalived's notify_fifo format, so existing consumers keep working:
//   INSTANCE "web" MASTER 100
//   GROUP "pair" FAULT
// (with the trailing newline).
std::string FifoLine(const Notification& n);

// The webhook body (JSON object, one line).
std::string NotificationJson(const Notification& n,
                             const std::string& hostname);

// The exec hook's appended arguments: INSTANCE|GROUP NAME STATE PRIORITY
// REASON (the first four are what Keepalived's generic notify script gets),
// and its VRRP_* environment.
std::vector<std::string> HookArguments(const Notification& n);
std::vector<std::string> HookEnvironment(const Notification& n);

}  // namespace vrrp::sys
