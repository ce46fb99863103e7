#pragma once

// When a master announces its virtual addresses (gratuitous ARP / unsolicited
// NA): a burst on becoming master (§6.4.1, §6.4.2), a second burst a little
// later for hosts that missed the first (Keepalived's garp_master_delay), and
// a periodic refresh while master (garp_master_refresh), which also heals a
// split brain whose losing side yielded without us hearing it.

#include <cstdint>
#include <functional>
#include <memory>

#include "vrrp/scheduler.h"
#include "vrrp/time.h"

namespace vrrp {

struct AnnounceConfig {
  uint32_t count = 3;  // announcements per burst, >= 1
  Duration interval = std::chrono::milliseconds(100);     // between them
  Duration second_burst_after = std::chrono::seconds(5);  // 0: none
  Duration refresh = std::chrono::seconds(60);            // 0: none

  bool operator==(const AnnounceConfig&) const = default;
};

class AnnouncementSchedule {
 public:
  // `send_once` announces every address once.
  AnnouncementSchedule(Scheduler& scheduler, AnnounceConfig config,
                       std::function<void()> send_once);
  // Sends now and schedules the rest; restarts a schedule in progress.
  void Start();
  // Nothing more is sent until the next Start().
  void Stop();
  bool active() const { return active_; }

 private:
  void OnTimer();
  void ArmNext();

  Scheduler& scheduler_;
  AnnounceConfig config_;
  std::function<void()> send_once_;
  std::unique_ptr<Timer> timer_;
  bool active_ = false;
  uint32_t sent_in_burst_ = 0;
  bool second_burst_done_ = false;
};

}  // namespace vrrp
