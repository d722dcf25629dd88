// Conformance of a node, judged from observed kernel state against the desired state. The one
// source for `check`, metrics, logs and the RealServer status.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reconcile/arp_behaviour.h"
#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"
#include "reconcile/plan.h"

namespace lvsrs {

// EditRefused: a VirtualIP as a whole (no address) whose current spec this node refuses while it
// serves the spec it accepted before (DesiredState::kept). Draining: an address no longer wanted
// that stays while connections to it remain (reconcile/drain.h).
enum class VipState { Configured, Adopted, Pending, Refused, Failed, EditRefused, Draining };
const char* ToString(VipState s);

struct VipAddressStatus {
  std::string virtual_ip;
  std::string address;  // empty for a refused VirtualIP (or a refused edit of one) as a whole
  std::string interface;
  VipState state = VipState::Pending;
  std::string message;
  std::size_t connections = 0;              // Draining: ESTABLISHED TCP connections to it
  std::int64_t drain_deadline_unix_ms = 0;  // Draining: withdrawn at the latest then
};

struct InterfaceArpStatus {
  std::string interface;
  int arp_ignore = -1;  // effective: max(conf/all, conf/<dev>)
  int arp_announce = -1;
  bool conformant = true;  // no wanted VIP can be learnt by a neighbour on it, through ARP or NDP
  std::string message;     // what is exposed there, when not conformant
};

// One thing that is not as wanted. The kind says which condition it belongs to, so that status
// writers and metrics never search the text.
struct Problem {
  enum class Kind {
    VipNotInPlace,     // a wanted address or host route is missing, blocked or failed (item: the VIP)
    VirtualIpRefused,  // a VirtualIP selecting the node is not applied (item: its name)
    ArpExposed,        // a neighbour can learn a VIP from this node, through ARP or NDP (item: the VIP)
    NodeUnreachable,   // the node's own address gets no ARP reply on its interface (item: the interface)
    SysctlDiffers,     // a sysctl the operator writes does not hold its value (item: the key)
    VipIsSource,       // the kernel picks a VIP as the source of the node's own traffic (item: the VIP)
  };
  Kind kind;
  std::string item;
  std::string text;  // one human line, for logs, check and conditions
};

struct NodeStatus {
  std::vector<VipAddressStatus> vips;
  std::vector<InterfaceArpStatus> interfaces;  // every interface that answers ARP itself
  std::vector<ArpExposure> exposures;          // wanted VIPs a neighbour can learn (ARP or NDP), and where
  bool vips_configured = true;                 // every wanted address and host route present
  // No wanted VIP is answered or announced on any interface (ARP for IPv4, NDP for IPv6), and the
  // node still answers for its own addresses: what the kernel will do, not whether the sysctls
  // hold the requested numbers.
  bool arp_conformant = true;
  // The node's own traffic to the world leaves from none of the VIPs (vip_source.h).
  bool vips_not_source = true;
  bool conformant() const { return vips_configured && arp_conformant && vips_not_source; }
  std::vector<Problem> problems;
};

class NodeJudgement;
// failures: per-item error messages from the last execution, keyed by address. The overload
// without a judgement judges desired against observed itself.
NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed, const NodeJudgement& judgement,
                          const std::map<IpAddress, std::string>& failures = {});
NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed,
                          const std::map<IpAddress, std::string>& failures = {});

}  // namespace lvsrs
