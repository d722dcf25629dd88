#include "reconcile/ndp_behaviour.h"

#include <algorithm>

namespace lvsrs {
namespace {

std::string Text(std::optional<int> v) { return v ? std::to_string(*v) : std::string("unreadable"); }

}  // namespace

NdpBehaviour::NdpBehaviour(const ObservedState& observed)
    : NdpBehaviour(observed, std::make_unique<ObservedIndex>(observed)) {}

NdpBehaviour::NdpBehaviour(const ObservedState& observed, const ObservedIndex& index)
    : observed_(observed), index_(index), interfaces_(NeighbourInterfaces(observed)) {
  for (const auto& e : observed.proxy_ndp_entries) proxy_.insert({e.ip, e.ifindex});
  for (const auto& e : observed.anycast) anycast_.insert({e.ip, e.ifindex});
}

NdpBehaviour::NdpBehaviour(const ObservedState& observed, std::unique_ptr<ObservedIndex> own)
    : NdpBehaviour(observed, *own) {
  own_index_ = std::move(own);
}

void NdpBehaviour::AssumePlaced(const IpAddress& ip, int ifindex) { placed_.insert({ip, ifindex}); }

void NdpBehaviour::ForgetPlaced(const IpAddress& ip) {
  std::erase_if(placed_, [&](const std::pair<IpAddress, int>& p) { return p.first == ip; });
}

bool NdpBehaviour::OnLink(const IpAddress& ip, int ifindex) const {
  if (placed_.count({ip, ifindex})) return true;
  const auto held = index_.AddressesOf(ip);
  return std::any_of(held.begin(), held.end(), [&](const KernelAddress* a) { return a->ifindex == ifindex; });
}

std::string NdpBehaviour::Values(const Link& on) const {
  return "forwarding " + Text(observed_.NdpSysctl(on.name, NdpKey::Forwarding)) + " (conf/" + on.name +
         "), proxy_ndp conf/all " + Text(observed_.NdpSysctl("all", NdpKey::ProxyNdp)) + ", conf/" + on.name + " " +
         Text(observed_.NdpSysctl(on.name, NdpKey::ProxyNdp));
}

std::optional<std::string> NdpBehaviour::Answers(const IpAddress& ip, const Link& on) const {
  if (ip.is_v4()) return std::nullopt;
  if (OnLink(ip, on.index))
    return ip.ToString() + " is configured on " + on.name +
           ", and the kernel answers solicitations for every address of the receiving interface (IPv6 has no "
           "arp_ignore)";
  if (on.master != 0) {
    const Link* m = observed_.LinkByIndex(on.master);
    if (m && m->kind == "vrf" && OnLink(ip, m->index))
      return on.name + " is a slave of VRF " + m->name + ", which holds " + ip.ToString() +
             ", and the kernel answers on a VRF slave for the master's addresses";
  }
  if (anycast_.count({ip, on.index}))
    return ip.ToString() + " is an anycast address joined on " + on.name +
           " (the subnet-router anycast address of a prefix of " + on.name +
           " while forwarding is on there, or one a socket joined), and the kernel answers for those";
  if (!proxy_.count({ip, on.index})) return std::nullopt;
  // ndisc_recv_ns: idev->cnf.forwarding && (devconf_all->proxy_ndp || idev->cnf.proxy_ndp).
  const auto forwarding = observed_.NdpSysctl(on.name, NdpKey::Forwarding);
  const auto all = observed_.NdpSysctl("all", NdpKey::ProxyNdp);
  const auto dev = observed_.NdpSysctl(on.name, NdpKey::ProxyNdp);
  const std::string entry = "a proxy entry for " + ip.ToString() + " on " + on.name + " (ip -6 neigh add proxy)";
  if (forwarding == 0) return std::nullopt;
  if (all == 0 && dev == 0) return std::nullopt;
  if (!forwarding || !all || !dev)
    return entry + " exists and " + Values(on) + ": unreadable, so nothing says the kernel will not answer";
  return entry + " is answered: " + Values(on) + " (forwarding on the interface, and proxy_ndp on all or on it)";
}

std::optional<std::string> NdpBehaviour::Announces(const IpAddress& ip, const Link& on) const {
  if (ip.is_v4() || !OnLink(ip, on.index)) return std::nullopt;
  return "the node's own solicitations on " + on.name +
         " take the source of the packet being sent when it is an address of " + on.name + ", and " + ip.ToString() +
         " is on " + on.name + ": the real server's replies are sent from the VIP";
}

std::vector<ArpExposure> NdpBehaviour::Exposures(const IpAddress& ip) const {
  std::vector<ArpExposure> out;
  if (ip.is_v4()) return out;
  for (const Link* l : interfaces_) {
    if (auto why = Answers(ip, *l)) out.push_back({ip, l->name, ArpExposure::How::NdpAnswered, *why});
    if (auto why = Announces(ip, *l)) out.push_back({ip, l->name, ArpExposure::How::NdpAnnounced, *why});
  }
  return out;
}

}  // namespace lvsrs
