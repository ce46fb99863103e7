// vrrp_sim: three routers on a simulated LAN, with the real codec and state
// machine on the fake clock. Shows an election, a crash, a return with
// preemption, and a graceful stop in hitless and strict mode, with the time
// the virtual address went unserved in each case.
//
//   vrrp_sim [--interval-ms N]   (VRRPv3; default 1000)

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_scheduler.h"
#include "fakes/fake_wire.h"

namespace vrrp::testing {
namespace {

using std::chrono::milliseconds;

const IpPrefix kVip = *IpPrefix::Parse("198.51.100.10/24");

double Ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

class Printer : public InstanceObserver {
 public:
  explicit Printer(FakeScheduler& c) : clock_(c) {}
  void OnTransition(const Instance& i, const Transition& t) override {
    std::printf("  [%10.3f ms] %-3s %-10s -> %-10s (%s)", Ms(clock_.Elapsed()),
                i.name().c_str(), std::string(ToString(t.from)).c_str(),
                std::string(ToString(t.to)).c_str(),
                std::string(ToString(t.reason)).c_str());
    if (t.master_silence) {
      std::printf(", master silent for %.3f ms", Ms(*t.master_silence));
    }
    std::printf("\n");
  }

 private:
  FakeScheduler& clock_;
};

struct Sim {
  explicit Sim(Centiseconds interval) : interval(interval) {}
  SimRouter& Add(const char* name, const char* addr, uint8_t prio,
                 ShutdownMode mode = ShutdownMode::kHitless) {
    InstanceConfig c;
    c.name = name;
    c.interface = "eth0";
    c.vrid = 51;
    c.priority = prio;
    c.advert_interval = interval;
    c.virtual_addresses = {kVip};
    c.shutdown_mode = mode;
    routers.push_back(std::make_unique<SimRouter>(
        wire, name, "lan", *IpAddress::Parse(addr), c, &printer));
    return *routers.back();
  }
  // Runs for `d` in 100 us steps; returns the longest time nobody held the VIP.
  Duration Run(Duration d) {
    Duration gap{0}, longest{0};
    const Duration step = std::chrono::microseconds(100);
    for (Duration t{0}; t < d; t += step) {
      clock.Advance(step);
      int holders = 0;
      for (auto& r : routers) holders += r->addresses.Has(kVip);
      gap = holders == 0 ? gap + step : Duration{0};
      longest = std::max(longest, gap);
    }
    return longest;
  }
  std::string Master() {
    std::string m;
    for (auto& r : routers) {
      if (r->instance && r->instance->state() == State::kMaster) {
        m += (m.empty() ? "" : ",") + r->instance->name();
      }
    }
    return m.empty() ? "none" : m;
  }
  Centiseconds interval;
  FakeScheduler clock;
  FakeWire wire{clock};
  Printer printer{clock};
  std::vector<std::unique_ptr<SimRouter>> routers;
};

int Main(int argc, char** argv) {
  int interval_ms = 1000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--interval-ms") == 0)
      interval_ms = std::atoi(argv[i + 1]);
  }
  if (interval_ms < 10 || interval_ms > 40950 || interval_ms % 10) {
    std::fprintf(
        stderr,
        "vrrp_sim: --interval-ms must be a multiple of 10 in 10..40950\n");
    return 2;
  }
  const Centiseconds interval(interval_ms / 10);
  const Duration I = interval;
  std::printf(
      "vrrp_sim: RFC 5798 state machine and packet codec on a simulated LAN\n"
      "(fake clock, 100 us wire latency). VRRPv3, VRID 51, VIP %s, "
      "advertisements every %d ms.\n\n",
      kVip.ToString().c_str(), interval_ms);

  Sim sim(interval);
  sim.Add("r1", "192.0.2.1", 100);
  auto& r2 = sim.Add("r2", "192.0.2.2", 200);
  sim.Add("r3", "192.0.2.3", 150);
  std::printf(
      "1. Election: r1 priority 100, r2 priority 200, r3 priority 150\n");
  for (auto& r : sim.routers) r->instance->Start();
  sim.Run(5 * I);
  std::printf("   master: %s\n\n", sim.Master().c_str());

  std::printf(
      "2. Crash of r2 (silent, no priority 0). r3 must wait "
      "Master_Down_Interval\n"
      "   = 3 x %d ms + Skew_Time(150) = %.3f ms\n",
      interval_ms, Ms(MasterDownInterval(150, I)));
  const InstanceConfig r2_config = r2.instance->config();
  r2.port->SetLinkUp(false);
  r2.instance.reset();
  r2.addresses.installed.clear();  // a dead host answers for nothing
  Duration outage = sim.Run(6 * I);
  std::printf("   master: %s; the VIP was unserved for %.1f ms\n\n",
              sim.Master().c_str(), Ms(outage));

  std::printf("3. r2 comes back and preempts (priority 200 > 150)\n");
  r2.port->SetLinkUp(true);
  r2.instance = std::make_unique<Instance>(r2_config, sim.clock, *r2.port,
                                           r2.addresses, &sim.printer);
  r2.instance->Start();
  outage = sim.Run(6 * I);
  std::printf("   master: %s; VIP unserved for %.1f ms\n\n",
              sim.Master().c_str(), Ms(outage));

  std::printf(
      "4. Graceful stop of r2, hitless (the default): priority 0 is sent and "
      "r2\n"
      "   keeps the VIP until it hears r3, which takes over after "
      "Skew_Time(150)\n"
      "   = %.3f ms\n",
      Ms(SkewTime(150, I)));
  r2.instance->Shutdown([&] {
    std::printf("  [%10.3f ms] r2  released the VIP\n",
                Ms(sim.clock.Elapsed()));
  });
  outage = sim.Run(4 * I);
  std::printf("   master: %s; VIP unserved for %.1f ms\n\n",
              sim.Master().c_str(), Ms(outage));

  std::printf(
      "5. The same graceful stop in strict RFC mode (what Keepalived does):\n");
  Sim strict(interval);
  auto& s2 = strict.Add("s2", "192.0.2.2", 200, ShutdownMode::kStrict);
  strict.Add("s3", "192.0.2.3", 150);
  for (auto& r : strict.routers) r->instance->Start();
  strict.Run(5 * I);
  s2.instance->Shutdown();
  outage = strict.Run(4 * I);
  std::printf("   master: %s; VIP unserved for %.1f ms\n\n",
              strict.Master().c_str(), Ms(outage));
  std::printf(
      "The same with real daemons in network namespaces: scripts/demo.sh\n");
  return 0;
}

}  // namespace
}  // namespace vrrp::testing

int main(int argc, char** argv) { return vrrp::testing::Main(argc, argv); }
