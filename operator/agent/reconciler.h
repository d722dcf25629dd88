// One level-triggered reconcile pass: observe the whole namespace, build the desired state,
// diff, execute, evaluate. Whatever woke us (a netlink event, a timer, a new VirtualIP), the
// pass is the same, so a missed or duplicated wake-up cannot leave the node wrong.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/repair_tracker.h"
#include "agent/sysctl_record.h"
#include "kernel/kernel_api.h"
#include "reconcile/desired_state.h"
#include "reconcile/node_status.h"
#include "reconcile/plan.h"
#include "reconcile/sysctl_watch.h"

namespace lvsrs {

using Clock = std::chrono::steady_clock;

struct ReconcileOutcome {
  DesiredState desired;
  Plan plan;  // what this pass set out to do (items still in backoff left out)
  ApplyResult applied;
  NodeStatus status;                   // judged on the kernel state after the pass
  std::map<std::string, int> repairs;  // "address" | "route" | "sysctl": drift undone this pass
  // Items undone again right after each repair ("ip:192.0.2.10", "route:192.0.2.10",
  // "sysctl:net.ipv4.conf.all.arp_ignore") -> repairs in the last 30 s: another tool fighting the operator,
  // or a drift storm. Repaired with backoff; see RepairTracker.
  std::map<std::string, int> contested;
  std::string error;  // the pass failed as a whole (the kernel could not be read)
  std::chrono::nanoseconds duration{0};
};

class Reconciler {
 public:
  Reconciler(KernelApi& kernel, SysctlRecordStore& store, bool dry_run = false);

  // Reads the state file; throws std::runtime_error if it is unreadable.
  void LoadRecords();
  ReconcileOutcome Reconcile(const std::vector<VirtualIp>& vips, const NodeInfo& node,
                             Clock::time_point now = Clock::now());
  // Between full passes (the loop calls it every --resync-period): re-reads only the ARP sysctls
  // the last pass depended on (SysctlsToWatch) and says why a full pass is needed, or "" when
  // they are as that pass left them. Also non-empty when there is nothing to compare with (no
  // pass has read the kernel yet, or the last one could not) or the read fails.
  std::string SysctlsChangedSinceLastPass();
  // When the next pass is due by itself: the earliest item in backoff (a failed write, a
  // contested repair held back) is due again, or a repair leaves the contest window.
  std::optional<Clock::time_point> NextRetry() const;

 private:
  struct Backoff {
    int failures = 0;
    Clock::time_point next;
  };
  bool Due(const std::string& item, Clock::time_point now) const;
  void Failed(const std::string& item, Clock::time_point now);

  KernelApi& kernel_;
  SysctlRecordStore& store_;
  bool dry_run_;
  SysctlRecord records_;
  std::map<std::string, Backoff> backoff_;
  RepairTracker repair_tracker_;
  // Items that were once in place: adding one of them again is a drift repair.
  std::set<IpAddress> established_addresses_;
  std::set<IpAddress> established_routes_;
  std::set<SysctlKey> established_sysctls_;
  // The watched ARP sysctls as the last pass that read the kernel left them.
  std::optional<SysctlValues> watched_sysctls_;
};

}  // namespace lvsrs
