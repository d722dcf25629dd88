// One level-triggered reconcile pass: observe the whole namespace, build the desired state,
// diff, execute, evaluate. Whatever woke us (a netlink event, a timer, a new VirtualIP), the
// pass is the same, so a missed or duplicated wake-up cannot leave the node wrong.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/address_record.h"
#include "agent/desired_source.h"
#include "agent/drain_record.h"
#include "agent/repair_tracker.h"
#include "agent/retry_backoff.h"
#include "agent/sysctl_record.h"
#include "agent/time_source.h"
#include "kernel/kernel_api.h"
#include "reconcile/desired_state.h"
#include "reconcile/drain.h"
#include "reconcile/item_key.h"
#include "reconcile/node_status.h"
#include "reconcile/plan.h"
#include "reconcile/sysctl_watch.h"
#include "reconcile/vip_health.h"

namespace lvsrs {

using Clock = std::chrono::steady_clock;

struct ReconcileOutcome {
  DesiredState desired;
  Plan plan;  // what this pass set out to do (items still in backoff left out)
  ApplyResult applied;
  NodeStatus status;                   // judged on the kernel state after the pass
  std::map<std::string, int> repairs;  // "address" | "route" | "sysctl": drift undone this pass
  // Items undone again right after each repair -> repairs in the last 30 s: another tool fighting
  // the operator, or a drift storm. Repaired with backoff; see RepairTracker. Metrics, logs and
  // Events show the items by ItemKey::ToString() ("ip:192.0.2.10").
  std::map<ItemKey, int> contested;
  std::string error;  // the pass failed as a whole (the kernel could not be read)
  // VirtualIPs the source refused before reconcile, from the same snapshot as the VirtualIPs of
  // this pass (set by AgentLoop, not by Reconcile), so every observer reports the same set.
  SourceRefusals source_refused;
  // The source's last validated specs of the same snapshot (Snapshot::validated), to be saved.
  std::shared_ptr<const std::map<std::string, VirtualIp>> source_validated;
  // What drains after this pass, and what started, ended or was undone in it (reconcile/drain.h);
  // empty unless drain is enabled. draining.json was written before the outcome is returned.
  DrainDecision drain;
  std::string node_drain;  // NodeDrainReason of this pass, "" when the node is not drained
  // What directors are told about each VIP of this node (set by AgentLoop from the same snapshot,
  // since refused VirtualIPs are named by the status but their addresses only by the snapshot).
  // Empty when the pass failed as a whole (error).
  std::map<IpAddress, VipHealth> vip_health;
  std::chrono::nanoseconds duration{0};
};

class Reconciler {
 public:
  // store: the sysctl originals; addresses: the addresses added on a kernel that drops IFA_PROTO.
  Reconciler(KernelApi& kernel, SysctlRecordStore& store, AddressRecordStore& addresses, bool dry_run = false);

  // Reads the state files; throws std::runtime_error if one is unreadable.
  void LoadRecords();
  // The spec of each VirtualIP this node accepted last (DesiredState::accepted, by
  // ObjectIdentity): while a later edit is refused here, that spec stays in force. Set it from
  // what the previous process saved, before the first pass; it is replaced by every pass that read
  // the kernel, so a VirtualIP that is gone is forgotten.
  void SetAcceptedSpecs(std::map<std::string, VirtualIp> specs) { accepted_ = std::move(specs); }
  const std::map<std::string, VirtualIp>& accepted_specs() const { return accepted_; }
  // Drain, then withdraw (reconcile/drain.h): from now on a VIP that stops being wanted drains
  // while connections to it remain, its drain kept in `store` (read now, so a drain of the previous
  // process goes on with its deadline; an unreadable file is logged and those drains start over). Without
  // it (cleanup, and unit tests of other things) a VIP that stops being wanted is removed at once.
  // time: the wall clock of deadlines.
  void EnableDrain(DrainStore& store, TimeSource& time = RealTime());
  bool drain_enabled() const { return drain_store_ != nullptr; }
  // The VIPs draining after the last pass, with their last connection counts and deadlines.
  const Drains& drains() const { return drains_; }
  // Whether the drain request file appeared or went away since the last pass read it (the loop
  // asks every turn: at once when inotify says RequestDir() changed, else at least once a second,
  // so `lvs-rs-operator drain` acts within ~1 s).
  bool DrainRequestChanged() const;
  std::string DrainRequestDir() const { return drain_store_ ? drain_store_->RequestDir() : std::string(); }
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
  void LogKept(const std::map<std::string, std::string>& kept);
  // Decides the drains of this pass (before the plan): counts the connections of the addresses
  // leaving, keeps the draining ones in out.desired, saves draining.json when it changed.
  void DecideDrain(ReconcileOutcome& out, const ObservedState& observed, const NodeInfo& node,
                   const std::map<std::string, VirtualIp>& previously_accepted, Clock::time_point now);
  // The steps of a pass, in order.
  // Leaves out of the plan what waits: items in backoff after a failed write, and repairs of
  // contested items.
  void HoldBack(Plan& plan, Clock::time_point now);
  // Counts the drift this plan undoes (re-adds of items that were once in place).
  std::map<std::string, int> CountRepairs(const Plan& plan) const;
  // Saves the originals the plan's sysctl writes would overwrite, before any write: a crash
  // after the write must not lose them. A sysctl whose original cannot be saved is not written;
  // it is returned as a failed item.
  ApplyResult RecordOriginals(Plan& plan);
  // On a kernel that drops IFA_PROTO: saves the record of the addresses the plan adds, before any
  // add, since an address added without it would look foreign after a restart and never be
  // removed. When it cannot be saved, the plan adds no address; they are returned as failed items.
  ApplyResult RecordAddresses(Plan& plan);
  // Keeps only the record entries that back an address in observed (reconcile/address_ownership.h).
  void PruneAddressRecord(const ObservedState& observed);
  // Applies the plan, then tracks the results: repairs, failures into backoff, records of
  // restored sysctls dropped.
  ApplyResult Apply(const Plan& plan, ApplyResult unrecorded, Clock::time_point now);
  void Repaired(const Plan& plan, const ApplyResult& applied, Clock::time_point now);
  void TrackFailures(const Plan& plan, const ApplyResult& applied, Clock::time_point now);
  void DropRecords(const Plan& plan, const ApplyResult* applied);
  // What is in place in the observed kernel state counts as established; a later re-add of it
  // is a drift repair.
  void UpdateEstablished(const DesiredState& desired, const ObservedState& observed);
  // Forgets backoff that is settled or of items nobody wants any more.
  void ForgetBackoff(const DesiredState& desired, const ApplyResult& applied, Clock::time_point now);

  bool Due(const ItemKey& item, Clock::time_point now) const;
  bool Established(const ItemKey& item) const { return established_.count(item) > 0; }

  KernelApi& kernel_;
  SysctlRecordStore& store_;
  AddressRecordStore& address_store_;
  bool dry_run_;
  SysctlRecord records_;
  AddressRecord address_records_;
  std::map<ItemKey, RetryBackoff> backoff_;  // items whose last write failed
  RepairTracker repair_tracker_;
  // Items that were once in place: adding one of them again is a drift repair.
  std::set<ItemKey> established_;
  // The watched ARP sysctls as the last pass that read the kernel left them.
  std::optional<SysctlValues> watched_sysctls_;
  std::map<std::string, VirtualIp> accepted_;       // see SetAcceptedSpecs
  std::map<std::string, std::string> logged_kept_;  // DesiredState::kept as last logged
  DrainStore* drain_store_ = nullptr;               // see EnableDrain
  TimeSource* wall_ = nullptr;
  Drains drains_;
  bool drain_requested_by_file_ = false;  // at the last pass
  std::optional<Clock::time_point> next_drain_check_;
  std::string count_error_;  // the last failed count, logged once
};

}  // namespace lvsrs
