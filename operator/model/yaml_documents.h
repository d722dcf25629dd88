// Multi-document YAML text to JSON values, so file input and API input share one validator.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lvsrs {

struct YamlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One JSON value per non-empty document. Plain scalars become bool/int/float/null where YAML 1.2's
// core schema says so; quoted scalars stay strings. Throws YamlError with line and column.
std::vector<nlohmann::json> ParseYamlDocuments(const std::string& text);

}  // namespace lvsrs
