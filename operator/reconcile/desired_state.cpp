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
  for (const auto& v : vips) ordered.push_back(&v);
  // Name order makes conflicts between VirtualIPs resolve the same way on every node and run.
  std::sort(ordered.begin(), ordered.end(), [](const VirtualIp* a, const VirtualIp* b) { return a->name < b->name; });

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
      for (const auto& a : observed.addresses) {
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
