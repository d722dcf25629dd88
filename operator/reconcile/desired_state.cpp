#include "reconcile/desired_state.h"

#include <algorithm>
#include <set>

#include "reconcile/arp_behaviour.h"
#include "reconcile/ndp_behaviour.h"
#include "reconcile/plan.h"
#include "reconcile/vip_judgement.h"

namespace lvsrs {
namespace {

// The subnet-directed broadcast of a node's IPv4 address (x.y.z.255 of a /24), which must
// stay the subnet's; /31 and /32 have none.
bool IsSubnetBroadcastOf(const IpAddress& ip, const KernelAddress& a) {
  if (!ip.is_v4() || !a.ip.is_v4() || a.prefix >= 31) return false;
  if (!ip.InPrefix(a.ip, a.prefix)) return false;
  for (unsigned bit = a.prefix; bit < 32; ++bit) {
    if ((ip.bytes()[bit / 8] & (0x80 >> (bit % 8))) == 0) return false;
  }
  return true;
}

// Whether two specs of one object ask for the same thing: age and generation aside, so that a
// reordered file, or a spec read back after a restart, is no edit.
bool SameSpec(const VirtualIp& a, const VirtualIp& b) {
  return a.addresses == b.addresses && a.node_selector == b.node_selector && a.interface == b.interface &&
         a.host_route == b.host_route && a.arp == b.arp && a.drain_timeout == b.drain_timeout;
}

// How much each arp_ignore value answers, least first (see net/ipv4/arp.c, arp_ignore()).
int IgnoreRank(int value) {
  switch (value) {
    case 8: return 4;   // nothing
    case 2: return 3;   // addresses of the receiving interface, to senders of their subnet
    case 1: return 2;   // addresses of the receiving interface
    case 3: return 1;   // addresses of scope link or wider, on any interface
    default: return 0;  // every local address (0, and 4-7 which behave like it)
  }
}

std::string SpecText(const ArpSpec& a) {
  return "arp {ignore: " + std::to_string(a.ignore) + ", announce: " + std::to_string(a.announce) +
         ", scope: " + ToString(a.scope) + "}";
}

std::map<SysctlKey, int> Written(const ArpSpec& spec, const ObservedState& observed) {
  DesiredState d;
  d.arp = spec;
  std::map<SysctlKey, int> out;
  for (const auto& c : DesiredSysctls(d, observed)) out[c.key] = c.value;
  return out;
}

// Judges one VirtualIP's ARP consequences (and, for its IPv6 VIPs, NDP's) before it is applied
// (see BuildDesiredState).
class ArpGate {
 public:
  explicit ArpGate(const ObservedState& observed) : observed_(observed), arp_(observed), ndp_(observed, arp_.index()) {
    for (const Link* l : arp_.ArpInterfaces()) arp_interfaces_.insert(l->name);
  }

  // "" when `vip` may be applied next to `applied` (whose ARP settings `current` were verified),
  // else why not. On success its VIPs stay placed for the next VirtualIP's judgement.
  std::string Judge(const VirtualIp& vip, const DesiredState& applied) {
    std::vector<IpAddress> placed;
    const Link* link = observed_.LinkByName(vip.interface);
    if (link) {
      for (const auto& ip : vip.addresses) {
        if (applied.addresses.count(ip)) continue;
        if (ip.is_v4())
          arp_.AssumePlaced(Placement{ip, link->index, kVipScope});
        else
          ndp_.AssumePlaced(ip, link->index);
        placed.push_back(ip);
      }
    }
    std::string why = JudgeNdp(vip, placed);
    if (why.empty()) why = JudgeSettings(vip, applied);
    if (!why.empty()) {
      for (const auto& ip : placed) {
        arp_.ForgetPlaced(ip);
        ndp_.ForgetPlaced(ip);
      }
    }
    return why;
  }

 private:
  // IPv6 has no setting that keeps an interface from answering solicitations for its own
  // addresses: an IPv6 VIP placed on an interface with neighbours is answered there, whatever
  // the VirtualIP's arp settings. Refused like an IPv4 VIP on an interface that answers ARP,
  // unless the exposure is there anyway (the VIP was put there by hand: the status reports it).
  std::string JudgeNdp(const VirtualIp& vip, const std::vector<IpAddress>& placed) {
    for (const auto& ip : placed) {
      if (ip.is_v4()) continue;
      const auto exposures = ndp_.Exposures(ip);
      if (exposures.empty()) continue;
      ndp_.ForgetPlaced(ip);
      std::set<std::pair<std::string, ArpExposure::How>> anyway;
      for (const auto& e : ndp_.Exposures(ip)) anyway.insert({e.interface, e.how});
      ndp_.AssumePlaced(ip, observed_.LinkByName(vip.interface)->index);
      for (const auto& e : exposures) {
        if (anyway.count({e.interface, e.how})) continue;
        return "its VIP " + ip.ToString() + " on " + vip.interface + " would be answered (NDP) on " + e.interface +
               ": " + e.reason +
               " (use lo: IPv6 has no setting under which an interface stays silent for its own "
               "addresses)";
      }
    }
    return "";
  }

  std::string JudgeSettings(const VirtualIp& vip, const DesiredState& applied) {
    const ArpSpec combined = applied.arp ? CombineArp(*applied.arp, vip.arp) : vip.arp;
    // Its own values count too: they are written the day the VirtualIPs that mask them are gone.
    std::string why =
        Exposes(vip.arp, "its " + SpecText(vip.arp), vip, applied, applied.arp && vip.arp == *applied.arp);
    if (why.empty() && !(combined == vip.arp))
      why = Exposes(combined, SpecText(combined) + " (combined with the VirtualIPs applied before it)", vip, applied,
                    combined == *applied.arp);
    // And so do the values of each VirtualIP that decides first, for this one's VIPs: whichever
    // comes second is the one refused, never the older.
    for (const auto& [spec, owner] : specs_) {
      if (!why.empty()) break;
      if (spec == vip.arp || spec == combined) continue;
      why = Exposes(spec, "VirtualIP " + owner + "'s " + SpecText(spec) + ", which decides first,", vip, applied,
                    /*only_new=*/true);
    }
    if (why.empty() && std::none_of(specs_.begin(), specs_.end(), [&](const auto& s) { return s.first == vip.arp; }))
      specs_.push_back({vip.arp, vip.name});
    return why;
  }

  // Why writing spec would expose a VIP or the node, "" when it would not. When `only_new`, the
  // applied VIPs were verified under spec already and only vip's are judged.
  std::string Exposes(const ArpSpec& spec, const std::string& whose_values, const VirtualIp& vip,
                      const DesiredState& applied, bool only_new) {
    const ArpSpec reference{1, 2, spec.scope};  // the manual procedure's values
    arp_.AssumeOnly(Written(spec, observed_));
    // Address, VirtualIP that wants it: the others' first, so that the reason names the conflict.
    std::vector<std::pair<IpAddress, std::string>> judged;
    if (!only_new)
      for (const auto& [ip, want] : applied.addresses) judged.push_back({ip, want.owners.front()});
    for (const auto& ip : vip.addresses) judged.push_back({ip, vip.name});
    for (const auto& [ip, owner] : judged) {
      const auto exposures = arp_.Exposures(ip);
      if (exposures.empty()) continue;
      const bool own_place = owner == vip.name && arp_interfaces_.count(vip.interface);
      std::set<std::pair<std::string, ArpExposure::How>> anyway;
      if (!own_place) {
        arp_.AssumeOnly(Written(reference, observed_));
        for (const auto& e : arp_.Exposures(ip)) anyway.insert({e.interface, e.how});
        arp_.AssumeOnly(Written(spec, observed_));
      }
      for (const auto& e : exposures) {
        if (anyway.count({e.interface, e.how})) continue;  // not this VirtualIP's doing; the status says so
        const std::string whose = owner == vip.name ? "its VIP " : "VirtualIP " + owner + "'s VIP ";
        if (own_place)
          return whose + ip.ToString() + " on " + vip.interface + " would be " + ToString(e.how) + " on " +
                 e.interface + ": " + e.reason + " (use lo, or settings under which " + vip.interface +
                 " stays silent)";
        return whose_values + " would let a neighbour learn " + whose + ip.ToString() + ": " + e.Describe();
      }
    }
    auto is_vip = [&](const IpAddress& ip) {
      return applied.addresses.count(ip) ||
             std::find(vip.addresses.begin(), vip.addresses.end(), ip) != vip.addresses.end();
    };
    const auto lost = UnreachableNodeAddresses(arp_, observed_, is_vip);
    if (!lost.empty()) {
      arp_.AssumeOnly(Written(reference, observed_));
      const bool anyway = UnreachableNodeAddresses(arp_, observed_, is_vip).size() >= lost.size();
      if (!anyway) return whose_values + " would take the node off its network: its own address " + lost.front();
    }
    return "";
  }

  const ObservedState& observed_;
  ArpBehaviour arp_;
  NdpBehaviour ndp_;  // shares arp_'s index
  std::set<std::string> arp_interfaces_;
  std::vector<std::pair<ArpSpec, std::string>> specs_;  // each distinct value set applied, and who asked first
};

}  // namespace

ArpSpec CombineArp(const ArpSpec& a, const ArpSpec& b) {
  ArpSpec c = a;
  if (IgnoreRank(b.ignore) > IgnoreRank(a.ignore)) c.ignore = b.ignore;
  c.announce = std::max(a.announce, b.announce);  // 0, 1, 2 do announce ever less
  // Global also covers interfaces created later (new pods' veths copy conf/default).
  if (b.scope == ArpScope::Global) c.scope = ArpScope::Global;
  return c;
}

std::string ReservedAddressReason(const IpAddress& ip) {
  if (ip.IsUnspecified()) return "is the unspecified address";
  if (ip.IsLoopback()) return "is a loopback address";
  if (ip.IsMulticast()) return "is a multicast address";
  if (ip.IsLimitedBroadcast()) return "is the broadcast address";
  if (ip.IsLinkLocal()) return "is a link-local address";
  return "";
}

DesiredState BuildDesiredState(const std::vector<VirtualIp>& vips, const NodeInfo& node, const ObservedState& observed,
                               const std::map<std::string, VirtualIp>& last_accepted) {
  std::vector<const VirtualIp*> ordered;
  ordered.reserve(vips.size());
  for (const auto& v : vips) ordered.push_back(&v);
  // Age order (older first, then name) resolves conflicts the same way on every node and every run,
  // and never lets a new VirtualIP knock out an established one.
  std::sort(ordered.begin(), ordered.end(),
            [](const VirtualIp* a, const VirtualIp* b) { return DecidesBefore(*a, *b); });

  // Only two kinds of observed address can refuse a VIP: one with the same IP, and a subnet
  // whose broadcast it is. Look those up instead of scanning every address per VIP (quadratic
  // at thousands of VIPs), and visit them in observed order so the first match, and so the
  // message, is the one a full scan would find.
  const ObservedIndex index(observed);
  std::vector<std::size_t> subnets;  // IPv4 addresses with a broadcast (prefix < 31)
  for (std::size_t i = 0; i < observed.addresses.size(); ++i) {
    const KernelAddress& a = observed.addresses[i];
    if (a.ip.is_v4() && a.prefix < 31) subnets.push_back(i);
  }
  std::vector<std::size_t> candidates;

  DesiredState d;
  ArpGate gate(observed);
  // Why `vip` cannot be applied next to what is applied so far, or "" (then its VIPs stay placed
  // in the gate for the judgement of the next one; a refusal leaves the gate as it was).
  auto judge = [&](const VirtualIp& vip) -> std::string {
    for (const auto& ip : vip.addresses) {
      const std::string reserved = ReservedAddressReason(ip);
      if (!reserved.empty()) return ip.ToString() + " " + reserved;
      candidates = subnets;
      for (const KernelAddress* a : index.AddressesOf(ip))
        candidates.push_back(static_cast<std::size_t>(a - observed.addresses.data()));
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
      for (std::size_t i : candidates) {
        const KernelAddress& a = observed.addresses[i];
        const Link* link = observed.LinkByIndex(a.ifindex);
        const std::string dev = link ? link->name : std::to_string(a.ifindex);
        if (a.ip == ip && !a.owned() && dev != vip.interface)
          return ip.ToString() + " is already an address of this node on " + dev +
                 " (a VIP there would take the node's own address)";
        if (IsSubnetBroadcastOf(ip, a)) return ip.ToString() + " is the broadcast address of " + dev + "'s subnet";
      }
      auto it = d.addresses.find(ip);
      if (it != d.addresses.end() && it->second.interface != vip.interface)
        return ip.ToString() + " conflicts with VirtualIP " + it->second.owners.front() + ", which puts it on " +
               it->second.interface;
    }
    return gate.Judge(vip, d);
  };
  auto apply = [&](const VirtualIp& vip) {
    d.selected.push_back(vip.name);
    for (const auto& ip : vip.addresses) {
      auto& da = d.addresses[ip];
      da.ip = ip;
      da.interface = vip.interface;
      da.host_route = da.host_route || vip.host_route;
      da.owners.push_back(vip.name);
    }
    d.arp = d.arp ? CombineArp(*d.arp, vip.arp) : vip.arp;
    d.accepted.emplace(ObjectIdentity(vip), vip);
  };

  for (const VirtualIp* vip : ordered) {
    if (!vip->node_selector.Matches(node.labels)) continue;
    const std::string why = judge(*vip);
    if (why.empty()) {
      apply(*vip);
      continue;
    }
    // Refused: the spec this node accepted before stays in force if it still holds here. Only
    // the same object's (a name check too, in case a file's uid names another object), and only
    // while it still selects this node: an edit that moves the VirtualIP away is no refusal.
    const auto prev = last_accepted.find(ObjectIdentity(*vip));
    if (prev == last_accepted.end() || prev->second.name != vip->name || SameSpec(prev->second, *vip) ||
        !prev->second.node_selector.Matches(node.labels)) {
      d.refused[vip->name] = why;
      continue;
    }
    const std::string why_prev = judge(prev->second);
    if (!why_prev.empty()) {
      d.refused[vip->name] = why + "; the spec accepted before on this node is refused too: " + why_prev;
      continue;
    }
    apply(prev->second);
    const std::int64_t gen = prev->second.generation;
    d.kept[vip->name] = "edit refused on this node, still serving the spec accepted before" +
                        (gen > 0 ? " (generation " + std::to_string(gen) + ")" : std::string()) + ": " + why;
  }
  return d;
}

}  // namespace lvsrs
