#include "kernel/sysctl_procfs.h"

#include "kernel/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lvsrs {
std::string SysctlProcfs::Path(const SysctlKey& key) const { return root_ + "/" + key.conf + "/" + ToString(key.key); }

namespace {

std::optional<int> ReadInt(const std::string& path) {
  UniqueFd f(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return std::nullopt;
  char buf[32] = {};
  const ssize_t n = read(f.fd, buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(buf, &end, 10);
  if (end == buf) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

std::optional<int> SysctlProcfs::Read(const SysctlKey& key) const {
  if (key.conf.find('/') != std::string::npos) return std::nullopt;
  return ReadInt(Path(key));
}

std::optional<int> SysctlProcfs::Read(const NdpSysctlKey& key) const {
  if (key.conf.find('/') != std::string::npos) return std::nullopt;
  return ReadInt(ipv6_root_ + "/" + key.conf + "/" + ToString(key.key));
}

std::string SysctlProcfs::Write(const SysctlKey& key, int value) const {
  if (key.conf.find('/') != std::string::npos) return "invalid interface name " + key.conf;
  const std::string path = Path(key);
  UniqueFd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (f.fd < 0) return "open " + path + ": " + std::strerror(errno);
  const std::string text = std::to_string(value) + "\n";
  if (write(f.fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return "write " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace lvsrs
