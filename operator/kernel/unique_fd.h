// A file descriptor closed on every path out of the scope that opened it (procfs reads, the state
// file, the --file input). Move-only in spirit: copying would close it twice, so copies are deleted.
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
};

}  // namespace lvsrs
