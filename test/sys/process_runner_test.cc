#include "vrrp/sys/process_runner.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "vrrp/sys/event_loop.h"

// Real processes on a real event loop. Assertions are on outcomes and order,
// never on durations; every Run() has a safety timer that fails the test
// instead of hanging.

namespace vrrp::sys {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kSafety = seconds(30);

// True once `pid` is gone or a zombie (its parent is dead and whoever
// adopted it may not reap promptly): either way it runs no more code.
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         line[paren + 2] == 'Z';
}

class ProcessRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.error();
    loop_ = std::move(loop).value();
    runner_ = std::make_unique<ProcessRunner>(*loop_, milliseconds(200));
  }
  void TearDown() override { runner_.reset(); }

  ProcessResult RunToCompletion(ProcessSpec spec) {
    std::optional<ProcessResult> result;
    runner_->Run(std::move(spec), [&](const ProcessResult& r) {
      result = r;
      loop_->Stop();
    });
    RunLoop();
    EXPECT_TRUE(result.has_value()) << "no completion before the safety timer";
    return result.value_or(ProcessResult{});
  }

  void RunLoop() {
    auto safety = loop_->CreateTimer([this] {
      ADD_FAILURE() << "safety timer fired";
      loop_->Stop();
    });
    safety->ArmAt(loop_->Now() + kSafety);
    loop_->Run();
  }

  static ProcessSpec Sh(const std::string& script) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    return spec;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<ProcessRunner> runner_;
};

TEST_F(ProcessRunnerTest, ReportsExitCodeAndOutput) {
  ProcessResult r = RunToCompletion(Sh("echo out; echo err >&2; exit 3"));
  EXPECT_EQ(r.outcome, ProcessOutcome::kExited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_FALSE(r.output_truncated);
  EXPECT_FALSE(r.succeeded());
  EXPECT_TRUE(RunToCompletion(Sh("true")).succeeded());
}

TEST_F(ProcessRunnerTest, PassesArgumentsWithoutAShell) {
  ProcessSpec spec;
  // A shell would expand these; execve passes them as they are.
  spec.argv = {"/usr/bin/printf", "%s|", "a b", "$HOME", "*"};
  ProcessResult r = RunToCompletion(spec);
  EXPECT_TRUE(r.succeeded()) << r.Describe();
  EXPECT_EQ(r.output, "a b|$HOME|*|");
}

TEST_F(ProcessRunnerTest, BoundsTheCapturedOutput) {
  ProcessSpec spec = Sh("head -c 1000000 /dev/zero | tr '\\0' x");
  spec.max_output = 10;
  ProcessResult r = RunToCompletion(spec);
  EXPECT_TRUE(r.succeeded()) << r.Describe();  // never blocked on the pipe
  EXPECT_EQ(r.output, "xxxxxxxxxx");
  EXPECT_TRUE(r.output_truncated);
}

TEST_F(ProcessRunnerTest, ReportsTheSignalThatKilledIt) {
  // The daemon blocks the signals it reads through signalfd; the child must
  // not inherit that mask, or this kill would stay pending.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  ProcessResult r = RunToCompletion(Sh("kill -USR1 $$; sleep 5"));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(r.outcome, ProcessOutcome::kSignaled) << r.Describe();
  EXPECT_EQ(r.signal, SIGUSR1);
}

TEST_F(ProcessRunnerTest, SpawnFailureIsReportedAsynchronously) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/program"};
  bool called = false;
  ProcessResult result;
  runner_->Run(spec, [&](const ProcessResult& r) {
    called = true;
    result = r;
    loop_->Stop();
  });
  EXPECT_FALSE(called);  // never from inside Run()
  RunLoop();
  ASSERT_TRUE(called);
  EXPECT_EQ(result.outcome, ProcessOutcome::kSpawnFailed);
  EXPECT_EQ(result.spawn_errno, ENOENT);

  spec.argv = {};
  EXPECT_EQ(RunToCompletion(spec).outcome, ProcessOutcome::kSpawnFailed);
}

TEST_F(ProcessRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  // The shell and its background grandchild both ignore SIGTERM, so only
  // the SIGKILL after the grace period ends them; the grandchild is not
  // the runner's child and must die anyway.
  ProcessSpec spec = Sh("trap '' TERM; sleep 100 & echo $!; sleep 100");
  spec.timeout = milliseconds(300);
  ProcessResult r = RunToCompletion(spec);
  EXPECT_EQ(r.outcome, ProcessOutcome::kTimedOut) << r.Describe();
  const pid_t grandchild = std::atoi(r.output.c_str());
  ASSERT_GT(grandchild, 1) << r.output;
  // SIGKILL has been sent when the callback runs; the kernel finishes the
  // process off asynchronously, so wait (bounded) rather than assume.
  for (int i = 0; i < 500 && !Dead(grandchild); ++i) ::usleep(10'000);
  EXPECT_TRUE(Dead(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST_F(ProcessRunnerTest, TimeoutWithoutGraceKillsAtOnce) {
  runner_ = std::make_unique<ProcessRunner>(*loop_, Duration::zero());
  ProcessSpec spec = Sh("sleep 100 & echo $!; sleep 100");
  spec.timeout = milliseconds(100);
  ProcessResult r = RunToCompletion(spec);
  EXPECT_EQ(r.outcome, ProcessOutcome::kTimedOut);
  EXPECT_EQ(r.signal, SIGKILL);
  const pid_t grandchild = std::atoi(r.output.c_str());
  ASSERT_GT(grandchild, 1);
  for (int i = 0; i < 500 && !Dead(grandchild); ++i) ::usleep(10'000);
  EXPECT_TRUE(Dead(grandchild));
}

TEST_F(ProcessRunnerTest, RunsInItsOwnSession) {
  ProcessResult r = RunToCompletion(Sh("ps -o sid= -p $$; echo $$"));
  ASSERT_TRUE(r.succeeded()) << r.Describe() << r.output;
  std::istringstream in(r.output);
  pid_t sid = 0, pid = 0;
  in >> sid >> pid;
  EXPECT_EQ(sid, pid);  // setsid(): session leader
  EXPECT_NE(sid, ::getsid(0));
}

TEST_F(ProcessRunnerTest, SwitchesToTheConfiguredUser) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root";
  auto nobody = LookupUser("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error();
  ProcessSpec spec;
  spec.argv = {"/usr/bin/id"};
  spec.user = *nobody;
  ProcessResult r = RunToCompletion(spec);
  ASSERT_TRUE(r.succeeded()) << r.Describe() << r.output;
  // uid, gid and the supplementary groups are nobody's, none of root's.
  EXPECT_EQ(r.output,
            "uid=65534(nobody) gid=65534(nogroup) "
            "groups=65534(nogroup)\n");
  EXPECT_FALSE(LookupUser("no-such-user-vrrp").ok());
}

TEST_F(ProcessRunnerTest, PassesOnlyAMinimalEnvironment) {
  ::setenv("VRRP_TEST_SECRET", "leak", 1);
  ProcessSpec spec = Sh("echo \"$PATH|$VRRP_TEST_SECRET|$EXTRA\"");
  spec.env = {"EXTRA=1"};
  ProcessResult r = RunToCompletion(spec);
  ::unsetenv("VRRP_TEST_SECRET");
  EXPECT_EQ(
      r.output,
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin||1\n");
}

TEST_F(ProcessRunnerTest, NeverBlocksTheLoop) {
  // A timer due long before the child ends fires first.
  std::vector<std::string> order;
  auto timer = loop_->CreateTimer([&] { order.push_back("timer"); });
  timer->ArmAt(loop_->Now() + milliseconds(20));
  runner_->Run(Sh("sleep 1"), [&](const ProcessResult&) {
    order.push_back("child");
    loop_->Stop();
  });
  RunLoop();
  EXPECT_EQ(order, (std::vector<std::string>{"timer", "child"}));
}

TEST_F(ProcessRunnerTest, DestructionKillsAndReapsWhatItStarted) {
  bool called = false;
  auto id = runner_->Run(Sh("sleep 100"),
                         [&](const ProcessResult&) { called = true; });
  auto pid = runner_->pid(id);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(runner_->running(), 1u);
  runner_.reset();
  EXPECT_FALSE(called);
  // Reaped by the destructor: the PID no longer exists (not even a zombie).
  EXPECT_EQ(::kill(*pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ProcessRunnerTest, CancelKillsWithoutCallback) {
  bool called = false;
  auto id = runner_->Run(Sh("sleep 100"),
                         [&](const ProcessResult&) { called = true; });
  auto pid = runner_->pid(id);
  ASSERT_TRUE(pid.has_value());
  runner_->Cancel(id);
  EXPECT_EQ(runner_->running(), 0u);
  EXPECT_EQ(::kill(*pid, 0), -1);
  // A later run still works and the cancelled one never reports.
  EXPECT_TRUE(RunToCompletion(Sh("true")).succeeded());
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace vrrp::sys
