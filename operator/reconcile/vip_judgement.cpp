#include "reconcile/vip_judgement.h"

namespace lvsrs {

std::vector<std::string> UnreachableNodeAddresses(const ArpBehaviour& arp, const ObservedState& observed,
                                                  const std::function<bool(const IpAddress&)>& is_vip) {
  std::vector<std::string> out;
  std::map<int, const Link*> interfaces;
  for (const Link* l : arp.ArpInterfaces()) interfaces[l->index] = l;
  for (const auto& a : observed.addresses) {
    auto it = interfaces.find(a.ifindex);
    if (it == interfaces.end() || !a.ip.is_v4() || a.owned() || a.scope > kScopeLink || is_vip(a.ip)) continue;
    // A neighbour asks from the address's own subnet, which is what arp_ignore 2 wants.
    const Link& l = *it->second;
    if (arp.Answers(a.ip, l)) continue;
    out.push_back(a.ip.ToString() + "/" + std::to_string(a.prefix) + " on " + l.name +
                  " would get no ARP reply: arp_ignore " +
                  std::to_string(arp.Effective(l, ArpKey::Ignore).value_or(-1)) + " on " + l.name);
  }
  return out;
}

NodeJudgement::NodeJudgement(const DesiredState& desired, const ObservedState& observed)
    : arp_(observed), ndp_(observed, arp_.index()) {
  vips_.reserve(desired.addresses.size());
  for (const auto& [ip, want] : desired.addresses) {
    VipVerdict v;
    v.want = &want;
    v.link = observed.LinkByName(want.interface);
    if (v.link) {
      for (const KernelAddress* a : index().AddressesOf(ip))
        if (a->ifindex == v.link->index && a->prefix == ip.host_prefix()) v.address = a;
    }
    v.route_present = !want.host_route;
    if (want.host_route) {
      for (const KernelRoute* r : index().RoutesTo(ip)) {
        if (r->table != kMainTable || r->prefix != ip.host_prefix()) continue;
        if (v.link && r->oif == v.link->index)
          v.route_present = true;
        else if (!r->owned())
          v.foreign_route = r;
      }
      if (v.route_present) v.foreign_route = nullptr;  // a second route elsewhere does not block the right one
    }
    if (!v.link) {
      v.blocked = "interface " + want.interface + " does not exist";
    } else if (v.foreign_route) {
      const Link* other = observed.LinkByIndex(v.foreign_route->oif);
      v.blocked = "a host route for " + ip.ToString() + " via " +
                  (other ? other->name : std::to_string(v.foreign_route->oif)) +
                  " exists and is not ours; leaving it alone";
    }
    v.exposures = ip.is_v4() ? arp_.Exposures(ip) : ndp_.Exposures(ip);
    vips_.push_back(std::move(v));
  }
  unreachable_ =
      UnreachableNodeAddresses(arp_, observed, [&](const IpAddress& ip) { return desired.addresses.count(ip) > 0; });
  vips_as_source_ = VipsChosenAsSource(desired, observed, index());
}

}  // namespace lvsrs
