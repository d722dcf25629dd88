#include "agent/file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/log.h"
#include "kernel/unique_fd.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs {
namespace {

constexpr off_t kMaxFileBytes = off_t{16} * 1024 * 1024;

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

std::vector<VirtualIp> LoadVirtualIpFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not hang the agent; it is refused below like any non-file.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw FileError(path + ": cannot open: " + std::strerror(errno));
  const UniqueFd closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) throw FileError(path + ": cannot stat: " + std::strerror(errno));
  // Checked before reading: /dev/zero or /dev/urandom never end, a pipe has no size to check.
  if (!S_ISREG(st.st_mode)) throw FileError(path + ": not a regular file; refusing to read it");
  if (st.st_size > kMaxFileBytes) throw FileError(path + ": larger than 16 MiB; refusing to parse it");
  // The buffer starts at the size fstat saw plus one byte, so that a file that grew since is
  // noticed, and grows (doubling) up to one byte past the limit at most. It is not the limit from
  // the start: a 16 MiB zero-filled string costs 4,096 page faults and ~17M instructions of memset
  // on every read, which was half of `run --once` on 10 VIPs (BENCHMARKS.md, "Start-up").
  constexpr auto kLimit = static_cast<std::size_t>(kMaxFileBytes) + 1;
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() >= kLimit) break;
      text.resize(std::min(kLimit, text.size() * 2));
    }
    const ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileError(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > static_cast<std::size_t>(kMaxFileBytes))
    throw FileError(path + ": larger than 16 MiB; refusing to parse it");
  text.resize(got);
  ParsedDocuments parsed = ParseVirtualIpDocuments(text, path);
  if (!parsed.errors.empty()) {
    std::string all;
    for (const auto& e : parsed.errors) all += (all.empty() ? "" : "\n") + e;
    throw FileError(all);
  }
  return std::move(parsed.vips);
}

FileSource::FileSource(std::string path, NodeInfo node) : path_(std::move(path)), node_(std::move(node)) {
  if (stat(path_.c_str(), &seen_) != 0) throw FileError(path_ + ": " + std::strerror(errno));
  vips_ = LoadVirtualIpFile(path_);
}

DesiredSource::Snapshot FileSource::Get() { return Snapshot{true, vips_, node_, {}, nullptr}; }

bool FileSource::Poll() {
  struct stat now {};
  if (stat(path_.c_str(), &now) != 0) {
    const std::string err = path_ + ": " + std::strerror(errno) + "; keeping the last good VirtualIPs";
    if (err != last_error_) LogError(err);
    last_error_ = err;
    return false;
  }
  if (SameFile(now, seen_)) return false;
  seen_ = now;
  try {
    vips_ = LoadVirtualIpFile(path_);
    last_error_.clear();
    LogInfo(path_ + ": re-read, " + std::to_string(vips_.size()) + " VirtualIP(s)");
    return true;
  } catch (const FileError& e) {
    last_error_ = e.what();
    LogError(std::string(e.what()) + "\n(keeping the last good VirtualIPs)");
    return false;
  }
}

}  // namespace lvsrs
