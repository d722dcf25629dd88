// libFuzzer target: arbitrary bytes as a VirtualIP JSON object -> ParseVirtualIp.
// Beyond "no crash, no sanitizer report" it checks the validator's promises: a VirtualIp is
// returned only without errors, and every address in it is canonical, unique and bounded.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "model/virtual_ip_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The API client parses without exceptions as well; a parse failure is not our target.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  const lvsrs::ParsedVirtualIp p = lvsrs::ParseVirtualIp(j);
  if (p.vip.has_value() != p.errors.empty()) __builtin_trap();
  if (!p.vip) return 0;
  const lvsrs::VirtualIp& v = *p.vip;
  if (v.addresses.empty() || v.addresses.size() > lvsrs::kMaxAddressesPerVirtualIp) __builtin_trap();
  std::set<lvsrs::IpAddress> seen;
  for (const auto& ip : v.addresses) {
    const auto again = lvsrs::IpAddress::Parse(ip.ToString());
    if (!again || *again != ip || !seen.insert(ip).second) __builtin_trap();
  }
  if (!lvsrs::IsValidInterfaceName(v.interface)) __builtin_trap();
  if (v.name.empty() || v.name != p.name) __builtin_trap();
  return 0;
}
