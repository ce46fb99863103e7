#pragma once

// The event loop's CPU priority. The advertisement timer must win the CPU
// whatever HTTP clients, trackers or other processes do: a master whose
// advertisements are late by Skew_Time plus a few intervals loses its
// backups' trust (a false failover). So the loop thread runs SCHED_RR by
// default wherever the process may: root or CAP_SYS_NICE (the DaemonSet adds
// it), or an RLIMIT_RTPRIO that allows it (the systemd unit's LimitRTPRIO).

namespace vrrp::daemon {

// What --vrrp.realtime-priority says: -1 (the default) means
// kDefaultRealtimePriority if permitted, else normal scheduling with an info
// line; 0 means normal scheduling; 1..99 that priority, with a warning if
// refused.
inline constexpr int kAutoRealtimePriority = -1;
inline constexpr int kDefaultRealtimePriority = 50;

// Puts the calling thread (the event loop) at `flag`'s priority, with
// SCHED_RESET_ON_FORK: threads and processes it starts later (tracker
// workers, the reload parser, notification scripts) begin at normal
// priority, so a long parse or a busy script cannot hold a CPU at real-time
// priority. Returns the priority in effect (0: normal).
int SetLoopPriority(int flag);

}  // namespace vrrp::daemon
