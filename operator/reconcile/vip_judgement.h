// The one judgement of each wanted VIP against what the kernel holds: is its address on its
// interface (ours, or adopted), is its host route there, what blocks putting it there, where a
// neighbour could learn it through ARP (IPv4) or neighbour discovery (IPv6), and whether the node's
// own traffic leaves from it. The plan (what to write), the status (what to report) and `check`
// (what to print) all read these verdicts; nothing else decides whether a VIP is in place.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "reconcile/arp_behaviour.h"
#include "reconcile/desired_state.h"
#include "reconcile/ndp_behaviour.h"
#include "reconcile/observed_state.h"
#include "reconcile/vip_source.h"

namespace lvsrs {

struct VipVerdict {
  const DesiredAddress* want = nullptr;        // into the DesiredState
  const Link* link = nullptr;                  // its interface; nullptr when that does not exist
  const KernelAddress* address = nullptr;      // the VIP as a host address on its interface, if there
  bool route_present = false;                  // the host route via its interface (true when none is wanted)
  const KernelRoute* foreign_route = nullptr;  // a host route for the VIP elsewhere, not ours
  std::string blocked;                         // why it cannot be put in place now, "" when it can
  std::vector<ArpExposure> exposures;          // where a neighbour can learn it from this node now (ARP or NDP)

  bool in_place() const { return address && route_present; }
  bool adopted() const { return address && !address->owned(); }
  bool needs_address() const { return link && !address; }
  bool needs_route() const { return link && !route_present && !foreign_route; }
};

// Owns what the verdicts point into besides the desired and observed states, which must outlive it.
class NodeJudgement {
 public:
  NodeJudgement(const DesiredState& desired, const ObservedState& observed);
  NodeJudgement(const NodeJudgement&) = delete;
  NodeJudgement& operator=(const NodeJudgement&) = delete;
  NodeJudgement(NodeJudgement&&) = delete;
  NodeJudgement& operator=(NodeJudgement&&) = delete;
  ~NodeJudgement() = default;

  const std::vector<VipVerdict>& vips() const { return vips_; }  // in address order
  const ArpBehaviour& arp() const { return arp_; }
  const NdpBehaviour& ndp() const { return ndp_; }
  const ObservedIndex& index() const { return arp_.index(); }
  // The node's own IPv4 addresses (not VIPs) that a neighbour asking on their interface would get
  // no ARP reply for: the node is off that network. One line each, naming address, interface, rule.
  const std::vector<std::string>& unreachable_node_addresses() const { return unreachable_; }
  // Where the kernel picks a VIP as the source of the node's own traffic (vip_source.h).
  const std::vector<VipAsSource>& vips_as_source() const { return vips_as_source_; }

 private:
  ArpBehaviour arp_;
  NdpBehaviour ndp_;  // shares arp_'s index
  std::vector<VipVerdict> vips_;
  std::vector<std::string> unreachable_;
  std::vector<VipAsSource> vips_as_source_;
};

// The node's own IPv4 addresses on ARP interfaces that `arp` would not answer for, as one line
// each. VIPs (is_vip), and addresses the operator owns, are not the node's own.
std::vector<std::string> UnreachableNodeAddresses(const ArpBehaviour& arp, const ObservedState& observed,
                                                  const std::function<bool(const IpAddress&)>& is_vip);

}  // namespace lvsrs
