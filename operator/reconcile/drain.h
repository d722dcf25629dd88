// Drain, then withdraw: a pure decision over which of the node's own VIPs that stopped being
// wanted stay on the node a while longer. An address withdrawn while clients still talk to it
// resets every established connection on this node; a VIP that drains instead stays configured
// (address, host route, ARP sysctls), is reported Draining (so directors stop sending new
// connections), and is withdrawn when its last established TCP connection closes or its
// VirtualIP's drainTimeout runs out, whichever comes first.
//
// A VIP drains when it leaves because its VirtualIP was deleted, edited to leave it out, or no
// longer selects the node, and when the whole node is asked to drain (NodeDrainReason). It comes
// back to serving, with nothing removed, when it is wanted again before the end. Times are wall
// clock (Unix ms): a deadline is persisted (agent/drain_record.h) so that a restarted agent ends
// the drain when the first one would have.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/virtual_ip.h"
#include "reconcile/desired_state.h"
#include "reconcile/node_status.h"
#include "reconcile/observed_state.h"
#include "reconcile/vip_health.h"

namespace lvsrs {

// The Node labels that drain every VIP of the node. The exclude label is the one Kubernetes
// itself uses to take a node out of external load balancers (any value); lvsdr.io/drain any
// value but "false". Cordon alone (spec.unschedulable) drains nothing: it is about pods.
inline constexpr const char* kExcludeFromLoadBalancersLabel = "node.kubernetes.io/exclude-from-external-load-balancers";
inline constexpr const char* kDrainLabel = "lvsdr.io/drain";

// Why every VIP of this node drains, or "" when the node is not asked to drain. by_file: the
// file <state-dir>/drain-requested exists (`lvs-rs-operator drain`).
std::string NodeDrainReason(const std::map<std::string, std::string>& labels, bool by_file);

struct Drain {
  IpAddress address;
  std::string virtual_ip;  // the VirtualIP that served it here last ("" when no spec is known)
  std::string interface;
  bool host_route = true;
  std::string reason;  // why it stopped being wanted
  std::int64_t started_unix_ms = 0;
  std::int64_t deadline_unix_ms = 0;
  std::size_t connections = 0;  // ESTABLISHED TCP connections to it at the last count
  bool operator==(const Drain&) const = default;
};
using Drains = std::map<IpAddress, Drain>;

struct Withdrawal {
  Drain drain;         // as it ended
  std::string reason;  // "no connections left", "timeout with 3 connections", ...
};

struct DrainDecision {
  Drains draining;                    // stay on the node (the plan keeps them)
  std::vector<Drain> started;         // draining from now on
  std::vector<Withdrawal> withdrawn;  // no longer kept: removed by this pass (or gone already)
  std::vector<Drain> undone;          // wanted again before the end: serving again
};

struct DrainInputs {
  const Drains& previous;         // the decision of the last pass (or of the previous process)
  const DesiredState& desired;    // this pass's, with the node drain already applied
  const ObservedState& observed;  // the kernel now
  // The specs this node applied, by ObjectIdentity: last pass's overlaid with this one's. A VIP
  // that starts draining takes its VirtualIP's drainTimeout from here (a deleted VirtualIP's spec
  // is only here).
  const std::map<std::string, VirtualIp>& known;
  const std::string& node_drain;  // NodeDrainReason, "" when the node is not drained as a whole
  // ESTABLISHED connections per address, counted this pass for LeavingAddresses. An address
  // without a count (the count failed) never counts as idle; it ends at its deadline.
  const std::map<IpAddress, std::size_t>& connections;
  std::int64_t now_unix_ms = 0;
};

// The node's own addresses (host prefix) that are not wanted in this pass (the previous drains
// still on the node among them): the addresses whose connections the decision needs counted.
std::vector<IpAddress> LeavingAddresses(const DesiredState& desired, const ObservedState& observed);

DrainDecision DecideDrains(const DrainInputs& in);

// The node asked to drain: nothing of the VirtualIPs stays wanted, so every VIP leaves (and
// drains). The ARP settings stay wanted: the node may serve again any moment, and the VIPs that
// drain still need them.
void WithdrawAllForNodeDrain(DesiredState& desired);

// Makes the plan keep the draining VIPs (address, host route, recorded sysctls) as they are.
void KeepDraining(DesiredState& desired, const Drains& draining);

// Adds a Draining entry per draining VIP to the status (it is not wanted, so not judged there).
void ReportDraining(NodeStatus& status, const Drains& draining);

// What the director-facing health table needs of each drain (vip_health.h).
std::vector<DrainView> ToDrainViews(const Drains& draining);

// "draining: 3 connections, until 2026-12-02T11:00:30Z" for status, check and logs.
std::string DrainText(const Drain& d);

}  // namespace lvsrs
