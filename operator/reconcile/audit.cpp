#include "reconcile/audit.h"

#include <algorithm>

#include "reconcile/plan.h"
#include "reconcile/vip_judgement.h"

namespace lvsrs {
namespace {

std::string Cidr(const IpAddress& ip) { return ip.ToString() + "/" + std::to_string(ip.host_prefix()); }

// What a neighbour learns of the VIP: through ARP for IPv4 ("ARP for ..."), through neighbour
// discovery for IPv6 ("NDP for ...").
AuditLine NeighbourLine(const VipVerdict& v, const NodeJudgement& judgement) {
  const IpAddress& ip = v.want->ip;
  AuditLine line{(ip.is_v4() ? "ARP for " : "NDP for ") + ip.ToString(),
                 ip.is_v4() ? "(arp_ignore/arp_announce: what a neighbour learns)"
                            : "(VIP off the NIC, no proxy_ndp entry: what a neighbour learns)",
                 "not answered",
                 "",
                 v.exposures.empty(),
                 false,
                 "",
                 {}};
  for (const Link* l : judgement.arp().ArpInterfaces()) {
    ArpVerdictLine a{l->name, false, false, ""};
    for (const auto& e : v.exposures) {
      if (e.interface != l->name) continue;
      (e.answered() ? a.answered : a.announced) = true;
      a.reason += (a.reason.empty() ? "" : "; ") + e.reason;
    }
    line.arp.push_back(std::move(a));
  }
  std::vector<std::string> exposed;
  for (const auto& a : line.arp) {
    if (a.answered) exposed.push_back("answered on " + a.interface);
    if (a.announced) exposed.push_back("announced on " + a.interface);
  }
  if (exposed.empty()) {
    line.actual = line.arp.empty() ? std::string("not answered (no ") + (ip.is_v4() ? "ARP" : "NDP") + " interface)"
                                   : "not answered";
  } else {
    for (const auto& e : exposed) line.actual += (line.actual.empty() ? "" : ", ") + e;
    for (const auto& e : v.exposures) line.detail += (line.detail.empty() ? "" : "\n") + e.Describe();
  }
  return line;
}

}  // namespace

std::vector<AuditLine> Audit(const DesiredState& desired, const ObservedState& observed) {
  const NodeJudgement judgement(desired, observed);
  std::vector<AuditLine> lines;
  for (const auto& c : DesiredSysctls(desired, observed)) {
    const auto v = observed.Sysctl(c.key.conf, c.key.key);
    AuditLine l{"sysctl " + c.key.ToString(),
                "sysctl.conf + sysctl -p",
                std::to_string(c.value),
                v ? std::to_string(*v) : "unreadable",
                v == c.value,
                true,
                "",
                {}};
    lines.push_back(std::move(l));
  }
  if (desired.arp) {
    for (const Link* l : judgement.arp().ArpInterfaces()) {
      for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) {
        const int want = k == ArpKey::Ignore ? desired.arp->ignore : desired.arp->announce;
        const auto eff = judgement.arp().Effective(*l, k);
        lines.push_back({std::string("effective ") + ToString(k) + " on " + l->name + " = max(all, " + l->name + ")",
                         "(what the kernel applies to ARP on " + l->name + ")",
                         std::to_string(want),
                         eff ? std::to_string(*eff) : "unreadable",
                         eff == want,
                         true,
                         "",
                         {}});
      }
    }
  }
  for (const auto& [name, why] : desired.refused)
    lines.push_back({"VirtualIP " + name, "(choosing a VIP)", "a usable VIP", "refused: " + why, false, false, "", {}});
  for (const VipVerdict& v : judgement.vips()) {
    const IpAddress& ip = v.want->ip;
    const std::string& dev = v.want->interface;
    const std::string addr_actual = !v.link       ? "no interface " + dev
                                    : !v.address  ? "absent"
                                    : v.adopted() ? "present (not created by the operator)"
                                                  : "present";
    lines.push_back({"address " + Cidr(ip) + " on " + dev,
                     "ip addr add " + Cidr(ip) + " dev " + dev + (ip.is_v4() ? " label " + dev + ":1" : ""),
                     "present",
                     addr_actual,
                     v.address != nullptr,
                     false,
                     "",
                     {}});
    if (v.want->host_route) {
      std::string route_actual = v.route_present ? "present" : "absent";
      if (!v.route_present) {
        for (const KernelRoute* r : judgement.index().RoutesTo(ip)) {
          if (r->table != kMainTable || r->prefix != ip.host_prefix()) continue;
          const Link* via = observed.LinkByIndex(r->oif);
          route_actual = "via " + (via ? via->name : std::to_string(r->oif));
        }
      }
      lines.push_back(
          {"host route " + Cidr(ip) + " dev " + dev,
           std::string(ip.is_v4() ? "route add -host " : "ip -6 route add ") + ip.ToString() + " dev " + dev,
           "present",
           route_actual,
           v.route_present,
           false,
           v.blocked,
           {}});
    }
    lines.push_back(NeighbourLine(v, judgement));
  }
  for (const auto& line : judgement.unreachable_node_addresses())
    lines.push_back({"node address " + line.substr(0, line.find(' ')),
                     "(the node's own ARP)",
                     "answered",
                     "not answered",
                     false,
                     false,
                     line,
                     {}});
  // The node's own traffic to the world, per family with a route there: never from a VIP.
  for (const auto& choice : observed.sources) {
    const auto& bad = judgement.vips_as_source();
    const auto it =
        std::find_if(bad.begin(), bad.end(), [&](const VipAsSource& v) { return v.destination == choice.destination; });
    const Link* via = observed.LinkByIndex(choice.oif);
    const std::string dst = choice.destination.ToString();
    lines.push_back({"source address towards " + dst,
                     "(ip route get " + dst + ")",
                     "not a VIP",
                     choice.source.ToString() + " via " + (via ? via->name : std::to_string(choice.oif)),
                     it == bad.end(),
                     false,
                     it == bad.end() ? "" : it->Describe(),
                     {}});
  }
  return lines;
}

bool AllOk(const std::vector<AuditLine>& lines) {
  return std::all_of(lines.begin(), lines.end(), [](const AuditLine& l) { return l.ok || l.informational; });
}

std::vector<AuditLine> DrainAudit(const std::string& node_drain, const Drains& draining,
                                  const std::map<IpAddress, std::size_t>& connections, const ObservedState& observed) {
  std::vector<AuditLine> out;
  if (!node_drain.empty()) {
    AuditLine l;
    l.step = "node drain";
    l.manual = "ipvsadm -e ... -w 0 on the directors, then remove the VIPs";
    l.expected = "requested";
    l.actual = node_drain;
    l.ok = true;
    l.result = "draining";
    out.push_back(std::move(l));
  }
  for (const auto& entry : draining) {
    const IpAddress& ip = entry.first;  // not a structured binding: clang 14 cannot capture one
    auto d = entry.second;
    if (auto it = connections.find(ip); it != connections.end()) d.connections = it->second;
    const bool present = std::any_of(observed.addresses.begin(), observed.addresses.end(),
                                     [&](const KernelAddress& a) { return a.ip == ip && a.owned(); });
    AuditLine l;
    l.step = "drain " + ip.ToString() + (d.virtual_ip.empty() ? "" : " (VirtualIP " + d.virtual_ip + ")");
    l.manual = "ss -tn state established src " + ip.ToString();
    l.expected = "withdrawn when no connection is left";
    l.actual = present ? DrainText(d) + " on " + d.interface : "address already gone";
    l.ok = true;
    l.result = "draining";
    l.detail = d.reason;
    out.push_back(std::move(l));
  }
  return out;
}

std::string AuditText(const std::vector<AuditLine>& lines) {
  std::size_t w = 4, we = 9, wa = 9;
  for (const auto& l : lines) {
    w = std::max(w, l.step.size());
    we = std::max(we, l.expected.size());
    wa = std::max(wa, std::min<std::size_t>(l.actual.size(), 40));
  }
  auto pad = [](std::string s, std::size_t n) {
    if (s.size() < n) s.resize(n, ' ');
    return s;
  };
  std::string out = pad("STEP", w) + "  " + pad("EXPECTED", we) + "  " + pad("ACTUAL", wa) + "  RESULT\n";
  for (const auto& l : lines) {
    const std::string result = !l.result.empty() ? l.result
                               : l.ok            ? "ok"
                               : l.informational ? "differs (see the ARP lines)"
                                                 : "FAIL";
    out += pad(l.step, w) + "  " + pad(l.expected, we) + "  " + pad(l.actual, wa) + "  " + result + "\n";
    if (!l.ok && !l.informational && !l.detail.empty()) {
      std::size_t start = 0;
      while (start <= l.detail.size()) {
        const std::size_t end = std::min(l.detail.find('\n', start), l.detail.size());
        out += "    " + l.detail.substr(start, end - start) + "\n";
        start = end + 1;
      }
    }
  }
  const auto counted = std::count_if(lines.begin(), lines.end(), [](const AuditLine& l) { return !l.informational; });
  const auto bad =
      std::count_if(lines.begin(), lines.end(), [](const AuditLine& l) { return !l.ok && !l.informational; });
  out += bad ? std::to_string(bad) + " of " + std::to_string(counted) + " checks failed: NOT conformant\n"
             : "all " + std::to_string(counted) + " checks passed: conformant\n";
  return out;
}

nlohmann::json AuditJson(const std::vector<AuditLine>& lines) {
  nlohmann::json j;
  j["conformant"] = AllOk(lines);
  j["checks"] = nlohmann::json::array();
  for (const auto& l : lines) {
    nlohmann::json c{{"step", l.step},     {"manual", l.manual}, {"expected", l.expected},
                     {"actual", l.actual}, {"ok", l.ok},         {"informational", l.informational}};
    if (!l.detail.empty()) c["detail"] = l.detail;
    if (!l.result.empty()) c["result"] = l.result;
    // The per-interface verdicts: "arp" on an IPv4 VIP's line, "ndp" on an IPv6 VIP's.
    const bool ndp = l.step.rfind("NDP for ", 0) == 0;
    if (!l.arp.empty() || ndp || l.step.rfind("ARP for ", 0) == 0) {
      auto& verdicts = c[ndp ? "ndp" : "arp"] = nlohmann::json::array();
      for (const auto& a : l.arp) {
        nlohmann::json v{{"interface", a.interface}, {"answered", a.answered}, {"announced", a.announced}};
        if (!a.reason.empty()) v["reason"] = a.reason;
        verdicts.push_back(std::move(v));
      }
    }
    j["checks"].push_back(std::move(c));
  }
  return j;
}

}  // namespace lvsrs
