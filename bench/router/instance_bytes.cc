// Where an instance's bytes go: the heap each added instance costs in the
// router (its configuration, state machine, timers on the real event loop,
// port, metrics, demultiplexing entry) and in the published snapshot, by
// malloc's own accounting (mallinfo2), with 1 and with N instances, and the
// sizes of the structures behind it. No root: the link layer is the test
// fake, so the Linux port's own bytes (its announcement timer, about 150
// bytes) are not in these figures; bench/failover measures the daemon's
// resident memory as a user reads it.
//
//   instance_bytes [--instances=251]

#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "fakes/fake_link_layer.h"
#include "vrrp/router.h"
#include "vrrp/sys/event_loop.h"

namespace {

size_t HeapInUse() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

vrrp::Config MakeConfig(int count) {
  vrrp::Config config;
  for (int k = 0; k < count; ++k) {
    vrrp::InstanceConfig c;
    c.name = "vip" + std::to_string(k + 1);
    c.interface = "eth0";
    c.vrid = static_cast<uint8_t>(k + 1);
    c.priority = 150;
    c.advert_interval = vrrp::Centiseconds(100);
    c.virtual_addresses = {*vrrp::IpPrefix::Parse(
        "198.51.100." + std::to_string(k % 250 + 1) + "/24")};
    c.location.file = "/etc/vrrp_exporter/config.yml";
    c.location.line = 3 + 7 * k;
    config.instances.push_back(std::move(c));
  }
  return config;
}

struct Figures {
  size_t router = 0;    // heap held by the router's instances
  size_t snapshot = 0;  // heap held by one published instance list
};

Figures Measure(vrrp::sys::EventLoop& loop, int count) {
  Figures f;
  const vrrp::Config config = MakeConfig(count);
  // The fake's clock is not used: timers are the real loop's.
  vrrp::testing::FakeScheduler unused;
  auto link = std::make_unique<vrrp::testing::FakeLinkLayer>(unused);
  link->AddInterface("eth0", {"192.0.2.1/24"});
  link->log.reserve(16 * static_cast<size_t>(count));
  const size_t before = HeapInUse();
  auto router =
      std::make_unique<vrrp::Router>(loop, *link, vrrp::Router::Options{});
  router->Start(config);
  link->log.clear();
  f.router = HeapInUse() - before;
  vrrp::InstanceList list;
  const size_t before_list = HeapInUse();
  router->FillInstances(list);
  f.snapshot = HeapInUse() - before_list;
  list.clear();
  router.reset();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 251;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--instances=", 12) == 0) {
      count = std::atoi(argv[i] + 12);
    }
  }
  if (count < 2 || count > 255) {
    std::fprintf(stderr, "--instances: 2..255\n");
    return 2;
  }
  auto loop = vrrp::sys::EventLoop::Create();
  if (!loop.ok()) {
    std::fprintf(stderr, "event loop: %s\n", loop.error().c_str());
    return 1;
  }
  Measure(*loop.value(), count);  // warm-up: the allocator's first arenas
  const Figures one = Measure(*loop.value(), 1);
  const Figures many = Measure(*loop.value(), count);
  const double per_router =
      static_cast<double>(many.router - one.router) / (count - 1);
  const double per_snapshot =
      static_cast<double>(many.snapshot - one.snapshot) / (count - 1);
  std::printf(
      "heap per added instance (mallinfo2 uordblks, 1 -> %d "
      "instances, fake link layer)\n",
      count);
  std::printf("  %-44s %8.0f bytes\n", "router (instance, timers, metrics...)",
              per_router);
  std::printf("  %-44s %8.0f bytes\n", "published instance list entry",
              per_snapshot);
  std::printf("  %-44s %8.0f bytes\n", "total", per_router + per_snapshot);
  std::printf("sizes (sizeof, bytes; heap blocks they own come on top)\n");
  std::printf("  %-44s %8zu\n", "InstanceConfig", sizeof(vrrp::InstanceConfig));
  std::printf("  %-44s %8zu\n", "Instance", sizeof(vrrp::Instance));
  std::printf("  %-44s %8zu\n", "InstanceStats (shared, live)",
              sizeof(vrrp::InstanceStats));
  std::printf("  %-44s %8zu\n", "InstanceStatus", sizeof(vrrp::InstanceStatus));
  std::printf("  %-44s %8zu\n", "InstanceSnapshot",
              sizeof(vrrp::InstanceSnapshot));
  std::printf("  %-44s %8zu\n", "Histogram", sizeof(vrrp::Histogram));
  std::printf("  %-44s %8zu\n", "PeerInfo", sizeof(vrrp::PeerInfo));
  return 0;
}
