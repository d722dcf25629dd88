#include "agent/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "kernel/unique_fd.h"

namespace lvsrs {
namespace {

// Far more than every sysctl of thousands of interfaces, or the record of 100,000 addresses
// (about 80 bytes each); a larger file is not ours.
constexpr off_t kMaxStateBytes = 16 << 20;

void WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno ? errno : EIO, std::generic_category());
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::optional<std::string> ReadStateFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error("state file " + path + ": " + std::strerror(errno));
  }
  const UniqueFd closer(fd);
  struct stat st {};
  if (fstat(fd, &st) != 0) throw std::runtime_error("state file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("state file " + path + " is not a regular file");
  if (st.st_size > kMaxStateBytes)
    throw std::runtime_error("state file " + path + " is " + std::to_string(st.st_size) +
                             " bytes, more than this version ever writes; fix or remove it by hand");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("state file " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

void ReplaceStateFile(const std::string& dir, const std::string& path, const std::string& text, Persist persist) {
  // The same bytes already there: nothing to replace, and two fsyncs saved (a restart re-derives
  // the last-good specs and records it already holds). That file was fsynced before its rename by
  // whoever wrote it, so it is whole; only its rename could still be uncommitted, if its writer
  // died before the directory fsync, and the journal commits it within seconds while the node
  // runs. Unreadable (or too large): replaced as before.
  try {
    if (ReadStateFile(path) == text) return;
  } catch (const std::runtime_error&) {
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("state dir " + dir + ": " + ec.message());

  std::string tmp = path + ".XXXXXX";
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("state file " + path + ": cannot create a temporary file: " + std::strerror(errno));
  try {
    if (fchmod(fd, 0644) != 0) throw std::system_error(errno, std::generic_category());
    WriteAll(fd, text);
    if (fsync(fd) != 0) throw std::system_error(errno, std::generic_category());
  } catch (const std::system_error& e) {
    close(fd);
    unlink(tmp.c_str());
    throw std::runtime_error("state file " + tmp + ": " + e.code().message());
  }
  if (close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    unlink(tmp.c_str());
    throw std::runtime_error("state file " + path + ": " + std::strerror(saved));
  }
  // The rename is durable only once the directory is: without this a node crash can bring back
  // the old file (or none). That matters only for what outlives the kernel's state (Persist).
  if (persist == Persist::kUntilReboot) return;
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) {
    const int saved = errno;
    if (dfd >= 0) close(dfd);
    throw std::runtime_error("state dir " + dir + ": fsync: " + std::strerror(saved));
  }
  close(dfd);
}

std::optional<nlohmann::json> ReadVersionedStateFile(const std::string& path, int max_version, const std::string& holds,
                                                     int missing_version) {
  const std::optional<std::string> text = ReadStateFile(path);
  if (!text) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("state file " + path + " is corrupt (" + e.what() + "); fix or remove it by hand, it " +
                             holds);
  }
  if (!j.is_object()) throw std::runtime_error("state file " + path + ": not a JSON object");
  long long version = missing_version;
  if (const auto v = j.find("version"); v != j.end()) version = v->is_number_integer() ? v->get<long long>() : 0;
  if (version < 1) throw std::runtime_error("state file " + path + ": \"version\" is not a positive integer");
  if (version > max_version)
    throw std::runtime_error("state file " + path + " has version " + std::to_string(version) +
                             ", written by a newer lvs-rs-operator; this one reads up to version " +
                             std::to_string(max_version) + " (run the newer version's cleanup, or upgrade)");
  return j;
}

}  // namespace lvsrs
