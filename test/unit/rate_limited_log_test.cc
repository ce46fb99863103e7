#include "vrrp/rate_limited_log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vrrp {
namespace {

using std::chrono::seconds;

struct Fixture {
  TimePoint now{};
  std::vector<std::string> lines;
  RateLimitedLog log{
      {.burst = 3, .window = seconds(60), .max_reasons = 4},
      [this](LogLevel, const std::string& m) { lines.push_back(m); },
      [this] { return now; }};
};

TEST(RateLimitedLogTest, AllowsTheBurstThenSuppressesPerReason) {
  Fixture f;
  for (int i = 0; i < 1000; ++i) f.log.Log(LogLevel::kWarn, "tls", "tls fail");
  f.log.Log(LogLevel::kWarn, "auth", "auth fail");
  ASSERT_EQ(f.lines.size(), 4u);
  EXPECT_EQ(f.lines[3], "auth fail");  // another reason has its own budget
  EXPECT_EQ(f.log.suppressed_total(), 997u);
}

// The caller learns whether its line went out (LoggingObserver remembers a
// peer as warned about only then).
TEST(RateLimitedLogTest, SaysWhetherTheLineWasLogged) {
  Fixture f;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(f.log.Log(LogLevel::kWarn, "r", "x"));
  EXPECT_FALSE(f.log.Log(LogLevel::kWarn, "r", "x"));
}

TEST(RateLimitedLogTest, NextWindowSaysHowManyWereSuppressed) {
  Fixture f;
  for (int i = 0; i < 10; ++i) f.log.Log(LogLevel::kWarn, "tls", "x");
  f.now += seconds(59);
  f.log.Log(LogLevel::kWarn, "tls", "x");
  EXPECT_EQ(f.lines.size(), 3u);  // still the first window
  f.now += seconds(1);
  f.log.Log(LogLevel::kWarn, "tls", "x");
  ASSERT_EQ(f.lines.size(), 4u);
  EXPECT_EQ(f.lines.back(), "x (8 more \"tls\" lines suppressed)");
  // The new window has its full budget again.
  f.log.Log(LogLevel::kWarn, "tls", "y");
  f.log.Log(LogLevel::kWarn, "tls", "z");
  EXPECT_EQ(f.lines.back(), "z");
}

TEST(RateLimitedLogTest, FlushReportsAFloodThatStopped) {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.log.Log(LogLevel::kWarn, "bad request", "x");
  f.log.Flush();
  EXPECT_EQ(f.lines.size(), 3u);  // window not over: nothing yet
  f.now += seconds(61);
  f.log.Flush();
  ASSERT_EQ(f.lines.size(), 4u);
  EXPECT_EQ(f.lines.back(),
            "bad request: 2 more \"bad request\" lines suppressed");
  f.log.Flush();
  EXPECT_EQ(f.lines.size(), 4u);  // said once
}

TEST(RateLimitedLogTest, ReasonsBeyondTheCapShareOneBucket) {
  Fixture f;
  for (int i = 0; i < 100; ++i) {
    f.log.Log(LogLevel::kWarn, "reason " + std::to_string(i), "x");
  }
  // 4 tracked reasons with 1 line each, then "other" with its burst of 3.
  EXPECT_EQ(f.lines.size(), 7u);
}

}  // namespace
}  // namespace vrrp
