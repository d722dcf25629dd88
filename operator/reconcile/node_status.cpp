#include "reconcile/node_status.h"

#include <set>

#include "reconcile/vip_judgement.h"

namespace lvsrs {

const char* ToString(VipState s) {
  switch (s) {
    case VipState::Configured: return "Configured";
    case VipState::Adopted: return "Adopted";
    case VipState::Pending: return "Pending";
    case VipState::Refused: return "Refused";
    case VipState::Failed: return "Failed";
    case VipState::EditRefused: return "EditRefused";
    case VipState::Draining: return "Draining";
  }
  return "Unknown";
}

NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed,
                          const std::map<IpAddress, std::string>& failures) {
  const NodeJudgement judgement(desired, observed);
  return EvaluateStatus(desired, observed, judgement, failures);
}

NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed, const NodeJudgement& judgement,
                          const std::map<IpAddress, std::string>& failures) {
  using Kind = Problem::Kind;
  NodeStatus st;
  std::map<std::string, std::vector<std::string>> exposed_on;  // interface -> what is exposed there
  std::set<std::string> arp_exposed_on;                        // interfaces with an ARP (not NDP) exposure
  for (const VipVerdict& v : judgement.vips()) {
    const IpAddress& ip = v.want->ip;
    VipAddressStatus s;
    s.address = ip.ToString();
    s.interface = v.want->interface;
    if (v.in_place()) {
      s.state = v.adopted() ? VipState::Adopted : VipState::Configured;
      s.message = v.adopted() ? "present before the operator; adopted, never removed by it" : "configured";
    } else {
      auto f = failures.find(ip);
      s.state = f != failures.end() ? VipState::Failed : VipState::Pending;
      s.message = f != failures.end()    ? f->second
                  : !v.blocked.empty()   ? v.blocked
                  : !v.address           ? "address missing on " + v.want->interface
                                         : "host route missing";
      st.vips_configured = false;
      st.problems.push_back({Kind::VipNotInPlace, s.address, s.address + ": " + s.message});
    }
    for (const auto& e : v.exposures) {
      st.exposures.push_back(e);
      exposed_on[e.interface].push_back(e.ip.ToString() + " " + ToString(e.how));
      if (e.ip.is_v4()) arp_exposed_on.insert(e.interface);
      st.problems.push_back({Kind::ArpExposed, s.address, e.Describe()});
      st.arp_conformant = false;
    }
    for (const auto& owner : v.want->owners) {
      s.virtual_ip = owner;
      st.vips.push_back(s);
    }
  }
  for (const auto& [name, why] : desired.refused) {
    st.vips.push_back(VipAddressStatus{name, "", "", VipState::Refused, why});
    st.problems.push_back({Kind::VirtualIpRefused, name, "VirtualIP " + name + " refused: " + why});
    st.vips_configured = false;  // wanted on this node, and not there
  }
  // Its addresses are listed above as the kept spec has them; the node serves what it promised
  // before, so this alone does not make it unconformant (the RealServer's VIPsConfigured says it).
  for (const auto& [name, why] : desired.kept)
    st.vips.push_back(VipAddressStatus{name, "", "", VipState::EditRefused, why});
  for (const auto& source : judgement.vips_as_source()) {
    st.problems.push_back({Kind::VipIsSource, source.vip.ToString(), source.Describe()});
    st.vips_not_source = false;
  }
  for (const auto& line : judgement.unreachable_node_addresses()) {
    st.problems.push_back({Kind::NodeUnreachable, line.substr(0, line.find(' ')), line});
    st.arp_conformant = false;
  }

  // The values the operator writes: drift it repairs, shown as such, but conformance is judged by
  // what the kernel does with them (an admin's stricter per-interface value is no problem).
  for (const auto& change : DesiredSysctls(desired, observed)) {
    const auto v = observed.Sysctl(change.key.conf, change.key.key);
    if (v == change.value) continue;
    st.problems.push_back({Kind::SysctlDiffers, change.key.ToString(),
                           change.key.ToString() + " is " + (v ? std::to_string(*v) : "unreadable") + ", want " +
                               std::to_string(change.value)});
  }
  for (const Link* l : judgement.arp().ArpInterfaces()) {
    InterfaceArpStatus is;
    is.interface = l->name;
    is.arp_ignore = judgement.arp().Effective(*l, ArpKey::Ignore).value_or(-1);
    is.arp_announce = judgement.arp().Effective(*l, ArpKey::Announce).value_or(-1);
    if (auto it = exposed_on.find(l->name); it != exposed_on.end()) {
      is.conformant = false;
      for (const auto& what : it->second) is.message += (is.message.empty() ? "" : ", ") + what;
      if (arp_exposed_on.count(l->name))
        is.message += " (effective arp_ignore " + std::to_string(is.arp_ignore) + ", arp_announce " +
                      std::to_string(is.arp_announce) + ": max(conf/all, conf/" + l->name + "))";
    }
    st.interfaces.push_back(is);
  }
  return st;
}

}  // namespace lvsrs
