#include "vrrp/sys/script_security.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace vrrp::sys {
namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

ScriptError Problem(ScriptProblem problem, std::string path, std::string what) {
  ScriptError e;
  e.problem = problem;
  e.message = path + ": " + what;
  e.path = std::move(path);
  return e;
}

// "/", "/usr", "/usr/lib", "/usr/lib/x": every path a writer could change
// to alter what `path` names.
std::vector<std::string> Prefixes(const std::string& path) {
  std::vector<std::string> out{"/"};
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (path[i - 1] == '/') continue;  // "//" or a trailing "/"
      out.push_back(path.substr(0, i));
    }
  }
  return out;
}

// Keepalived's rule for one path component: it must be owned by root (we
// also accept the run-as user: a script that runs as `deploy` may be
// deploy's), and not writable by a group other than root's or by others,
// except a sticky directory (/tmp), where others cannot rename or delete
// entries they do not own.
std::optional<std::string> Insecurity(const struct stat& st,
                                      const std::optional<ProcessUser>& user) {
  const bool owner_ok = st.st_uid == 0 || (user && st.st_uid == user->uid);
  if (!owner_ok) {
    return "owned by uid " + std::to_string(st.st_uid) + ", not root";
  }
  const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
  if (sticky_dir) return std::nullopt;
  if ((st.st_mode & S_IWGRP) && st.st_gid != 0) {
    return "writable by group " + std::to_string(st.st_gid) + " (mode " +
           Octal(st.st_mode) + ")";
  }
  if (st.st_mode & S_IWOTH) {
    return "writable by others (mode " + Octal(st.st_mode) + ")";
  }
  return std::nullopt;
}

bool Executable(const struct stat& st, const std::optional<ProcessUser>& user) {
  if (!user || user->uid == 0) {
    // execve(2) as root still needs at least one execute bit on a file.
    return (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
  }
  if (st.st_uid == user->uid) return (st.st_mode & S_IXUSR) != 0;
  const bool in_group = st.st_gid == user->gid ||
                        std::find(user->groups.begin(), user->groups.end(),
                                  st.st_gid) != user->groups.end();
  if (in_group) return (st.st_mode & S_IXGRP) != 0;
  return (st.st_mode & S_IXOTH) != 0;
}

}  // namespace

std::string_view ToString(ScriptProblem problem) {
  switch (problem) {
    case ScriptProblem::kNotAbsolute:
      return "not_absolute";
    case ScriptProblem::kNotFound:
      return "not_found";
    case ScriptProblem::kNotRegularFile:
      return "not_regular_file";
    case ScriptProblem::kNotExecutable:
      return "not_executable";
    case ScriptProblem::kInsecure:
      return "insecure";
  }
  return "unknown";
}

ScriptCheckOptions DefaultScriptCheckOptions(
    std::optional<ProcessUser> run_as) {
  ScriptCheckOptions options;
  options.run_as = std::move(run_as);
  options.enforce_ownership = ::geteuid() == 0;
  return options;
}

Result<std::string, ScriptError> CheckScript(
    std::string_view program, const ScriptCheckOptions& options) {
  const std::string given(program);
  if (given.empty() || given[0] != '/') {
    return Err(Problem(ScriptProblem::kNotAbsolute, given,
                       "not an absolute path (programs are executed without "
                       "a PATH search)"));
  }
  std::unique_ptr<char, decltype(&std::free)> resolved(
      ::realpath(given.c_str(), nullptr), &std::free);
  if (!resolved) {
    const int e = errno;
    return Err(Problem(ScriptProblem::kNotFound, given, std::strerror(e)));
  }
  const std::string real(resolved.get());
  struct stat st {};
  if (::stat(real.c_str(), &st) < 0) {
    const int e = errno;
    return Err(Problem(ScriptProblem::kNotFound, real, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err(
        Problem(ScriptProblem::kNotRegularFile, real, "not a regular file"));
  }
  if (!Executable(st, options.run_as)) {
    return Err(Problem(ScriptProblem::kNotExecutable, real,
                       "not executable by " +
                           (options.run_as ? "user " + options.run_as->name
                                           : std::string("the daemon's user")) +
                           " (mode " + Octal(st.st_mode) + ")"));
  }
  if (!options.enforce_ownership) return real;

  // The given path first (its directories decide where a symlink leads),
  // then the resolved one (what actually runs). stat(2) follows symlinks,
  // so a component that is a symlink is judged by its target, and the
  // directory holding the symlink is its own prefix.
  std::vector<std::string> paths = Prefixes(given);
  for (auto& p : Prefixes(real)) paths.push_back(std::move(p));
  for (const std::string& p : paths) {
    struct stat component {};
    if (::stat(p.c_str(), &component) < 0) {
      const int e = errno;
      return Err(Problem(ScriptProblem::kNotFound, p, std::strerror(e)));
    }
    if (auto why = Insecurity(component, options.run_as)) {
      return Err(Problem(
          ScriptProblem::kInsecure, p,
          *why + ": a non-root user could change what " + given + " runs"));
    }
  }
  return real;
}

}  // namespace vrrp::sys
