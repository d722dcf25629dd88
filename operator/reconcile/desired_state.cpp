#include "reconcile/desired_state.h"

#include <algorithm>

namespace lvsrs {
namespace {

// The subnet-directed broadcast of a node's IPv4 address (x.y.z.255 of a /24), which must
// stay the subnet's; /31 and /32 have none.
bool IsSubnetBroadcastOf(const IpAddress& ip, const KernelAddress& a) {
  if (!ip.is_v4() || !a.ip.is_v4() || a.prefix >= 31) return false;
  if (!ip.InPrefix(a.ip, a.prefix)) return false;
  for (unsigned bit = a.prefix; bit < 32; ++bit) {
    if ((ip.bytes()[bit / 8] & (0x80 >> (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace

std::string ReservedAddressReason(const IpAddress& ip) {
  if (ip.IsUnspecified()) return "is the unspecified address";
  if (ip.IsLoopback()) return "is a loopback address";
  if (ip.IsMulticast()) return "is a multicast address";
  if (ip.IsLimitedBroadcast()) return "is the broadcast address";
  if (ip.IsLinkLocal()) return "is a link-local address";
  return "";
}

DesiredState BuildDesiredState(const std::vector<VirtualIp>& vips, const NodeInfo& node,
                               const ObservedState& observed) {
  std::vector<const VirtualIp*> ordered;
  ordered.reserve(vips.size());
  for (const auto& v : vips) ordered.push_back(&v);
  // Name order makes conflicts between VirtualIPs resolve the same way on every node and run.
  std::sort(ordered.begin(), ordered.end(), [](const VirtualIp* a, const VirtualIp* b) { return a->name < b->name; });

  // Only two kinds of observed address can refuse a VIP: one with the same IP, and a subnet
  // whose broadcast it is. Look those up instead of scanning every address per VIP (quadratic
  // at thousands of VIPs), and visit them in observed order so the first match, and so the
  // message, is the one a full scan would find.
  const ObservedIndex index(observed);
  std::vector<std::size_t> subnets;  // IPv4 addresses with a broadcast (prefix < 31)
  for (std::size_t i = 0; i < observed.addresses.size(); ++i) {
    const KernelAddress& a = observed.addresses[i];
    if (a.ip.is_v4() && a.prefix < 31) subnets.push_back(i);
  }
  std::vector<std::size_t> candidates;

  DesiredState d;
  for (const VirtualIp* vip : ordered) {
    if (!vip->node_selector.Matches(node.labels)) continue;
    std::string why;
    for (const auto& ip : vip->addresses) {
      const std::string reserved = ReservedAddressReason(ip);
      if (!reserved.empty()) {
        why = ip.ToString() + " " + reserved;
        break;
      }
      candidates = subnets;
      for (const KernelAddress* a : index.AddressesOf(ip))
        candidates.push_back(static_cast<std::size_t>(a - observed.addresses.data()));
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
      for (std::size_t i : candidates) {
        const KernelAddress& a = observed.addresses[i];
        const Link* link = observed.LinkByIndex(a.ifindex);
        const std::string dev = link ? link->name : std::to_string(a.ifindex);
        if (a.ip == ip && !a.owned() && dev != vip->interface) {
          why = ip.ToString() + " is already an address of this node on " + dev +
                " (a VIP there would take the node's own address)";
          break;
        }
        if (IsSubnetBroadcastOf(ip, a)) {
          why = ip.ToString() + " is the broadcast address of " + dev + "'s subnet";
          break;
        }
      }
      if (!why.empty()) break;
      auto it = d.addresses.find(ip);
      if (it != d.addresses.end() && it->second.interface != vip->interface) {
        why = ip.ToString() + " conflicts with VirtualIP " + it->second.owners.front() + ", which puts it on " +
              it->second.interface;
        break;
      }
    }
    if (!why.empty()) {
      d.refused[vip->name] = why;
      continue;
    }

    d.selected.push_back(vip->name);
    for (const auto& ip : vip->addresses) {
      auto& da = d.addresses[ip];
      da.ip = ip;
      da.interface = vip->interface;
      da.host_route = da.host_route || vip->host_route;
      da.owners.push_back(vip->name);
    }
    if (!d.arp) {
      d.arp = vip->arp;
    } else {
      // Several VirtualIPs on one node: the strictest values win, and Global (which also covers
      // interfaces created later) wins over PerInterface.
      d.arp->ignore = std::max(d.arp->ignore, vip->arp.ignore);
      d.arp->announce = std::max(d.arp->announce, vip->arp.announce);
      if (vip->arp.scope == ArpScope::Global) d.arp->scope = ArpScope::Global;
    }
  }
  return d;
}

}  // namespace lvsrs
