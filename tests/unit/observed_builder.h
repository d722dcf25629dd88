// Builds ObservedState values for pure tests, and SimulateApply: an in-memory stand-in for the
// kernel that executes a Plan on an ObservedState. It implements what the diff relies on
// (addresses and routes added/removed by key, sysctls written, originals recorded) and NOT
// kernel side effects such as local-table routes, address flags or EEXIST races; those are
// covered by tests/kernel against the real kernel. A stateful KernelApi with the kernel's EEXIST/ESRCH
// idempotence and failure injection, for tests of the agent, is tests/support/fake_kernel.h.
#pragma once

#include <algorithm>

#include "model/virtual_ip_parse.h"
#include "reconcile/address_ownership.h"
#include "reconcile/observed_state.h"
#include "reconcile/plan.h"

namespace lvsrs::testing {

inline IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

// A node with lo (1), eth0 (2, 198.51.100.7/24) and conf values all 0.
inline ObservedState BasicNode() {
  ObservedState o;
  o.links.push_back(Link{1, "lo", true, true, true, "", 0});
  o.links.push_back(Link{2, "eth0", true, false, false, "", 0});
  o.addresses.push_back(KernelAddress{Ip("127.0.0.1"), 8, 1, "lo", 0, kScopeHost, false});
  o.addresses.push_back(KernelAddress{Ip("::1"), 128, 1, "", 0, kScopeHost, false});
  o.addresses.push_back(KernelAddress{Ip("198.51.100.7"), 24, 2, "eth0", 0, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("198.51.100.0"), 24, 2, kMainTable, 2});
  for (const char* conf : {"all", "default", "lo", "eth0"})
    for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) o.sysctls[SysctlKey{conf, k}] = 0;
  return o;
}

inline VirtualIp MakeVip(const std::string& name, std::vector<const char*> addrs) {
  VirtualIp v;
  v.name = name;
  for (auto* a : addrs) v.addresses.push_back(Ip(a));
  return v;
}

inline void SimulateApply(ObservedState& o, const Plan& p, SysctlRecord* record = nullptr) {
  for (const auto& a : p.add_addresses)
    o.addresses.push_back(KernelAddress{a.ip, a.ip.host_prefix(), a.ifindex,
                                        a.ip.is_v4() ? OwnerLabel(a.interface) : "", kOwnerProtocol,
                                        a.ip.is_v4() ? kVipScope : kScopeUniverse, false,
                                        VipAddressFlags(a.ip) | (AddedDeprecated(a.ip) ? kAddrFlagDeprecated : 0)});
  for (const auto& r : p.add_routes)
    o.routes.push_back(KernelRoute{r.dst, r.dst.host_prefix(), r.oif, kMainTable, kOwnerProtocol});
  for (const auto& s : p.set_sysctls) {
    if (record && s.record_original) record->emplace(s.key, RecordedSysctl{*s.record_original, std::nullopt});
    if (record && record->count(s.key)) record->at(s.key).written = s.value;
    o.sysctls[s.key] = s.value;
  }
  for (const auto& r : p.remove_routes)
    std::erase_if(o.routes, [&](const KernelRoute& k) { return k.owned() && k.dst == r.dst && k.oif == r.oif; });
  for (const auto& a : p.remove_addresses)
    std::erase_if(o.addresses,
                  [&](const KernelAddress& k) { return k.owned() && k.ip == a.ip && k.ifindex == a.ifindex; });
  for (const auto& s : p.restore_sysctls) {
    o.sysctls[s.key] = s.value;
    if (record) record->erase(s.key);
  }
  if (record)
    for (const auto& k : p.drop_records) record->erase(k);
}

// BasicNode after the plan for vips on node has been applied.
inline ObservedState Converged(const std::vector<VirtualIp>& vips, const NodeInfo& node) {
  auto o = BasicNode();
  SimulateApply(o, ComputePlan(BuildDesiredState(vips, node, o), o, {}));
  return o;
}

}  // namespace lvsrs::testing
