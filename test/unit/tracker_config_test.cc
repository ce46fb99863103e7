// The trackers: / track: / script_user: part of the configuration, and the
// warning about weights that cannot change the election.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "vrrp/config_loader.h"

namespace vrrp {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kFile[] = "test.yml";

MATCHER_P2(ErrorAt, field, line, "") {
  return arg.field == field && arg.location.line == line &&
         arg.location.file == kFile;
}

Config Load(std::string_view yaml) {
  auto result = LoadConfigString(yaml, kFile);
  if (!result.ok()) {
    for (const ConfigError& e : result.error()) {
      ADD_FAILURE() << "unexpected error: " << e.ToString();
    }
    return Config{};
  }
  return *result;
}

std::vector<ConfigError> Errors(std::string_view yaml) {
  auto result = LoadConfigString(yaml, kFile);
  if (result.ok()) {
    ADD_FAILURE() << "expected errors, the configuration loaded";
    return {};
  }
  return result.error();
}

// An instance at `priority` tracking `track` (lines 1..7), after the
// trackers given (which start at line 1 too when given first).
std::string Instance(int priority, std::string_view track,
                     std::string_view extra = "") {
  return "instances:\n"
         "  - name: web\n"
         "    interface: eth0\n"
         "    vrid: 51\n"
         "    priority: " +
         std::to_string(priority) +
         "\n"
         "    virtual_ipaddresses: [198.51.100.10/24]\n"
         "    track: " +
         std::string(track) + "\n" + std::string(extra);
}

constexpr std::string_view kTrackers = R"(script_user: nobody
trackers:
  check_web:
    type: http
    url: http://127.0.0.1:8080/health
    expect_status: 204
    expect_body: ok
    interval: 500ms
    timeout: 200ms
    rise: 3
    fall: 2
    weight: -60
  script:
    type: exec
    command: [/usr/local/bin/check, --quiet]
    user: checker
  db:
    type: tcp
    address: 192.0.2.5
    port: 5432
  uplink:
    type: interface
    interface: eth1
  prio:
    type: file
    path: /run/prio
    weight: 2
  daemon:
    type: process
    process: nginx
  pid:
    type: process
    pidfile: /run/nginx.pid
)";

TEST(TrackerConfig, LoadsEveryTypeAndField) {
  const Config c = Load(std::string(kTrackers) +
                        Instance(200,
                                 "[check_web, {name: script, weight: 10}, "
                                 "uplink, prio, daemon, pid, db]"));
  EXPECT_EQ(c.script_user, "nobody");
  ASSERT_THAT(c.trackers, SizeIs(7));
  const TrackerConfig& http = c.trackers[0];
  EXPECT_EQ(http.name, "check_web");
  EXPECT_EQ(http.type, TrackerType::kHttp);
  EXPECT_EQ(http.url, "http://127.0.0.1:8080/health");
  EXPECT_EQ(http.expect_status, 204);
  EXPECT_EQ(http.expect_body, "ok");
  EXPECT_EQ(http.interval, 500ms);
  EXPECT_EQ(http.timeout, 200ms);
  EXPECT_EQ(http.rise, 3);
  EXPECT_EQ(http.fall, 2);
  EXPECT_EQ(http.weight, -60);
  EXPECT_EQ(http.location.line, 3);
  const TrackerConfig& exec = c.trackers[1];
  EXPECT_EQ(exec.type, TrackerType::kExec);
  EXPECT_EQ(exec.command,
            (std::vector<std::string>{"/usr/local/bin/check", "--quiet"}));
  EXPECT_EQ(exec.user, "checker");
  EXPECT_EQ(exec.weight, 0);
  EXPECT_EQ(exec.interval, 2s);  // defaults
  EXPECT_EQ(exec.timeout, 1s);
  EXPECT_EQ(exec.rise, 1);
  EXPECT_EQ(exec.fall, 1);
  EXPECT_EQ(c.trackers[2].address, IpAddress::Parse("192.0.2.5"));
  EXPECT_EQ(c.trackers[2].port, 5432);
  EXPECT_EQ(c.trackers[3].interface, "eth1");
  EXPECT_EQ(c.trackers[4].path, "/run/prio");
  EXPECT_EQ(c.trackers[5].process, "nginx");
  EXPECT_EQ(c.trackers[6].pidfile, "/run/nginx.pid");

  ASSERT_THAT(c.instances, SizeIs(1));
  const auto& track = c.instances[0].track;
  ASSERT_THAT(track, SizeIs(7));
  EXPECT_EQ(track[0], (TrackRef{"check_web", -60, {}}));  // tracker's weight
  EXPECT_EQ(track[1], (TrackRef{"script", 10, {}}));      // overridden
  EXPECT_EQ(track[3], (TrackRef{"prio", 2, {}}));
}

TEST(TrackerConfig, TrackerDefinedAfterInstancesIsFound) {
  const Config c = Load(Instance(200, "[late]") +
                        "trackers:\n  late:\n    type: interface\n"
                        "    interface: eth1\n");
  ASSERT_THAT(c.instances[0].track, SizeIs(1));
  EXPECT_EQ(c.instances[0].track[0].tracker, "late");
}

TEST(TrackerConfig, UnknownTrackerIsAnErrorWithASuggestion) {
  const auto errors =
      Errors(std::string(kTrackers) + Instance(200, "[chek_web]"));
  ASSERT_THAT(errors, ElementsAre(ErrorAt("instances[0].track[0]", 40)));
  EXPECT_THAT(errors[0].message, HasSubstr("did you mean \"check_web\"?"));
}

TEST(TrackerConfig, KeyOfAnotherTypeIsAnErrorNamingItsType) {
  const auto errors = Errors(R"(trackers:
  t:
    type: tcp
    address: 192.0.2.5
    port: 80
    url: http://x/
instances: []
)");
  ASSERT_THAT(errors, ElementsAre(ErrorAt("trackers.t.url", 6)));
  EXPECT_THAT(errors[0].message,
              HasSubstr("does not apply to type: tcp (it is for http)"));
}

TEST(TrackerConfig, UnknownKeyIsAnError) {
  EXPECT_THAT(Errors(R"(trackers:
  t:
    type: interface
    interface: eth1
    wieght: 3
instances: []
)"),
              ElementsAre(ErrorAt("trackers.t.wieght", 5)));
}

TEST(TrackerConfig, CommandMustBeAListBecauseThereIsNoShell) {
  const auto errors = Errors(R"(trackers:
  t:
    type: exec
    command: /bin/check --x
instances: []
)");
  ASSERT_THAT(errors, ElementsAre(ErrorAt("trackers.t.command", 4)));
  EXPECT_THAT(errors[0].message, HasSubstr("without a shell"));
}

TEST(TrackerConfig, ProgramMustBeAnAbsolutePath) {
  const auto errors = Errors(R"(trackers:
  t:
    type: exec
    command: [check, --x]
instances: []
)");
  ASSERT_THAT(errors, ElementsAre(ErrorAt("trackers.t.command[0]", 4)));
  EXPECT_THAT(errors[0].message, HasSubstr("no PATH search"));
}

TEST(TrackerConfig, InterfaceTrackersTakeNoInterval) {
  const auto errors = Errors(R"(trackers:
  t:
    type: interface
    interface: eth1
    interval: 1s
instances: []
)");
  ASSERT_THAT(errors, ElementsAre(ErrorAt("trackers.t.interval", 5)));
  EXPECT_THAT(errors[0].message, HasSubstr("link events"));
}

TEST(TrackerConfig, TimeoutLongerThanIntervalIsAnError) {
  const auto errors = Errors(R"(trackers:
  t:
    type: tcp
    address: 192.0.2.5
    port: 80
    interval: 1s
    timeout: 2s
instances: []
)");
  ASSERT_THAT(errors, ElementsAre(ErrorAt("trackers.t.timeout", 7)));
  EXPECT_THAT(errors[0].message, HasSubstr("never overlap"));
}

TEST(TrackerConfig, ShortIntervalShortensTheDefaultTimeout) {
  const Config c = Load(R"(trackers:
  t:
    type: tcp
    address: 192.0.2.5
    port: 80
    interval: 300ms
instances: []
)");
  EXPECT_EQ(c.trackers[0].timeout, 300ms);
}

TEST(TrackerConfig, WeightRanges) {
  EXPECT_THAT(Errors(R"(trackers:
  t:
    type: interface
    interface: eth1
    weight: -254
instances: []
)"),
              ElementsAre(ErrorAt("trackers.t.weight", 5)));
  EXPECT_EQ(Load(R"(trackers:
  t:
    type: file
    path: /run/x
    weight: -254
instances: []
)")
                .trackers[0]
                .weight,
            -254);
  // A 254 override is only for file trackers.
  EXPECT_THAT(
      Errors("trackers:\n  t:\n    type: interface\n    interface: eth1\n" +
             Instance(200, "[{name: t, weight: 254}]")),
      ElementsAre(ErrorAt("instances[0].track[0].weight", 11)));
}

TEST(TrackerConfig, ProcessNeedsExactlyOneOfNameAndPidfile) {
  EXPECT_THAT(Errors(R"(trackers:
  t:
    type: process
instances: []
)"),
              ElementsAre(ErrorAt("trackers.t", 3)));
}

TEST(TrackerConfig, TrackerListedTwiceIsAnError) {
  EXPECT_THAT(
      Errors("trackers:\n  t:\n    type: interface\n    interface: eth1\n" +
             Instance(200, "[t, {name: t, weight: 3}]")),
      ElementsAre(ErrorAt("instances[0].track[1]", 11)));
}

// --- the weight warning -----------------------------------------------------

std::vector<ConfigWarning> Warnings(std::string_view yaml) {
  return Load(yaml).warnings;
}

constexpr std::string_view kOneTracker =
    "trackers:\n  chk:\n    type: interface\n    interface: eth1\n";

TEST(WeightWarning, KeepalivedClassicMaster150Weight20Warns) {
  // Master 150, backup 100 (assumed: not configured), weight -20: the
  // failing master advertises 130 and stays master.
  const auto w = Warnings(std::string(kOneTracker) +
                          Instance(150, "[{name: chk, weight: -20}]"));
  ASSERT_THAT(w, SizeIs(1));
  EXPECT_EQ(w[0].location.line, 11);
  EXPECT_THAT(w[0].message,
              HasSubstr("weight -20 cannot change the election: priority 150 "
                        "becomes 130 when the tracker fails"));
  EXPECT_THAT(w[0].message, HasSubstr("a weight of at most -51"));
  EXPECT_THAT(w[0].message, HasSubstr("assumed"));
  EXPECT_THAT(w[0].ToString(), HasSubstr("test.yml:11:"));
  EXPECT_THAT(w[0].ToString(), HasSubstr(": warning: "));
}

TEST(WeightWarning, WeightThatCrossesThePeerDoesNotWarn) {
  EXPECT_THAT(Warnings(std::string(kOneTracker) +
                       Instance(150, "[{name: chk, weight: -51}]")),
              IsEmpty());
}

TEST(WeightWarning, ReachingEqualityIsNotEnough) {
  // 150 - 50 = 100 ties with the peer: the address decides, not the weight.
  EXPECT_THAT(Warnings(std::string(kOneTracker) +
                       Instance(150, "[{name: chk, weight: -50}]")),
              SizeIs(1));
}

TEST(WeightWarning, ConfiguredPeersReplaceTheAssumption) {
  // Against a peer at 140, -20 is enough.
  EXPECT_THAT(Warnings(std::string(kOneTracker) +
                       Instance(150, "[{name: chk, weight: -20}]",
                                "    peer_priorities: [140]\n")),
              IsEmpty());
  // A backup at 100 whose +20 cannot reach the master's 150.
  const auto w = Warnings(std::string(kOneTracker) +
                          Instance(100, "[{name: chk, weight: 20}]",
                                   "    peer_priorities: [150]\n"));
  ASSERT_THAT(w, SizeIs(1));
  EXPECT_THAT(w[0].message, HasSubstr("a weight of at least 51"));
  EXPECT_THAT(w[0].message, Not(HasSubstr("assumed")));
}

TEST(WeightWarning, WeightZeroNeverWarns) {
  EXPECT_THAT(Warnings(std::string(kOneTracker) + Instance(150, "[chk]")),
              IsEmpty());
}

TEST(WeightWarning, PriorityAtTheAssumedDefaultSaysNothing) {
  EXPECT_THAT(Warnings(std::string(kOneTracker) +
                       Instance(100, "[{name: chk, weight: -5}]")),
              IsEmpty());
}

TEST(WeightWarning, OwnerWeightHasNoEffect) {
  const auto w = Warnings(std::string(kOneTracker) +
                          Instance(255, "[{name: chk, weight: -100}]"));
  ASSERT_THAT(w, SizeIs(1));
  EXPECT_THAT(w[0].message, HasSubstr("address owner"));
}

TEST(WeightWarning, ConfigWithErrorsHasNoWarningsToShow) {
  // Errors first: the warnings come with a configuration that loads.
  EXPECT_THAT(
      Errors(std::string(kOneTracker) +
             Instance(150, "[{name: chk, weight: -20}]", "    bogus: 1\n")),
      SizeIs(1));
}

}  // namespace
}  // namespace vrrp
