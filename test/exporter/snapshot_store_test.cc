#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "exporter/snapshot.h"

namespace vrrp::exporter {
namespace {

// The loop frees snapshots itself (see SnapshotStore): one that a scrape
// still holds waits, and goes at the first Publish after the scrape let go.
TEST(SnapshotStore, ReplacedSnapshotIsFreedByThePublisherOnceUnused) {
  SnapshotStore store;
  store.Publish(std::make_shared<Snapshot>());
  std::weak_ptr<const Snapshot> first = store.Latest();
  auto held_by_scrape = store.Latest();

  store.Publish(std::make_shared<Snapshot>());
  EXPECT_EQ(store.RetiredForTest(), 1u);  // the scrape still reads it

  // The scrape ends on another thread: its release must not free it.
  std::thread([s = std::move(held_by_scrape)]() mutable { s.reset(); }).join();
  EXPECT_FALSE(first.expired()) << "freed by the scrape's thread";

  store.Publish(std::make_shared<Snapshot>());
  EXPECT_TRUE(first.expired()) << "not freed by the next Publish";
  EXPECT_EQ(store.RetiredForTest(), 0u);
}

TEST(SnapshotStore, UnheldSnapshotsDoNotAccumulate) {
  SnapshotStore store;
  for (int i = 0; i < 100; ++i) store.Publish(std::make_shared<Snapshot>());
  EXPECT_EQ(store.RetiredForTest(), 0u);
  EXPECT_NE(store.Latest(), nullptr);
}

}  // namespace
}  // namespace vrrp::exporter
