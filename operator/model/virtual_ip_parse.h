// VirtualIP JSON (from the API server, or a YAML file converted to JSON) to a validated VirtualIp.
// This mirrors the CRD schema and adds what the schema cannot say (canonical literals,
// uniqueness across families), so a server that skips validation is still guarded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/virtual_ip.h"

namespace lvsrs {

inline constexpr const char* kApiVersion = "lvsdr.io/v1alpha1";
inline constexpr std::size_t kMaxAddressesPerVirtualIp = 1024;

struct ParsedVirtualIp {
  std::optional<VirtualIp> vip;     // set only when errors is empty
  std::string name;                 // best effort, for messages, even when invalid
  std::vector<std::string> errors;  // "spec.addresses[1]: ..." paths relative to the object
};

ParsedVirtualIp ParseVirtualIp(const nlohmann::json& object);

// The object that ParseVirtualIp reads back as `vip` (all but document_order, which only a
// position in a file gives): how the agent saves a spec it must remember across restarts.
nlohmann::json VirtualIpObject(const VirtualIp& vip);

bool IsValidInterfaceName(const std::string& name);

}  // namespace lvsrs

namespace lvsrs {

struct ParsedDocuments {
  std::vector<VirtualIp> vips;
  std::vector<std::string> errors;  // "<source>: document N (VirtualIP \"x\"): field: message"
};

// A multi-document YAML (or JSON) text of VirtualIP objects, or Lists of them as
// `kubectl get vip -o yaml` prints. Every error is reported, not just the first.
ParsedDocuments ParseVirtualIpDocuments(const std::string& text, const std::string& source);

}  // namespace lvsrs
