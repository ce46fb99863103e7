#include "vrrp/sys/webhook.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <mutex>
#include <utility>

#include "vrrp/sys/curl_library.h"
#include "vrrp/sys/event_loop.h"

namespace vrrp::sys {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

int Progress(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  // Non-zero aborts the transfer (CURLOPT_XFERINFOFUNCTION).
  return static_cast<std::atomic<bool>*>(abort)->load() ? 1 : 0;
}

}  // namespace

std::string_view ToString(WebhookOutcome outcome) {
  switch (outcome) {
    case WebhookOutcome::kSuccess:
      return "success";
    case WebhookOutcome::kHttpError:
      return "http_error";
    case WebhookOutcome::kFailure:
      return "failure";
    case WebhookOutcome::kTimeout:
      return "timeout";
  }
  return "unknown";
}

Webhook::Webhook(EventLoop& loop, WebhookConfig config, size_t limit, Done done)
    : loop_(loop),
      config_(std::move(config)),
      limit_(limit == 0 ? 1 : limit),
      done_(std::move(done)),
      alive_(std::make_shared<bool>(true)) {
  // The worker must never take a signal the loop reads through signalfd
  // (SIGTERM, SIGHUP, ...): a thread with them unblocked would receive
  // them with their default action, killing the daemon. Threads inherit
  // the creator's mask, so block everything around the creation.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Webhook::~Webhook() {
  *alive_ = false;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  abort_ = true;
  cv_.notify_all();
  thread_.join();
}

bool Webhook::Send(std::string json) {
  bool dropped = false;
  {
    std::lock_guard lock(mu_);
    while (queue_.size() >= limit_) {
      queue_.pop_front();
      dropped = true;
    }
    queue_.push_back(std::move(json));
  }
  cv_.notify_one();
  return !dropped;
}

void Webhook::Run() {
  for (;;) {
    std::string body;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    WebhookResult result = Post(body);
    // Back to the loop; the shared flag is read there, on the loop thread,
    // so a result that arrives after the Webhook is gone is dropped.
    loop_.Post([alive = alive_, done = done_, result] {
      if (*alive && done) done(result);
    });
  }
}

WebhookResult Webhook::Post(const std::string& body) {
  WebhookResult result;
  const auto start = std::chrono::steady_clock::now();
  // On the worker thread, never the loop's: the first webhook loads libcurl
  // and its ~25 dependencies, which takes milliseconds.
  auto loaded = LoadCurl();
  if (!loaded.ok()) {
    result.error = loaded.error();
    return result;
  }
  const CurlApi& api = *loaded.value();
  CURL* curl = api.easy_init();
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  curl_slist* headers =
      api.slist_append(nullptr, "Content-Type: application/json");
  for (const auto& [name, value] : config_.headers) {
    headers = api.slist_append(headers, (name + ": " + value).c_str());
  }
  char error[CURL_ERROR_SIZE] = {};
  api.easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
  api.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  api.easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  api.easy_setopt(
      curl, CURLOPT_TIMEOUT_MS,
      static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(config_.timeout)
              .count()));
  // Threads: no signals for DNS timeouts (libcurl-thread(3)).
  api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, Progress);
  api.easy_setopt(curl, CURLOPT_XFERINFODATA, &abort_);
  // Only the configured scheme: a redirect is not followed at all.
  api.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(curl, CURLOPT_USERAGENT, "vrrp_exporter");
  const CURLcode code = api.easy_perform(curl);
  long status = 0;
  api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  api.slist_free_all(headers);
  api.easy_cleanup(curl);
  result.duration = std::chrono::steady_clock::now() - start;
  result.status = status;
  if (code == CURLE_OPERATION_TIMEDOUT) {
    result.outcome = WebhookOutcome::kTimeout;
    result.error = error[0] ? error : api.easy_strerror(code);
  } else if (code != CURLE_OK) {
    result.outcome = WebhookOutcome::kFailure;
    result.error = error[0] ? error : api.easy_strerror(code);
  } else if (status >= 200 && status < 300) {
    result.outcome = WebhookOutcome::kSuccess;
  } else {
    result.outcome = WebhookOutcome::kHttpError;
    result.error = "HTTP status " + std::to_string(status);
  }
  return result;
}

}  // namespace vrrp::sys
