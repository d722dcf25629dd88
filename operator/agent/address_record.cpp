#include "agent/address_record.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/state_file.h"
#include "agent/sysctl_record.h"

namespace lvsrs {
namespace {

// One entry, or nullopt when it is malformed.
std::optional<RecordedAddress> ParseEntry(const nlohmann::json& e) {
  if (!e.is_object() || !e.contains("address") || !e["address"].is_string() || !e.contains("ifindex") ||
      !e["ifindex"].is_number_integer() || (e.contains("interface") && !e["interface"].is_string()))
    return std::nullopt;
  const auto ip = IpAddress::Parse(e["address"].get<std::string>());
  const auto ifindex = e["ifindex"].get<long long>();
  if (!ip || ifindex <= 0 || ifindex > 0x7fffffff) return std::nullopt;
  RecordedAddress r{*ip, static_cast<int>(ifindex), ""};
  if (e.contains("interface") && !UnescapeInterfaceName(e["interface"].get<std::string>(), r.interface))
    return std::nullopt;
  return r;
}

}  // namespace

AddressRecordFile::AddressRecordFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/owned-addresses.json") {}

AddressRecord AddressRecordFile::Load() const {
  AddressRecord rec;
  const std::optional<nlohmann::json> file =
      ReadVersionedStateFile(path_, kVersion, "names the addresses lvs-rs-operator added");
  if (!file) return rec;
  const nlohmann::json& j = *file;
  if (!j.contains("addresses") || !j["addresses"].is_array())
    throw std::runtime_error("state file " + path_ + ": missing \"addresses\" list");
  for (const auto& e : j["addresses"]) {
    auto r = ParseEntry(e);
    if (!r) throw std::runtime_error("state file " + path_ + ": bad entry " + e.dump().substr(0, 80));
    rec.insert(std::move(*r));
  }
  return rec;
}

void AddressRecordFile::Save(const AddressRecord& record) const {
  nlohmann::json j;
  j["version"] = kVersion;
  j["addresses"] = nlohmann::json::array();
  for (const auto& r : record)
    j["addresses"].push_back(
        {{"address", r.ip.ToString()}, {"ifindex", r.ifindex}, {"interface", EscapeInterfaceName(r.interface)}});
  ReplaceStateFile(dir_, path_, j.dump(2) + "\n", Persist::kUntilReboot);
}

}  // namespace lvsrs
