#include "exporter/auth_limiter.h"

#include <gtest/gtest.h>

namespace vrrp::exporter {
namespace {

using std::chrono::seconds;

struct Fixture {
  AuthFailureLimiter::Clock::time_point now{};
  AuthFailureLimiter limiter{
      {.max_failures = 3, .window = seconds(60), .max_addresses = 2},
      [this] { return now; }};
};

TEST(AuthFailureLimiterTest, BlocksAnAddressPastItsBudgetUntilTheWindowEnds) {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f.limiter.Blocked("192.0.2.1"), seconds(0));
    f.limiter.RecordFailure("192.0.2.1");
  }
  f.now += seconds(10);
  EXPECT_EQ(f.limiter.Blocked("192.0.2.1"), seconds(50));
  EXPECT_EQ(f.limiter.Blocked("192.0.2.2"), seconds(0));  // per address
  f.now += seconds(50);
  EXPECT_EQ(f.limiter.Blocked("192.0.2.1"), seconds(0));
}

TEST(AuthFailureLimiterTest, SuccessClearsTheFailures) {
  Fixture f;
  f.limiter.RecordFailure("192.0.2.1");
  f.limiter.RecordFailure("192.0.2.1");
  f.limiter.RecordSuccess("192.0.2.1");
  f.limiter.RecordFailure("192.0.2.1");
  f.limiter.RecordFailure("192.0.2.1");
  EXPECT_EQ(f.limiter.Blocked("192.0.2.1"), seconds(0));
}

TEST(AuthFailureLimiterTest, TableIsBounded) {
  Fixture f;
  for (int i = 0; i < 100; ++i) {
    f.limiter.RecordFailure("198.51.100." + std::to_string(i));
    f.now += seconds(1);
  }
  EXPECT_EQ(f.limiter.size(), 2u);
}

}  // namespace
}  // namespace vrrp::exporter
