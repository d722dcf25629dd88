#include "agent/file_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/log.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs {
namespace {

constexpr std::streamsize kMaxFileBytes = std::streamsize{16} * 1024 * 1024;

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

std::vector<VirtualIp> LoadVirtualIpFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw FileError(path + ": cannot read: " + std::strerror(errno));
  const std::string text = ss.str();
  if (static_cast<std::streamsize>(text.size()) > kMaxFileBytes)
    throw FileError(path + ": larger than 16 MiB; refusing to parse it");
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

DesiredSource::Snapshot FileSource::Get() { return Snapshot{true, vips_, node_}; }

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
