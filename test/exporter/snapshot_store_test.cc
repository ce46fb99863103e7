#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "exporter/snapshot.h"

namespace vrrp::exporter {
namespace {

TEST(TransitionCountsTest, CountsPerKeyInKeyOrder) {
  using vrrp::State;
  using vrrp::TransitionReason;
  const TransitionKey a{State::kInitialize, State::kBackup,
                        TransitionReason::kStartup};
  const TransitionKey b{State::kBackup, State::kMaster,
                        TransitionReason::kMasterDownTimer};
  const TransitionKey c{State::kMaster, State::kBackup,
                        TransitionReason::kHigherPriorityMaster};
  TransitionCounts t;
  EXPECT_TRUE(t.empty());
  ++t[c];
  ++t[a];
  ++t[b];
  ++t[c];
  ASSERT_EQ(t.size(), 3u);
  std::vector<TransitionKey> keys;
  for (const auto& [key, n] : t) keys.push_back(key);
  std::vector<TransitionKey> sorted = {a, b, c};
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(keys, sorted);  // the order the std::map it replaced had
  EXPECT_EQ(t[c], 2u);
  EXPECT_EQ(t[a], 1u);
  TransitionCounts copy = t;
  EXPECT_TRUE(copy == t);
  ++copy[a];
  EXPECT_FALSE(copy == t);
  t.clear();
  EXPECT_TRUE(t.empty());
}

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

// The loop refills the snapshot it replaced instead of allocating a new one
// (issue 3), but only once no scrape reads it any more.
TEST(SnapshotStore, ReplacedReusableSnapshotComesBackOnceUnused) {
  SnapshotStore store;
  store.PublishReusable(std::make_shared<Snapshot>());
  EXPECT_EQ(store.TakeReusable(), nullptr) << "the latest is never reused";
  const Snapshot* first = store.Latest().get();
  auto held_by_scrape = store.Latest();

  store.PublishReusable(std::make_shared<Snapshot>());
  EXPECT_EQ(store.TakeReusable(), nullptr) << "reused while a scrape reads";

  std::thread([s = std::move(held_by_scrape)]() mutable { s.reset(); }).join();
  store.PublishReusable(std::make_shared<Snapshot>());
  auto reused = store.TakeReusable();
  ASSERT_NE(reused, nullptr);
  EXPECT_EQ(reused.get(), first);
  EXPECT_EQ(reused.use_count(), 1) << "the store still holds it";
  EXPECT_EQ(store.TakeReusable(), nullptr) << "handed out twice";
}

// At most one spare: the others are freed as before.
TEST(SnapshotStore, KeepsOneSpareAndFreesTheRest) {
  SnapshotStore store;
  std::vector<std::weak_ptr<const Snapshot>> published;
  std::vector<std::shared_ptr<const Snapshot>> held;
  for (int i = 0; i < 3; ++i) {
    store.PublishReusable(std::make_shared<Snapshot>());
    published.push_back(store.Latest());
    held.push_back(store.Latest());
  }
  held.clear();
  store.PublishReusable(std::make_shared<Snapshot>());
  EXPECT_EQ(store.RetiredForTest(), 0u);
  int alive = 0;
  for (const auto& w : published) alive += w.expired() ? 0 : 1;
  EXPECT_EQ(alive, 1) << "one spare, nothing else kept";
  EXPECT_NE(store.TakeReusable(), nullptr);
}

// What Publish got as const is never handed back to be written.
TEST(SnapshotStore, PublishedSnapshotIsNeverReused) {
  SnapshotStore store;
  store.Publish(std::make_shared<const Snapshot>());
  store.Publish(std::make_shared<Snapshot>());
  store.Publish(std::make_shared<Snapshot>());
  EXPECT_EQ(store.TakeReusable(), nullptr);
  // Replaces the last Publish()ed one.
  store.PublishReusable(std::make_shared<Snapshot>());
  EXPECT_EQ(store.TakeReusable(), nullptr) << "a Publish()ed one came back";
  store.PublishReusable(std::make_shared<Snapshot>());
  EXPECT_NE(store.TakeReusable(), nullptr);
}

}  // namespace
}  // namespace vrrp::exporter
