#include "reconcile/plan.h"

#include "reconcile/vip_judgement.h"

#include <set>
#include <sstream>

namespace lvsrs {

std::string AddressChange::Describe() const {
  return "address " + ip.ToString() + "/" + std::to_string(ip.host_prefix()) + " on " + interface;
}

std::string RouteChange::Describe() const {
  return "route " + dst.ToString() + "/" + std::to_string(dst.host_prefix()) + " dev " + interface;
}

std::string SysctlChange::Describe() const { return key.ToString() + "=" + std::to_string(value); }

std::string LeftSysctl::Describe() const {
  return key.ToString() + "=" + std::to_string(current) + ": changed by someone else since lvs-rs-operator wrote " +
         std::to_string(written) + "; not restoring the original " + std::to_string(original);
}

bool Plan::HasWrites() const { return WriteCount() > 0; }

std::size_t Plan::WriteCount() const {
  return add_addresses.size() + add_routes.size() + set_sysctls.size() + remove_routes.size() +
         remove_addresses.size() + restore_sysctls.size();
}

std::string Plan::ToText() const {
  std::ostringstream o;
  for (const auto& a : add_addresses) o << "add " << a.Describe() << "\n";
  for (const auto& r : add_routes) o << "add " << r.Describe() << "\n";
  for (const auto& s : set_sysctls) o << "set " << s.Describe() << "\n";
  for (const auto& r : remove_routes) o << "remove " << r.Describe() << "\n";
  for (const auto& a : remove_addresses) o << "remove " << a.Describe() << "\n";
  for (const auto& s : restore_sysctls) o << "restore " << s.Describe() << "\n";
  for (const auto& s : left_sysctls) o << "leave " << s.Describe() << "\n";
  for (const auto& [ip, why] : blocked) o << "blocked " << ip.ToString() << ": " << why << "\n";
  return o.str();
}

std::vector<SysctlChange> DesiredSysctls(const DesiredState& desired, const ObservedState& observed) {
  std::vector<SysctlChange> out;
  if (!desired.arp) return out;
  const ArpSpec& arp = *desired.arp;
  auto add = [&](const std::string& conf, int ifindex) {
    out.push_back(SysctlChange{SysctlKey{conf, ArpKey::Ignore}, arp.ignore, ifindex, std::nullopt});
    out.push_back(SysctlChange{SysctlKey{conf, ArpKey::Announce}, arp.announce, ifindex, std::nullopt});
  };
  if (arp.scope == ArpScope::Global) {
    // Exactly the manual procedure: conf/all makes every interface conformant (effective value is
    // max(all, dev)), default covers interfaces created later, lo is kept for parity with it.
    add("all", 0);
    add("default", 0);
    if (observed.LinkByName("lo")) add("lo", 0);
  } else {
    for (const auto& l : observed.links)
      if (l.arp_capable()) add(l.name, l.index);
  }
  return out;
}

Plan ComputePlan(const DesiredState& desired, const ObservedState& observed, const SysctlRecord& recorded) {
  const NodeJudgement judgement(desired, observed);
  return ComputePlan(desired, judgement, observed, recorded);
}

Plan ComputePlan(const DesiredState& desired, const NodeJudgement& judgement, const ObservedState& observed,
                 const SysctlRecord& recorded) {
  Plan plan;

  // Addresses and host routes the judgement finds missing. Identical foreign state is adopted
  // (never relabelled, never removed); owned state elsewhere is moved.
  std::set<std::pair<IpAddress, int>> kept_addresses;
  for (const VipVerdict& v : judgement.vips()) {
    const IpAddress& ip = v.want->ip;
    if (!v.blocked.empty()) plan.blocked[ip] = v.blocked;
    if (!v.link) continue;
    kept_addresses.insert({ip, v.link->index});
    if (v.needs_address()) plan.add_addresses.push_back(AddressChange{ip, v.link->index, v.link->name});
    if (v.needs_route()) plan.add_routes.push_back(RouteChange{ip, v.link->index, v.link->name});
  }

  // Draining VIPs stay as they are: never added back, never removed (reconcile/drain.h).
  for (const auto& [ip, want] : desired.draining)
    if (const Link* l = observed.LinkByName(want.interface)) kept_addresses.insert({ip, l->index});

  // Owned routes nobody wants any more (or that point at the wrong interface).
  for (const auto& r : observed.routes) {
    if (!r.owned() || r.table != kMainTable) continue;
    const DesiredAddress* want = nullptr;
    if (auto it = desired.addresses.find(r.dst); it != desired.addresses.end())
      want = &it->second;
    else if (auto d = desired.draining.find(r.dst); d != desired.draining.end())
      want = &d->second;
    const Link* want_link = want ? observed.LinkByName(want->interface) : nullptr;
    const bool wanted =
        want && want->host_route && want_link && want_link->index == r.oif && r.prefix == r.dst.host_prefix();
    if (!wanted) {
      const Link* l = observed.LinkByIndex(r.oif);
      plan.remove_routes.push_back(RouteChange{r.dst, r.oif, l ? l->name : std::to_string(r.oif)});
    }
  }

  for (const auto& a : observed.addresses) {
    if (!a.owned()) continue;
    if (kept_addresses.count({a.ip, a.ifindex}) && a.prefix == a.ip.host_prefix()) continue;
    const Link* l = observed.LinkByIndex(a.ifindex);
    plan.remove_addresses.push_back(AddressChange{a.ip, a.ifindex, l ? l->name : std::to_string(a.ifindex)});
  }

  // Sysctls: write what differs, recording the value we found the first time we touch a key.
  std::set<SysctlKey> wanted_keys;
  for (auto change : DesiredSysctls(desired, observed)) {
    wanted_keys.insert(change.key);
    const auto current = observed.Sysctl(change.key.conf, change.key.key);
    if (!current || *current == change.value) continue;
    if (!recorded.count(change.key)) change.record_original = *current;
    plan.set_sysctls.push_back(change);
  }
  // While a VIP drains, the ARP settings it was served with stay: restoring them could let a
  // neighbour learn the VIP from this node while its connections finish.
  for (const auto& [key, rec] : recorded) {
    if (wanted_keys.count(key) || !desired.draining.empty()) continue;
    const auto current = observed.Sysctl(key.conf, key.key);
    const Link* link = observed.LinkByName(key.conf);
    const bool procfs = key.conf == "all" || key.conf == "default" || key.conf == "lo";
    if (!current || (!procfs && !link) || *current == rec.original) {
      plan.drop_records.push_back(key);
      continue;
    }
    // Restore only what still holds our value: a later change by another tool is theirs.
    if (rec.written && *current != *rec.written) {
      plan.left_sysctls.push_back(LeftSysctl{key, *current, *rec.written, rec.original});
      plan.drop_records.push_back(key);
      continue;
    }
    plan.restore_sysctls.push_back(SysctlChange{key, rec.original, procfs ? 0 : link->index, std::nullopt});
  }
  return plan;
}

}  // namespace lvsrs
