#include "agent/sysctl_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace lvsrs {
namespace {

// "net.ipv4.conf.<conf>.<key>" back into a key; interface names may contain dots.
bool ParseKey(const std::string& text, SysctlKey& key) {
  const std::string prefix = "net.ipv4.conf.";
  if (text.rfind(prefix, 0) != 0) return false;
  const auto last = text.rfind('.');
  if (last == std::string::npos || last <= prefix.size()) return false;
  const std::string k = text.substr(last + 1);
  key.conf = text.substr(prefix.size(), last - prefix.size());
  if (k == "arp_ignore")
    key.key = ArpKey::Ignore;
  else if (k == "arp_announce")
    key.key = ArpKey::Announce;
  else
    return false;
  return !key.conf.empty();
}

}  // namespace

SysctlRecordFile::SysctlRecordFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/sysctl-originals.json") {}

SysctlRecord SysctlRecordFile::Load() const {
  SysctlRecord rec;
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return rec;
    throw std::runtime_error("state file " + path_ + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("state file " + path_ + " is corrupt (" + e.what() +
                             "); fix or remove it by hand, it holds the sysctl values to restore");
  }
  if (!j.is_object() || !j.contains("sysctls") || !j["sysctls"].is_object())
    throw std::runtime_error("state file " + path_ + ": missing \"sysctls\" object");
  for (const auto& [name, value] : j["sysctls"].items()) {
    SysctlKey key;
    if (!ParseKey(name, key) || !value.is_number_integer())
      throw std::runtime_error("state file " + path_ + ": bad entry \"" + name + "\"");
    rec[key] = value.get<int>();
  }
  return rec;
}

void SysctlRecordFile::Save(const SysctlRecord& record) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("state dir " + dir_ + ": " + ec.message());
  nlohmann::json j;
  j["version"] = 1;
  j["sysctls"] = nlohmann::json::object();
  for (const auto& [key, value] : record) j["sysctls"][key.ToString()] = value;
  const std::string text = j.dump(2) + "\n";
  const std::string tmp = path_ + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("state file " + tmp + ": " + std::strerror(errno));
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  const int saved_errno = errno;
  close(fd);
  if (!ok) throw std::runtime_error("state file " + tmp + ": " + std::strerror(saved_errno));
  if (rename(tmp.c_str(), path_.c_str()) != 0)
    throw std::runtime_error("state file " + path_ + ": " + std::strerror(errno));
}

}  // namespace lvsrs
