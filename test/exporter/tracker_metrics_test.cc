// The tracker metrics of a fixed snapshot, compared with a golden file and
// checked by promtool. Regenerate after a deliberate change with
// scripts/update-golden.sh (the test itself never writes it).

#include "exporter/tracker_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "exporter/golden_file.h"
#include "exporter/speaker_collector.h"

namespace vrrp::exporter {
namespace {

using namespace std::chrono_literals;

Snapshot Fixed() {
  Snapshot s;
  s.taken_at_unix_seconds = 1700000000.0;
  TrackerSnapshot web;
  web.status.name = "web_health";
  web.status.type = vrrp::TrackerType::kHttp;
  web.status.health = vrrp::TrackerHealth::kDown;
  web.status.checks = 40;
  web.status.failures[static_cast<size_t>(vrrp::CheckFailure::kHttpStatus)] = 3;
  web.status.failures[static_cast<size_t>(vrrp::CheckFailure::kTimeout)] = 1;
  web.status.last_ok = false;
  web.status.last_failure = vrrp::CheckFailure::kHttpStatus;
  web.status.last_duration = 12500us;
  web.last_check_unix_seconds = 1699999999.5;
  s.trackers.push_back(web);
  TrackerSnapshot script;
  script.status.name = "script";
  script.status.type = vrrp::TrackerType::kExec;
  script.status.health = vrrp::TrackerHealth::kUp;
  script.status.running = true;
  script.status.checks = 7;
  script.status.last_ok = true;
  script.status.last_duration = 3ms;
  script.last_check_unix_seconds = 1699999998.0;
  s.trackers.push_back(script);
  TrackerSnapshot file;
  file.status.name = "prio";
  file.status.type = vrrp::TrackerType::kFile;
  file.status.health = vrrp::TrackerHealth::kUp;
  file.status.checks = 1;
  file.status.last_ok = true;
  file.status.value = -4;
  s.trackers.push_back(file);
  TrackerSnapshot fresh;  // no result yet
  fresh.status.name = "uplink";
  fresh.status.type = vrrp::TrackerType::kInterface;
  s.trackers.push_back(fresh);

  InstanceSnapshot i;

  auto config = std::make_shared<vrrp::InstanceConfig>();

  i.config = config;
  config->name = "web";
  config->interface = "eth0";
  config->vrid = 51;
  config->priority = 150;
  i.status.name = "web";
  vrrp::TrackedStatus a;
  a.tracker = "web_health";
  a.weight = -60;
  a.health = vrrp::TrackerHealth::kDown;
  a.effect.delta = -60;
  vrrp::TrackedStatus b;
  b.tracker = "script";
  b.weight = 0;
  b.health = vrrp::TrackerHealth::kUp;
  i.tracking = {a, b};
  s.instances.push_back(i);
  return s;
}

std::string Expose(bool compat) {
  std::vector<prometheus::MetricFamily> families;
  TrackerFamilies(Fixed(), compat, families);
  return prometheus::TextSerializer().Serialize(families);
}

TEST(TrackerMetrics, MatchesTheGoldenExposition) {
  vrrp::testing::ExpectMatchesGolden("trackers.prom", Expose(/*compat=*/true));
}

TEST(TrackerMetrics, PromtoolFindsNothingToComplainAbout) {
  const std::string path = ::testing::TempDir() + "/trackers.prom";
  std::ofstream(path) << Expose(true);
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST(TrackerMetrics, CompatSeriesFollowKeepalivedExporter) {
  std::vector<prometheus::MetricFamily> families;
  TrackerFamilies(Fixed(), true, families);
  std::map<std::string, double> status, state;
  for (const auto& f : families) {
    if (f.name.rfind("keepalived_", 0) != 0) continue;
    for (const auto& m : f.metric) {
      // keepalived-exporter's only label for these is `name`.
      ASSERT_EQ(m.label.size(), 1u) << f.name;
      EXPECT_EQ(m.label[0].name, "name");
      (f.name == "keepalived_script_status" ? status
                                            : state)[m.label[0].value] =
          m.gauge.value;
    }
  }
  // 0 BAD 1 GOOD; 0 idle 1 running.
  EXPECT_EQ(status,
            (std::map<std::string, double>{
                {"web_health", 0}, {"script", 1}, {"prio", 1}, {"uplink", 1}}));
  EXPECT_EQ(state["script"], 1);
  EXPECT_EQ(state["web_health"], 0);
}

TEST(TrackerMetrics, NoCompatNoKeepalivedNames) {
  std::vector<prometheus::MetricFamily> families;
  TrackerFamilies(Fixed(), false, families);
  for (const auto& f : families)
    EXPECT_EQ(f.name.rfind("keepalived_", 0), std::string::npos);
}

TEST(TrackerMetrics, NoTrackersNoFamilies) {
  std::vector<prometheus::MetricFamily> families;
  TrackerFamilies(Snapshot{}, true, families);
  EXPECT_TRUE(families.empty());
  // And the speaker's own exposition is unchanged by them.
  EXPECT_FALSE(SpeakerCollector::Families(Snapshot{}, true, 0).empty());
}

}  // namespace
}  // namespace vrrp::exporter
