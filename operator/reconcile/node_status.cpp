#include "reconcile/node_status.h"

#include <optional>

namespace lvsrs {

const char* ToString(VipState s) {
  switch (s) {
    case VipState::Configured: return "Configured";
    case VipState::Adopted: return "Adopted";
    case VipState::Pending: return "Pending";
    case VipState::Refused: return "Refused";
    case VipState::Failed: return "Failed";
  }
  return "Unknown";
}

NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed,
                          const std::map<IpAddress, std::string>& failures) {
  NodeStatus st;
  // The plan only explains why a VIP is missing (what blocks it); in the steady state every VIP
  // is present and the diff is not worth computing a second time per pass.
  std::optional<Plan> plan;

  const ObservedIndex index(observed);
  for (const auto& [ip, want] : desired.addresses) {
    const Link* link = observed.LinkByName(want.interface);
    bool has_addr = false, owned = false, has_route = !want.host_route;
    for (const KernelAddress* a : index.AddressesOf(ip)) {
      if (link && a->ifindex == link->index && a->prefix == ip.host_prefix()) {
        has_addr = true;
        owned = a->owned();
      }
    }
    for (const KernelRoute* r : index.RoutesTo(ip)) {
      if (link && r->table == kMainTable && r->prefix == ip.host_prefix() && r->oif == link->index) has_route = true;
    }
    VipAddressStatus s;
    s.address = ip.ToString();
    s.interface = want.interface;
    if (has_addr && has_route) {
      s.state = owned ? VipState::Configured : VipState::Adopted;
      s.message = owned ? "configured" : "present before the operator; adopted, never removed by it";
    } else {
      if (!plan) plan = ComputePlan(desired, observed, {});
      auto f = failures.find(ip);
      auto b = plan->blocked.find(ip);
      s.state = f != failures.end() ? VipState::Failed : VipState::Pending;
      s.message = f != failures.end() ? f->second
                  : b != plan->blocked.end() ? b->second
                  : !has_addr ? "address missing on " + want.interface
                              : "host route missing";
      st.vips_configured = false;
      st.problems.push_back(ip.ToString() + ": " + s.message);
    }
    for (const auto& owner : want.owners) {
      s.virtual_ip = owner;
      st.vips.push_back(s);
    }
  }
  for (const auto& [name, why] : desired.refused) {
    st.vips.push_back(VipAddressStatus{name, "", "", VipState::Refused, why});
    st.problems.push_back("VirtualIP " + name + " refused: " + why);
    st.vips_configured = false;  // wanted on this node, and not there
  }

  for (const auto& change : DesiredSysctls(desired, observed)) {
    const auto v = observed.Sysctl(change.key.conf, change.key.key);
    if (v != change.value) {
      st.arp_conformant = false;
      st.problems.push_back(change.key.ToString() + " is " + (v ? std::to_string(*v) : "unreadable") + ", want " +
                            std::to_string(change.value));
    }
  }
  for (const auto& l : observed.links) {
    if (!l.arp_capable()) continue;
    InterfaceArpStatus is;
    is.interface = l.name;
    is.arp_ignore = EffectiveArp(observed, l.name, ArpKey::Ignore).value_or(-1);
    is.arp_announce = EffectiveArp(observed, l.name, ArpKey::Announce).value_or(-1);
    if (desired.arp) {
      // Equality, not "at least": arp_ignore values are not ordered by strictness (3 answers for
      // a scope-global VIP on lo where 1 does not), so anything but the wanted value is drift.
      std::string msg;
      if (is.arp_ignore != desired.arp->ignore)
        msg = "effective arp_ignore " + std::to_string(is.arp_ignore) + ", want " + std::to_string(desired.arp->ignore);
      if (is.arp_announce != desired.arp->announce)
        msg += (msg.empty() ? "" : "; ") + std::string("effective arp_announce ") + std::to_string(is.arp_announce) +
               ", want " + std::to_string(desired.arp->announce);
      if (!msg.empty()) {
        msg += " (the kernel uses max(conf/all, conf/" + l.name + "))";
        is.conformant = false;
        is.message = msg;
        st.arp_conformant = false;
        st.problems.push_back(l.name + ": " + msg);
      }
    }
    st.interfaces.push_back(is);
  }
  return st;
}

}  // namespace lvsrs
