#include "exporter/metrics_body.h"

#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "exporter/speaker_collector.h"
#include "exporter/text_format.h"

namespace vrrp::exporter {

namespace {

constexpr std::string_view kAgeFamily = "vrrp_snapshot_age_seconds";

// One piece of a gzip member: raw deflate of `text` as an independent
// stream (no back-reference into another piece), ended by a sync flush, or
// by the final block when `last`. Pieces compressed apart concatenate into
// one valid deflate stream (RFC 1951 §3.2.3: blocks are independent apart
// from the window, which a fresh stream does not use), which is what lets
// the per-snapshot text be compressed once and the per-scrape lines alone
// at each scrape. Level 1: at 10 MB a snapshot, speed matters more than the
// last 10 % of size.
struct Piece {
  std::string deflated;
  uLong crc = 0;
  uLong length = 0;
};

Piece Deflate(std::string_view text, bool last) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  Piece p;
  p.deflated.resize(deflateBound(&z, text.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(p.deflated.data() + z.total_out);
    z.avail_out = static_cast<uInt>(p.deflated.size() - z.total_out);
    const int r = deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
    if (r == Z_STREAM_ERROR) {
      deflateEnd(&z);
      throw std::runtime_error("deflate failed");
    }
    if (z.avail_out != 0 && (!last || r == Z_STREAM_END)) break;
    p.deflated.resize(p.deflated.size() * 2);
  }
  p.deflated.resize(z.total_out);
  deflateEnd(&z);
  p.crc = crc32(0, reinterpret_cast<const Bytef*>(text.data()),
                static_cast<uInt>(text.size()));
  p.length = static_cast<uLong>(text.size());
  return p;
}

prometheus::MetricFamily Gauge(std::string name, std::string help,
                               std::vector<prometheus::ClientMetric::Label> l,
                               double value) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.label = std::move(l);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

struct MetricsBody::Rendered {
  std::shared_ptr<const Snapshot> snapshot;
  // The exposition is prefix, the age family (written per scrape), suffix.
  std::string prefix;
  std::optional<prometheus::MetricFamily> age;
  std::string suffix;
  // Kept only in the forms scrapes asked for: a gzip-only scraper
  // (Prometheus) keeps 0.5 MB per 1000 instances instead of 10 MB of text.
  bool plain = false;              // prefix and suffix kept
  std::optional<Piece> prefix_gz;  // set when rendered for a gzip scrape
  std::optional<Piece> suffix_gz;

  bool Has(bool gzip) const { return gzip ? prefix_gz.has_value() : plain; }
};

MetricsBody::~MetricsBody() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::shared_ptr<const MetricsBody::Rendered> MetricsBody::RenderSnapshot(
    std::shared_ptr<const Snapshot> latest, bool plain, bool gzip) const {
  auto r = std::make_shared<Rendered>();
  r->snapshot = latest;
  if (latest) {
    auto families = SpeakerCollector::Families(
        *latest, options_.keepalived_compat, latest->taken_at_unix_seconds);
    if (options_.extra_families) options_.extra_families(families);
    auto age = std::find_if(families.begin(), families.end(),
                            [](const auto& f) { return f.name == kAgeFamily; });
    std::vector<prometheus::MetricFamily> tail;
    if (age != families.end()) {
      r->age = std::move(*age);
      tail.assign(std::make_move_iterator(age + 1),
                  std::make_move_iterator(families.end()));
      families.erase(age, families.end());
    }
    AppendTextFormat(families, r->prefix);
    AppendTextFormat(tail, r->suffix);
  }
  if (gzip) {
    r->prefix_gz = Deflate(r->prefix, false);
    r->suffix_gz = Deflate(r->suffix, false);
  }
  r->plain = plain;
  if (!plain) {
    std::string().swap(r->prefix);
    std::string().swap(r->suffix);
  }
  return r;
}

void MetricsBody::Keep(std::shared_ptr<const Rendered> r) {
  // Never replace a newer rendering by an older one (the worker and a
  // scrape can finish in either order).
  if (!cached_ || !cached_->snapshot ||
      (r->snapshot && r->snapshot->taken_at_unix_seconds >=
                          cached_->snapshot->taken_at_unix_seconds)) {
    cached_ = std::move(r);
  }
}

void MetricsBody::Work() {
  // Below the scrape threads: a rendering ahead of need must not delay the
  // scrapes it is for (on two cores, four scrapers and a 70 ms rendering
  // made the p99). Best effort: without the privilege it stays as it is.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    changed_.wait(l, [&] { return stop_ || (wanted_ && !rendering_); });
    if (stop_) return;
    auto want = std::move(wanted_);
    const bool gzip = wanted_gzip_;
    const bool plain = wanted_plain_;
    wanted_.reset();
    if (cached_ && cached_->snapshot == want && (!gzip || cached_->Has(true)) &&
        (!plain || cached_->Has(false))) {
      continue;
    }
    rendering_ = true;
    l.unlock();
    std::shared_ptr<const Rendered> r;
    try {
      r = RenderSnapshot(want, plain, gzip);
    } catch (...) {
      // Out of memory or a zlib failure: the next scrape that needs a
      // rendering makes it itself and reports the error.
    }
    l.lock();
    rendering_ = false;
    if (r) Keep(std::move(r));
    changed_.notify_all();
  }
}

std::shared_ptr<const MetricsBody::Rendered> MetricsBody::Get(
    std::shared_ptr<const Snapshot> latest, bool gzip, double now) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    const bool usable = cached_ && cached_->Has(gzip);
    if (usable && cached_->snapshot == latest) return cached_;
    // A rendering of a snapshot at most kMaxServedAge old: answer with it
    // at once and let the worker render the newest for the next scrapes,
    // so no scrape waits for a rendering while scrapes come often. A
    // scraper that comes every few seconds always gets the newest.
    if (usable && cached_->snapshot && latest &&
        now - cached_->snapshot->taken_at_unix_seconds <=
            std::chrono::duration<double>(kMaxServedAge).count()) {
      // At most one rendering per kRenderEvery of snapshot time: at 10
      // publishes a second and ~70 ms of CPU per rendering of 1000
      // instances, rendering each would take most of a core.
      if (latest->taken_at_unix_seconds -
              cached_->snapshot->taken_at_unix_seconds >=
          std::chrono::duration<double>(kRenderEvery).count()) {
        wanted_ = latest;
        // The forms the scrapes use: this one and those kept so far.
        wanted_gzip_ = gzip || cached_->Has(true);
        wanted_plain_ = !gzip || cached_->Has(false);
        if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
        changed_.notify_all();
      }
      return cached_;
    }
    // One rendering at a time: scrapes that all found the last rendering
    // too old wait for the one in progress rather than each render.
    if (!rendering_) break;
    changed_.wait(l);
  }
  // This form, and the other one too if the last rendering had it (so
  // that alternating scrapers do not render in turn).
  const bool plain = !gzip || (cached_ && cached_->Has(false));
  const bool deflate = gzip || (cached_ && cached_->Has(true));
  rendering_ = true;
  l.unlock();
  std::shared_ptr<const Rendered> r;
  try {
    r = RenderSnapshot(latest, plain, deflate);
  } catch (...) {
    l.lock();
    rendering_ = false;
    changed_.notify_all();
    throw;
  }
  l.lock();
  rendering_ = false;
  Keep(r);
  changed_.notify_all();
  return r;
}

MetricsBody::Body MetricsBody::Render(std::shared_ptr<const Snapshot> latest,
                                      bool gzip, double now) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = Get(std::move(latest), gzip, now);
  // The series of this scrape: the served snapshot's age, and the
  // exporter's own metrics.
  std::string age;
  if (r->age && r->snapshot) {
    std::vector<prometheus::MetricFamily> f = {*r->age};
    if (!f[0].metric.empty()) {
      f[0].metric[0].gauge.value =
          std::max(0.0, now - r->snapshot->taken_at_unix_seconds);
    }
    AppendTextFormat(f, age);
  }
  std::string own;
  if (!options_.disable_exporter_metrics) {
    // node_exporter's pattern: a failing source is a 0 here, never a
    // failed scrape.
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    AppendTextFormat(
        {Gauge("vrrp_exporter_collector_duration_seconds",
               "How long the collector took.", {{"collector", "speaker"}},
               took),
         Gauge("vrrp_exporter_collector_success",
               "1 when the collector produced data.",
               {{"collector", "speaker"}}, r->snapshot ? 1 : 0),
         Gauge("vrrp_exporter_build_info", "The running version (value 1).",
               {{"version", options_.version}}, 1)},
        own);
  }
  Body body;
  if (!gzip) {
    body.bytes.reserve(r->prefix.size() + age.size() + r->suffix.size() +
                       own.size());
    body.bytes.append(r->prefix).append(age).append(r->suffix).append(own);
    return body;
  }
  // RFC 1952: one member, the pieces' deflate blocks back to back, the
  // CRC-32 and length of the whole combined from the pieces'.
  const Piece age_gz = Deflate(age, false);
  const Piece own_gz = Deflate(own, true);
  const Piece* pieces[] = {&*r->prefix_gz, &age_gz, &*r->suffix_gz, &own_gz};
  uLong crc = crc32(0, nullptr, 0);
  uLong length = 0;
  size_t size = 18;
  for (const Piece* p : pieces) {
    crc = crc32_combine(crc, p->crc, static_cast<z_off_t>(p->length));
    length += p->length;
    size += p->deflated.size();
  }
  body.gzip = true;
  body.bytes.reserve(size);
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown.
  body.bytes.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  for (const Piece* p : pieces) body.bytes.append(p->deflated);
  for (uLong v : {crc, length}) {
    for (int k = 0; k < 4; ++k) {
      body.bytes += static_cast<char>((v >> (8 * k)) & 0xff);
    }
  }
  return body;
}

bool AcceptsGzip(std::string_view header) {
  // Comma-separated codings, each optionally with ";q=VALUE".
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view()
                                             : header.substr(comma + 1);
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
      }
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
      }
      return s;
    };
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    std::string lower(coding);
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower != "gzip" && lower != "x-gzip" && lower != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view param = trim(item.substr(semi + 1));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') &&
        param[1] == '=') {
      // q=0, q=0.0, q=0.000 refuse; anything else accepts.
      std::string_view q = trim(param.substr(2));
      const bool zero = !q.empty() && q[0] == '0' &&
                        q.find_first_not_of("0.", 0) == std::string_view::npos;
      return !zero;
    }
    return true;
  }
  return false;
}

}  // namespace vrrp::exporter
