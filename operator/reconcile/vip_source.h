// "VIPs are never a source address": the node's own traffic (kubelet, etcd, package updates) must
// not leave from a VIP, or the replies to it go to whoever else holds the VIP (the director, the
// other real servers) and the node's connections break, as kube-vip found with etcd. The operator
// gives IPv4 VIPs host scope (inet_select_addr skips it) and adds IPv6 VIPs deprecated (RFC 6724
// rule 3 avoids them); this judges what the kernel actually picks (ObservedState::sources), which
// also catches VIPs added by hand, routes naming a VIP as their source, and IPv6 nodes without an
// address of their own that would beat a deprecated VIP (rule 2, scope, comes before rule 3).
#pragma once

#include <string>
#include <vector>

#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

struct VipAsSource {
  IpAddress vip;
  IpAddress destination;
  std::string interface;  // the one the traffic leaves through
  std::string why;        // what about the VIP lets the kernel pick it
  std::string Describe() const;
};

// The observed source choices whose source is a VIP: wanted on this node, or an address the
// operator owns (one that is no longer wanted is a VIP until it is removed). One per choice.
std::vector<VipAsSource> VipsChosenAsSource(const DesiredState& desired, const ObservedState& observed,
                                            const ObservedIndex& index);

}  // namespace lvsrs
