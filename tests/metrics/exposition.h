// Test helper: the samples of a Prometheus text exposition as {"name{labels}" -> value}, with
// labels as prometheus-cpp prints them (sorted by name).
#pragma once

#include <map>
#include <sstream>
#include <string>

namespace lvsrs::testing {

inline std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

// Every sample whose series starts with prefix (a metric name plus "{" to avoid
// lvs_rs_x matching lvs_rs_x_total).
inline std::map<std::string, double> SamplesOf(const std::string& text, const std::string& prefix) {
  std::map<std::string, double> out;
  for (const auto& [k, v] : Samples(text))
    if (k.rfind(prefix, 0) == 0) out[k] = v;
  return out;
}

}  // namespace lvsrs::testing
