#include "cli/flags.h"

namespace lvsrs {

const FlagSpec* Flags::Find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

bool Flags::Parse(int argc, char** argv, int first, std::string& error) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = Find(name);
    if (!spec) {
      error = "unknown flag --" + name;
      return false;
    }
    if (spec->takes_value && !value) {
      if (i + 1 >= argc) {
        error = "flag --" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (!spec->takes_value) {
      if (value && *value != "true" && *value != "false") {
        error = "flag --" + name + " is a switch (true or false)";
        return false;
      }
      if (value == "false") continue;
      value = "true";
    }
    values_[name].push_back(*value);
  }
  return true;
}

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Flags::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string Flags::Help() const {
  std::string out;
  for (const auto& s : specs_) {
    std::string left = "  --" + s.name + (s.takes_value ? " VALUE" : "");
    if (left.size() < 34)
      left.resize(34, ' ');
    else
      left += "\n" + std::string(34, ' ');
    out += left + s.help + (s.default_text.empty() ? "" : " (default " + s.default_text + ")") + "\n";
  }
  return out;
}

}  // namespace lvsrs
