#include "vrrp/sys/script_security.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

// Real files with real owners and modes; needs root (chown) and fails
// loudly without it.

namespace vrrp::sys {
namespace {

namespace fs = std::filesystem;

class ScriptSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "script security tests need root";
    char tmpl[] = "/tmp/vrrp-script-XXXXXX";  // 0700, root's, under sticky /tmp
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto nobody = LookupUser("nobody");
    ASSERT_TRUE(nobody.ok()) << nobody.error();
    nobody_ = *nobody;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Script(const std::string& rel, mode_t mode = 0755) {
    const std::string path = dir_ + "/" + rel;
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "#!/bin/sh\nexit 0\n";
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  static ScriptCheckOptions AsRoot() {
    ScriptCheckOptions o;
    o.enforce_ownership = true;
    return o;
  }

  std::string dir_;
  ProcessUser nobody_;
};

TEST_F(ScriptSecurityTest, AcceptsARootOwnedScriptInRootOwnedDirectories) {
  const std::string path = Script("ok.sh");
  auto r = CheckScript(path, AsRoot());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, path);
  // /bin/sh is a symlink on Debian (to dash): resolved, then checked.
  EXPECT_TRUE(CheckScript("/bin/sh", AsRoot()).ok());
}

TEST_F(ScriptSecurityTest, RefusesAWorldWritableScript) {
  const std::string path = Script("ww.sh", 0757);
  auto r = CheckScript(path, AsRoot());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().problem, ScriptProblem::kInsecure);
  EXPECT_EQ(r.error().path, path);
  EXPECT_NE(r.error().message.find("writable by others"), std::string::npos)
      << r.error().message;
}

TEST_F(ScriptSecurityTest, RefusesAGroupWritableScriptOfANonRootGroup) {
  const std::string path = Script("gw.sh", 0775);
  ASSERT_EQ(::chown(path.c_str(), 0, nobody_.gid), 0);
  auto r = CheckScript(path, AsRoot());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().problem, ScriptProblem::kInsecure);
  // Group root may write: only root is in it.
  ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
  EXPECT_TRUE(CheckScript(path, AsRoot()).ok());
}

TEST_F(ScriptSecurityTest, RefusesAWritableParentDirectory) {
  const std::string path = Script("open/inner/hook.sh");
  const std::string parent = dir_ + "/open";
  ASSERT_EQ(::chmod(parent.c_str(), 0777), 0);
  auto r = CheckScript(path, AsRoot());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().problem, ScriptProblem::kInsecure);
  EXPECT_EQ(r.error().path, parent);  // names the directory, not the file
  // The sticky bit makes it like /tmp: others cannot replace our entries.
  ASSERT_EQ(::chmod(parent.c_str(), 01777), 0);
  EXPECT_TRUE(CheckScript(path, AsRoot()).ok());
}

TEST_F(ScriptSecurityTest, RefusesAScriptOwnedByANonRootUser) {
  const std::string path = Script("theirs.sh");
  ASSERT_EQ(::chown(path.c_str(), nobody_.uid, 0), 0);
  auto r = CheckScript(path, AsRoot());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().problem, ScriptProblem::kInsecure);
  EXPECT_NE(r.error().message.find("owned by uid 65534"), std::string::npos);
  // ...unless it runs as that very user: then it gains nothing.
  ScriptCheckOptions as_nobody = AsRoot();
  as_nobody.run_as = nobody_;
  EXPECT_TRUE(CheckScript(path, as_nobody).ok());
}

TEST_F(ScriptSecurityTest, ASymlinkIsCheckedAtItsTarget) {
  // The link lives in a safe directory; its target does not.
  const std::string target = Script("unsafe/real.sh");
  ASSERT_EQ(::chmod((dir_ + "/unsafe").c_str(), 0777), 0);
  const std::string link = dir_ + "/link.sh";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto r = CheckScript(link, AsRoot());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().problem, ScriptProblem::kInsecure);
  EXPECT_EQ(r.error().path, dir_ + "/unsafe");
}

TEST_F(ScriptSecurityTest, OwnershipIsNotEnforcedWhenNotRoot) {
  const std::string path = Script("ww.sh", 0777);
  ScriptCheckOptions o;
  o.enforce_ownership = false;
  EXPECT_TRUE(CheckScript(path, o).ok());
}

TEST_F(ScriptSecurityTest, ReportsMissingNotExecutableAndRelative) {
  auto missing = CheckScript(dir_ + "/nope.sh", AsRoot());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().problem, ScriptProblem::kNotFound);
  EXPECT_EQ(missing.error().path, dir_ + "/nope.sh");

  auto plain = CheckScript(Script("plain.sh", 0644), AsRoot());
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().problem, ScriptProblem::kNotExecutable);

  // Executable by its owner only: root may run it, nobody may not.
  const std::string owner_only = Script("owner.sh", 0700);
  EXPECT_TRUE(CheckScript(owner_only, AsRoot()).ok());
  ScriptCheckOptions as_nobody = AsRoot();
  as_nobody.run_as = nobody_;
  auto denied = CheckScript(owner_only, as_nobody);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().problem, ScriptProblem::kNotExecutable);

  auto rel = CheckScript("notify.sh", AsRoot());
  ASSERT_FALSE(rel.ok());
  EXPECT_EQ(rel.error().problem, ScriptProblem::kNotAbsolute);

  auto dir = CheckScript(dir_, AsRoot());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().problem, ScriptProblem::kNotRegularFile);
}

}  // namespace
}  // namespace vrrp::sys
