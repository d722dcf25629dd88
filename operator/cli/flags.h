// A small command-line parser: --name value, --name=value, boolean --name, repeatable flags.
// Unknown flags are usage errors (exit 2), never silently ignored.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lvsrs {

struct FlagSpec {
  std::string name;  // without dashes
  bool takes_value = true;
  std::string help;
  std::string default_text;  // for help output only
};

class Flags {
 public:
  explicit Flags(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {}
  // Parses argv[first..]; returns false with error set on unknown flags or missing values.
  bool Parse(int argc, char** argv, int first, std::string& error);
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Help() const;

 private:
  const FlagSpec* Find(const std::string& name) const;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace lvsrs
