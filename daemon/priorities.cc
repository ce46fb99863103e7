#include "priorities.h"

#include <sched.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace vrrp::daemon {

int SetLoopPriority(int flag) {
  if (flag == 0) return 0;
  const int priority =
      flag == kAutoRealtimePriority ? kDefaultRealtimePriority : flag;
  sched_param p{};
  p.sched_priority = priority;
  // sched_setscheduler(0, ...) applies to the calling thread only.
  if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &p) != 0) {
    const int error = errno;
    if (flag == kAutoRealtimePriority) {
      spdlog::info(
          "event loop at normal priority: real-time priority {} not "
          "permitted ({}); grant CAP_SYS_NICE or LimitRTPRIO={} so HTTP load "
          "and a busy host cannot delay advertisements",
          priority, std::strerror(error), priority);
    } else {
      spdlog::warn("could not set real-time priority {}: {}", priority,
                   std::strerror(error));
    }
    return 0;
  }
  spdlog::info("event loop at real-time priority {} (SCHED_RR)", priority);
  return priority;
}

}  // namespace vrrp::daemon
