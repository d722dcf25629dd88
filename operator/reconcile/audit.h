// `check`: each step of the manual LVS-DR real-server procedure as a line with what it should
// be and what the kernel says it is. Pure: built from desired and observed state.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcile/desired_state.h"
#include "reconcile/drain.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

// Where a neighbour asking on one interface stands with one VIP: ARP for IPv4, NDP for IPv6.
struct ArpVerdictLine {
  std::string interface;
  bool answered = false;
  bool announced = false;
  std::string reason;  // the kernel rule, when answered or announced
};

struct AuditLine {
  std::string step;    // "sysctl net.ipv4.conf.all.arp_ignore", "address 192.0.2.10/32 on lo", ...
  std::string manual;  // the manual command it replaces
  std::string expected;
  std::string actual;
  bool ok = false;
  // A value shown for reference (a sysctl as written, an effective value): conformance is judged
  // by what the kernel does with it, in the ARP lines, so it never fails the check by itself.
  bool informational = false;
  std::string detail;               // why it failed, in kernel terms
  std::vector<ArpVerdictLine> arp;  // ARP and NDP lines: one per interface that answers ARP/NDP ("ndp" in JSON)
  std::string result{};             // shown instead of "ok" when set ("draining")
};

std::vector<AuditLine> Audit(const DesiredState& desired, const ObservedState& observed);
// One line for the node's drain request, when there is one, and one per VIP that drains
// (reconcile/drain.h): where it is, its connections now (counted; a VIP without a count shows the
// last one the agent saw) and its deadline. They never fail the check: draining is wanted.
std::vector<AuditLine> DrainAudit(const std::string& node_drain, const Drains& draining,
                                  const std::map<IpAddress, std::size_t>& connections, const ObservedState& observed);
bool AllOk(const std::vector<AuditLine>& lines);
std::string AuditText(const std::vector<AuditLine>& lines);
nlohmann::json AuditJson(const std::vector<AuditLine>& lines);

}  // namespace lvsrs
