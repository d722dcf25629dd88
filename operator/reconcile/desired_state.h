// Desired node state: a pure function of (VirtualIPs, this node, what the node already owns).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/virtual_ip.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

struct DesiredAddress {
  IpAddress ip;
  std::string interface;
  bool host_route = false;
  std::vector<std::string> owners;  // VirtualIP names that ask for it, sorted
};

struct DesiredState {
  std::map<IpAddress, DesiredAddress> addresses;
  // The ARP settings written: of the applied VirtualIPs' values, the ones that answer least
  // (CombineArp); nullopt when none selects this node, which is when recorded sysctls are restored.
  std::optional<ArpSpec> arp;
  std::vector<std::string> selected;           // VirtualIP names applied on this node, in decision order
  std::map<std::string, std::string> refused;  // VirtualIP name -> why it is not applied
  // VirtualIP name -> why its current spec is refused on this node while the spec this node
  // accepted before (last_accepted) is applied instead; such a VirtualIP is in `selected`.
  std::map<std::string, std::string> kept;
  // By ObjectIdentity: the spec applied of each VirtualIP in `selected` (its current one, or the
  // kept one). What the caller passes as last_accepted next time.
  std::map<std::string, VirtualIp> accepted;
  // Addresses no longer wanted that drain (reconcile/drain.h): the plan leaves their address and
  // host route as they are (it never adds them back) and restores no recorded sysctl while any
  // drains. Not in `addresses`: nothing judges them as wanted.
  std::map<IpAddress, DesiredAddress> draining;
};

// Why an address must never be a VIP on this node, or "" when it may be.
std::string ReservedAddressReason(const IpAddress& ip);

// The values written for two VirtualIPs' settings: per key the value under which the kernel
// answers or announces least (arp_ignore 8, then 2, 1, 3, 0; arp_announce 2, 1, 0), Global scope
// over PerInterface. arp_ignore values are not a scale (3 answers for a scope-global address on
// lo where 1 does not), so this is an order of what each answers, not max().
ArpSpec CombineArp(const ArpSpec& a, const ArpSpec& b);

// Which VirtualIPs apply, in decision order (older first). One is refused on this node, with the
// reason, when an address is unusable here (reserved, the node's own, a subnet broadcast, on
// another interface in one that decides first), or when its ARP settings, or its VIPs' place on
// an interface that answers ARP (for an IPv6 VIP: any interface with neighbours, NdpBehaviour),
// would let a neighbour learn any applied VIP from this node (see ArpBehaviour) or take the node's
// own addresses off their network. Exposures that exist whatever
// the VirtualIPs say (an admin's per-interface value, an address added by hand) refuse nothing:
// the status reports them.
// last_accepted: DesiredState::accepted of the previous pass (by ObjectIdentity). When the current
// spec of a VirtualIP is refused and this node accepted an earlier spec of the same object, that
// earlier spec is judged in its place (same age, so same decision order) and, if it still holds,
// applied and reported in `kept`: an edit this node refuses never withdraws what it serves. A
// VirtualIP without an earlier accepted spec here (new, or deleted in between) is refused.
DesiredState BuildDesiredState(const std::vector<VirtualIp>& vips, const NodeInfo& node, const ObservedState& observed,
                               const std::map<std::string, VirtualIp>& last_accepted = {});

}  // namespace lvsrs
