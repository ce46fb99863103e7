#pragma once

// /metrics bodies, rendered once per published snapshot.
//
// The event loop republishes every 100 ms; a scrape of a snapshot already
// rendered reuses its text (and its gzip form), so only the few series that
// depend on the scrape itself (vrrp_snapshot_age_seconds and the exporter's
// own metrics) are written per request. With 1000 instances the exposition
// is about 10 MB, 45 ms to render: without reuse every scrape paid that.
// While one scrape renders a new snapshot, concurrent scrapes are answered
// from the previous one (at most one publish period older; its true age is
// what vrrp_snapshot_age_seconds reports), so they never queue behind it.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/routes.h"
#include "exporter/snapshot.h"

namespace vrrp::exporter {

class MetricsBody {
 public:
  explicit MetricsBody(RouteOptions options) : options_(std::move(options)) {}

  struct Body {
    std::string bytes;
    bool gzip = false;
  };
  // The body for the newest snapshot (or the one before it while another
  // thread renders the newest), gzip-compressed if `gzip`.
  Body Render(std::shared_ptr<const Snapshot> latest, bool gzip, double now);

 private:
  struct Rendered;
  std::shared_ptr<const Rendered> Get(std::shared_ptr<const Snapshot> latest,
                                      bool gzip);

  const RouteOptions options_;
  std::mutex mu_;
  std::shared_ptr<const Rendered> cached_;
  bool rendering_ = false;
};

// Whether an Accept-Encoding header value accepts gzip (RFC 9110 §12.5.3:
// the token, or "*", without q=0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace vrrp::exporter
