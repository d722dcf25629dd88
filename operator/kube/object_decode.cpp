#include "kube/object_decode.h"

#include <algorithm>
#include <limits>

namespace lvsrs::kube {
namespace {

using nlohmann::json;

const json& EmptyObject() {
  static const json empty = json::object();
  return empty;
}

const json* Field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

}  // namespace

std::string StringField(const json& obj, const char* key) {
  const json* f = Field(obj, key);
  return f && f->is_string() ? f->get<std::string>() : "";
}

std::optional<std::int64_t> IntField(const json& obj, const char* key) {
  const json* f = Field(obj, key);
  if (!f) return std::nullopt;
  if (f->is_number_integer() && !f->is_number_unsigned()) return f->get<std::int64_t>();
  // Unsigned beyond int64 would wrap: not an integer we can use.
  if (f->is_number_unsigned() &&
      f->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(f->get<std::uint64_t>());
  return std::nullopt;
}

const json& ObjectField(const json& obj, const char* key) {
  const json* f = Field(obj, key);
  return f && f->is_object() ? *f : EmptyObject();
}

NodeFacts DecodeNode(const json& node) {
  NodeFacts out;
  const json& meta = ObjectField(node, "metadata");
  out.uid = StringField(meta, "uid");
  for (const auto& [k, v] : ObjectField(meta, "labels").items())
    if (v.is_string()) out.labels[k] = v.get<std::string>();
  return out;
}

std::int64_t GenerationOf(const json& object) {
  return IntField(ObjectField(object, "metadata"), "generation").value_or(0);
}

std::time_t ParseRfc3339(const std::string& s) {
  std::tm tm{};
  if (s.size() < 19 || !strptime(s.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return timegm(&tm);
}

LeaseFacts DecodeLease(const json& lease) {
  LeaseFacts out;
  const json& spec = ObjectField(lease, "spec");
  out.holder = StringField(spec, "holderIdentity");
  out.renewed = ParseRfc3339(StringField(spec, "renewTime"));
  if (auto d = IntField(spec, "leaseDurationSeconds")) out.duration_seconds = std::clamp<std::int64_t>(*d, 0, 86400);
  return out;
}

std::vector<RealServerVipEntry> DecodeRealServerVips(const json& realserver) {
  std::vector<RealServerVipEntry> out;
  const json* vips = Field(ObjectField(realserver, "status"), "virtualIPs");
  if (!vips || !vips->is_array()) return out;
  for (const auto& v : *vips) {
    if (!v.is_object()) continue;
    RealServerVipEntry e{StringField(v, "name"), StringField(v, "state"), std::nullopt};
    if (v.contains("message")) e.message = StringField(v, "message");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace lvsrs::kube
