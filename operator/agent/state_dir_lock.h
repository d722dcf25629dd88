// One writer at a time in a state directory. `run` and `cleanup` each load the sysctl records at
// start and rewrite the file from what they hold, so with both at work one drops the other's
// records: a `cleanup` would forget an original that `run` records a moment later (and the value
// could never be restored), or `run` would write back records `cleanup` has just restored. An
// exclusive flock(2) on <state-dir>/lock, held for the whole command; the kernel releases it when
// the process ends, also on SIGKILL, so a crash never leaves a stale lock. The holder writes
// "pid <pid> <command>" into the file, for the error message of the one that has to wait.
// Read-only commands (--dry-run, check) take no lock.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace lvsrs {

class StateDirLock {
 public:
  // Takes the lock for `command` ("run", "cleanup"), creating the directory and the lock file
  // when missing. While another process holds it, waits up to `wait` (calling `waiting` once
  // with the holder's description), then throws std::runtime_error naming the lock file and the
  // holder's pid. Also throws when the directory or the file cannot be created.
  StateDirLock(const std::string& state_dir, const std::string& command, std::chrono::milliseconds wait,
               const std::function<void(const std::string& holder)>& waiting = nullptr);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace lvsrs
