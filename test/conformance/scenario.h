#pragma once

// Conformance scenarios: text files of inputs and the exact outputs the
// state machine must produce, each stamped with the fake clock. The
// instance runs inside a Router over a one-interface link layer (eth0), so
// received datagrams pass the router's decoder and VRID demultiplexer, and
// reloads, link and address events take the router's paths.
//
//   # comment
//   config versions=2,3 vrid=1 priority=100 interval=1s vips=198.51.100.10/24
//          source=192.0.2.2 [preempt=false] [preempt_delay=5s]
//          [auth=pass:secret] [shutdown=strict] [unicast_peers=a,b]
//          [checksum=without-pseudo-header]     (one line)
//   start | shutdown | tracker fault|ok | delta N
//   no-source | source
//   link [eth0] up|down                 (a link event, through the router)
//   addr-del eth0 PREFIX                (an address deleted behind our back)
//   reload KEY=VALUE...                 (the config line with these keys
//                                        changed, applied by Router::Reload)
//   advance DURATION                    (fires due timers in order)
//   late DURATION       (from here on every timer fires DURATION after its
//                        deadline; `late 0ms` puts the clock back on time)
//   stall DURATION      (time passes with nothing firing, then every timer
//                        due fires at once, in deadline order: a burst)
//   recv from=ADDR prio=N [int=DUR] [vrid=N] [version=N] [vips=a,b]
//        [ttl=N] [auth=none|pass:PW] [form=without-pseudo-header]
//        [to=ADDR]                   (default: the VRRP multicast group)
//   recv from=ADDR hex=31010164_... [ttl=N] [to=ADDR]
//        (the VRRP message as raw bytes, '_' ignored, checksum included:
//        written from the RFC's field layout, not by our encoder)
//   check state=Master master=ADDR master_prio=N eff_prio=N
//         master_int=DUR error.REASON=N received=N sent=N
//         prio0_received=N prio0_sent=N max_lateness=DUR releasing=BOOL
//         become_master=N release_master=N announcements=N
//         with_pseudo=N without_pseudo=N     (checksum forms received)
//   > TIME OUTPUT                       (the next output, exactly)
//
// Outputs: `send prio=N int=DUR`, `announce` (every address),
// `announce PREFIX,...` (some: added by a reload, or put back), `add PREFIX`,
// `remove PREFIX`, `transition FROM->TO REASON [silence=DUR]`,
// `error REASON [followed]` (instance-level §7.1; `followed`: counted but
// the advertisement is still used), `drop REASON` (refused by the router
// before any instance: the decoder, or a VRID not configured here),
// `stray PREFIX` (a killed run's address removed at start),
// `released` (hitless or strict shutdown finished).
// Every output must be expected, in order; `config versions=2,3` runs the
// file once per version with the same expectations.

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "vrrp/instance.h"

namespace vrrp::testing {

struct ScenarioResult {
  bool ok = true;
  std::string failure;  // "file:line: ..." when !ok
  // (version, from, to, reason) of every transition seen.
  std::set<std::tuple<Version, State, State, TransitionReason>> transitions;
};

// The versions a scenario file asks to be run with.
std::vector<Version> ScenarioVersions(const std::string& path);
ScenarioResult RunScenario(const std::string& path, Version version);

std::string FormatDuration(Duration d);

}  // namespace vrrp::testing
