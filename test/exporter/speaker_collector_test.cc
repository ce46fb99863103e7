// The exposition of a fixed snapshot, compared with a golden file, checked
// by promtool, and checked to keep every configured instance in every
// per-instance family. Regenerate the golden file after a deliberate change
// with scripts/update-golden.sh (the test itself never writes it).

#include "exporter/speaker_collector.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "exporter/golden_file.h"

namespace vrrp::exporter {
namespace {

using vrrp::IpAddress;
using vrrp::IpPrefix;

Snapshot Fixed() {
  Snapshot s;
  s.taken_at_unix_seconds = 1700000000.0;
  {
    InstanceSnapshot i;
    auto st = std::make_shared<vrrp::InstanceStats>();
    i.stats = st;
    auto config = std::make_shared<vrrp::InstanceConfig>();
    i.config = config;
    config->name = "web";
    config->interface = "eth0";
    config->vrid = 51;
    config->priority = 150;
    config->virtual_addresses = {*IpPrefix::Parse("198.51.100.10/24"),
                                 *IpPrefix::Parse("198.51.100.11/24")};
    i.status.name = "web";
    i.status.state = vrrp::State::kMaster;
    i.status.base_priority = 150;
    i.status.effective_priority = 140;
    i.status.master_address = *IpAddress::Parse("192.0.2.1");
    i.status.master_priority = 140;
    i.status.advert_interval = vrrp::Centiseconds(100);
    i.status.master_advert_interval = vrrp::Centiseconds(100);
    i.status.master_down_interval = std::chrono::microseconds(3453125);
    st->advertisements_sent = 1234;
    st->advertisements_received = 7;
    st->priority_zero_received = 1;
    st->become_master = 2;
    st->release_master = 1;
    st->announcements = 3;
    st->received_with_pseudo_header = 5;
    st->received_without_pseudo_header = 2;
    st->receive_errors[static_cast<size_t>(vrrp::ReceiveError::kAdvInterval)] =
        4;
    vrrp::PeerInfo p;
    p.priority = 100;
    p.checksum_form = vrrp::ChecksumForm::kWithoutPseudoHeader;
    i.status.peers[*IpAddress::Parse("192.0.2.2")] = p;
    i.vip_present = {{config->virtual_addresses[0], true},
                     {config->virtual_addresses[1], false}};
    i.last_transition_unix_seconds = 1699999990.5;
    i.transitions[{vrrp::State::kInitialize, vrrp::State::kBackup,
                   vrrp::TransitionReason::kStartup}] = 1;
    i.transitions[{vrrp::State::kBackup, vrrp::State::kMaster,
                   vrrp::TransitionReason::kPriorityZeroReceived}] = 2;
    i.failover_seconds = Histogram(FailoverBuckets());
    i.failover_seconds.Observe(0.4140625);
    i.failover_seconds.Observe(3.4140625);
    st->advert_lateness.Observe(0.00003);
    s.instances.push_back(i);
  }
  {
    InstanceSnapshot i;
    auto st = std::make_shared<vrrp::InstanceStats>();
    i.stats = st;
    auto config = std::make_shared<vrrp::InstanceConfig>();
    i.config = config;
    config->name = "legacy";
    config->interface = "eth1";
    config->vrid = 7;
    config->version = vrrp::Version::kV2;
    config->priority = 90;
    config->preempt = false;
    config->virtual_addresses = {*IpPrefix::Parse("203.0.113.7/24")};
    i.status.name = "legacy";
    i.status.state = vrrp::State::kBackup;
    i.status.base_priority = 90;
    i.status.effective_priority = 90;
    i.status.advert_interval = vrrp::Centiseconds(100);
    i.status.master_advert_interval = vrrp::Centiseconds(100);
    i.status.master_down_interval = std::chrono::microseconds(3648437);
    i.vip_present = {{config->virtual_addresses[0], false}};
    i.failover_seconds = Histogram(FailoverBuckets());
    s.instances.push_back(i);
  }
  s.interface_receive_errors["eth0"]
                            [static_cast<size_t>(vrrp::ReceiveError::kVrId)] =
      9;
  s.send_errors = 1;
  vrrp::SyncGroupStatus g;
  g.name = "pair";
  g.state = vrrp::State::kFault;
  g.members = {"web", "legacy"};
  g.faulted_members = {"legacy"};
  g.transitions = 3;
  s.sync_groups.push_back(g);
  s.notifications.runs[{"exec", "success"}] = 4;
  s.notifications.runs[{"exec", "timeout"}] = 1;
  s.notifications.runs[{"webhook", "success"}] = 5;
  s.notifications.runs[{"fifo", "written"}] = 5;
  s.notifications.dropped["fifo"] = 2;
  s.notifications.duration_seconds["exec"] = {1.5, 5};
  s.notifications.last_duration["exec"] = std::chrono::milliseconds(250);
  s.notifications.socket_clients = 1;
  return s;
}

std::string Expose(bool compat) {
  auto families = SpeakerCollector::Families(Fixed(), compat, 1700000001.25);
  return prometheus::TextSerializer().Serialize(families);
}

TEST(SpeakerCollector, MatchesTheGoldenExposition) {
  vrrp::testing::ExpectMatchesGolden("speaker.prom", Expose(/*compat=*/true));
}

TEST(SpeakerCollector, PromtoolFindsNothingToComplainAbout) {
  const std::string path = ::testing::TempDir() + "/speaker.prom";
  std::ofstream(path) << Expose(true);
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST(SpeakerCollector, EveryInstanceIsInEveryPerInstanceFamily) {
  // An instance that exists in the configuration never vanishes, whatever
  // its state: a Backup with no master heard still has every series.
  for (const auto& f : SpeakerCollector::Families(Fixed(), false, 0)) {
    if (f.name.rfind("vrrp_instance_", 0) != 0 ||
        f.name == "vrrp_instance_master_info" ||
        f.name == "vrrp_instance_peer_priority" ||
        f.name == "vrrp_instance_transitions_total") {
      continue;
    }
    std::set<std::string> names;
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        if (l.name == "vrrp_instance") names.insert(l.value);
      }
    }
    EXPECT_EQ(names, (std::set<std::string>{"web", "legacy"})) << f.name;
  }
}

TEST(SpeakerCollector, NoLabelIsNamedInstanceOrJob) {
  for (const auto& f : SpeakerCollector::Families(Fixed(), true, 0)) {
    for (const auto& m : f.metric) {
      for (const auto& l : m.label) {
        EXPECT_NE(l.name, "instance") << f.name;
        EXPECT_NE(l.name, "job") << f.name;
      }
    }
  }
}

// The value of the only series of `family` whose labels include `label`.
double Value(const std::vector<prometheus::MetricFamily>& families,
             const std::string& family,
             const prometheus::ClientMetric::Label& label = {}) {
  for (const auto& f : families) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      const bool match =
          label.name.empty() ||
          std::any_of(m.label.begin(), m.label.end(), [&](const auto& l) {
            return l.name == label.name && l.value == label.value;
          });
      if (match)
        return f.type == prometheus::MetricType::Counter ? m.counter.value
                                                         : m.gauge.value;
    }
  }
  ADD_FAILURE() << "no " << family;
  return -1;
}

// A snapshot stamped later than the scrape's clock (the wall clock stepped
// back): the age is 0, never negative.
TEST(SpeakerCollector, SnapshotAgeIsNeverNegative) {
  const Snapshot s = Fixed();
  EXPECT_EQ(Value(SpeakerCollector::Families(s, false, 1700000002.5),
                  "vrrp_snapshot_age_seconds"),
            2.5);
  EXPECT_EQ(Value(SpeakerCollector::Families(s, false, 1699999990.0),
                  "vrrp_snapshot_age_seconds"),
            0);
}

// keepalived-exporter's packet-length counter is RFC 6527's
// PacketLengthErrors, which our `truncated` extension is a part of.
TEST(SpeakerCollector, CompatPacketLengthErrorsIncludeTruncated) {
  Snapshot s = Fixed();
  auto stats = std::make_shared<vrrp::InstanceStats>();
  auto& errors = stats->receive_errors;
  errors[static_cast<size_t>(vrrp::ReceiveError::kPacketLength)] = 3;
  errors[static_cast<size_t>(vrrp::ReceiveError::kTruncated)] = 2;
  s.instances[0].stats = stats;
  EXPECT_EQ(Value(SpeakerCollector::Families(s, true, 0),
                  "keepalived_packet_length_errors_total", {"iname", "web"}),
            5);
}

TEST(SpeakerCollector, NoSnapshotYetMeansNoSeries) {
  SnapshotStore store;
  SpeakerCollector c(store, true);
  EXPECT_TRUE(c.Collect().empty());
  store.Publish(std::make_shared<Snapshot>(Fixed()));
  EXPECT_FALSE(c.Collect().empty());
}

}  // namespace
}  // namespace vrrp::exporter
