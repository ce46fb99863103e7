#pragma once

#include <chrono>
#include <cstdint>

namespace vrrp {

// Every duration in the core is a std::chrono type. The state machine reads
// time only through Scheduler::Now(), so tests can drive it with a fake clock.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

// VRRPv3 carries Max Adver Int in centiseconds (RFC 5798 §5.2.7).
using Centiseconds = std::chrono::duration<int64_t, std::centi>;

}  // namespace vrrp
