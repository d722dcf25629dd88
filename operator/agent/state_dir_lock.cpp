#include "agent/state_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace lvsrs {
namespace {

// Who holds the lock, as it wrote itself into the file ("pid 1234 run"), for messages.
std::string Holder(int fd) {
  char buf[128];
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  // "pid N run" -> "pid N (lvs-rs-operator run)"; anything else is shown as it is.
  const auto space = text.find(' ', 4);
  if (text.rfind("pid ", 0) == 0 && space != std::string::npos)
    return text.substr(0, space) + " (lvs-rs-operator " + text.substr(space + 1) + ")";
  return text.empty() ? "another process (it has not written its pid yet)" : text;
}

}  // namespace

StateDirLock::StateDirLock(const std::string& state_dir, const std::string& command, std::chrono::milliseconds wait,
                           const std::function<void(const std::string& holder)>& waiting)
    : path_(state_dir + "/lock") {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw std::runtime_error("state dir " + state_dir + ": " + ec.message());
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw std::runtime_error("lock file " + path_ + ": " + std::strerror(errno));

  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool told = false;
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      close(fd_);
      throw std::runtime_error("lock file " + path_ + ": " + std::strerror(err));
    }
    const std::string holder = Holder(fd_);
    if (std::chrono::steady_clock::now() >= deadline) {
      close(fd_);
      throw std::runtime_error("state dir " + state_dir + " is in use: " + path_ + " is locked by " + holder +
                               "; only one lvs-rs-operator run or cleanup may use a state dir at a time");
    }
    if (!told && waiting) waiting(holder);
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Ours now: say who we are (after the lock, so a waiter never reads a half-written line of a
  // process that does not hold it).
  const std::string me = "pid " + std::to_string(getpid()) + " " + command + "\n";
  // Should this fail, only a waiting process's message suffers; the lock is held all the same.
  if (ftruncate(fd_, 0) == 0) (void)!pwrite(fd_, me.data(), me.size(), 0);
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) close(fd_);  // releases the lock; the file stays (removing it would race a waiter)
}

}  // namespace lvsrs
