// `check`: each step of the manual LVS-DR real-server procedure as a line with what it should
// be and what the kernel says it is. Pure: built from desired and observed state.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

struct AuditLine {
  std::string step;    // "sysctl net.ipv4.conf.all.arp_ignore", "address 192.0.2.10/32 on lo", ...
  std::string manual;  // the manual command it replaces
  std::string expected;
  std::string actual;
  bool ok = false;
};

std::vector<AuditLine> Audit(const DesiredState& desired, const ObservedState& observed);
bool AllOk(const std::vector<AuditLine>& lines);
std::string AuditText(const std::vector<AuditLine>& lines);
nlohmann::json AuditJson(const std::vector<AuditLine>& lines);

}  // namespace lvsrs
