#include "reconcile/plan.h"

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
  Plan plan;

  // Addresses. An address lives on one interface; identical foreign state is adopted (never
  // relabelled, never removed), owned state elsewhere is moved.
  std::set<std::pair<IpAddress, int>> kept_addresses;
  const ObservedIndex index(observed);
  for (const auto& [ip, want] : desired.addresses) {
    const Link* link = observed.LinkByName(want.interface);
    if (!link) {
      plan.blocked[ip] = "interface " + want.interface + " does not exist";
      continue;
    }
    bool present = false;
    for (const KernelAddress* a : index.AddressesOf(ip)) {
      if (a->ifindex == link->index && a->prefix == ip.host_prefix()) present = true;
    }
    kept_addresses.insert({ip, link->index});
    if (!present) plan.add_addresses.push_back(AddressChange{ip, link->index, link->name});

    if (!want.host_route) continue;
    bool route_ok = false;
    const KernelRoute* foreign = nullptr;
    for (const KernelRoute* r : index.RoutesTo(ip)) {
      if (r->table != kMainTable || r->prefix != ip.host_prefix()) continue;
      if (r->oif == link->index)
        route_ok = true;
      else if (!r->owned())
        foreign = r;
    }
    if (!route_ok && foreign) {
      const Link* other = observed.LinkByIndex(foreign->oif);
      plan.blocked[ip] = "a host route for " + ip.ToString() + " via " +
                         (other ? other->name : std::to_string(foreign->oif)) +
                         " exists and is not ours; leaving it alone";
    } else if (!route_ok) {
      plan.add_routes.push_back(RouteChange{ip, link->index, link->name});
    }
  }

  // Owned routes nobody wants any more (or that point at the wrong interface).
  for (const auto& r : observed.routes) {
    if (!r.owned() || r.table != kMainTable) continue;
    auto it = desired.addresses.find(r.dst);
    const Link* want_link = it != desired.addresses.end() ? observed.LinkByName(it->second.interface) : nullptr;
    const bool wanted = it != desired.addresses.end() && it->second.host_route && want_link &&
                        want_link->index == r.oif && r.prefix == r.dst.host_prefix();
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
  for (const auto& [key, rec] : recorded) {
    if (wanted_keys.count(key)) continue;
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
