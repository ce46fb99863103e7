#pragma once

// Reading a whole configuration-sized file, for every loader.

#include <cerrno>
#include <cstddef>
#include <string>

#include "vrrp/result.h"

namespace vrrp {

// The file's contents, or an errno: EISDIR for a directory, EFBIG past
// `max_bytes` (a log file or disk image given by mistake is refused before it
// is read whole), kNotARegularFile for a FIFO, socket or device (opened
// without blocking and refused: a FIFO with no writer would otherwise hold
// the caller, the event loop on a reload, for as long as nobody writes), or
// what open/read said.
inline constexpr int kNotARegularFile = EINVAL;
Result<std::string, int> ReadSmallFile(const std::string& path,
                                       size_t max_bytes);
// What went wrong, for a message: "not a regular file ..." or strerror.
std::string FileReadErrorText(int error);

}  // namespace vrrp
