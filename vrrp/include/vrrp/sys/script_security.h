#pragma once

// Checks, at configuration load, that a program the daemon will execute
// (notify hook, tracker check) exists, is executable by the user it runs as
// and, when the daemon is root, cannot be modified by anyone but root and
// that user: otherwise any local user who can write the file, or rename
// entries in one of its directories, gets their code run with the daemon's
// privileges. The rules are Keepalived's script_security (lib/notify.c,
// check_script_secure), applied to the given path and to its symlink-free
// form (realpath(3)), so a symlink cannot route around them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vrrp/result.h"
#include "vrrp/sys/process_runner.h"

namespace vrrp::sys {

enum class ScriptProblem : uint8_t {
  kNotAbsolute,  // we never search PATH: the path must say what runs
  kNotFound,     // the program or a directory on its path is missing
  kNotRegularFile,
  kNotExecutable,  // no execute permission for the user it runs as
  kInsecure,       // a non-root user (not the run-as user) can modify it
};
std::string_view ToString(ScriptProblem problem);

struct ScriptError {
  ScriptProblem problem = ScriptProblem::kNotFound;
  std::string path;     // the offending path (the program or a directory)
  std::string message;  // for humans: names `path` and what is wrong
};

struct ScriptCheckOptions {
  // Who the program will run as; nullopt: the daemon's own identity.
  std::optional<ProcessUser> run_as;
  // The ownership rules apply when the daemon runs as root (a non-root
  // daemon cannot grant more than the user it already is). Tests set it.
  bool enforce_ownership = true;
};

// Returns the resolved (realpath) program on success.
Result<std::string, ScriptError> CheckScript(std::string_view program,
                                             const ScriptCheckOptions& options);

// The options for this process: enforce_ownership when geteuid() is 0.
ScriptCheckOptions DefaultScriptCheckOptions(
    std::optional<ProcessUser> run_as = std::nullopt);

}  // namespace vrrp::sys
