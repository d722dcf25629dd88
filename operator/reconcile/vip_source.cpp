#include "reconcile/vip_source.h"

#include <algorithm>

namespace lvsrs {
namespace {

// Why the kernel may pick `a` (the VIP as the kernel holds it) as a source.
std::string Why(const KernelAddress* a) {
  if (!a) return "a route names it as its preferred source (src)";
  if (a->ip.is_v4()) {
    if (a->scope != kScopeHost)
      return "it has scope " + std::string(a->scope == kScopeLink ? "link" : "global") +
             " (the operator adds VIPs with scope host, which source selection never picks); added by hand?";
    return "a route names it as its preferred source (src), or route_localnet lets source selection use "
           "host-scope addresses";
  }
  if (!a->deprecated())
    return "it is a preferred address (the operator adds IPv6 VIPs deprecated, preferred lifetime 0); added by hand?";
  return "although it is deprecated: the node has no IPv6 address of its own with enough scope for this "
         "destination (source selection prefers scope to a non-deprecated address, RFC 6724 rules 2 and 3), or a "
         "route names it as its preferred source (src)";
}

}  // namespace

std::string VipAsSource::Describe() const {
  return vip.ToString() + " is the source address the kernel picks for this node's own traffic to " +
         destination.ToString() + " (via " + interface + "): " + why +
         "; replies to that traffic go to whoever else holds the VIP";
}

std::vector<VipAsSource> VipsChosenAsSource(const DesiredState& desired, const ObservedState& observed,
                                            const ObservedIndex& index) {
  std::vector<VipAsSource> out;
  for (const auto& choice : observed.sources) {
    const auto held = index.AddressesOf(choice.source);
    const bool owned = std::any_of(held.begin(), held.end(), [](const KernelAddress* a) { return a->owned(); });
    if (!desired.addresses.count(choice.source) && !owned) continue;
    // The VIP as the kernel holds it, on the interface desired for it when it is there.
    const KernelAddress* a = held.empty() ? nullptr : held.front();
    if (auto want = desired.addresses.find(choice.source); want != desired.addresses.end())
      if (const Link* l = observed.LinkByName(want->second.interface))
        for (const KernelAddress* k : held)
          if (k->ifindex == l->index) a = k;
    const Link* via = observed.LinkByIndex(choice.oif);
    out.push_back(VipAsSource{choice.source, choice.destination, via ? via->name : std::to_string(choice.oif), Why(a)});
  }
  return out;
}

}  // namespace lvsrs
