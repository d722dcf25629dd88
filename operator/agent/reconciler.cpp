#include "agent/reconciler.h"

#include <algorithm>
#include <utility>

#include "agent/log.h"
#include "reconcile/address_ownership.h"
#include "reconcile/vip_judgement.h"

namespace lvsrs {
namespace {

// A failed write is retried after 200 ms, doubling up to 30 s.
constexpr RetryBackoff::Policy kRetry{std::chrono::milliseconds(200), std::chrono::seconds(30)};
constexpr int kContestedRepairs = RepairTracker::Options{}.threshold;

template <typename T, typename Pred>
void EraseIf(std::vector<T>& v, Pred p) {
  v.erase(std::remove_if(v.begin(), v.end(), p), v.end());
}

// The status reports failures per VIP: its address's and its route's, in that order.
std::map<IpAddress, std::string> FailuresByAddress(const ApplyResult& applied) {
  std::map<IpAddress, std::string> out;
  for (const auto& [item, msg] : applied.errors) {
    if (item.is_sysctl()) continue;
    std::string& text = out[item.ip];
    text += (text.empty() ? "" : "; ") + msg;
  }
  return out;
}

}  // namespace

Reconciler::Reconciler(KernelApi& kernel, SysctlRecordStore& store, AddressRecordStore& addresses, bool dry_run)
    : kernel_(kernel), store_(store), address_store_(addresses), dry_run_(dry_run) {}

void Reconciler::LoadRecords() {
  records_ = store_.Load();
  address_records_ = address_store_.Load();
}

bool Reconciler::Due(const ItemKey& item, Clock::time_point now) const {
  auto it = backoff_.find(item);
  return it == backoff_.end() || it->second.Due(now);
}

std::string Reconciler::SysctlsChangedSinceLastPass() {
  if (!watched_sysctls_) return "no pass has read the kernel state yet";
  std::vector<SysctlKey> keys;
  for (const auto& [key, _] : *watched_sysctls_) keys.push_back(key);
  SysctlValues now;
  try {
    now = kernel_.ObserveSysctls(keys);
  } catch (const KernelError& e) {
    return e.what();
  }
  std::string why;
  for (const auto& key : ChangedSysctls(*watched_sysctls_, now)) {
    auto it = now.find(key);
    why += (why.empty() ? "" : ", ") + key.ToString() + " is " +
           (it == now.end() ? std::string("gone") : std::to_string(it->second)) + ", was " +
           std::to_string(watched_sysctls_->at(key));
  }
  return why;
}

void Reconciler::EnableDrain(DrainStore& store, TimeSource& time) {
  try {
    drains_ = store.Load();
  } catch (const std::exception& e) {
    LogError(std::string(e.what()) + "; VIPs that were draining start their drain over");
  }
  for (const auto& [ip, d] : drains_)
    LogInfo("continues the drain of " + ip.ToString() + " (" + d.reason + ") with its deadline: " + DrainText(d));
  drain_store_ = &store;
  wall_ = &time;
}

bool Reconciler::DrainRequestChanged() const {
  return drain_store_ && drain_store_->Requested() != drain_requested_by_file_;
}

std::optional<Clock::time_point> Reconciler::NextRetry() const {
  std::optional<Clock::time_point> next = repair_tracker_.NextDue();
  if (next_drain_check_ && (!next || *next_drain_check_ < *next)) next = next_drain_check_;
  if (auto e = repair_tracker_.NextExpiry(); e && (!next || *e < *next)) next = e;
  for (const auto& [item, b] : backoff_)
    if (!next || b.next() < *next) next = b.next();
  return next;
}

ReconcileOutcome Reconciler::Reconcile(const std::vector<VirtualIp>& vips, const NodeInfo& node,
                                       Clock::time_point now) {
  const auto start = Clock::now();
  ReconcileOutcome out;
  ObservedState observed;
  watched_sysctls_.reset();  // until this pass has read the kernel
  try {
    observed = kernel_.Observe();
  } catch (const KernelError& e) {
    out.error = e.what();
    out.duration = Clock::now() - start;
    return out;
  }
  RecogniseRecorded(observed, address_records_);
  out.desired = BuildDesiredState(vips, node, observed, accepted_);
  const std::map<std::string, VirtualIp> previously_accepted = std::exchange(accepted_, out.desired.accepted);
  LogKept(out.desired.kept);
  if (drain_store_) DecideDrain(out, observed, node, previously_accepted, now);
  // One judgement per observation, handed to the plan and the status.
  std::optional<NodeJudgement> judgement;
  judgement.emplace(out.desired, observed);
  out.plan = ComputePlan(out.desired, *judgement, observed, records_);
  if (!dry_run_)
    for (const auto& l : out.plan.left_sysctls) LogWarning(l.Describe());

  HoldBack(out.plan, now);

  if (dry_run_ || !out.plan.HasWrites()) {
    if (!dry_run_) DropRecords(out.plan, nullptr);
    out.status = EvaluateStatus(out.desired, observed, *judgement);
  } else {
    out.repairs = CountRepairs(out.plan);
    ApplyResult unrecorded = RecordOriginals(out.plan);
    unrecorded.errors.merge(RecordAddresses(out.plan).errors);
    out.applied = Apply(out.plan, std::move(unrecorded), now);
    judgement.reset();  // it points into the observation about to be replaced
    try {
      observed = kernel_.Observe();
      RecogniseRecorded(observed, address_records_);
    } catch (const KernelError& e) {
      out.error = e.what();
    }
    out.status = EvaluateStatus(out.desired, observed, FailuresByAddress(out.applied));
  }

  ReportDraining(out.status, drains_);
  if (!dry_run_ && out.error.empty()) PruneAddressRecord(observed);
  UpdateEstablished(out.desired, observed);
  if (out.error.empty()) watched_sysctls_ = SysctlsToWatch(out.desired, observed);
  ForgetBackoff(out.desired, out.applied, now);
  for (const auto& item : repair_tracker_.Expire(now))
    LogInfo(item.ToString() + " stayed in place for 30 s after repairs; no longer contested");
  out.contested = repair_tracker_.Contested();
  out.duration = Clock::now() - start;
  return out;
}

void Reconciler::DecideDrain(ReconcileOutcome& out, const ObservedState& observed, const NodeInfo& node,
                             const std::map<std::string, VirtualIp>& previously_accepted, Clock::time_point now) {
  drain_requested_by_file_ = drain_store_->Requested();
  out.node_drain = NodeDrainReason(node.labels, drain_requested_by_file_);
  if (!out.node_drain.empty()) WithdrawAllForNodeDrain(out.desired);

  // Counted only while something leaves: an idle node never dumps its sockets.
  const std::vector<IpAddress> leaving = LeavingAddresses(out.desired, observed);
  std::map<IpAddress, std::size_t> connections;
  if (!leaving.empty()) {
    try {
      connections = kernel_.CountEstablished(leaving);
      count_error_.clear();
    } catch (const KernelError& e) {
      if (count_error_ != e.what())
        LogWarning(std::string(e.what()) + "; draining VIPs are kept until their drainTimeout runs out");
      count_error_ = e.what();
    }
  }
  std::map<std::string, VirtualIp> known = previously_accepted;
  for (const auto& [id, spec] : out.desired.accepted) known[id] = spec;
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(wall_->Wall().time_since_epoch()).count();
  out.drain = DecideDrains(DrainInputs{drains_, out.desired, observed, known, out.node_drain, connections, now_ms});

  // On disk before any observer reports the drain, and before a withdrawal is executed.
  if (!dry_run_ && !SameRecord(out.drain.draining, drains_)) {
    try {
      drain_store_->Save(out.drain.draining);
    } catch (const std::exception& e) {
      LogError(std::string(e.what()) + "; a restart now would start these drains over");
    }
  }
  drains_ = out.drain.draining;
  KeepDraining(out.desired, drains_);
  // Connections are counted again, and deadlines checked, every second while anything drains.
  next_drain_check_.reset();
  if (!drains_.empty()) next_drain_check_ = now + std::chrono::seconds(1);

  if (dry_run_) return;
  for (const auto& d : out.drain.started)
    LogInfo("VIP " + d.address.ToString() + " drains (" + d.reason + "): " + DrainText(d));
  for (const auto& w : out.drain.withdrawn)
    LogInfo("VIP " + w.drain.address.ToString() + " is withdrawn after draining: " + w.reason);
  for (const auto& d : out.drain.undone)
    LogInfo("VIP " + d.address.ToString() + " is wanted again: serving again, drain cancelled");
}

void Reconciler::LogKept(const std::map<std::string, std::string>& kept) {
  // Once per refusal (and again when its reason changes), as the source logs its own refusals.
  for (const auto& [name, why] : kept) {
    auto it = logged_kept_.find(name);
    if (it == logged_kept_.end() || it->second != why) LogWarning("VirtualIP " + name + ": " + why);
  }
  logged_kept_ = kept;
}

void Reconciler::HoldBack(Plan& plan, Clock::time_point now) {
  // Items still in backoff wait for their turn; everything else proceeds.
  auto waits = [&](const ItemKey& item) { return !Due(item, now); };
  EraseIf(plan.add_addresses, [&](const AddressChange& c) { return waits(ItemKey::OfAddress(c.ip)); });
  EraseIf(plan.add_routes, [&](const RouteChange& c) { return waits(ItemKey::OfRoute(c.dst)); });
  EraseIf(plan.remove_routes, [&](const RouteChange& c) { return waits(ItemKey::OfRoute(c.dst)); });
  EraseIf(plan.remove_addresses, [&](const AddressChange& c) { return waits(ItemKey::OfAddress(c.ip)); });
  EraseIf(plan.set_sysctls, [&](const SysctlChange& c) { return waits(ItemKey::OfSysctl(c.key)); });
  EraseIf(plan.restore_sysctls, [&](const SysctlChange& c) { return waits(ItemKey::OfSysctl(c.key)); });
  // Repairs of contested items wait for their backoff (a storm or a fight must not spin us).
  repair_tracker_.StartPass();
  auto contested = [&](const ItemKey& item) { return Established(item) && !repair_tracker_.Due(item, now); };
  EraseIf(plan.add_addresses, [&](const AddressChange& c) { return contested(ItemKey::OfAddress(c.ip)); });
  EraseIf(plan.add_routes, [&](const RouteChange& c) { return contested(ItemKey::OfRoute(c.dst)); });
  EraseIf(plan.set_sysctls, [&](const SysctlChange& c) { return contested(ItemKey::OfSysctl(c.key)); });
}

std::map<std::string, int> Reconciler::CountRepairs(const Plan& plan) const {
  std::map<std::string, int> repairs;
  for (const auto& c : plan.add_addresses)
    if (Established(ItemKey::OfAddress(c.ip))) ++repairs["address"];
  for (const auto& c : plan.add_routes)
    if (Established(ItemKey::OfRoute(c.dst))) ++repairs["route"];
  for (const auto& c : plan.set_sysctls)
    if (Established(ItemKey::OfSysctl(c.key))) ++repairs["sysctl"];
  return repairs;
}

ApplyResult Reconciler::RecordOriginals(Plan& plan) {
  ApplyResult unrecorded;
  // The value written is recorded as well: a later restore happens only if the key still holds it.
  SysctlRecord next = records_;
  for (const auto& c : plan.set_sysctls) {
    auto it = next.find(c.key);
    if (it == next.end() && c.record_original)
      it = next.emplace(c.key, RecordedSysctl{*c.record_original, std::nullopt}).first;
    if (it != next.end()) it->second.written = c.value;
  }
  if (next == records_) return unrecorded;
  try {
    store_.Save(next);
    records_ = std::move(next);
  } catch (const std::exception& e) {
    LogError(std::string(e.what()) + "; not changing ARP sysctls until it can be written");
    auto unsaved = [&](const SysctlChange& c) { return c.record_original && !records_.count(c.key); };
    for (const auto& c : plan.set_sysctls)
      if (unsaved(c))
        unrecorded.errors[ItemKey::OfSysctl(c.key)] = "cannot record the original value: " + std::string(e.what());
    EraseIf(plan.set_sysctls, unsaved);
  }
  return unrecorded;
}

ApplyResult Reconciler::RecordAddresses(Plan& plan) {
  ApplyResult unrecorded;
  if (plan.add_addresses.empty() || kernel_.KeepsAddressProtocol()) return unrecorded;
  AddressRecord next = WithAdds(address_records_, plan.add_addresses);
  if (next == address_records_) return unrecorded;
  try {
    address_store_.Save(next);
    address_records_ = std::move(next);
  } catch (const std::exception& e) {
    LogError(std::string(e.what()) +
             "; not adding addresses until it can be written (this kernel drops IFA_PROTO: an address added "
             "without its record would look foreign after a restart and never be removed)");
    for (const auto& c : plan.add_addresses)
      unrecorded.errors[ItemKey::OfAddress(c.ip)] =
          "add " + c.Describe() + ": cannot record it before adding it: " + std::string(e.what());
    plan.add_addresses.clear();
  }
  return unrecorded;
}

void Reconciler::PruneAddressRecord(const ObservedState& observed) {
  AddressRecord next = StillInPlace(address_records_, observed);
  if (next == address_records_) return;
  address_records_ = std::move(next);
  try {
    address_store_.Save(address_records_);
  } catch (const std::exception& e) {
    LogError(e.what());  // the next save drops them; an entry claims only an address with all our properties
  }
}

ApplyResult Reconciler::Apply(const Plan& plan, ApplyResult unrecorded, Clock::time_point now) {
  ApplyResult applied = kernel_.Apply(plan);
  applied.errors.merge(unrecorded.errors);
  Repaired(plan, applied, now);
  TrackFailures(plan, applied, now);
  DropRecords(plan, &applied);
  return applied;
}

void Reconciler::Repaired(const Plan& plan, const ApplyResult& applied, Clock::time_point now) {
  auto repaired = [&](const ItemKey& item) {
    if (!Established(item) || applied.Failed(item)) return;
    if (repair_tracker_.Repaired(item, now))
      LogWarning(item.ToString() + " was undone again right after each repair (" + std::to_string(kContestedRepairs) +
                 " repairs within 30 s): another tool is fighting the operator, or something deletes it in a "
                 "loop; repairing it with backoff (at most once a second) and reporting it as contested");
  };
  for (const auto& c : plan.add_addresses) repaired(ItemKey::OfAddress(c.ip));
  for (const auto& c : plan.add_routes) repaired(ItemKey::OfRoute(c.dst));
  for (const auto& c : plan.set_sysctls) repaired(ItemKey::OfSysctl(c.key));
}

void Reconciler::TrackFailures(const Plan& plan, const ApplyResult& applied, Clock::time_point now) {
  for (const auto& [item, msg] : applied.errors) {
    backoff_.try_emplace(item, kRetry).first->second.Failed(now);
    LogWarning(msg);
  }
  auto succeeded = [&](const ItemKey& item) {
    if (!applied.Failed(item)) backoff_.erase(item);
  };
  for (const auto& c : plan.add_addresses) succeeded(ItemKey::OfAddress(c.ip));
  for (const auto& c : plan.add_routes) succeeded(ItemKey::OfRoute(c.dst));
  for (const auto& c : plan.set_sysctls) succeeded(ItemKey::OfSysctl(c.key));
}

void Reconciler::DropRecords(const Plan& plan, const ApplyResult* applied) {
  bool changed = !plan.drop_records.empty();
  for (const auto& k : plan.drop_records) records_.erase(k);
  // A restored original is no longer needed once the restore went through.
  if (applied) {
    for (const auto& c : plan.restore_sysctls) {
      if (!applied->Failed(ItemKey::OfSysctl(c.key))) {
        records_.erase(c.key);
        changed = true;
      }
    }
  }
  if (!changed) return;
  try {
    store_.Save(records_);
  } catch (const std::exception& e) {
    LogError(e.what());
  }
}

void Reconciler::UpdateEstablished(const DesiredState& desired, const ObservedState& observed) {
  established_.clear();
  const ObservedIndex index(observed);
  for (const auto& [ip, want] : desired.addresses) {
    const Link* link = observed.LinkByName(want.interface);
    if (!link) continue;
    for (const KernelAddress* a : index.AddressesOf(ip))
      if (a->ifindex == link->index && a->prefix == ip.host_prefix()) established_.insert(ItemKey::OfAddress(ip));
    if (!want.host_route) continue;
    for (const KernelRoute* r : index.RoutesTo(ip))
      if (r->table == kMainTable && r->prefix == ip.host_prefix() && r->oif == link->index)
        established_.insert(ItemKey::OfRoute(ip));
  }
  for (const auto& c : DesiredSysctls(desired, observed))
    if (observed.Sysctl(c.key.conf, c.key.key) == c.value) established_.insert(ItemKey::OfSysctl(c.key));
}

void Reconciler::ForgetBackoff(const DesiredState& desired, const ApplyResult& applied, Clock::time_point now) {
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    const ItemKey& item = it->first;
    const bool wanted = item.is_sysctl() || desired.addresses.count(item.ip) || applied.Failed(item);
    // A retry that came due and did not fail again this pass is settled (it succeeded, or
    // there is nothing left to do): keeping it would make NextRetry() lie in the past forever,
    // and the loop would spin on full passes.
    const bool settled = it->second.Due(now);
    it = wanted && !settled ? std::next(it) : backoff_.erase(it);
  }
}

}  // namespace lvsrs
