#include "reload_coordinator.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

namespace vrrp::daemon {

ReloadCoordinator::ReloadCoordinator(sys::EventLoop& loop, std::string path,
                                     LoadFn load, Apply apply)
    : loop_(loop),
      path_(std::move(path)),
      load_(std::move(load)),
      apply_(std::move(apply)) {}

ReloadCoordinator::~ReloadCoordinator() {
  if (worker_.joinable()) worker_.join();
}

void ReloadCoordinator::Request(const std::string& why, Done done) {
  if (stopping_) {
    done(Err(std::string("shutting down")));
    return;
  }
  if (running_) {
    next_.push_back(std::move(done));
    next_why_ = why;
    return;
  }
  waiting_.push_back(std::move(done));
  StartLoad(why);
}

void ReloadCoordinator::Stop() { stopping_ = true; }

void ReloadCoordinator::StartLoad(const std::string& why) {
  running_ = true;
  spdlog::info("{}: reloading {}", why, path_);
  // The previous worker posted its result and returned before we got here
  // (its result is what ended `running_`).
  if (worker_.joinable()) worker_.join();
  worker_ = std::thread([this] {
    // Created by the loop, it would inherit SCHED_RR
    // (--vrrp.realtime-priority) and compete with it.
    sched_param normal{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
    // Shared: Post takes a copyable function.
    auto loaded = std::make_shared<Loaded>();
    loaded->config = load_(path_, [&](const std::string& e) {
      spdlog::error("reload rejected: {}", e);
      loaded->errors += e + "\n";
    });
    loop_.Post([this, loaded] { Finish(*loaded); });
  });
}

void ReloadCoordinator::Finish(Loaded& loaded) {
  Outcome outcome = Err(std::string("shutting down"));
  if (stopping_) {
    // The router is releasing; nothing to apply.
  } else if (!loaded.config) {
    spdlog::error("reload rejected; the running configuration stays");
    outcome =
        Err(loaded.errors + "reload rejected; the running configuration stays");
  } else {
    outcome = apply_(*loaded.config);
  }
  loaded.config.reset();
  running_ = false;
  // Stopping, those waiting for the next load get "shutting down" too.
  auto answered = std::exchange(waiting_, {});
  if (stopping_) {
    for (auto& done : std::exchange(next_, {})) {
      answered.push_back(std::move(done));
    }
  }
  for (auto& done : answered) done(outcome);
  if (next_.empty()) return;
  waiting_ = std::exchange(next_, {});
  StartLoad(next_why_);
}

}  // namespace vrrp::daemon
