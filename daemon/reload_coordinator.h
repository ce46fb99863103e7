#pragma once

// Reloads (SIGHUP, POST /-/reload): the file is read, parsed and checked on
// a worker thread, and only the finished configuration is applied on the
// loop. Parsing a large file (a 15 MB one took 1.3 s) on the loop held the
// advertisement timer past a backup's Master_Down_Interval, and the backup
// took over on every reload. One load at a time; a request during a load
// gets the result of one more load that starts after it (the file may have
// changed since the running one read it).

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/result.h"
#include "vrrp/sys/event_loop.h"

namespace vrrp::daemon {

class ReloadCoordinator {
 public:
  using Outcome = Result<std::string, std::string>;
  using Done = std::function<void(const Outcome&)>;
  // On the loop: applies a configuration that loaded cleanly and says what
  // it did.
  using Apply = std::function<std::string(Config&)>;
  // On the worker: loads the file, reporting each error through `report`.
  using LoadFn = std::function<std::optional<Config>(
      const std::string& path,
      const std::function<void(const std::string&)>& report)>;

  ReloadCoordinator(sys::EventLoop& loop, std::string path, LoadFn load,
                    Apply apply);
  ~ReloadCoordinator();
  ReloadCoordinator(const ReloadCoordinator&) = delete;
  ReloadCoordinator& operator=(const ReloadCoordinator&) = delete;

  // On the loop thread. `done` runs on the loop with the outcome.
  void Request(const std::string& why, Done done);
  // From now on nothing is applied; pending requests get "shutting down".
  void Stop();

 private:
  struct Loaded {
    std::optional<Config> config;  // none: rejected
    std::string errors;            // one FILE:LINE:... per line
  };
  void StartLoad(const std::string& why);
  void Finish(Loaded& loaded);

  sys::EventLoop& loop_;
  const std::string path_;
  LoadFn load_;
  Apply apply_;
  bool stopping_ = false;
  bool running_ = false;
  std::vector<Done> waiting_;  // for the running load
  std::vector<Done> next_;     // for the one after it
  std::string next_why_;
  std::thread worker_;
};

}  // namespace vrrp::daemon
