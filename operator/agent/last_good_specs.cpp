#include "agent/last_good_specs.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/log.h"
#include "agent/state_file.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs {
namespace {

using nlohmann::json;

json Specs(const std::map<std::string, VirtualIp>& specs) {
  json out = json::object();
  for (const auto& [key, vip] : specs) out[key] = VirtualIpObject(vip);
  return out;
}

void ReadSpecs(const json& j, const std::string& half, std::map<std::string, VirtualIp>& out,
               std::vector<std::string>* skipped) {
  const auto it = j.find(half);
  if (it == j.end()) return;
  if (!it->is_object()) throw std::invalid_argument("\"" + half + "\" is not an object");
  for (const auto& [key, obj] : it->items()) {
    ParsedVirtualIp p = ParseVirtualIp(obj);
    // The same validation as the object from the API server: a hand-edited entry is no spec to
    // serve. And the key must be the object's, or it would stand in for another one.
    if (!p.vip || ObjectIdentity(*p.vip) != key) {
      if (skipped)
        skipped->push_back(half + " \"" + key.substr(0, 64) +
                           "\": " + (p.vip ? "is VirtualIP " + p.vip->name + " of another uid" : p.errors.front()));
      continue;
    }
    out.emplace(key, std::move(*p.vip));
  }
}

}  // namespace

LastGoodFile::LastGoodFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/last-good-virtualips.json") {}

LastGoodSpecs LastGoodFile::Load(std::vector<std::string>* skipped) const {
  LastGoodSpecs specs;
  const std::optional<json> file = ReadVersionedStateFile(
      path_, kVersion, "holds the last accepted VirtualIP specs (without it, a refused edit withdraws)");
  if (!file) return specs;
  try {
    ReadSpecs(*file, "validated", specs.validated, skipped);
    ReadSpecs(*file, "applied", specs.applied, skipped);
  } catch (const json::exception& e) {
    throw std::runtime_error("state file " + path_ + " is corrupt (" + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("state file " + path_ + ": " + e.what());
  }
  return specs;
}

void LastGoodFile::Save(const std::map<std::string, VirtualIp>& validated,
                        const std::map<std::string, VirtualIp>& applied) const {
  const json j{{"version", kVersion}, {"validated", Specs(validated)}, {"applied", Specs(applied)}};
  // Everything in it passed ParseVirtualIp, so it is valid UTF-8 and dump() cannot throw. Compact:
  // one entry per VirtualIP of the cluster, and ReadStateFile reads at most 16 MiB (some 20,000
  // VirtualIPs); a larger file is logged at start as unreadable and replaced.
  ReplaceStateFile(dir_, path_, j.dump() + "\n");
}

LastGoodRecorder::LastGoodRecorder(const LastGoodFile& file, LastGoodSpecs saved)
    : file_(file),
      validated_(std::make_shared<const std::map<std::string, VirtualIp>>(std::move(saved.validated))),
      applied_(std::move(saved.applied)) {}

void LastGoodRecorder::Observe(const ReconcileOutcome& o) {
  if (!o.error.empty()) return;  // the pass decided nothing
  static const auto kNone = std::make_shared<const std::map<std::string, VirtualIp>>();
  const auto& validated = o.source_validated ? o.source_validated : kNone;
  // The source hands out a new map only when it changed: the pointer says most of it.
  const bool same_validated = validated == validated_ || *validated == *validated_;
  if (same_validated && o.desired.accepted == applied_) {
    validated_ = validated;
    return;
  }
  try {
    file_.Save(*validated, o.desired.accepted);
  } catch (const std::exception& e) {
    if (e.what() != last_error_)
      LogError(std::string(e.what()) + "; a restart while an edit is refused would withdraw that VirtualIP");
    last_error_ = e.what();
    return;
  }
  if (!last_error_.empty()) LogInfo("saved " + file_.path() + " again");
  last_error_.clear();
  validated_ = validated;
  applied_ = o.desired.accepted;
}

}  // namespace lvsrs
