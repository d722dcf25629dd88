#include "reconcile/observed_state.h"

#include <algorithm>

namespace lvsrs {

std::string OwnerLabel(const std::string& interface) {
  std::string label = interface + kLabelSuffix;
  return label.size() <= 15 ? label : "";
}

bool KernelAddress::owned() const {
  return proto == kOwnerProtocol || (!label.empty() && label.ends_with(kLabelSuffix));
}

const char* ToString(ArpKey key) { return key == ArpKey::Ignore ? "arp_ignore" : "arp_announce"; }

std::string SysctlKey::ToString() const { return "net.ipv4.conf." + conf + "." + lvsrs::ToString(key); }

const Link* ObservedState::LinkByName(const std::string& name) const {
  for (const auto& l : links)
    if (l.name == name) return &l;
  return nullptr;
}

const Link* ObservedState::LinkByIndex(int index) const {
  for (const auto& l : links)
    if (l.index == index) return &l;
  return nullptr;
}

std::optional<int> ObservedState::Sysctl(const std::string& conf, ArpKey key) const {
  auto it = sysctls.find(SysctlKey{conf, key});
  if (it == sysctls.end()) return std::nullopt;
  return it->second;
}

std::optional<int> EffectiveArp(const ObservedState& observed, const std::string& interface, ArpKey key) {
  const auto all = observed.Sysctl("all", key);
  const auto dev = observed.Sysctl(interface, key);
  if (!all || !dev) return std::nullopt;
  return std::max(*all, *dev);
}

}  // namespace lvsrs
