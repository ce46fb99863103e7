#pragma once

// Tracker metrics: vrrp_tracker_* per tracker, vrrp_instance_tracker_* per
// (instance, tracker), and keepalived-exporter's keepalived_script_status /
// keepalived_script_state in the compatibility set.

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/snapshot.h"

namespace vrrp::exporter {

void TrackerFamilies(const Snapshot& snapshot, bool keepalived_compat,
                     std::vector<prometheus::MetricFamily>& out);

}  // namespace vrrp::exporter
