// Kubernetes LabelSelector semantics (metav1.LabelSelector): matchLabels AND every
// matchExpression. An empty selector matches everything.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lvsrs {

struct LabelRequirement {
  enum class Op { In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::Exists;
  std::vector<std::string> values;
  bool operator==(const LabelRequirement&) const = default;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelRequirement> match_expressions;

  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool operator==(const LabelSelector&) const = default;
};

// Parses the JSON form. Appends "path: message" strings to errors and returns what it could.
LabelSelector ParseLabelSelector(const nlohmann::json& j, const std::string& path, std::vector<std::string>& errors);

// The JSON form ParseLabelSelector reads back as the same selector.
nlohmann::json LabelSelectorObject(const LabelSelector& selector);

// "k=v,k2=v2" as given on the command line (--node-labels).
bool ParseLabelList(const std::string& text, std::map<std::string, std::string>& out, std::string& error);

// Label keys and values as the API server validates them (qualified names, 63-char values).
bool IsValidLabelKey(const std::string& key);
bool IsValidLabelValue(const std::string& value);

}  // namespace lvsrs
