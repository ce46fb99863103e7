#pragma once

// Golden-file comparison for the exposition tests. The test only ever reads
// the golden file: it fails when the file is missing or differs, and no
// environment variable makes it write one (issue 12: with UPDATE_GOLDEN set
// the tests wrote their output and compared it with itself). What it
// produced goes to the build tree, where scripts/update-golden.sh picks it
// up after a deliberate change.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vrrp::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(VRRP_SOURCE_DIR) + "/test/exporter/golden/" + name;
}

// Where the test leaves what it produced (never in the source tree).
inline std::string GoldenActualPath(const std::string& name) {
  return std::string(VRRP_BINARY_DIR) + "/test/exporter/golden-actual/" + name;
}

inline void ExpectMatchesGolden(const std::string& name,
                                const std::string& text) {
  const std::string actual = GoldenActualPath(name);
  std::filesystem::create_directories(
      std::filesystem::path(actual).parent_path());
  std::ofstream(actual) << text;
  std::ifstream in(GoldenPath(name));
  ASSERT_TRUE(in) << "missing golden file " << GoldenPath(name)
                  << " (scripts/update-golden.sh writes it)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(text, want.str())
      << "differs from " << GoldenPath(name) << "; this run's output is in "
      << actual << ". After a deliberate change: scripts/update-golden.sh";
}

}  // namespace vrrp::testing
