#include "vrrp/sys/checkers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "vrrp/file_read.h"
#include "vrrp/sys/curl_library.h"

namespace vrrp::sys {

namespace {

using namespace std::chrono_literals;

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// ---------------------------------------------------------------------------
// The worker thread of one tracker.
//
// Each check is a blocking function run on a thread of the tracker's own,
// so a slow server or an NFS-backed file never delays the advertisement
// timer. The thread is detached: a check stuck past its timeout (the
// Tracker has already counted it failed) finishes on its own, bounded by
// the same timeout given to curl / poll, and its result is dropped. Shared
// state outlives the checker; the loop pointer is cleared under the lock
// when the checker goes, so a late worker never posts to a dead loop.
class WorkerChecker : public Checker {
 public:
  using Job = std::function<CheckOutcome()>;

  WorkerChecker(EventLoop& loop, Job job) : state_(std::make_shared<State>()) {
    state_->loop = &loop;
    state_->job = std::move(job);
    std::thread([s = state_] { Loop(s); }).detach();
  }
  ~WorkerChecker() override {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->loop = nullptr;
    state_->quit = true;
    state_->cv.notify_one();
  }

  void Start(std::function<void(CheckOutcome)> done) override {
    std::lock_guard<std::mutex> l(state_->mu);
    ++state_->generation;
    state_->done = std::move(done);
    state_->requested = true;
    state_->cv.notify_one();
  }
  void Abort() override {
    std::lock_guard<std::mutex> l(state_->mu);
    ++state_->generation;  // the running check's result is dropped
    state_->done = nullptr;
    state_->requested = false;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    EventLoop* loop = nullptr;
    bool quit = false;
    bool requested = false;
    uint64_t generation = 0;
    std::function<void(CheckOutcome)> done;  // loop thread only calls it
    Job job;
  };

  static void Loop(std::shared_ptr<State> s) {
    // Threads inherit the loop's SCHED_RR (--vrrp.realtime-priority); a
    // check has no business competing with the advertisement timer.
    sched_param normal{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
    while (true) {
      uint64_t generation;
      {
        std::unique_lock<std::mutex> l(s->mu);
        s->cv.wait(l, [&] { return s->quit || s->requested; });
        if (s->quit) return;
        s->requested = false;
        generation = s->generation;
      }
      CheckOutcome outcome = s->job();
      std::lock_guard<std::mutex> l(s->mu);
      if (s->quit || s->loop == nullptr) return;
      if (generation != s->generation) continue;
      // `done` is read on the loop thread, after checking again that this
      // is still the check it was given for.
      s->loop->Post([s, generation, outcome = std::move(outcome)]() mutable {
        std::function<void(CheckOutcome)> done;
        {
          std::lock_guard<std::mutex> l2(s->mu);
          if (s->quit || generation != s->generation || !s->done) return;
          done = std::move(s->done);
          s->done = nullptr;
        }
        done(std::move(outcome));
      });
    }
  }

  std::shared_ptr<State> state_;
};

// ---------------------------------------------------------------------------
// exec

class ExecChecker : public Checker {
 public:
  ExecChecker(const TrackerConfig& config, ProcessRunner& runner,
              std::optional<ProcessUser> user)
      : runner_(runner), user_(std::move(user)) {
    spec_.argv = config.command;
    spec_.user = user_;
    // The runner's own timeout kills the process group (SIGKILL at once: the
    // TrackerManager's runner has no grace) and reaps it through its pidfd,
    // never waiting on the loop. The Tracker's timeout, armed just before,
    // fires first and abandons the check (Abort); the runner's follows
    // within microseconds. Abort itself never kills: ProcessRunner::Cancel
    // waits for the child to die, and a script stuck in uninterruptible
    // sleep (a hung NFS mount) would stall the advertisements with it.
    spec_.timeout = config.timeout;
    spec_.max_output = 512;  // the first line goes into the detail
  }
  // A check still running is left to the runner's timeout, which kills and
  // reaps it; its result goes nowhere.
  ~ExecChecker() override { Abort(); }

  void Start(std::function<void(CheckOutcome)> done) override {
    // Checked at every run, not only at load: a script made writable by
    // another user later must not run as root either.
    auto secure = CheckScript(spec_.argv[0], DefaultScriptCheckOptions(user_));
    if (!secure.ok()) {
      const bool insecure = secure.error().problem == ScriptProblem::kInsecure;
      done(CheckOutcome::Failure(
          insecure ? CheckFailure::kInsecure : CheckFailure::kSpawnFailed,
          (insecure ? "refused: " : "") + secure.error().message));
      return;
    }
    // Shared with the runner's callback, which may outlive this checker.
    auto pending =
        std::make_shared<std::function<void(CheckOutcome)>>(std::move(done));
    pending_ = pending;
    const Duration timeout = spec_.timeout;
    runner_.Run(spec_, [pending, timeout](const ProcessResult& r) {
      if (!*pending) return;  // abandoned
      auto done = std::move(*pending);
      *pending = nullptr;
      done(Map(r, timeout));
    });
  }
  void Abort() override {
    if (pending_) *pending_ = nullptr;
    pending_.reset();
  }

 private:
  static CheckOutcome Map(const ProcessResult& r, Duration timeout) {
    std::string first_line = r.output.substr(0, r.output.find('\n'));
    auto with_output = [&](std::string text) {
      if (!first_line.empty()) text += ": " + first_line;
      return text;
    };
    switch (r.outcome) {
      case ProcessOutcome::kExited:
        if (r.exit_code == 0) return CheckOutcome::Success("exit status 0");
        return CheckOutcome::Failure(
            CheckFailure::kExitStatus,
            with_output("exit status " + std::to_string(r.exit_code)));
      case ProcessOutcome::kSignaled:
        return CheckOutcome::Failure(
            CheckFailure::kSignaled,
            with_output("killed by signal " + std::to_string(r.signal)));
      case ProcessOutcome::kTimedOut:
        // The words of Tracker's own timeout, whichever timer came first.
        return CheckOutcome::Failure(
            CheckFailure::kTimeout,
            "no answer within " + std::to_string(Millis(timeout)) + " ms");
      case ProcessOutcome::kSpawnFailed:
        return CheckOutcome::Failure(CheckFailure::kSpawnFailed, r.Describe());
    }
    return CheckOutcome::Failure(CheckFailure::kSpawnFailed, r.Describe());
  }

  ProcessRunner& runner_;
  std::optional<ProcessUser> user_;
  ProcessSpec spec_;
  std::shared_ptr<std::function<void(CheckOutcome)>> pending_;
};

// ---------------------------------------------------------------------------
// http

struct Body {
  std::string text;
  static constexpr size_t kMax = 64 * 1024;  // enough to find a marker
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t n = size * count;
  if (body->text.size() < Body::kMax) {
    body->text.append(data, std::min(n, Body::kMax - body->text.size()));
  }
  return n;
}

std::optional<int64_t> ParseSigned(std::string_view text) {
  while (!text.empty() &&
         std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

CheckOutcome RunHttpCheck(const TrackerConfig& config) {
  // On this worker thread, never the loop's: the first check loads libcurl
  // and its ~25 dependencies, which takes milliseconds.
  auto loaded = LoadCurl();
  if (!loaded.ok()) {
    return CheckOutcome::Failure(CheckFailure::kTransport, loaded.error());
  }
  const CurlApi& api = *loaded.value();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(api.easy_init(),
                                              api.easy_cleanup);
  if (!curl) {
    return CheckOutcome::Failure(CheckFailure::kTransport, "curl_easy_init");
  }
  Body body;
  CURL* c = curl.get();
  api.easy_setopt(c, CURLOPT_URL, config.url.c_str());
  // A health check sees what a new client would: no reused connection.
  api.easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
  api.easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS,
                  static_cast<long>(Millis(config.timeout)));
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  api.easy_setopt(c, CURLOPT_USERAGENT, "vrrp_exporter-tracker");
  api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, config.tls_verify ? 1L : 0L);
  api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, config.tls_verify ? 2L : 0L);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    CheckFailure why = CheckFailure::kTransport;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
        rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING) {
      why = CheckFailure::kConnect;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
      why = CheckFailure::kTimeout;
    }
    return CheckOutcome::Failure(why, api.easy_strerror(rc));
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != config.expect_status) {
    return CheckOutcome::Failure(
        CheckFailure::kHttpStatus,
        "HTTP " + std::to_string(status) + " (expected " +
            std::to_string(config.expect_status) + ")");
  }
  if (!config.expect_body.empty() &&
      body.text.find(config.expect_body) == std::string::npos) {
    return CheckOutcome::Failure(
        CheckFailure::kHttpBody,
        "HTTP " + std::to_string(status) + " without \"" + config.expect_body +
            "\" in the first " + std::to_string(body.text.size()) + " bytes");
  }
  return CheckOutcome::Success("HTTP " + std::to_string(status));
}

CheckOutcome RunTcpCheck(const TrackerConfig& config) {
  if (!config.address) {
    return CheckOutcome::Failure(CheckFailure::kConnect, "no address");
  }
  const IpAddress& a = *config.address;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(config.port);
    std::memcpy(&sin->sin_addr, a.bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(config.port);
    std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
    len = sizeof(sockaddr_in6);
  }
  const int fd =
      ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return CheckOutcome::Failure(
        CheckFailure::kConnect, std::string("socket: ") + std::strerror(errno));
  }
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  const std::string target =
      (a.is_v4() ? a.ToString() : "[" + a.ToString() + "]") + ":" +
      std::to_string(config.port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 &&
      errno != EINPROGRESS) {
    return CheckOutcome::Failure(CheckFailure::kConnect,
                                 target + ": " + std::strerror(errno));
  }
  pollfd p{fd, POLLOUT, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(Millis(config.timeout)));
  } while (n < 0 && errno == EINTR);
  if (n == 0) {
    return CheckOutcome::Failure(CheckFailure::kTimeout,
                                 target + ": no answer to the connect");
  }
  int error = 0;
  socklen_t elen = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &elen);
  if (error != 0) {
    return CheckOutcome::Failure(CheckFailure::kConnect,
                                 target + ": " + std::strerror(error));
  }
  return CheckOutcome::Success("connected to " + target);
}

CheckOutcome RunFileCheck(const TrackerConfig& config) {
  auto text = ReadSmallFile(config.path, 4096);
  if (!text.ok()) {
    return CheckOutcome::Failure(
        CheckFailure::kMissing,
        config.path + ": " + FileReadErrorText(text.error()));
  }
  auto value = ParseSigned(*text);
  if (!value) {
    return CheckOutcome::Failure(CheckFailure::kBadValue,
                                 config.path + ": not an integer");
  }
  CheckOutcome o =
      CheckOutcome::Success(config.path + ": " + std::to_string(*value));
  o.value = *value;
  return o;
}

namespace {

// Whether /proc/PID is a live process (not a zombie): field 3 of stat.
bool Alive(const std::string& pid) {
  auto stat = ReadSmallFile("/proc/" + pid + "/stat", 4096);
  if (!stat.ok()) return false;
  // "PID (COMM) S ...": COMM may hold spaces and parentheses, the state
  // follows the last ')'.
  const size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return false;
  const char state = (*stat)[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace

CheckOutcome RunProcessCheck(const TrackerConfig& config) {
  if (!config.pidfile.empty()) {
    auto text = ReadSmallFile(config.pidfile, 4096);
    if (!text.ok()) {
      return CheckOutcome::Failure(
          CheckFailure::kMissing,
          config.pidfile + ": " + FileReadErrorText(text.error()));
    }
    auto pid = ParseSigned(*text);
    if (!pid || *pid <= 0 || *pid > 0x3fffffff) {
      return CheckOutcome::Failure(CheckFailure::kBadValue,
                                   config.pidfile + ": not a process ID");
    }
    if (!Alive(std::to_string(*pid))) {
      return CheckOutcome::Failure(CheckFailure::kMissing,
                                   "no process " + std::to_string(*pid) +
                                       " (from " + config.pidfile + ")");
    }
    return CheckOutcome::Success("process " + std::to_string(*pid) + " runs");
  }
  // The kernel keeps 15 bytes of the name in comm (TASK_COMM_LEN - 1);
  // argv[0]'s base name catches longer names and scripts run by an
  // interpreter under their own name.
  const std::string comm_name = config.process.substr(0, 15);
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(::opendir("/proc"));
  if (!dir) {
    return CheckOutcome::Failure(CheckFailure::kMissing,
                                 std::string("/proc: ") + std::strerror(errno));
  }
  int found = 0;
  std::string first;
  while (dirent* e = ::readdir(dir.get())) {
    const std::string_view pid(e->d_name);
    if (pid.empty() || pid.find_first_not_of("0123456789") != pid.npos)
      continue;
    const std::string base = "/proc/" + std::string(pid);
    bool match = false;
    if (auto comm = ReadSmallFile(base + "/comm", 256); comm.ok()) {
      std::string c = *comm;
      if (!c.empty() && c.back() == '\n') c.pop_back();
      match = c == comm_name;
    }
    if (!match) {
      if (auto cmd = ReadSmallFile(base + "/cmdline", 65536); cmd.ok()) {
        const std::string argv0 = cmd->substr(0, cmd->find('\0'));
        const std::string name = argv0.substr(argv0.rfind('/') + 1);
        match = !name.empty() && name == config.process;
      }
    }
    if (match && Alive(std::string(pid))) {
      if (found++ == 0) first = std::string(pid);
    }
  }
  if (found == 0) {
    return CheckOutcome::Failure(CheckFailure::kMissing,
                                 "no process named " + config.process);
  }
  return CheckOutcome::Success(std::to_string(found) + " process(es) named " +
                               config.process + " (pid " + first + ")");
}

std::unique_ptr<Checker> MakeChecker(const TrackerConfig& config,
                                     EventLoop& loop, ProcessRunner& runner,
                                     std::optional<ProcessUser> user) {
  switch (config.type) {
    case TrackerType::kExec:
      return std::make_unique<ExecChecker>(config, runner, std::move(user));
    case TrackerType::kHttp:
      return std::make_unique<WorkerChecker>(
          loop, [config] { return RunHttpCheck(config); });
    case TrackerType::kTcp:
      return std::make_unique<WorkerChecker>(
          loop, [config] { return RunTcpCheck(config); });
    case TrackerType::kFile:
      return std::make_unique<WorkerChecker>(
          loop, [config] { return RunFileCheck(config); });
    case TrackerType::kProcess:
      return std::make_unique<WorkerChecker>(
          loop, [config] { return RunProcessCheck(config); });
    case TrackerType::kInterface:
      return nullptr;
  }
  return nullptr;
}

}  // namespace vrrp::sys
