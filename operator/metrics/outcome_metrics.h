// The pure half of the metrics: what one reconcile pass means for every lvs_rs_* series. The
// registry side (operator_metrics.h) only copies these values into prometheus-cpp families, so
// everything a dashboard or alert depends on is decided, and unit-tested, here.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/reconciler.h"

namespace lvsrs {

// Label values of lvs_rs_drift_repairs_total{kind}; each exists at 0 from the start.
inline constexpr const char* kRepairKinds[] = {"address", "route", "sysctl"};
// Label values of lvs_rs_reconcile_errors_total{reason}; each exists at 0 from the start.
//  kernel_read: the pass failed as a whole, the namespace's state could not be read
//  address:     adding or removing one address or host route failed
//  sysctl:      writing one ARP sysctl (or recording its original value first) failed
inline constexpr const char* kErrorReasons[] = {"kernel_read", "address", "sysctl"};

struct OutcomeMetrics {
  // False when the pass could not judge the kernel (kernel_read error): per-VIP and
  // per-interface series then keep their last values, the node counts as not conformant.
  bool has_status = false;
  bool node_conformant = false;
  std::map<std::pair<std::string, std::string>, double> vip_conformant;  // {virtualip, address} -> 0/1
  std::set<std::string> refused_virtualips;                              // selected here, not applied
  std::set<std::string> edit_refused_virtualips;  // latest edit refused, last accepted spec served
  std::map<std::pair<std::string, std::string>, double> arp_effective;  // {interface, key} -> value
  std::map<std::string, double> arp_conformant;                         // interface -> 0/1
  // Where a neighbour can learn a wanted VIP: {address, interface, how = answered|announced} -> 1.
  std::map<std::vector<std::string>, double> arp_exposed;
  // Items another tool keeps undoing right after each repair ("sysctl:net.ipv4.conf.all.arp_ignore",
  // "ip:192.0.2.10", "route:192.0.2.10") -> repairs in the last 30 s (ReconcileOutcome::contested).
  std::map<std::string, double> contested;
  // VIPs draining (reconcile/drain.h): address -> ESTABLISHED TCP connections at the last count
  // (lvs_rs_vip_connections), and how many drain (lvs_rs_vips_draining).
  std::map<std::string, double> vip_connections;
  double vips_draining = 0;
  // Counter increments of this pass; only kinds/reasons from the lists above, zeros left out.
  std::map<std::string, double> repairs;
  std::map<std::string, double> errors;
  double kernel_writes = 0;  // writes the kernel accepted this pass
  double duration_seconds = 0;
};

OutcomeMetrics MetricsOfOutcome(const ReconcileOutcome& outcome);

}  // namespace lvsrs
