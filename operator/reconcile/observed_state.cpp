#include "reconcile/observed_state.h"

#include <algorithm>

namespace lvsrs {
namespace {

// Heterogeneous comparison for equal_range over pointers sorted by address.
struct IpLess {
  bool operator()(const KernelAddress* a, const IpAddress& ip) const { return a->ip < ip; }
  bool operator()(const IpAddress& ip, const KernelAddress* a) const { return ip < a->ip; }
  bool operator()(const KernelRoute* r, const IpAddress& ip) const { return r->dst < ip; }
  bool operator()(const IpAddress& ip, const KernelRoute* r) const { return ip < r->dst; }
};

}  // namespace

std::string OwnerLabel(const std::string& interface) {
  std::string label = interface + kLabelSuffix;
  return label.size() <= 15 ? label : "";
}

bool KernelAddress::owned() const {
  return proto == kOwnerProtocol || (!label.empty() && label.ends_with(kLabelSuffix)) || recorded;
}

const std::vector<IpAddress>& SourceCheckDestinations() {
  static const std::vector<IpAddress> kDestinations = {*IpAddress::Parse("8.8.8.8"),
                                                       *IpAddress::Parse("2001:4860:4860::8888")};
  return kDestinations;
}

const char* ToString(ArpKey key) {
  switch (key) {
    case ArpKey::Ignore: return "arp_ignore";
    case ArpKey::Announce: return "arp_announce";
    case ArpKey::RouteLocalnet: return "route_localnet";
  }
  return "?";
}

std::string SysctlKey::ToString() const { return "net.ipv4.conf." + conf + "." + lvsrs::ToString(key); }

const char* ToString(NdpKey key) { return key == NdpKey::Forwarding ? "forwarding" : "proxy_ndp"; }

std::string NdpSysctlKey::ToString() const { return "net.ipv6.conf." + conf + "." + lvsrs::ToString(key); }

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

std::optional<int> ObservedState::NdpSysctl(const std::string& conf, NdpKey key) const {
  auto it = ndp_sysctls.find(NdpSysctlKey{conf, key});
  if (it == ndp_sysctls.end()) return std::nullopt;
  return it->second;
}

ObservedIndex::ObservedIndex(const ObservedState& observed) {
  addresses_.reserve(observed.addresses.size());
  for (const auto& a : observed.addresses) addresses_.push_back(&a);
  std::stable_sort(addresses_.begin(), addresses_.end(),
                   [](const KernelAddress* x, const KernelAddress* y) { return x->ip < y->ip; });
  routes_.reserve(observed.routes.size());
  for (const auto& r : observed.routes) routes_.push_back(&r);
  std::stable_sort(routes_.begin(), routes_.end(),
                   [](const KernelRoute* x, const KernelRoute* y) { return x->dst < y->dst; });
}

std::span<const KernelAddress* const> ObservedIndex::AddressesOf(const IpAddress& ip) const {
  auto [lo, hi] = std::equal_range(addresses_.begin(), addresses_.end(), ip, IpLess{});
  return {lo, hi};
}

std::span<const KernelRoute* const> ObservedIndex::RoutesTo(const IpAddress& ip) const {
  auto [lo, hi] = std::equal_range(routes_.begin(), routes_.end(), ip, IpLess{});
  return {lo, hi};
}

std::optional<int> EffectiveArp(const ObservedState& observed, const std::string& interface, ArpKey key) {
  const auto all = observed.Sysctl("all", key);
  const auto dev = observed.Sysctl(interface, key);
  if (!all || !dev) return std::nullopt;
  return std::max(*all, *dev);
}

}  // namespace lvsrs
