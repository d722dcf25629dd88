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
