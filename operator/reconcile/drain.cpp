#include "reconcile/drain.h"

#include <algorithm>
#include <chrono>

#include "model/rfc3339.h"

namespace lvsrs {
namespace {

std::string Plural(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

// The owned addresses of the kernel by IP (the first one when an IP is owned twice).
std::map<IpAddress, const KernelAddress*> OwnedHostAddresses(const ObservedState& observed) {
  std::map<IpAddress, const KernelAddress*> out;
  for (const auto& a : observed.addresses)
    if (a.owned() && a.prefix == a.ip.host_prefix()) out.emplace(a.ip, &a);
  return out;
}

bool HasOwnedRoute(const ObservedState& observed, const IpAddress& ip, int oif) {
  return std::any_of(observed.routes.begin(), observed.routes.end(), [&](const KernelRoute& r) {
    return r.owned() && r.table == kMainTable && r.dst == ip && r.prefix == ip.host_prefix() && r.oif == oif;
  });
}

// The spec that put ip on this node: the first known VirtualIP (decision order) listing it.
const VirtualIp* KnownOwner(const std::map<std::string, VirtualIp>& known, const IpAddress& ip) {
  const VirtualIp* best = nullptr;
  for (const auto& [_, v] : known) {
    if (std::find(v.addresses.begin(), v.addresses.end(), ip) == v.addresses.end()) continue;
    if (!best || DecidesBefore(v, *best)) best = &v;
  }
  return best;
}

std::string LeaveReason(const DesiredState& desired, const VirtualIp* owner) {
  if (!owner) return "no VirtualIP on this node asks for it any more";
  const std::string& name = owner->name;
  if (desired.refused.count(name)) return "VirtualIP " + name + " is refused on this node: " + desired.refused.at(name);
  if (std::find(desired.selected.begin(), desired.selected.end(), name) != desired.selected.end())
    return "VirtualIP " + name + " no longer lists it";
  return "VirtualIP " + name + " was deleted or no longer selects this node";
}

}  // namespace

std::string NodeDrainReason(const std::map<std::string, std::string>& labels, bool by_file) {
  if (labels.count(kExcludeFromLoadBalancersLabel))
    return std::string("the Node has the label ") + kExcludeFromLoadBalancersLabel;
  if (auto it = labels.find(kDrainLabel); it != labels.end() && it->second != "false")
    return std::string("the Node has the label ") + kDrainLabel + "=" + it->second;
  if (by_file) return "drain requested on this node (lvs-rs-operator drain)";
  return "";
}

std::vector<IpAddress> LeavingAddresses(const DesiredState& desired, const ObservedState& observed) {
  std::vector<IpAddress> out;
  for (const auto& [ip, _] : OwnedHostAddresses(observed))
    if (!desired.addresses.count(ip)) out.push_back(ip);
  return out;
}

DrainDecision DecideDrains(const DrainInputs& in) {
  DrainDecision out;
  const auto owned = OwnedHostAddresses(in.observed);

  // Wanted again, or gone from the node (removed by hand, or by the previous process) before the end.
  for (const auto& [ip, d] : in.previous) {
    if (in.desired.addresses.count(ip)) {
      out.undone.push_back(d);
    } else if (!owned.count(ip)) {
      out.withdrawn.push_back(Withdrawal{d, "the address is no longer on the node"});
    }
  }

  for (const auto& [ip, addr] : owned) {
    if (in.desired.addresses.count(ip)) continue;
    Drain d;
    auto prev = in.previous.find(ip);
    const Link* link = in.observed.LinkByIndex(addr->ifindex);
    if (prev != in.previous.end()) {
      d = prev->second;  // same start, same deadline, whatever changed since
    } else {
      const VirtualIp* owner = KnownOwner(in.known, ip);
      d.address = ip;
      d.virtual_ip = owner ? owner->name : "";
      d.reason = in.node_drain.empty() ? LeaveReason(in.desired, owner) : in.node_drain;
      d.started_unix_ms = in.now_unix_ms;
      const auto timeout = owner ? owner->drain_timeout : kDefaultDrainTimeout;
      d.deadline_unix_ms = in.now_unix_ms + timeout.count();
      if (timeout.count() == 0) {
        d.interface = link ? link->name : std::to_string(addr->ifindex);
        out.withdrawn.push_back(Withdrawal{d, "drainTimeout is 0s"});
        continue;
      }
    }
    d.interface = link ? link->name : std::to_string(addr->ifindex);
    d.host_route = HasOwnedRoute(in.observed, ip, addr->ifindex);
    auto count = in.connections.find(ip);
    if (count != in.connections.end()) d.connections = count->second;
    if (count != in.connections.end() && count->second == 0) {
      out.withdrawn.push_back(Withdrawal{d, "no connections left"});
    } else if (in.now_unix_ms >= d.deadline_unix_ms) {
      out.withdrawn.push_back(Withdrawal{d, "timeout with " + Plural(d.connections, "connection")});
    } else {
      if (prev == in.previous.end()) out.started.push_back(d);
      out.draining.emplace(ip, std::move(d));
    }
  }
  return out;
}

void WithdrawAllForNodeDrain(DesiredState& desired) { desired.addresses.clear(); }

void KeepDraining(DesiredState& desired, const Drains& draining) {
  desired.draining.clear();
  for (const auto& [ip, d] : draining) {
    DesiredAddress& a = desired.draining[ip];
    a.ip = ip;
    a.interface = d.interface;
    a.host_route = d.host_route;
    if (!d.virtual_ip.empty()) a.owners.push_back(d.virtual_ip);
  }
}

void ReportDraining(NodeStatus& status, const Drains& draining) {
  for (const auto& [ip, d] : draining) {
    VipAddressStatus s{d.virtual_ip, ip.ToString(), d.interface, VipState::Draining, DrainText(d)};
    s.connections = d.connections;
    s.drain_deadline_unix_ms = d.deadline_unix_ms;
    status.vips.push_back(std::move(s));
  }
}

std::vector<DrainView> ToDrainViews(const Drains& draining) {
  std::vector<DrainView> out;
  out.reserve(draining.size());
  for (const auto& [ip, d] : draining) out.push_back(DrainView{ip, d.virtual_ip, d.connections, d.deadline_unix_ms});
  return out;
}

std::string DrainText(const Drain& d) {
  const auto deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(d.deadline_unix_ms));
  return "draining: " + Plural(d.connections, "connection") + ", until " + FormatRfc3339(deadline);
}

}  // namespace lvsrs
