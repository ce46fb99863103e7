#pragma once

// Prometheus metrics of the embedded speaker, read from the published
// snapshot at scrape time: `vrrp_*` names, and optionally the names
// mehdy/keepalived-exporter made standard (`keepalived_*`), so dashboards
// built for it keep working.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/snapshot.h"

namespace vrrp::exporter {

class SpeakerCollector : public prometheus::Collectable {
 public:
  SpeakerCollector(const SnapshotStore& store, bool keepalived_compat)
      : store_(store), keepalived_compat_(keepalived_compat) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The families for one snapshot; `now_unix_seconds` gives the snapshot's
  // age. Pure, for golden tests.
  static std::vector<prometheus::MetricFamily> Families(
      const Snapshot& snapshot, bool keepalived_compat,
      double now_unix_seconds);

 private:
  const SnapshotStore& store_;
  bool keepalived_compat_;
};

}  // namespace vrrp::exporter
