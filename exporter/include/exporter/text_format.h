#pragma once

// The Prometheus text exposition format (0.0.4), written straight into a
// std::string. Byte for byte what prometheus::TextSerializer (Debian's
// prometheus-cpp 1.0.1) writes for the same families (values as "%.16g",
// label values escaped, HELP verbatim), checked by text_format_test.cc; about
// ten times cheaper, because TextSerializer goes through an ostream per
// token, which dominated a 1000-instance scrape (bench/scrape).

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace vrrp::exporter {

void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families,
                      std::string& out);

}  // namespace vrrp::exporter
