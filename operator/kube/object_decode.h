// Reads of the objects the API server sends (Node, Lease, RealServer, VirtualIP metadata) that
// cannot throw. nlohmann's typed access (get<T>(), value("x", "")) throws type_error when a field
// has another type than expected, and on an informer, reporter or summariser thread that ends in
// std::terminate: one `kubectl edit` of a RealServer status, or a broken server, would take the
// agent down on every node. Every read of server data goes through these: a missing or mistyped
// field reads as absent, and the object is handled on its own (logged by the caller where it
// matters). Pure; fuzzed by tests/fuzz/targets/fuzz_kube_objects.cpp.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lvsrs::kube {

// obj[key] when obj is an object and the field is a string / an integer that fits / an object;
// otherwise "" / nullopt / an empty object.
std::string StringField(const nlohmann::json& obj, const char* key);
std::optional<std::int64_t> IntField(const nlohmann::json& obj, const char* key);
const nlohmann::json& ObjectField(const nlohmann::json& obj, const char* key);

// A Node: metadata.uid and the string-valued metadata.labels (others are skipped).
struct NodeFacts {
  std::string uid;
  std::map<std::string, std::string> labels;
};
NodeFacts DecodeNode(const nlohmann::json& node);

// metadata.generation of any object; 0 when missing or not an integer.
std::int64_t GenerationOf(const nlohmann::json& object);

// A coordination.k8s.io Lease's spec. renewed: seconds since the epoch of renewTime (0 when
// missing or unparsable); duration_seconds clamped to [0, 1 day] so that adding it to a time
// cannot overflow, whatever another holder wrote.
struct LeaseFacts {
  std::string holder;
  std::time_t renewed = 0;
  std::optional<std::int64_t> duration_seconds;
};
LeaseFacts DecodeLease(const nlohmann::json& lease);

// One entry of a RealServer's status.virtualIPs; entries that are not objects are skipped.
struct RealServerVipEntry {
  std::string name;
  std::string state;
  std::optional<std::string> message;
};
std::vector<RealServerVipEntry> DecodeRealServerVips(const nlohmann::json& realserver);

// Seconds since the epoch of an RFC 3339 UTC time ("2026-01-01T00:00:00Z", fractions ignored),
// or 0 when unparsable.
std::time_t ParseRfc3339(const std::string& text);

}  // namespace lvsrs::kube
