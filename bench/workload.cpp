#include "workload.h"

namespace lvsrs::bench {

IpAddress VipAddress(std::size_t i) {
  return IpAddress::V4((198u << 24) + (18u << 16) + 1u + static_cast<std::uint32_t>(i));
}

std::vector<VirtualIp> MakeVirtualIps(std::size_t n, std::size_t first) {
  std::vector<VirtualIp> out;
  out.reserve(n);
  for (std::size_t i = first; i < first + n; ++i) {
    VirtualIp v;
    v.name = "vip-" + std::to_string(i);
    v.addresses = {VipAddress(i)};
    out.push_back(std::move(v));
  }
  return out;
}

std::string MakeYaml(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s += "---\napiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: vip-" + std::to_string(i) +
         "\nspec:\n  addresses: [\"" + VipAddress(i).ToString() + "\"]\n";
  }
  return s;
}

ObservedState EmptyNode() {
  ObservedState o;
  o.links = {Link{1, "lo", true, true, true, "", 0}, Link{2, "eth0", true, false, false, "", 0}};
  o.addresses = {KernelAddress{*IpAddress::Parse("127.0.0.1"), 8, 1, "lo", 2, kScopeHost, false},
                 KernelAddress{*IpAddress::Parse("192.0.2.5"), 24, 2, "eth0", 3, kScopeUniverse, false}};
  o.routes = {KernelRoute{*IpAddress::Parse("192.0.2.0"), 24, 2, kMainTable, 2}};
  for (const char* conf : {"all", "default", "lo", "eth0"})
    for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) o.sysctls[SysctlKey{conf, k}] = 0;
  return o;
}

ObservedState ConvergedNode(std::size_t n) {
  ObservedState o = EmptyNode();
  for (std::size_t i = 0; i < n; ++i) {
    o.addresses.push_back(KernelAddress{VipAddress(i), 32, 1, "lo:lvsrs", kOwnerProtocol, kScopeUniverse, false});
    o.routes.push_back(KernelRoute{VipAddress(i), 32, 1, kMainTable, kOwnerProtocol});
  }
  for (const char* conf : {"all", "default", "lo"}) {
    o.sysctls[SysctlKey{conf, ArpKey::Ignore}] = 1;
    o.sysctls[SysctlKey{conf, ArpKey::Announce}] = 2;
  }
  return o;
}

}  // namespace lvsrs::bench
