#include "exporter/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace vrrp::exporter {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

void AppendUnsigned(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// TextSerializer: "Nan", "+Inf"/"-Inf", else the stream with precision
// max_digits10 - 1 = 16 in the default float field, i.e. printf's "%.16g".
void AppendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "Nan";
  } else if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
  } else if (v >= 0 && v < 1e15 && v == std::floor(v) && !std::signbit(v)) {
    // Counters and most gauges: an integer, which "%.16g" prints in full
    // below 1e16. Skips printf's float path, the costliest part.
    AppendUnsigned(out, static_cast<uint64_t>(v));
  } else {
    char buf[32];
    const int n = std::snprintf(buf, sizeof(buf), "%.16g", v);
    out.append(buf, static_cast<size_t>(n));
  }
}

void AppendLabelValue(std::string& out, const std::string& v) {
  // Runs without a character to escape (nearly always all of it) in one
  // append: byte by byte was a third of a 1000-instance rendering.
  size_t from = 0;
  for (;;) {
    const size_t at = v.find_first_of("\\\"\n", from);
    out.append(v, from,
               at == std::string::npos ? std::string::npos : at - from);
    if (at == std::string::npos) return;
    out += v[at] == '\n' ? "\\n" : v[at] == '"' ? "\\\"" : "\\\\";
    from = at + 1;
  }
}

// Name, suffix, labels (plus `le` for buckets) and the space before the
// value.
void AppendHead(std::string& out, const MetricFamily& f, const ClientMetric& m,
                std::string_view suffix = {}, const double* le = nullptr) {
  out += f.name;
  out += suffix;
  if (!m.label.empty() || le) {
    out += '{';
    bool first = true;
    for (const auto& l : m.label) {
      if (!first) out += ',';
      first = false;
      out += l.name;
      out += "=\"";
      AppendLabelValue(out, l.value);
      out += '"';
    }
    if (le) {
      if (!first) out += ',';
      out += "le=\"";
      AppendDouble(out, *le);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void AppendTail(std::string& out, const ClientMetric& m) {
  if (m.timestamp_ms != 0) {
    out += ' ';
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), m.timestamp_ms);
    out.append(buf, r.ptr);
  }
  out += '\n';
}

void AppendHistogram(std::string& out, const MetricFamily& f,
                     const ClientMetric& m) {
  const auto& h = m.histogram;
  AppendHead(out, f, m, "_count");
  AppendUnsigned(out, h.sample_count);
  AppendTail(out, m);
  AppendHead(out, f, m, "_sum");
  AppendDouble(out, h.sample_sum);
  AppendTail(out, m);
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& b : h.bucket) {
    AppendHead(out, f, m, "_bucket", &b.upper_bound);
    last = b.upper_bound;
    AppendUnsigned(out, b.cumulative_count);
    AppendTail(out, m);
  }
  if (last != std::numeric_limits<double>::infinity()) {
    const double inf = std::numeric_limits<double>::infinity();
    AppendHead(out, f, m, "_bucket", &inf);
    AppendUnsigned(out, h.sample_count);
    AppendTail(out, m);
  }
}

void AppendSummary(std::string& out, const MetricFamily& f,
                   const ClientMetric& m) {
  const auto& s = m.summary;
  AppendHead(out, f, m, "_count");
  AppendUnsigned(out, s.sample_count);
  AppendTail(out, m);
  AppendHead(out, f, m, "_sum");
  AppendDouble(out, s.sample_sum);
  AppendTail(out, m);
  for (const auto& q : s.quantile) {
    // TextSerializer writes the quantile as a label "quantile".
    out += f.name;
    out += '{';
    for (const auto& l : m.label) {
      out += l.name;
      out += "=\"";
      AppendLabelValue(out, l.value);
      out += "\",";
    }
    out += "quantile=\"";
    AppendDouble(out, q.quantile);
    out += "\"} ";
    AppendDouble(out, q.value);
    AppendTail(out, m);
  }
}

}  // namespace

void AppendTextFormat(const std::vector<MetricFamily>& families,
                      std::string& out) {
  for (const MetricFamily& f : families) {
    if (!f.help.empty()) {
      out += "# HELP ";
      out += f.name;
      out += ' ';
      out += f.help;
      out += '\n';
    }
    out += "# TYPE ";
    out += f.name;
    switch (f.type) {
      case MetricType::Counter:
        out += " counter\n";
        for (const auto& m : f.metric) {
          AppendHead(out, f, m);
          AppendDouble(out, m.counter.value);
          AppendTail(out, m);
        }
        break;
      case MetricType::Gauge:
        out += " gauge\n";
        for (const auto& m : f.metric) {
          AppendHead(out, f, m);
          AppendDouble(out, m.gauge.value);
          AppendTail(out, m);
        }
        break;
      case MetricType::Untyped:
        out += " untyped\n";
        for (const auto& m : f.metric) {
          AppendHead(out, f, m);
          AppendDouble(out, m.untyped.value);
          AppendTail(out, m);
        }
        break;
      case MetricType::Summary:
        out += " summary\n";
        for (const auto& m : f.metric) AppendSummary(out, f, m);
        break;
      case MetricType::Histogram:
        out += " histogram\n";
        for (const auto& m : f.metric) AppendHistogram(out, f, m);
        break;
    }
  }
}

}  // namespace vrrp::exporter
