#pragma once

// /metrics bodies, rendered once per published snapshot.
//
// The event loop republishes every 100 ms; a scrape of a snapshot already
// rendered reuses its text (and its gzip form), so only the few series that
// depend on the scrape itself (vrrp_snapshot_age_seconds and the exporter's
// own metrics) are written per request. With 1000 instances the exposition
// is about 10 MB, 45 ms to render: without reuse every scrape paid that.
// When the last rendering is of a snapshot at most kMaxServedAge old, a
// scrape of a newer snapshot is answered from it at once while a worker
// thread renders the newer one (at most every kRenderEvery) for the next
// scrapes: frequent scrapers never wait for a rendering, and what they get
// is at most kMaxServedAge old (its true age is what
// vrrp_snapshot_age_seconds reports). A scraper
// that comes less often (Prometheus: every 15 s) always gets the newest
// snapshot, rendered on its request.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "exporter/routes.h"
#include "exporter/snapshot.h"

namespace vrrp::exporter {

class MetricsBody {
 public:
  static constexpr std::chrono::milliseconds kMaxServedAge{500};
  // While scrapes are answered from an older rendering, the worker renders
  // the newest snapshot once it is this much newer than that rendering.
  static constexpr std::chrono::milliseconds kRenderEvery{250};

  explicit MetricsBody(RouteOptions options) : options_(std::move(options)) {}
  ~MetricsBody();
  MetricsBody(const MetricsBody&) = delete;
  MetricsBody& operator=(const MetricsBody&) = delete;

  struct Body {
    std::string bytes;
    bool gzip = false;
  };
  // The body for `latest` (or for a snapshot at most kMaxServedAge older,
  // see above), gzip-compressed if `gzip`. `now` is the scrape's Unix time.
  Body Render(std::shared_ptr<const Snapshot> latest, bool gzip, double now);

 private:
  struct Rendered;
  std::shared_ptr<const Rendered> Get(std::shared_ptr<const Snapshot> latest,
                                      bool gzip, double now);
  std::shared_ptr<const Rendered> RenderSnapshot(
      std::shared_ptr<const Snapshot> latest, bool plain, bool gzip) const;
  void Keep(std::shared_ptr<const Rendered> r);  // with mu_ held
  void Work();                                   // the worker thread

  const RouteOptions options_;
  std::mutex mu_;
  // Signalled when a rendering ends, work is wanted, or on stop.
  std::condition_variable changed_;
  std::shared_ptr<const Rendered> cached_;
  std::shared_ptr<const Snapshot> wanted_;  // for the worker to render
  bool wanted_gzip_ = false;                // the forms to render it in
  bool wanted_plain_ = false;
  bool rendering_ = false;  // by a scrape or the worker: one at a time
  bool stop_ = false;
  std::thread worker_;  // started at the first scrape that needs it
};

// Whether an Accept-Encoding header value accepts gzip (RFC 9110 §12.5.3:
// the token, or "*", without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace vrrp::exporter
