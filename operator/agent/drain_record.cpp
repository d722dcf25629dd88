#include "agent/drain_record.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/state_file.h"
#include "agent/sysctl_record.h"
#include "model/rfc3339.h"

namespace lvsrs {
namespace {

std::optional<Drain> ParseEntry(const nlohmann::json& e) {
  if (!e.is_object()) return std::nullopt;
  auto str = [&](const char* key) { return e.contains(key) && e[key].is_string(); };
  auto num = [&](const char* key) { return e.contains(key) && e[key].is_number_integer(); };
  if (!str("address") || !str("interface") || !num("startedUnixMs") || !num("deadlineUnixMs")) return std::nullopt;
  const auto ip = IpAddress::Parse(e["address"].get<std::string>());
  if (!ip) return std::nullopt;
  Drain d;
  d.address = *ip;
  if (!UnescapeInterfaceName(e["interface"].get<std::string>(), d.interface)) return std::nullopt;
  d.virtual_ip = str("virtualIP") ? e["virtualIP"].get<std::string>() : "";
  d.reason = str("reason") ? e["reason"].get<std::string>() : "";
  d.host_route = e.value("hostRoute", true);
  d.started_unix_ms = e["startedUnixMs"].get<std::int64_t>();
  d.deadline_unix_ms = e["deadlineUnixMs"].get<std::int64_t>();
  return d;
}

Drain WithoutCount(Drain d) {
  d.connections = 0;
  return d;
}

}  // namespace

DrainFile::DrainFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/draining.json"), request_path_(dir_ + "/drain-requested") {}

Drains DrainFile::Load() const {
  Drains out;
  const std::optional<nlohmann::json> file =
      ReadVersionedStateFile(path_, kVersion, "holds the VIPs draining and their deadlines");
  if (!file) return out;
  const nlohmann::json& j = *file;
  if (!j.contains("draining") || !j["draining"].is_array())
    throw std::runtime_error("state file " + path_ + ": missing \"draining\" list");
  for (const auto& e : j["draining"]) {
    auto d = ParseEntry(e);
    if (!d) throw std::runtime_error("state file " + path_ + ": bad entry " + e.dump().substr(0, 80));
    out.emplace(d->address, std::move(*d));
  }
  return out;
}

void DrainFile::Save(const Drains& drains) const {
  nlohmann::json j;
  j["version"] = kVersion;
  j["draining"] = nlohmann::json::array();
  for (const auto& [ip, d] : drains) {
    const auto deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(d.deadline_unix_ms));
    j["draining"].push_back({{"address", ip.ToString()},
                             {"virtualIP", d.virtual_ip},
                             {"interface", EscapeInterfaceName(d.interface)},
                             {"hostRoute", d.host_route},
                             {"reason", d.reason},
                             {"startedUnixMs", d.started_unix_ms},
                             {"deadlineUnixMs", d.deadline_unix_ms},
                             {"deadline", FormatRfc3339(deadline)}});
  }
  ReplaceStateFile(dir_, path_, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

bool DrainFile::Requested() const {
  struct stat st {};
  return stat(request_path_.c_str(), &st) == 0;
}

void DrainFile::Request(const std::string& text) const { ReplaceStateFile(dir_, request_path_, text); }

void DrainFile::Undo() const {
  if (unlink(request_path_.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("cannot remove " + request_path_ + ": " + std::strerror(errno));
}

bool SameRecord(const Drains& a, const Drains& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), k = b.begin(); i != a.end(); ++i, ++k)
    if (!(WithoutCount(i->second) == WithoutCount(k->second))) return false;
  return true;
}

}  // namespace lvsrs
