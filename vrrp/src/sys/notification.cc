#include "vrrp/sys/notification.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace vrrp::sys {
namespace {

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(date) + millis;
}

std::string_view Kind(const Notification& n) {
  return n.subject == NotificationSubject::kInstance ? "INSTANCE" : "GROUP";
}

}  // namespace

std::string_view KeepalivedStateName(State state) {
  switch (state) {
    case State::kMaster:
      return "MASTER";
    case State::kBackup:
      return "BACKUP";
    case State::kFault:
      return "FAULT";
    case State::kInitialize:
      return "STOP";
  }
  return "UNKNOWN";
}

std::string FifoLine(const Notification& n) {
  // Names are restricted by the loader to [A-Za-z0-9_.-], so the quotes
  // need no escaping.
  std::string line = std::string(Kind(n)) + " \"" + n.name + "\" " +
                     std::string(KeepalivedStateName(n.to));
  if (n.subject == NotificationSubject::kInstance) {
    line += " " + std::to_string(n.priority);
  }
  return line + "\n";
}

std::string NotificationJson(const Notification& n,
                             const std::string& hostname) {
  nlohmann::ordered_json j;
  const bool instance = n.subject == NotificationSubject::kInstance;
  j["type"] = instance ? "instance" : "group";
  j[instance ? "instance" : "group"] = n.name;
  if (instance) {
    j["vrid"] = n.vrid;
    j["interface"] = n.interface;
  } else {
    j["members"] = n.members;
  }
  j["from"] = KeepalivedStateName(n.from);
  j["to"] = KeepalivedStateName(n.to);
  j["reason"] = n.reason;
  if (instance) j["priority"] = n.priority;
  j["timestamp"] = Rfc3339(n.wall_time);
  j["hostname"] = hostname;
  j["sequence"] = n.sequence;
  return j.dump();
}

std::vector<std::string> HookArguments(const Notification& n) {
  return {std::string(Kind(n)), n.name, std::string(KeepalivedStateName(n.to)),
          std::to_string(n.priority), n.reason};
}

std::vector<std::string> HookEnvironment(const Notification& n) {
  std::vector<std::string> env = {
      "VRRP_TYPE=" + std::string(Kind(n)),
      "VRRP_NAME=" + n.name,
      "VRRP_STATE=" + std::string(KeepalivedStateName(n.to)),
      "VRRP_FROM_STATE=" + std::string(KeepalivedStateName(n.from)),
      "VRRP_PRIORITY=" + std::to_string(n.priority),
      "VRRP_REASON=" + n.reason,
      "VRRP_SEQUENCE=" + std::to_string(n.sequence),
  };
  if (n.subject == NotificationSubject::kInstance) {
    env.push_back("VRRP_VRID=" + std::to_string(n.vrid));
    env.push_back("VRRP_INTERFACE=" + n.interface);
  }
  return env;
}

}  // namespace vrrp::sys
