#include "model/yaml_documents.h"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace lvsrs {
namespace {

using nlohmann::json;

json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  // A quoted scalar has the non-specific tag "!": it is always a string.
  if (node.Tag() == "!") return s;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;  // too large for an integer: keep the text, the validator names the field
    }
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

json ToJson(const YAML::Node& node, int depth) {
  // Deeply nested input is hostile, not a VirtualIP.
  if (depth > 64) throw YamlError("document nested deeper than 64 levels");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(ToJson(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar())
          throw YamlError("line " + std::to_string(kv.first.Mark().line + 1) + ": map keys must be strings");
        const std::string key = kv.first.Scalar();
        if (obj.contains(key))
          throw YamlError("line " + std::to_string(kv.first.Mark().line + 1) + ": duplicate key \"" + key + "\"");
        obj[key] = ToJson(kv.second, depth + 1);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<json> ParseYamlDocuments(const std::string& text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw YamlError("line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1) + ": " +
                    e.msg);
  }
  std::vector<json> out;
  for (const auto& d : docs) {
    if (d.IsNull()) continue;
    out.push_back(ToJson(d, 0));
  }
  return out;
}

}  // namespace lvsrs
