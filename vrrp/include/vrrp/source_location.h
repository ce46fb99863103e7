#pragma once

#include <string>

namespace vrrp {

// Where a configuration value came from, for error messages.
struct SourceLocation {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};

}  // namespace vrrp
