#include "support/observe_in_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

#include "kernel/rtnl_kernel.h"

namespace lvsrs::testing {

ObservedState ObserveIn(const std::string& name) {
  ObservedState out;
  std::exception_ptr error;
  std::thread t([&] {
    try {
      const int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open netns " + name + ": " + std::strerror(errno));
      const int rc = setns(fd, CLONE_NEWNET);
      const int err = errno;
      close(fd);
      if (rc != 0) throw std::runtime_error("setns " + name + ": " + std::strerror(err));
      RtnlKernel kernel;
      out = kernel.Observe();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace lvsrs::testing
