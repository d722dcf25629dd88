#include "agent/sysctl_record.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "agent/state_file.h"

namespace lvsrs {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
std::size_t Utf8SequenceLength(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "net.ipv4.conf.<conf>.<key>" back into a key; interface names may contain dots.
bool ParseKey(const std::string& text, bool escaped, SysctlKey& key) {
  const std::string prefix = "net.ipv4.conf.";
  if (text.rfind(prefix, 0) != 0) return false;
  const auto last = text.rfind('.');
  if (last == std::string::npos || last <= prefix.size()) return false;
  const std::string k = text.substr(last + 1);
  const std::string conf = text.substr(prefix.size(), last - prefix.size());
  if (!escaped)
    key.conf = conf;
  else if (!UnescapeInterfaceName(conf, key.conf))
    return false;
  if (k == "arp_ignore")
    key.key = ArpKey::Ignore;
  else if (k == "arp_announce")
    key.key = ArpKey::Announce;
  else
    return false;
  return !key.conf.empty();
}

bool SmallInt(const nlohmann::json& v) {
  return v.is_number_integer() && v.get<long long>() >= -1000000 && v.get<long long>() <= 1000000;
}

}  // namespace

std::string EscapeInterfaceName(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t n = Utf8SequenceLength(name, i);
    if (n == 0 || name[i] == '%') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(name[i]));
      out += buf;
      ++i;
    } else {
      out.append(name, i, n);
      i += n;
    }
  }
  return out;
}

bool UnescapeInterfaceName(const std::string& text, std::string& name) {
  name.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      name.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    name.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

SysctlRecordFile::SysctlRecordFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/sysctl-originals.json") {}

SysctlRecord SysctlRecordFile::Load() const {
  SysctlRecord rec;
  // Files of the first releases carry no version.
  const std::optional<nlohmann::json> file =
      ReadVersionedStateFile(path_, kVersion, "holds the sysctl values to restore", /*missing_version=*/1);
  if (!file) return rec;
  const nlohmann::json& j = *file;
  const int version = j.value("version", 1);
  if (!j.contains("sysctls") || !j["sysctls"].is_object())
    throw std::runtime_error("state file " + path_ + ": missing \"sysctls\" object");
  for (const auto& [name, value] : j["sysctls"].items()) {
    SysctlKey key;
    RecordedSysctl r;
    bool ok = ParseKey(name, version >= 2, key);
    if (ok && version == 1) {
      ok = SmallInt(value);
      if (ok) r.original = value.get<int>();
    } else if (ok) {
      ok = value.is_object() && value.contains("original") && SmallInt(value["original"]) &&
           (!value.contains("written") || SmallInt(value["written"]));
      if (ok) {
        r.original = value["original"].get<int>();
        if (value.contains("written")) r.written = value["written"].get<int>();
      }
    }
    if (!ok) throw std::runtime_error("state file " + path_ + ": bad entry \"" + name.substr(0, 64) + "\"");
    rec[key] = r;
  }
  return rec;
}

void SysctlRecordFile::Save(const SysctlRecord& record) const {
  nlohmann::json j;
  j["version"] = kVersion;
  j["sysctls"] = nlohmann::json::object();
  for (const auto& [key, r] : record) {
    const SysctlKey escaped{EscapeInterfaceName(key.conf), key.key};
    nlohmann::json entry{{"original", r.original}};
    if (r.written) entry["written"] = *r.written;
    j["sysctls"][escaped.ToString()] = std::move(entry);
  }
  ReplaceStateFile(dir_, path_, j.dump(2) + "\n",
                   Persist::kUntilReboot);  // valid UTF-8 by construction (names escaped)
}

}  // namespace lvsrs
