#include "log_setup.h"

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

#include "vrrp/redact.h"

namespace vrrp::daemon {

namespace {

// Forwards to `inner` with the message redacted; formatting stays the
// inner sink's.
class RedactingSink : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner)
      : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    const std::string text =
        RedactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(copy);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override {
    inner_->set_pattern(pattern);
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

void SetUpLogging(const std::string& level) {
  auto current = spdlog::default_logger();
  std::vector<spdlog::sink_ptr> sinks;
  for (const auto& s : current->sinks()) {
    sinks.push_back(std::make_shared<RedactingSink>(s));
  }
  auto logger = std::make_shared<spdlog::logger>(current->name(), sinks.begin(),
                                                 sinks.end());
  spdlog::set_default_logger(logger);
  if (level == "debug") {
    spdlog::set_level(spdlog::level::debug);
  } else if (level == "warn") {
    spdlog::set_level(spdlog::level::warn);
  } else if (level == "error") {
    spdlog::set_level(spdlog::level::err);
  } else {
    spdlog::set_level(spdlog::level::info);
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
}

}  // namespace vrrp::daemon
