#include "reconcile/vip_health.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "model/rfc3339.h"

namespace lvsrs {
namespace {

void AddName(std::string& names, const std::string& name) {
  if (name.empty()) return;
  for (std::size_t at = 0; at <= names.size();) {  // already there?
    const std::size_t end = std::min(names.find(',', at), names.size());
    if (names.compare(at, end - at, name) == 0) return;
    at = end + 1;
  }
  names += (names.empty() ? "" : ",") + name;
}

void AddReason(std::string& reasons, const std::string& reason) {
  if (reasons.find(reason) != std::string::npos) return;
  reasons += (reasons.empty() ? "" : "; ") + reason;
}

std::string DrainReason(const DrainView& d) {
  const auto deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(d.deadline_unix_ms));
  return "draining: " + std::to_string(d.connections) + (d.connections == 1 ? " connection" : " connections") +
         ", until " + FormatRfc3339(deadline);
}

// One line whatever the reason holds: the answers are line protocols.
std::string OneLine(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

const char* ToString(Serving s) {
  switch (s) {
    case Serving::Up: return "up";
    case Serving::Drain: return "drain";
    case Serving::Down: return "down";
  }
  return "down";
}

std::map<IpAddress, VipHealth> JudgeVipHealth(const NodeStatus& status, const std::vector<VirtualIp>& vips,
                                              const std::vector<DrainView>& drains) {
  std::map<IpAddress, VipHealth> table;
  const auto entry = [&table](const IpAddress& ip) -> VipHealth& {
    auto [it, added] = table.try_emplace(ip);
    if (added) {
      it->second.address = ip;
      it->second.serving = Serving::Up;  // until something below says otherwise
    }
    return it->second;
  };
  const auto down = [](VipHealth& h, const std::string& reason) {
    h.serving = Serving::Down;
    AddReason(h.reason, reason);
  };

  std::set<IpAddress> wanted;  // addresses some applied VirtualIP brings here
  for (const VipAddressStatus& s : status.vips) {
    if (s.address.empty()) continue;  // a VirtualIP as a whole: below
    const auto ip = IpAddress::Parse(s.address);
    if (!ip) continue;
    wanted.insert(*ip);
    VipHealth& h = entry(*ip);
    AddName(h.virtual_ip, s.virtual_ip);
    switch (s.state) {
      case VipState::Configured:
      case VipState::Adopted: break;
      case VipState::Pending: down(h, "pending: " + s.message); break;
      case VipState::Failed: down(h, "failed: " + s.message); break;
      case VipState::Refused:
      case VipState::EditRefused: down(h, "refused: " + s.message); break;
      case VipState::Draining: break;  // answered from `drains` below
    }
  }
  for (const Problem& p : status.problems) {
    if (p.kind != Problem::Kind::ArpExposed && p.kind != Problem::Kind::VipIsSource) continue;
    const auto ip = IpAddress::Parse(p.item);
    if (!ip) continue;
    auto it = table.find(*ip);
    if (it == table.end()) continue;  // an address no longer wanted: not a VIP of this node
    down(it->second, (p.kind == Problem::Kind::ArpExposed ? "exposed: " : "source: ") + p.text);
  }
  // A refused VirtualIP that selects this node: its addresses are down here, unless another
  // VirtualIP brings the same address (then that one's judgement stands).
  std::map<std::string, const VirtualIp*> by_name;
  for (const VipAddressStatus& s : status.vips) {
    if (s.state != VipState::Refused || !s.address.empty()) continue;
    if (by_name.empty())
      for (const VirtualIp& v : vips) by_name.emplace(v.name, &v);
    const auto v = by_name.find(s.virtual_ip);
    if (v == by_name.end()) continue;
    for (const IpAddress& ip : v->second->addresses) {
      if (wanted.count(ip)) continue;
      VipHealth& h = entry(ip);
      AddName(h.virtual_ip, s.virtual_ip);
      down(h, "refused: " + s.message);
    }
  }
  for (const DrainView& d : drains) {
    VipHealth& h = entry(d.address);
    AddName(h.virtual_ip, d.virtual_ip);
    h.serving = Serving::Drain;
    h.reason = DrainReason(d);
    h.connections = d.connections;
    h.drain_deadline_unix_ms = d.deadline_unix_ms;
  }
  return table;
}

std::map<IpAddress, VipHealth> Unjudged(const std::map<IpAddress, VipHealth>& last, const std::string& why) {
  std::map<IpAddress, VipHealth> table = last;
  for (auto& [ip, h] : table) {
    h.serving = Serving::Down;
    h.reason = "not judged: " + why;
    h.connections = 0;
    h.drain_deadline_unix_ms = 0;
  }
  return table;
}

DirectorAnswer AnswerFor(const std::map<IpAddress, VipHealth>* table, const IpAddress& address,
                         const std::string& stalled) {
  DirectorAnswer a;
  const std::string ip = address.ToString();
  std::string reason;
  std::string name;
  if (!stalled.empty()) {
    reason = stalled;
  } else if (!table) {
    reason = "not ready: no reconcile pass yet";
  } else if (auto it = table->find(address); it == table->end()) {
    a.http_status = 404;
    reason = "not a VIP of this node";
  } else {
    const VipHealth& h = it->second;
    a.serving = h.serving;
    a.http_status = h.serving == Serving::Up ? 200 : 503;
    name = h.virtual_ip;
    reason = h.reason;
  }
  reason = OneLine(reason);
  const std::string head = std::string(ToString(a.serving)) + " " + ip + (name.empty() ? "" : " " + name);
  a.http_body = head + (reason.empty() ? "" : ": " + reason) + "\n";
  // HAProxy: "up" alone would leave a server it drained in DRAIN (an administrative state that only
  // "ready" cancels), so the drain could never be undone from here.
  switch (a.serving) {
    case Serving::Up: a.agent_line = "up ready\n"; break;
    case Serving::Drain: a.agent_line = "drain #" + ip + " " + reason + "\n"; break;
    case Serving::Down: a.agent_line = "down #" + ip + " " + reason + "\n"; break;
  }
  return a;
}

}  // namespace lvsrs
