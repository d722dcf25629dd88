#include "agent/reconciler.h"

#include <algorithm>

#include "agent/log.h"
#include "reconcile/vip_judgement.h"

namespace lvsrs {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(200);
constexpr auto kMaxRetry = std::chrono::seconds(30);
constexpr int kContestedRepairs = RepairTracker::Options{}.threshold;

std::string AddrItem(const IpAddress& ip) { return "ip:" + ip.ToString(); }
std::string SysctlItem(const SysctlKey& k) { return "sysctl:" + k.ToString(); }
std::string RouteItem(const IpAddress& ip) { return "route:" + ip.ToString(); }

template <typename T, typename Pred>
void EraseIf(std::vector<T>& v, Pred p) {
  v.erase(std::remove_if(v.begin(), v.end(), p), v.end());
}

}  // namespace

Reconciler::Reconciler(KernelApi& kernel, SysctlRecordStore& store, bool dry_run)
    : kernel_(kernel), store_(store), dry_run_(dry_run) {}

void Reconciler::LoadRecords() { records_ = store_.Load(); }

bool Reconciler::Due(const std::string& item, Clock::time_point now) const {
  auto it = backoff_.find(item);
  return it == backoff_.end() || it->second.next <= now;
}

void Reconciler::Failed(const std::string& item, Clock::time_point now) {
  Backoff& b = backoff_[item];
  ++b.failures;
  auto delay = kFirstRetry * (1 << std::min(b.failures - 1, 8));
  b.next = now + std::min<Clock::duration>(delay, kMaxRetry);
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

std::optional<Clock::time_point> Reconciler::NextRetry() const {
  std::optional<Clock::time_point> next = repair_tracker_.NextDue();
  if (auto e = repair_tracker_.NextExpiry(); e && (!next || *e < *next)) next = e;
  for (const auto& [item, b] : backoff_)
    if (!next || b.next < *next) next = b.next;
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
  out.desired = BuildDesiredState(vips, node, observed);
  std::optional<NodeJudgement> judgement;
  judgement.emplace(out.desired, observed);
  out.plan = ComputePlan(out.desired, *judgement, observed, records_);

  // Items still in backoff wait for their turn; everything else proceeds.
  EraseIf(out.plan.add_addresses, [&](const AddressChange& c) { return !Due(AddrItem(c.ip), now); });
  EraseIf(out.plan.add_routes, [&](const RouteChange& c) { return !Due(AddrItem(c.dst), now); });
  EraseIf(out.plan.remove_routes, [&](const RouteChange& c) { return !Due(AddrItem(c.dst), now); });
  EraseIf(out.plan.remove_addresses, [&](const AddressChange& c) { return !Due(AddrItem(c.ip), now); });
  EraseIf(out.plan.set_sysctls, [&](const SysctlChange& c) { return !Due(SysctlItem(c.key), now); });
  EraseIf(out.plan.restore_sysctls, [&](const SysctlChange& c) { return !Due(SysctlItem(c.key), now); });
  // Repairs of contested items wait for their backoff (a storm or a fight must not spin us).
  repair_tracker_.StartPass();
  EraseIf(out.plan.add_addresses, [&](const AddressChange& c) {
    return established_addresses_.count(c.ip) && !repair_tracker_.Due(AddrItem(c.ip), now);
  });
  EraseIf(out.plan.add_routes, [&](const RouteChange& c) {
    return established_routes_.count(c.dst) && !repair_tracker_.Due(RouteItem(c.dst), now);
  });
  EraseIf(out.plan.set_sysctls, [&](const SysctlChange& c) {
    return established_sysctls_.count(c.key) && !repair_tracker_.Due(SysctlItem(c.key), now);
  });

  if (dry_run_ || !out.plan.HasWrites()) {
    if (!dry_run_ && !out.plan.drop_records.empty()) {
      for (const auto& k : out.plan.drop_records) records_.erase(k);
      try {
        store_.Save(records_);
      } catch (const std::exception& e) {
        LogError(e.what());
      }
    }
    out.status = EvaluateStatus(out.desired, observed, *judgement);
  } else {
    for (const auto& c : out.plan.add_addresses)
      if (established_addresses_.count(c.ip)) ++out.repairs["address"];
    for (const auto& c : out.plan.add_routes)
      if (established_routes_.count(c.dst)) ++out.repairs["route"];
    for (const auto& c : out.plan.set_sysctls)
      if (established_sysctls_.count(c.key)) ++out.repairs["sysctl"];

    // Record originals before the first write, durably: a crash after the write must not lose them.
    SysctlRecord next = records_;
    for (const auto& c : out.plan.set_sysctls)
      if (c.record_original) next.emplace(c.key, *c.record_original);
    if (next != records_) {
      try {
        store_.Save(next);
        records_ = std::move(next);
      } catch (const std::exception& e) {
        LogError(std::string(e.what()) + "; not changing ARP sysctls until it can be written");
        for (const auto& c : out.plan.set_sysctls) {
          if (c.record_original && !records_.count(c.key)) {
            out.applied.sysctl_errors[c.key] = "cannot record the original value: " + std::string(e.what());
            Failed(SysctlItem(c.key), now);
          }
        }
        EraseIf(out.plan.set_sysctls,
                [&](const SysctlChange& c) { return c.record_original && !records_.count(c.key); });
      }
    }

    ApplyResult applied = kernel_.Apply(out.plan);
    applied.address_errors.merge(out.applied.address_errors);
    applied.sysctl_errors.merge(out.applied.sysctl_errors);
    out.applied = std::move(applied);

    auto repaired = [&](const std::string& item) {
      if (repair_tracker_.Repaired(item, now))
        LogWarning(item + " was undone again right after each repair (" + std::to_string(kContestedRepairs) +
                   " repairs within 30 s): another tool is fighting the operator, or something deletes it in a "
                   "loop; repairing it with backoff (at most once a second) and reporting it as contested");
    };
    for (const auto& c : out.plan.add_addresses)
      if (established_addresses_.count(c.ip) && !out.applied.address_errors.count(c.ip)) repaired(AddrItem(c.ip));
    for (const auto& c : out.plan.add_routes)
      if (established_routes_.count(c.dst) && !out.applied.address_errors.count(c.dst)) repaired(RouteItem(c.dst));
    for (const auto& c : out.plan.set_sysctls)
      if (established_sysctls_.count(c.key) && !out.applied.sysctl_errors.count(c.key)) repaired(SysctlItem(c.key));

    for (const auto& [ip, msg] : out.applied.address_errors) {
      Failed(AddrItem(ip), now);
      LogWarning(msg);
    }
    for (const auto& [key, msg] : out.applied.sysctl_errors) {
      Failed(SysctlItem(key), now);
      LogWarning(msg);
    }
    for (const auto& c : out.plan.add_addresses)
      if (!out.applied.address_errors.count(c.ip)) backoff_.erase(AddrItem(c.ip));
    for (const auto& c : out.plan.set_sysctls)
      if (!out.applied.sysctl_errors.count(c.key)) backoff_.erase(SysctlItem(c.key));

    bool records_changed = !out.plan.drop_records.empty();
    for (const auto& k : out.plan.drop_records) records_.erase(k);
    for (const auto& c : out.plan.restore_sysctls) {
      if (!out.applied.sysctl_errors.count(c.key)) {
        records_.erase(c.key);
        records_changed = true;
      }
    }
    if (records_changed) {
      try {
        store_.Save(records_);
      } catch (const std::exception& e) {
        LogError(e.what());
      }
    }

    judgement.reset();  // it points into the observation about to be replaced
    try {
      observed = kernel_.Observe();
    } catch (const KernelError& e) {
      out.error = e.what();
    }
    out.status = EvaluateStatus(out.desired, observed, out.applied.address_errors);
  }

  // What is in place now counts as established; a later re-add of it is a repair.
  established_addresses_.clear();
  established_routes_.clear();
  established_sysctls_.clear();
  for (const auto& s : out.status.vips) {
    if (s.state != VipState::Configured && s.state != VipState::Adopted) continue;
    const auto ip = IpAddress::Parse(s.address);
    if (!ip) continue;
    established_addresses_.insert(*ip);
    auto it = out.desired.addresses.find(*ip);
    if (it != out.desired.addresses.end() && it->second.host_route) established_routes_.insert(*ip);
  }
  for (const auto& c : DesiredSysctls(out.desired, observed)) {
    if (observed.Sysctl(c.key.conf, c.key.key) == c.value) established_sysctls_.insert(c.key);
  }
  if (out.error.empty()) watched_sysctls_ = SysctlsToWatch(out.desired, observed);
  // Forget backoff of items nobody wants any more.
  for (auto it = backoff_.begin(); it != backoff_.end();) {
    const bool addr = it->first.rfind("ip:", 0) == 0;
    bool wanted = true;
    if (addr) {
      const auto ip = IpAddress::Parse(it->first.substr(3));
      wanted = ip && (out.desired.addresses.count(*ip) || out.applied.address_errors.count(*ip));
    }
    // A retry that came due and did not fail again this pass is settled (it succeeded, or
    // there is nothing left to do): keeping it would make NextRetry() lie in the past forever,
    // and the loop would spin on full passes.
    const bool settled = it->second.next <= now;
    it = wanted && !settled ? std::next(it) : backoff_.erase(it);
  }
  for (const auto& item : repair_tracker_.Expire(now))
    LogInfo(item + " stayed in place for 30 s after repairs; no longer contested");
  out.contested = repair_tracker_.Contested();
  out.duration = Clock::now() - start;
  return out;
}

}  // namespace lvsrs
