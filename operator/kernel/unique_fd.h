// A file descriptor closed on every path out of the scope that opened it (procfs reads, the state
// file, the --file input, the director-facing listeners' sockets). Move-only: copying would close
// it twice.
#pragma once

#include <unistd.h>

namespace lvsrs {

struct UniqueFd {
  int fd;
  explicit UniqueFd(int f) : fd(f) {}
  ~UniqueFd() {
    if (fd >= 0) close(fd);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd(other.fd) { other.fd = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd >= 0) close(fd);
      fd = other.fd;
      other.fd = -1;
    }
    return *this;
  }
};

}  // namespace lvsrs
