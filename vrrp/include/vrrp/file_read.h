#pragma once

// Reading a whole configuration-sized file, for every loader.

#include <cstddef>
#include <string>

#include "vrrp/result.h"

namespace vrrp {

// The file's contents, or an errno: EISDIR for a directory, EFBIG past
// `max_bytes` (a log file or disk image given by mistake is refused before it
// is read whole), or what open/read said.
Result<std::string, int> ReadSmallFile(const std::string& path,
                                       size_t max_bytes);

}  // namespace vrrp
