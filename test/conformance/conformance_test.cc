// Runs every scenario under test/conformance/scenarios, in each VRRP version
// it names, and checks that together they cover every §6.4 transition.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "conformance/scenario.h"

namespace vrrp::testing {
namespace {

struct Case {
  std::string path;
  Version version;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  const std::filesystem::path dir =
      std::filesystem::path(VRRP_SOURCE_DIR) / "test/conformance/scenarios";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".scn") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    for (Version v : ScenarioVersions(f)) cases.push_back({f, v});
  }
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << std::filesystem::path(c.path).filename().string() << " v"
      << ToString(c.version);
}

class Conformance : public ::testing::TestWithParam<Case> {};

TEST_P(Conformance, Scenario) {
  auto r = RunScenario(GetParam().path, GetParam().version);
  EXPECT_TRUE(r.ok) << r.failure;
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, Conformance, ::testing::ValuesIn(AllCases()),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name =
          std::filesystem::path(info.param.path).stem().string() + "_v" +
          std::string(ToString(info.param.version));
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(ConformanceCoverage, AtLeastTwentyScenarioFiles) {
  EXPECT_GE(AllCases().size(), 20u);
}

// Every transition RFC 5798 §6.4 defines (plus Fault), in both versions.
TEST(ConformanceCoverage, EverySection64TransitionInBothVersions) {
  std::set<std::tuple<Version, State, State, TransitionReason>> seen;
  for (const auto& c : AllCases()) {
    auto r = RunScenario(c.path, c.version);
    seen.insert(r.transitions.begin(), r.transitions.end());
  }
  using S = State;
  using R = TransitionReason;
  const std::vector<std::tuple<S, S, R>> required = {
      {S::kInitialize, S::kBackup, R::kStartup},           // §6.4.1
      {S::kInitialize, S::kMaster, R::kStartup},           // §6.4.1 owner
      {S::kBackup, S::kMaster, R::kMasterDownTimer},       // §6.4.2
      {S::kBackup, S::kMaster, R::kPriorityZeroReceived},  // §6.4.2
      {S::kBackup, S::kMaster, R::kLowerPriorityMaster},   // §6.4.2 preempt
      {S::kBackup, S::kInitialize, R::kShutdown},          // §6.4.2
      {S::kMaster, S::kBackup, R::kHigherPriorityMaster},  // §6.4.3
      {S::kMaster, S::kInitialize, R::kShutdown},          // §6.4.3
      {S::kBackup, S::kFault, R::kInterfaceDown},
      {S::kMaster, S::kFault, R::kInterfaceDown},
      {S::kFault, S::kBackup, R::kInterfaceUp},
      {S::kMaster, S::kFault, R::kTracker},
      {S::kFault, S::kBackup, R::kTracker},
      {S::kFault, S::kMaster, R::kInterfaceUp},  // owner
      {S::kFault, S::kInitialize, R::kShutdown},
  };
  for (Version v : {Version::kV2, Version::kV3}) {
    for (const auto& [from, to, why] : required) {
      EXPECT_TRUE(seen.count({v, from, to, why}))
          << "no scenario covers v" << ToString(v) << " " << ToString(from)
          << "->" << ToString(to) << " " << ToString(why);
    }
  }
}

}  // namespace
}  // namespace vrrp::testing
