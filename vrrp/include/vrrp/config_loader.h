#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vrrp/config.h"
#include "vrrp/result.h"
#include "vrrp/time.h"

namespace vrrp {

// One problem found in a configuration file: "FILE:LINE:COLUMN: FIELD:
// MESSAGE".
struct ConfigError {
  SourceLocation location;
  std::string field;  // dotted path, e.g. "instances[1].vrid"
  std::string message;

  std::string ToString() const;
};

// Loads and validates a YAML configuration. Every problem is reported, not
// only the first, so one `--config.check` run shows all of them.
Result<Config, std::vector<ConfigError>> LoadConfigFile(
    const std::string& path);
Result<Config, std::vector<ConfigError>> LoadConfigString(
    std::string_view yaml, const std::string& file_name);

// Parses a duration: a non-negative decimal number with an optional unit,
// "ms", "s" or "m" ("100ms", "1.5s", "2m"). A bare number is seconds, as
// Keepalived's advert_int is. Fractions finer than 1 ns are rejected rather
// than rounded. The error text reads after a field name: "must be ...".
Result<Duration, std::string> ParseDuration(std::string_view text);

}  // namespace vrrp
