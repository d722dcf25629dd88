#include "model/label_selector.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lvsrs {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most max characters.
bool IsQualifiedNamePart(const std::string& s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// DNS-1123 subdomain: lower-case alphanumerics, '-' and '.', at most 253.
bool IsDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!ok(s.front()) || !ok(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return ok(c) || c == '-' || c == '.'; });
}

// Keys and values from hostile input are echoed into messages: keep those lines readable.
std::string Shown(const std::string& s) { return s.size() > 64 ? s.substr(0, 64) + "..." : s; }

}  // namespace

bool IsValidLabelKey(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return IsQualifiedNamePart(key, 63);
  return IsDnsSubdomain(key.substr(0, slash)) && IsQualifiedNamePart(key.substr(slash + 1), 63);
}

bool IsValidLabelValue(const std::string& value) { return value.empty() || IsQualifiedNamePart(value, 63); }

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::In:
        if (!in) return false;
        break;
      case LabelRequirement::Op::NotIn:
        if (in) return false;  // a missing key satisfies NotIn, as in Kubernetes
        break;
      case LabelRequirement::Op::Exists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::DoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

nlohmann::json LabelSelectorObject(const LabelSelector& selector) {
  nlohmann::json j = nlohmann::json::object();
  if (!selector.match_labels.empty()) j["matchLabels"] = selector.match_labels;
  for (const auto& r : selector.match_expressions) {
    static constexpr const char* kOps[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    nlohmann::json e{{"key", r.key}, {"operator", kOps[static_cast<int>(r.op)]}};
    if (!r.values.empty()) e["values"] = r.values;
    j["matchExpressions"].push_back(std::move(e));
  }
  return j;
}

LabelSelector ParseLabelSelector(const nlohmann::json& j, const std::string& path, std::vector<std::string>& errors) {
  LabelSelector sel;
  if (j.is_null()) return sel;
  if (!j.is_object()) {
    errors.push_back(path + ": must be an object (a LabelSelector)");
    return sel;
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "matchLabels") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        errors.push_back(path + ".matchLabels: must be a map of strings");
        continue;
      }
      for (const auto& [lk, lv] : value.items()) {
        const std::string p = path + ".matchLabels." + Shown(lk);
        if (!IsValidLabelKey(lk)) errors.push_back(p + ": invalid label key");
        if (!lv.is_string()) {
          errors.push_back(p + ": value must be a string");
          continue;
        }
        if (!IsValidLabelValue(lv.get<std::string>()))
          errors.push_back(p + ": invalid label value \"" + Shown(lv.get<std::string>()) + "\"");
        sel.match_labels[lk] = lv.get<std::string>();
      }
    } else if (key == "matchExpressions") {
      if (value.is_null()) continue;
      if (!value.is_array()) {
        errors.push_back(path + ".matchExpressions: must be a list");
        continue;
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        const auto& e = value[i];
        const std::string p = path + ".matchExpressions[" + std::to_string(i) + "]";
        if (!e.is_object()) {
          errors.push_back(p + ": must be an object");
          continue;
        }
        LabelRequirement r;
        bool ok = true;
        for (const auto& [ek, ev] : e.items()) {
          if (ek != "key" && ek != "operator" && ek != "values") {
            errors.push_back(p + "." + Shown(ek) + ": unknown field");
            ok = false;
          }
        }
        if (!e.contains("key") || !e["key"].is_string() || !IsValidLabelKey(e["key"].get<std::string>())) {
          errors.push_back(p + ".key: required, a valid label key");
          ok = false;
        } else {
          r.key = e["key"].get<std::string>();
        }
        const std::string op =
            e.contains("operator") && e["operator"].is_string() ? e["operator"].get<std::string>() : "";
        if (op == "In")
          r.op = LabelRequirement::Op::In;
        else if (op == "NotIn")
          r.op = LabelRequirement::Op::NotIn;
        else if (op == "Exists")
          r.op = LabelRequirement::Op::Exists;
        else if (op == "DoesNotExist")
          r.op = LabelRequirement::Op::DoesNotExist;
        else {
          errors.push_back(p + ".operator: must be one of In, NotIn, Exists, DoesNotExist");
          ok = false;
        }
        if (e.contains("values") && !e["values"].is_null()) {
          if (!e["values"].is_array()) {
            errors.push_back(p + ".values: must be a list of strings");
            ok = false;
          } else {
            for (const auto& v : e["values"]) {
              if (!v.is_string()) {
                errors.push_back(p + ".values: must be a list of strings");
                ok = false;
                break;
              }
              r.values.push_back(v.get<std::string>());
            }
          }
        }
        const bool set_op = r.op == LabelRequirement::Op::In || r.op == LabelRequirement::Op::NotIn;
        if (ok && set_op && r.values.empty()) {
          errors.push_back(p + ".values: must be non-empty for operator " + op);
          ok = false;
        }
        if (ok && !set_op && !r.values.empty()) {
          errors.push_back(p + ".values: must be empty for operator " + op);
          ok = false;
        }
        if (ok) sel.match_expressions.push_back(std::move(r));
      }
    } else {
      errors.push_back(path + "." + Shown(key) + ": unknown field");
    }
  }
  return sel;
}

bool ParseLabelList(const std::string& text, std::map<std::string, std::string>& out, std::string& error) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      const auto eq = item.find('=');
      const std::string k = item.substr(0, eq);
      const std::string v = eq == std::string::npos ? "" : item.substr(eq + 1);
      if (!IsValidLabelKey(k) || !IsValidLabelValue(v)) {
        error = "invalid label \"" + Shown(item) + "\" (want key=value)";
        return false;
      }
      out[k] = v;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

}  // namespace lvsrs
