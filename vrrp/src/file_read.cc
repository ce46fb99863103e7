#include "vrrp/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace vrrp {

Result<std::string, int> ReadSmallFile(const std::string& path,
                                       size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Err(errno);
  auto fail = [fd](int error) -> Result<std::string, int> {
    ::close(fd);
    return Err(error);
  };
  // read() on a directory fails with EISDIR anyway; fstat only makes that
  // independent of the file system.
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(errno);
  if (S_ISDIR(st.st_mode)) return fail(EISDIR);
  if (!S_ISREG(st.st_mode)) return fail(kNotARegularFile);
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) return fail(EFBIG);
  }
  ::close(fd);
  return text;
}

std::string FileReadErrorText(int error) {
  if (error == kNotARegularFile) {
    return "not a regular file (a FIFO, socket or device)";
  }
  return std::error_code(error, std::generic_category()).message();
}

}  // namespace vrrp
