#include "reconcile/arp_behaviour.h"

#include <algorithm>

namespace lvsrs {
namespace {

bool Enslaved(const ObservedState& observed, const Link& l) {
  if (l.master == 0) return false;
  const Link* m = observed.LinkByIndex(l.master);
  // A VRF slave still runs IP (and ARP) itself; a bridge, bond or team port hands its frames to
  // the master, which answers with its own addresses and settings.
  return !m || m->kind != "vrf";
}

std::string ScopeName(std::uint8_t scope) {
  switch (scope) {
    case kScopeUniverse: return "global";
    case kScopeLink: return "link";
    case kScopeHost: return "host";
    default: return std::to_string(scope);
  }
}

std::string Cidr(const KernelAddress& a) { return a.ip.ToString() + "/" + std::to_string(a.prefix); }

}  // namespace

const char* ToString(ArpExposure::How how) {
  switch (how) {
    case ArpExposure::How::Answered: return "answered";
    case ArpExposure::How::Announced: return "announced";
    case ArpExposure::How::NdpAnswered: return "ndp_answered";
    case ArpExposure::How::NdpAnnounced: return "ndp_announced";
  }
  return "?";
}

std::string ArpExposure::Describe() const {
  const char* what = how == How::NdpAnswered    ? "answered (NDP)"
                     : how == How::NdpAnnounced ? "announced (NDP)"
                                                : ToString(how);
  return ip.ToString() + " " + what + " on " + interface + ": " + reason;
}

std::vector<const Link*> NeighbourInterfaces(const ObservedState& observed) {
  std::vector<const Link*> out;
  // Down links too: their settings apply the moment anyone sets them up, and no notification
  // would come before the first request is answered.
  for (const auto& l : observed.links)
    if (l.arp_capable() && !Enslaved(observed, l)) out.push_back(&l);
  return out;
}

ArpBehaviour::ArpBehaviour(const ObservedState& observed) : observed_(observed), index_(observed) {
  for (const auto& a : observed.addresses)
    if (a.ip.is_v4()) v4_by_link_[a.ifindex].push_back(&a);
}

void ArpBehaviour::Assume(const SysctlKey& key, int value) {
  assumed_[key] = value;
  first_eligible_.clear();
  first_selectable_.clear();
}

void ArpBehaviour::AssumeOnly(std::map<SysctlKey, int> values) {
  assumed_ = std::move(values);
  first_eligible_.clear();
  first_selectable_.clear();
}

void ArpBehaviour::AssumePlaced(const Placement& p) {
  placed_[p.ip] = p;
  first_eligible_.clear();
  first_selectable_.clear();
}

void ArpBehaviour::ForgetPlaced(const IpAddress& ip) {
  if (placed_.erase(ip)) {
    first_eligible_.clear();
    first_selectable_.clear();
  }
}

std::optional<int> ArpBehaviour::Value(const std::string& conf, ArpKey key) const {
  if (auto it = assumed_.find(SysctlKey{conf, key}); it != assumed_.end()) return it->second;
  return observed_.Sysctl(conf, key);
}

std::optional<int> ArpBehaviour::Effective(const Link& link, ArpKey key) const {
  const auto all = Value("all", key);
  const auto dev = Value(link.name, key);
  if (!all || !dev) return std::nullopt;
  return std::max(*all, *dev);  // IN_DEV_MAXCONF; route_localnet is IN_DEV_ORCONF of 0/1 values
}

std::string ArpBehaviour::Values(const Link& on, ArpKey key) const {
  const auto eff = Effective(on, key);
  auto text = [](std::optional<int> v) { return v ? std::to_string(*v) : std::string("unreadable"); };
  return (eff ? std::to_string(*eff) : std::string("unreadable")) + " (max of conf/all " + text(Value("all", key)) +
         ", conf/" + on.name + " " + text(Value(on.name, key)) + ")";
}

std::vector<const Link*> ArpBehaviour::ArpInterfaces() const { return NeighbourInterfaces(observed_); }

std::vector<Placement> ArpBehaviour::PlacementsOf(const IpAddress& ip) const {
  std::vector<Placement> out;
  for (const KernelAddress* a : index_.AddressesOf(ip)) out.push_back(Placement{a->ip, a->ifindex, a->scope});
  if (auto it = placed_.find(ip); it != placed_.end()) {
    const Placement& p = it->second;
    if (std::none_of(out.begin(), out.end(), [&](const Placement& o) { return o.ifindex == p.ifindex; }))
      out.push_back(p);
  }
  return out;
}

const KernelAddress* ArpBehaviour::SubnetHolding(const Link& on, const IpAddress& ip) const {
  auto it = v4_by_link_.find(on.index);
  if (it == v4_by_link_.end()) return nullptr;
  // A /32 is a subnet of one address: no other sender can share it with ip.
  for (const KernelAddress* a : it->second)
    if (a->prefix < 32 && ip.InPrefix(a->ip, a->prefix)) return a;
  return nullptr;
}

std::uint8_t ArpBehaviour::EffectiveScope(const Placement& p) const {
  // IN_DEV_ROUTE_LOCALNET is conf/all OR conf/<dev>: either one alone turns it on.
  const Link* link = observed_.LinkByIndex(p.ifindex);
  const bool localnet = Value("all", ArpKey::RouteLocalnet).value_or(0) > 0 ||
                        (link && Value(link->name, ArpKey::RouteLocalnet).value_or(0) > 0);
  return std::min<std::uint8_t>(p.scope, localnet ? kScopeLink : kScopeHost);
}

std::vector<ArpBehaviour::Listed> ArpBehaviour::KernelList(const Link& link) const {
  // The link's IPv4 addresses in the kernel's list order. A placed (not yet added) primary goes
  // where __inet_insert_ifa puts it: after the last primary whose scope is at least as narrow.
  std::vector<Listed> list;
  if (auto it = v4_by_link_.find(link.index); it != v4_by_link_.end())
    for (const KernelAddress* a : it->second) list.push_back({a->ip, a->scope, a->secondary});
  for (const auto& entry : placed_) {
    const auto& p = entry.second;  // not a structured binding: lambdas may not capture those (C++17)
    if (p.ifindex != link.index || !p.ip.is_v4()) continue;
    if (std::any_of(list.begin(), list.end(), [&](const Listed& e) { return e.ip == p.ip; })) continue;
    std::size_t pos = 0;
    for (std::size_t i = 0; i < list.size(); ++i)
      if (!list[i].secondary && p.scope <= list[i].scope) pos = i + 1;
    list.insert(list.begin() + static_cast<std::ptrdiff_t>(pos), Listed{p.ip, p.scope, false});
  }
  return list;
}

std::optional<IpAddress> ArpBehaviour::FirstEligible(const Link& link) const {
  if (auto it = first_eligible_.find(link.index); it != first_eligible_.end()) return it->second;
  // inet_select_addr's loop over the link's own addresses: primaries of scope <= link, where
  // route_localnet on the link makes host scope count as link scope.
  std::optional<IpAddress>& first = first_eligible_[link.index];
  for (const auto& e : KernelList(link)) {
    if (!e.secondary && EffectiveScope(Placement{e.ip, link.index, e.scope}) <= kScopeLink) {
      first = e.ip;
      break;
    }
  }
  return first;
}

std::optional<IpAddress> ArpBehaviour::FirstSelectable(const Link& link) const {
  if (auto it = first_selectable_.find(link.index); it != first_selectable_.end()) return it->second;
  // in_dev_select_addr, inet_select_addr's fallback over every interface: primaries whose own
  // scope is below link scope. Unlike the loop above it skips scope link addresses and does not
  // look at route_localnet, so 127.0.0.1 (scope host) on lo is never taken, even with
  // route_localnet=1, and a scope-global VIP on lo behind it is.
  std::optional<IpAddress>& first = first_selectable_[link.index];
  for (const auto& e : KernelList(link)) {
    if (!e.secondary && e.scope < kScopeLink) {
      first = e.ip;
      break;
    }
  }
  return first;
}

std::optional<std::string> ArpBehaviour::Answers(const IpAddress& ip, const Link& on) const {
  if (!ip.is_v4()) return std::nullopt;
  const auto placements = PlacementsOf(ip);
  if (placements.empty()) return std::nullopt;  // not a local address: arp_process does not answer as its own
  const auto ignore = Effective(on, ArpKey::Ignore);
  if (!ignore) return "arp_ignore on " + on.name + " is unreadable, so nothing says the kernel will not answer";
  const std::string values = "arp_ignore " + Values(on, ArpKey::Ignore);
  const Placement* here = nullptr;
  for (const auto& p : placements)
    if (p.ifindex == on.index) here = &p;
  switch (*ignore) {
    case 8: return std::nullopt;
    case 1:
      if (!here) return std::nullopt;
      return values + " answers for addresses of the receiving interface, and " + ip.ToString() + " is on " + on.name;
    case 2: {
      if (!here) return std::nullopt;
      if (const KernelAddress* a = SubnetHolding(on, ip))
        return values +
               " answers senders of a subnet of the receiving interface that holds the address: " + ip.ToString() +
               " is on " + on.name + " inside " + Cidr(*a);
      return std::nullopt;
    }
    case 3:
      for (const auto& p : placements) {
        const std::uint8_t scope = EffectiveScope(p);
        if (scope > kScopeLink) continue;
        const Link* dev = observed_.LinkByIndex(p.ifindex);
        const std::string where = dev ? dev->name : std::to_string(p.ifindex);
        return values + " answers for addresses of scope link or wider on any interface, and " + ip.ToString() +
               " has scope " + ScopeName(p.scope) + " on " + where +
               (scope != p.scope ? " (treated as link scope: route_localnet is set for " + where + ")" : "");
      }
      return std::nullopt;
    default:  // 0, and 4-7 (reserved) and anything above 8 reply like 0
      return values + " answers for every local address on every interface";
  }
}

std::optional<std::string> ArpBehaviour::Announces(const IpAddress& ip, const Link& on) const {
  if (!ip.is_v4() || PlacementsOf(ip).empty()) return std::nullopt;
  const auto announce = Effective(on, ArpKey::Announce);
  if (!announce) return "arp_announce on " + on.name + " is unreadable";
  const std::string values = "arp_announce " + Values(on, ArpKey::Announce);
  if (*announce == 1) {
    if (const KernelAddress* a = SubnetHolding(on, ip))
      return values + " uses the source of the packet being sent when it shares a subnet of " + on.name +
             " with the target, and " + ip.ToString() + " is inside " + Cidr(*a) +
             ": the real server's replies are sent from the VIP";
  } else if (*announce != 2) {
    return values + " uses the source of the packet being sent, and the real server's replies are sent from the VIP";
  }
  // inet_select_addr(on, target, RT_SCOPE_LINK): the interface's own address, else lo's first.
  if (auto own = FirstEligible(on)) {
    if (*own != ip) return std::nullopt;
    return values + " takes the first primary address of scope link or wider on " + on.name + ", which is " +
           ip.ToString();
  }
  // Without an address of its own the node ARPs on `on` only for next hops of routes through it
  // (a pod's host-side veth, say); an interface nothing is routed through sends no request.
  const bool routed = std::any_of(observed_.routes.begin(), observed_.routes.end(),
                                  [&](const KernelRoute& r) { return r.oif == on.index && r.dst.is_v4(); });
  if (!routed) return std::nullopt;
  for (const auto& l : observed_.links) {
    auto first = FirstSelectable(l);
    if (!first) continue;
    if (*first != ip) return std::nullopt;
    return values + ": " + on.name +
           " has no IPv4 address of scope link or wider but routes lead through it, so the kernel takes the "
           "first primary address of scope global of any interface, lo first (inet_select_addr), which is " +
           ip.ToString() + " on " + l.name;
  }
  return std::nullopt;
}

std::vector<ArpExposure> ArpBehaviour::Exposures(const IpAddress& ip) const {
  std::vector<ArpExposure> out;
  if (!ip.is_v4()) return out;
  for (const Link* l : ArpInterfaces()) {
    if (auto why = Answers(ip, *l)) out.push_back({ip, l->name, ArpExposure::How::Answered, *why});
    if (auto why = Announces(ip, *l)) out.push_back({ip, l->name, ArpExposure::How::Announced, *why});
  }
  return out;
}

}  // namespace lvsrs
