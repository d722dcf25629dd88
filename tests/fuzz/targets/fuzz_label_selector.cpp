// libFuzzer target: label selectors (spec.nodeSelector JSON -> ParseLabelSelector) and the
// --node-labels text (ParseLabelList), then matching one against the other.
// Checks: every label ParseLabelList accepts is valid as the API server would judge it; a
// selector parsed without errors matches a label set that equals its matchLabels whenever it
// has no expressions.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/label_selector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  // Input layout: "<node-labels text>\n<selector JSON>"; without a newline, only the labels.
  const auto nl = all.find('\n');
  const std::string labels_text = all.substr(0, nl);
  std::map<std::string, std::string> labels;
  std::string error;
  const bool ok = lvsrs::ParseLabelList(labels_text, labels, error);
  if (ok) {
    for (const auto& [k, v] : labels)
      if (!lvsrs::IsValidLabelKey(k) || !lvsrs::IsValidLabelValue(v)) __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();
  }
  if (nl == std::string::npos) return 0;
  const nlohmann::json j = nlohmann::json::parse(all.substr(nl + 1), nullptr, false);
  if (j.is_discarded()) return 0;
  std::vector<std::string> errors;
  const lvsrs::LabelSelector sel = lvsrs::ParseLabelSelector(j, "spec.nodeSelector", errors);
  (void)sel.Matches(labels);
  if (errors.empty() && sel.match_expressions.empty() && !sel.Matches(sel.match_labels)) __builtin_trap();
  return 0;
}
