#include "model/virtual_ip_parse.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "model/duration.h"

namespace lvsrs {
namespace {

using nlohmann::json;

bool IsDnsSubdomainName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

std::string TypeName(const json& j) { return j.type_name(); }

// Names and keys from hostile input are echoed into messages (logs, Events, status): cut them
// so that a 1 MB key makes a readable line, not a 1 MB one.
std::string Shown(const std::string& s) { return s.size() > 64 ? s.substr(0, 64) + "..." : s; }

void ParseArp(const json& arp, ArpSpec& out, std::vector<std::string>& errors) {
  if (arp.is_null()) return;
  if (!arp.is_object()) {
    errors.push_back("spec.arp: must be an object, got " + TypeName(arp));
    return;
  }
  for (const auto& [key, value] : arp.items()) {
    const std::string p = "spec.arp." + Shown(key);
    if (key == "ignore" || key == "announce") {
      const bool ignore = key == "ignore";
      if (!value.is_number_integer()) {
        errors.push_back(p + ": must be an integer, got " + TypeName(value));
        continue;
      }
      const auto v = value.get<std::int64_t>();
      const bool ok = ignore ? (v == 0 || v == 1 || v == 2 || v == 3 || v == 8) : (v >= 0 && v <= 2);
      if (!ok) {
        errors.push_back(p + ": " + std::to_string(v) + " is not one of " + (ignore ? "0, 1, 2, 3, 8" : "0, 1, 2"));
        continue;
      }
      (ignore ? out.ignore : out.announce) = static_cast<int>(v);
    } else if (key == "scope") {
      if (value == "Global")
        out.scope = ArpScope::Global;
      else if (value == "PerInterface")
        out.scope = ArpScope::PerInterface;
      else
        errors.push_back(p + ": must be \"Global\" or \"PerInterface\"");
    } else {
      errors.push_back(p + ": unknown field");
    }
  }
}

bool IsRfc3339Utc(const std::string& s) {
  // "YYYY-MM-DDTHH:MM:SSZ", the only form the API server writes for metadata.creationTimestamp.
  static constexpr const char* kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != std::strlen(kShape)) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const char* ToString(ArpScope scope) { return scope == ArpScope::Global ? "Global" : "PerInterface"; }

bool DecidesBefore(const VirtualIp& a, const VirtualIp& b) {
  // metav1.Time is serialised as UTC with second precision, so the strings compare as the times
  // do; an empty one (none, or not in that form) sorts last.
  if (a.creation_timestamp != b.creation_timestamp) {
    if (a.creation_timestamp.empty()) return false;
    if (b.creation_timestamp.empty()) return true;
    return a.creation_timestamp < b.creation_timestamp;
  }
  if (a.document_order != b.document_order) return a.document_order < b.document_order;
  return a.name < b.name;
}

std::string ObjectIdentity(const VirtualIp& v) {
  // "name:" cannot be a uid the API server writes (a UUID), so the two kinds never collide.
  return v.uid.empty() ? "name:" + v.name : v.uid;
}

bool IsValidInterfaceName(const std::string& name) {
  // The kernel's dev_valid_name(): 1..15 bytes, no '/', ':' or whitespace, not "." or "..".
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
  });
}

ParsedVirtualIp ParseVirtualIp(const json& object) {
  ParsedVirtualIp out;
  auto& errors = out.errors;
  if (!object.is_object()) {
    errors.push_back("document must be an object, got " + TypeName(object));
    return out;
  }
  VirtualIp vip;

  const json api = object.value("apiVersion", json());
  if (api != kApiVersion) errors.push_back(std::string("apiVersion: must be \"") + kApiVersion + "\"");
  if (object.value("kind", json()) != "VirtualIP") errors.push_back("kind: must be \"VirtualIP\"");

  const json meta = object.value("metadata", json());
  if (!meta.is_object()) {
    errors.push_back("metadata: required object with a name");
  } else {
    const json name = meta.value("name", json());
    if (name.is_string()) out.name = name.get<std::string>();
    if (!name.is_string() || !IsDnsSubdomainName(out.name))
      errors.push_back("metadata.name: required, a DNS subdomain (lower-case letters, digits, '-', '.')");
    vip.name = out.name;
    const json gen = meta.value("generation", json());
    if (gen.is_number_integer()) vip.generation = gen.get<std::int64_t>();
    // Written by the API server, not the user: never a reason to refuse, only to order.
    const json uid = meta.value("uid", json());
    if (uid.is_string()) vip.uid = uid.get<std::string>();
    const json created = meta.value("creationTimestamp", json());
    if (created.is_string() && IsRfc3339Utc(created.get<std::string>()))
      vip.creation_timestamp = created.get<std::string>();
  }

  for (const auto& [key, _] : object.items()) {
    if (key != "apiVersion" && key != "kind" && key != "metadata" && key != "spec" && key != "status")
      errors.push_back(Shown(key) + ": unknown field");
  }

  const json spec = object.value("spec", json());
  if (!spec.is_object()) {
    errors.push_back("spec: required object");
    return out;
  }
  for (const auto& [key, value] : spec.items()) {
    if (key == "addresses") {
      if (!value.is_array() || value.empty()) {
        errors.push_back("spec.addresses: must be a non-empty list of IP addresses");
        continue;
      }
      if (value.size() > kMaxAddressesPerVirtualIp) {
        errors.push_back("spec.addresses: " + std::to_string(value.size()) + " addresses, at most " +
                         std::to_string(kMaxAddressesPerVirtualIp) + " per VirtualIP");
        continue;
      }
      std::set<IpAddress> seen;
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string p = "spec.addresses[" + std::to_string(i) + "]";
        if (!value[i].is_string()) {
          errors.push_back(p + ": must be a string, got " + TypeName(value[i]));
          continue;
        }
        const auto text = value[i].get<std::string>();
        const std::string shown = Shown(text);
        const auto ip = IpAddress::Parse(text);
        if (!ip) {
          errors.push_back(p + ": \"" + shown + "\" is not an IPv4 or IPv6 address (no prefix length)");
          continue;
        }
        // Non-canonical spellings (leading zeros, upper-case hex, uncompressed v6) would make two
        // objects disagree about whether they name the same address; require the canonical one.
        if (ip->ToString() != text) {
          errors.push_back(p + ": \"" + shown + "\" is not canonical, write \"" + ip->ToString() + "\"");
          continue;
        }
        if (!seen.insert(*ip).second) {
          errors.push_back(p + ": duplicate address " + text);
          continue;
        }
        vip.addresses.push_back(*ip);
      }
    } else if (key == "nodeSelector") {
      vip.node_selector = ParseLabelSelector(value, "spec.nodeSelector", errors);
    } else if (key == "interface") {
      if (!value.is_string() || !IsValidInterfaceName(value.get<std::string>()))
        errors.push_back("spec.interface: must be an interface name (1-15 of [A-Za-z0-9._@-])");
      else
        vip.interface = value.get<std::string>();
    } else if (key == "hostRoute") {
      if (!value.is_boolean())
        errors.push_back("spec.hostRoute: must be true or false, got " + TypeName(value));
      else
        vip.host_route = value.get<bool>();
    } else if (key == "arp") {
      ParseArp(value, vip.arp, errors);
    } else if (key == "drainTimeout") {
      const auto d = value.is_string() ? ParseDuration(value.get<std::string>()) : std::nullopt;
      if (!d)
        errors.push_back("spec.drainTimeout: must be a duration from 0s to 1000h, like \"30s\" or \"5m\"");
      else
        vip.drain_timeout = *d;
    } else {
      errors.push_back("spec." + Shown(key) + ": unknown field");
    }
  }
  if (!spec.contains("addresses")) errors.push_back("spec.addresses: required");
  if (errors.empty()) out.vip = std::move(vip);
  return out;
}

json VirtualIpObject(const VirtualIp& vip) {
  json meta{{"name", vip.name}};
  if (!vip.uid.empty()) meta["uid"] = vip.uid;
  if (vip.generation != 0) meta["generation"] = vip.generation;
  if (!vip.creation_timestamp.empty()) meta["creationTimestamp"] = vip.creation_timestamp;
  json addresses = json::array();
  for (const auto& ip : vip.addresses) addresses.push_back(ip.ToString());
  json spec{{"addresses", std::move(addresses)},
            {"interface", vip.interface},
            {"hostRoute", vip.host_route},
            {"arp", {{"ignore", vip.arp.ignore}, {"announce", vip.arp.announce}, {"scope", ToString(vip.arp.scope)}}},
            {"drainTimeout", std::to_string(vip.drain_timeout.count()) + "ms"}};
  if (!(vip.node_selector == LabelSelector{})) spec["nodeSelector"] = LabelSelectorObject(vip.node_selector);
  return json{
      {"apiVersion", kApiVersion}, {"kind", "VirtualIP"}, {"metadata", std::move(meta)}, {"spec", std::move(spec)}};
}

}  // namespace lvsrs

#include "model/yaml_documents.h"

namespace lvsrs {

ParsedDocuments ParseVirtualIpDocuments(const std::string& text, const std::string& source) {
  ParsedDocuments out;
  std::vector<nlohmann::json> docs;
  try {
    docs = ParseYamlDocuments(text);
  } catch (const YamlError& e) {
    out.errors.push_back(source + ": " + e.what());
    return out;
  }
  std::set<std::string> names;
  auto one = [&](const nlohmann::json& obj, const std::string& where) {
    ParsedVirtualIp p = ParseVirtualIp(obj);
    const std::string who = where + (p.name.empty() ? "" : " (VirtualIP \"" + Shown(p.name) + "\")");
    for (const auto& e : p.errors) out.errors.push_back(source + ": " + who + ": " + e);
    if (!p.vip) return;
    if (!names.insert(p.vip->name).second) {
      out.errors.push_back(source + ": " + who + ": metadata.name: duplicate VirtualIP name");
      return;
    }
    // In a file, age is the document order: a creationTimestamp copied from `kubectl get -o yaml`
    // must not reorder what the file says.
    p.vip->creation_timestamp.clear();
    p.vip->document_order = out.vips.size();
    out.vips.push_back(std::move(*p.vip));
  };
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const std::string where = "document " + std::to_string(i + 1);
    const auto& d = docs[i];
    if (d.is_object() && d.value("kind", nlohmann::json()) == "List") {
      const auto items = d.value("items", nlohmann::json::array());
      if (!items.is_array()) {
        out.errors.push_back(source + ": " + where + ": items: must be a list");
        continue;
      }
      for (std::size_t k = 0; k < items.size(); ++k) one(items[k], where + " items[" + std::to_string(k) + "]");
      continue;
    }
    one(d, where);
  }
  return out;
}

}  // namespace lvsrs
