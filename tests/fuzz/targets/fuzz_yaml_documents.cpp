// libFuzzer target: arbitrary bytes as a VirtualIP file (multi-document YAML) ->
// ParseVirtualIpDocuments, the path of `run --file` and `check --file`. Any exception escaping
// is a crash (the agent would die on a bad edit instead of keeping the last good state).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "model/virtual_ip_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const lvsrs::ParsedDocuments parsed = lvsrs::ParseVirtualIpDocuments(text, "fuzz.yaml");
  std::set<std::string> names;
  for (const auto& v : parsed.vips) {
    // Names are unique across one file; every accepted VirtualIP has addresses.
    if (!names.insert(v.name).second || v.addresses.empty()) __builtin_trap();
  }
  for (const auto& e : parsed.errors) {
    // Every message names its source, so an operator can find the bad document.
    if (e.rfind("fuzz.yaml: ", 0) != 0) __builtin_trap();
  }
  return 0;
}
