// The hand-written text format against prometheus-cpp's TextSerializer, and
// the cached / gzip /metrics bodies against a fresh uncompressed rendering.

#include "exporter/metrics_body.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <cmath>
#include <limits>
#include <memory>
#include <thread>

#include "exporter/speaker_collector.h"
#include "exporter/text_format.h"

namespace vrrp::exporter {
namespace {

using vrrp::IpAddress;
using vrrp::IpPrefix;
using namespace std::chrono_literals;

std::shared_ptr<Snapshot> Sample(uint64_t sent) {
  auto s = std::make_shared<Snapshot>();
  s->taken_at_unix_seconds = 1700000000.125;
  for (int k = 0; k < 3; ++k) {
    InstanceSnapshot i;
    auto st = std::make_shared<vrrp::InstanceStats>();
    i.stats = st;
    auto config = std::make_shared<vrrp::InstanceConfig>();
    i.config = config;
    // A quote, a backslash and a newline must be escaped in label values.
    config->name = k == 0 ? "we\"ird\\na\nme" : "vip" + std::to_string(k);
    config->interface = "eth0";
    config->vrid = static_cast<uint8_t>(k + 1);
    config->family = k == 2 ? vrrp::Family::kIpv6 : vrrp::Family::kIpv4;
    config->virtual_addresses = {
        *IpPrefix::Parse(k == 2 ? "2001:db8::1/64" : "198.51.100.1/24")};
    i.status.state = vrrp::State::kBackup;
    i.status.master_address = *IpAddress::Parse("192.0.2.1");
    i.status.master_down_interval = std::chrono::microseconds(3414062);
    st->advertisements_sent = sent + static_cast<uint64_t>(k);
    st->advertisements_received = 12345678901234ULL;
    vrrp::PeerInfo p;
    p.priority = 200;
    i.status.peers[*IpAddress::Parse("192.0.2.2")] = p;
    i.vip_present = {{config->virtual_addresses[0], k != 1}};
    i.last_transition_unix_seconds = 1699999990.5;
    i.transitions[{vrrp::State::kInitialize, vrrp::State::kBackup,
                   vrrp::TransitionReason::kStartup}] = 1;
    i.failover_seconds = Histogram(FailoverBuckets());
    i.failover_seconds.Observe(0.4140625);
    i.failover_seconds.Observe(0.1 + 0.2);
    st->advert_lateness.Observe(0.00003);
    s->instances.push_back(std::move(i));
  }
  s->interface_receive_errors["eth0"][1] = 9;
  s->send_errors = 1;
  return s;
}

TEST(TextFormat, MatchesTextSerializerForEverySpeakerFamily) {
  for (bool compat : {false, true}) {
    const auto families =
        SpeakerCollector::Families(*Sample(7), compat, 1700000001.25);
    std::string mine;
    AppendTextFormat(families, mine);
    EXPECT_EQ(mine, prometheus::TextSerializer().Serialize(families));
  }
}

TEST(TextFormat, MatchesTextSerializerForAwkwardValues) {
  prometheus::MetricFamily f;
  f.name = "x";
  f.help = "help with \" and \\ kept verbatim";
  f.type = prometheus::MetricType::Gauge;
  for (double v : {0.0, -0.0, 1.0, -1.0, 0.001, 0.1 + 0.2, 1e-7, 1e15 - 1, 1e15,
                   1e16, 1e300, 123456789012345678.0, 2.5,
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    prometheus::ClientMetric m;
    m.label = {{"a", "b"}};
    m.gauge.value = v;
    f.metric.push_back(m);
  }
  prometheus::ClientMetric unlabelled;
  unlabelled.gauge.value = 3;
  unlabelled.timestamp_ms = 1700000000123;
  f.metric.push_back(unlabelled);
  prometheus::MetricFamily s;
  s.name = "s";
  s.type = prometheus::MetricType::Summary;
  prometheus::ClientMetric q;
  q.summary.sample_count = 2;
  q.summary.sample_sum = 0.5;
  q.summary.quantile = {{0.5, 0.25}, {0.99, 0.3}};
  s.metric.push_back(q);
  q.label = {{"k", "v"}};
  s.metric.push_back(q);
  prometheus::MetricFamily u;
  u.name = "u";
  u.help = "untyped";
  u.type = prometheus::MetricType::Untyped;
  prometheus::ClientMetric um;
  um.untyped.value = 4.75;
  u.metric.push_back(um);
  const std::vector<prometheus::MetricFamily> all = {f, s, u};
  std::string mine;
  AppendTextFormat(all, mine);
  EXPECT_EQ(mine, prometheus::TextSerializer().Serialize(all));
}

RouteOptions Options() {
  RouteOptions o;
  o.version = "test";
  o.disable_exporter_metrics = true;  // their duration differs per call
  return o;
}

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out(in.size() * 50 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  // Z_STREAM_END only once the trailer's CRC-32 and length matched.
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END) << (z.msg ? z.msg : "");
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip member";
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(MetricsBody, PlainBodyIsTheSerializedFamiliesWithTheScrapesAge) {
  const auto snap = Sample(7);
  MetricsBody body(Options());
  const double now = 1700000003.5;
  const auto b = body.Render(snap, false, now);
  EXPECT_FALSE(b.gzip);
  EXPECT_EQ(b.bytes, prometheus::TextSerializer().Serialize(
                         SpeakerCollector::Families(*snap, true, now)));
  EXPECT_NE(b.bytes.find("vrrp_snapshot_age_seconds 3.375\n"),
            std::string::npos);
}

TEST(MetricsBody, ASecondScrapeOfTheSameSnapshotOnlyMovesTheAge) {
  const auto snap = Sample(7);
  MetricsBody body(Options());
  body.Render(snap, false, 1700000001);
  const auto later = body.Render(snap, false, 1700000009.5);
  EXPECT_EQ(later.bytes,
            prometheus::TextSerializer().Serialize(
                SpeakerCollector::Families(*snap, true, 1700000009.5)));
}

TEST(MetricsBody, ANewSnapshotIsRenderedAnew) {
  MetricsBody body(Options());
  body.Render(Sample(7), false, 1700000001);
  const auto next = Sample(1000);
  const auto b = body.Render(next, true, 1700000001);
  EXPECT_EQ(Gunzip(b.bytes),
            prometheus::TextSerializer().Serialize(
                SpeakerCollector::Families(*next, true, 1700000001)));
}

TEST(MetricsBody, FrequentScrapesGetTheLastRenderingWhileTheNewestRenders) {
  MetricsBody body(Options());
  auto first = Sample(7);
  const double t = first->taken_at_unix_seconds;
  auto expose = [](const Snapshot& s, double now) {
    return prometheus::TextSerializer().Serialize(
        SpeakerCollector::Families(s, true, now));
  };
  body.Render(first, false, t + 0.05);
  // 0.1 s newer (< kRenderEvery): answered from the first rendering, with
  // the first snapshot's own age, and not rendered.
  auto close = Sample(500);
  close->taken_at_unix_seconds = t + 0.1;
  EXPECT_EQ(body.Render(close, false, t + 0.15).bytes,
            expose(*first, t + 0.15));
  // 0.3 s newer (>= kRenderEvery), the first rendering 0.35 s old
  // (< kMaxServedAge): answered from the first rendering, or from the new
  // one if the worker was quicker; either way one snapshot, whole.
  auto second = Sample(1000);
  second->taken_at_unix_seconds = t + 0.3;
  const std::string want_second = expose(*second, t + 0.35);
  const auto now_body = body.Render(second, false, t + 0.35);
  if (now_body.bytes != want_second) {
    EXPECT_EQ(now_body.bytes, expose(*first, t + 0.35));
  }
  // The worker renders the second; later scrapes get it.
  std::string got;
  for (int k = 0; k < 1000 && got != want_second; ++k) {
    got = body.Render(second, false, t + 0.35).bytes;
    if (got != want_second) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(got == want_second) << "the worker never rendered the newest";
}

TEST(MetricsBody, AnOldRenderingIsNeverServedForANewSnapshot) {
  MetricsBody body(Options());
  auto first = Sample(7);
  const double t = first->taken_at_unix_seconds;
  body.Render(first, false, t);
  auto second = Sample(1000);
  second->taken_at_unix_seconds = t + 15;  // a scraper every 15 s
  EXPECT_EQ(body.Render(second, false, t + 15.01).bytes,
            prometheus::TextSerializer().Serialize(
                SpeakerCollector::Families(*second, true, t + 15.01)));
}

TEST(MetricsBody, PlainAndGzipScrapersOfOneSnapshotEachGetTheirForm) {
  MetricsBody body(Options());
  auto snap = Sample(7);
  const double t = snap->taken_at_unix_seconds;
  auto expose = [&](double now) {
    return prometheus::TextSerializer().Serialize(
        SpeakerCollector::Families(*snap, true, now));
  };
  // The gzip-only rendering keeps no text; a plain scrape renders it again.
  EXPECT_EQ(Gunzip(body.Render(snap, true, t + 0.05).bytes), expose(t + 0.05));
  EXPECT_EQ(body.Render(snap, false, t + 0.1).bytes, expose(t + 0.1));
  EXPECT_EQ(Gunzip(body.Render(snap, true, t + 0.15).bytes), expose(t + 0.15));
  EXPECT_EQ(body.Render(snap, false, t + 0.2).bytes, expose(t + 0.2));
}

TEST(MetricsBody, GzipBodyInflatesToThePlainOne) {
  for (bool own_metrics : {false, true}) {
    auto o = Options();
    o.disable_exporter_metrics = !own_metrics;
    const auto snap = Sample(42);
    MetricsBody body(o);
    const auto gz = body.Render(snap, true, 1700000002);
    ASSERT_TRUE(gz.gzip);
    ASSERT_GE(gz.bytes.size(), 18u);
    EXPECT_EQ(gz.bytes.substr(0, 2), "\x1f\x8b");
    const std::string text = Gunzip(gz.bytes);
    const auto plain = body.Render(snap, false, 1700000002);
    if (own_metrics) {
      // Everything up to the exporter's own metrics is identical; their
      // collector duration differs between the two calls.
      const auto cut = plain.bytes.find("# HELP vrrp_exporter_");
      ASSERT_NE(cut, std::string::npos);
      EXPECT_EQ(text.substr(0, cut), plain.bytes.substr(0, cut));
      EXPECT_NE(text.find("vrrp_exporter_build_info{version=\"test\"} 1\n"),
                std::string::npos);
    } else {
      EXPECT_EQ(text, plain.bytes);
    }
  }
}

TEST(MetricsBody, WithoutASnapshotOnlyTheExportersOwnMetrics) {
  RouteOptions o = Options();
  o.disable_exporter_metrics = false;
  MetricsBody body(o);
  const auto b = body.Render(nullptr, true, 1700000002);
  const std::string text = Gunzip(b.bytes);
  EXPECT_NE(text.find("vrrp_exporter_collector_success{collector=\"speaker\"} "
                      "0\n"),
            std::string::npos);
  EXPECT_EQ(text.find("vrrp_instance"), std::string::npos);
}

TEST(AcceptsGzip, FollowsTheCodingsAndTheirWeights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("deflate,GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("identity, gzip ; q=1"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.000"));
  EXPECT_FALSE(AcceptsGzip("xgzip"));
}

}  // namespace
}  // namespace vrrp::exporter
