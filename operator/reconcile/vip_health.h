// What a director should do with each VIP of this node, for the director-facing listeners
// (keepalived HTTP_GET, ldirectord, HAProxy agent-check): Up, Drain or Down with the reason. Pure:
// built from the status a pass already judged (node_status.h) and the drains in progress, so the
// health signal can never disagree with `check`, the RealServer status or the metrics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/ip_address.h"
#include "model/virtual_ip.h"
#include "reconcile/node_status.h"

namespace lvsrs {

// Up: send it new connections. Drain: keep its established connections, send it no new ones.
// Down: send it nothing (it is not in place, not conformant, or not a VIP here).
enum class Serving { Up, Drain, Down };
const char* ToString(Serving s);  // "up", "drain", "down"

struct VipHealth {
  IpAddress address;
  std::string virtual_ip;  // the VirtualIP's name; names joined with "," when several ask for it
  Serving serving = Serving::Down;
  std::string reason;                       // empty for Up; e.g. "draining: 3 connections, until 2026-..."
  std::size_t connections = 0;              // while draining
  std::int64_t drain_deadline_unix_ms = 0;  // while draining
  bool operator==(const VipHealth&) const = default;
};

// A VIP being drained on this node (filled by the drain tracker; see DRAIN in the README).
struct DrainView {
  IpAddress address;
  std::string virtual_ip;
  std::size_t connections = 0;
  std::int64_t deadline_unix_ms = 0;
};

// One entry per address:
//   Up    the VIP is configured (or adopted) here, and no ARP/NDP exposure and no "VIP chosen as
//         source" is judged for it;
//   Drain it is in `drains` (whatever else holds: a draining VIP is leaving anyway);
//   Down  it is wanted here but pending, failed or exposed, or its VirtualIP selects this node and
//         is refused; the reason says which.
// vips: the VirtualIPs of the pass, to name the addresses of refused ones (the status names a
// refused VirtualIP only). An address that is in none of these is not a VIP of this node.
std::map<IpAddress, VipHealth> JudgeVipHealth(const NodeStatus& status, const std::vector<VirtualIp>& vips,
                                              const std::vector<DrainView>& drains);

// When a pass could not judge the node (the kernel could not be read): the VIPs of the last table,
// each Down with `why`, so that a director stops sending new connections to a node that cannot
// tell whether its VIPs are in place, rather than trusting an old Up.
std::map<IpAddress, VipHealth> Unjudged(const std::map<IpAddress, VipHealth>& last, const std::string& why);

// What the director-facing listeners answer for one address.
struct DirectorAnswer {
  Serving serving = Serving::Down;
  int http_status = 503;   // 200 Up, 503 Drain/Down of a VIP here, 404 not a VIP of this node
  std::string http_body;   // "up 198.51.100.10 web\n", "down 198.51.100.10 web: refused: ...\n"
  std::string agent_line;  // HAProxy agent-check reply: "up ready\n", "drain #...\n", "down #...\n"
};

// table: the last published table, nullptr before the first pass. stalled: why the table cannot
// be trusted now (the reconcile loop stopped turning), "" when it can.
DirectorAnswer AnswerFor(const std::map<IpAddress, VipHealth>* table, const IpAddress& address,
                         const std::string& stalled = "");

}  // namespace lvsrs
