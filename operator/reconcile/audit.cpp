#include "reconcile/audit.h"

#include <algorithm>

#include "reconcile/plan.h"

namespace lvsrs {

std::vector<AuditLine> Audit(const DesiredState& desired, const ObservedState& observed) {
  std::vector<AuditLine> lines;
  for (const auto& c : DesiredSysctls(desired, observed)) {
    const auto v = observed.Sysctl(c.key.conf, c.key.key);
    lines.push_back({"sysctl " + c.key.ToString(), "sysctl.conf + sysctl -p", std::to_string(c.value),
                     v ? std::to_string(*v) : "unreadable", v == c.value});
  }
  if (desired.arp) {
    for (const auto& l : observed.links) {
      if (!l.arp_capable()) continue;
      for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) {
        const int want = k == ArpKey::Ignore ? desired.arp->ignore : desired.arp->announce;
        const auto eff = EffectiveArp(observed, l.name, k);
        lines.push_back({std::string("effective ") + ToString(k) + " on " + l.name + " = max(all, " + l.name + ")",
                         "(what the kernel applies to ARP on " + l.name + ")", std::to_string(want),
                         eff ? std::to_string(*eff) : "unreadable", eff == want});
      }
    }
  }
  for (const auto& [name, why] : desired.refused)
    lines.push_back({"VirtualIP " + name, "(choosing a VIP)", "a usable VIP", "refused: " + why, false});
  const ObservedIndex index(observed);  // the same lookup ComputePlan and EvaluateStatus use
  for (const auto& [ip, want] : desired.addresses) {
    const Link* link = observed.LinkByName(want.interface);
    std::string addr_actual = link ? "absent" : "no interface " + want.interface;
    bool has_addr = false;
    for (const KernelAddress* a : index.AddressesOf(ip)) {
      if (link && a->ifindex == link->index && a->prefix == ip.host_prefix()) {
        has_addr = true;
        addr_actual = a->owned() ? "present" : "present (not created by the operator)";
      }
    }
    const std::string cidr = ip.ToString() + "/" + std::to_string(ip.host_prefix());
    lines.push_back(
        {"address " + cidr + " on " + want.interface,
         "ip addr add " + cidr + " dev " + want.interface + (ip.is_v4() ? " label " + want.interface + ":1" : ""),
         "present", addr_actual, has_addr});
    if (!want.host_route) continue;
    bool has_route = false;
    std::string route_actual = "absent";
    for (const KernelRoute* r : index.RoutesTo(ip)) {
      if (r->table == kMainTable && r->prefix == ip.host_prefix()) {
        const Link* via = observed.LinkByIndex(r->oif);
        if (link && r->oif == link->index) {
          has_route = true;
          route_actual = "present";
        } else if (!has_route) {  // a second route elsewhere must not hide the right one
          route_actual = "via " + (via ? via->name : std::to_string(r->oif));
        }
      }
    }
    lines.push_back(
        {"host route " + cidr + " dev " + want.interface,
         std::string(ip.is_v4() ? "route add -host " : "ip -6 route add ") + ip.ToString() + " dev " + want.interface,
         "present", route_actual, has_route});
  }
  return lines;
}

bool AllOk(const std::vector<AuditLine>& lines) {
  return std::all_of(lines.begin(), lines.end(), [](const AuditLine& l) { return l.ok; });
}

std::string AuditText(const std::vector<AuditLine>& lines) {
  std::size_t w = 4;
  for (const auto& l : lines) w = std::max(w, l.step.size());
  auto pad = [](std::string s, std::size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s;
  };
  std::string out = pad("STEP", w) + "  " + pad("EXPECTED", 9) + "  " + pad("ACTUAL", 9) + "  RESULT\n";
  for (const auto& l : lines)
    out += pad(l.step, w) + "  " + pad(l.expected, 9) + "  " + pad(l.actual, 9) + "  " + (l.ok ? "ok" : "FAIL") + "\n";
  const auto bad = std::count_if(lines.begin(), lines.end(), [](const AuditLine& l) { return !l.ok; });
  out += bad ? std::to_string(bad) + " of " + std::to_string(lines.size()) + " checks failed: NOT conformant\n"
             : "all " + std::to_string(lines.size()) + " checks passed: conformant\n";
  return out;
}

nlohmann::json AuditJson(const std::vector<AuditLine>& lines) {
  nlohmann::json j;
  j["conformant"] = AllOk(lines);
  j["checks"] = nlohmann::json::array();
  for (const auto& l : lines)
    j["checks"].push_back(
        {{"step", l.step}, {"manual", l.manual}, {"expected", l.expected}, {"actual", l.actual}, {"ok", l.ok}});
  return j;
}

}  // namespace lvsrs
