#include "reconcile/sysctl_watch.h"

#include "reconcile/plan.h"

namespace lvsrs {

SysctlValues SysctlsToWatch(const DesiredState& desired, const ObservedState& observed) {
  SysctlValues out;
  auto watch = [&](const SysctlKey& key) {
    if (auto v = observed.Sysctl(key.conf, key.key)) out[key] = *v;
  };
  for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) watch(SysctlKey{"all", k});
  for (const auto& c : DesiredSysctls(desired, observed)) watch(c.key);
  if (!desired.arp) return out;
  // What the ARP verdicts depend on besides the keys written: an admin's per-interface value
  // (max(all, dev) in Global scope too) and route_localnet (kube-proxy sets it) change what the
  // kernel answers, with no notification either.
  watch(SysctlKey{"all", ArpKey::RouteLocalnet});
  watch(SysctlKey{"lo", ArpKey::RouteLocalnet});
  for (const auto& l : observed.links) {
    if (!l.arp_capable() || !l.up) continue;
    for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce, ArpKey::RouteLocalnet}) watch(SysctlKey{l.name, k});
  }
  return out;
}

std::vector<SysctlKey> ChangedSysctls(const SysctlValues& last_pass, const SysctlValues& now) {
  std::vector<SysctlKey> out;
  for (const auto& [key, value] : last_pass) {
    auto it = now.find(key);
    if (it == now.end() || it->second != value) out.push_back(key);
  }
  return out;
}

}  // namespace lvsrs
