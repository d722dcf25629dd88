// Conformance of a node, judged from observed kernel state against the desired state. The one
// source for `check`, metrics, logs and the RealServer status.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"
#include "reconcile/plan.h"

namespace lvsrs {

enum class VipState { Configured, Adopted, Pending, Refused, Failed };
const char* ToString(VipState s);

struct VipAddressStatus {
  std::string virtual_ip;
  std::string address;  // empty for a refused VirtualIP as a whole
  std::string interface;
  VipState state = VipState::Pending;
  std::string message;
};

struct InterfaceArpStatus {
  std::string interface;
  int arp_ignore = -1;  // effective: max(conf/all, conf/<dev>)
  int arp_announce = -1;
  bool conformant = true;
  std::string message;
};

struct NodeStatus {
  std::vector<VipAddressStatus> vips;
  std::vector<InterfaceArpStatus> interfaces;  // every ARP-capable interface
  bool vips_configured = true;                 // every wanted address and host route present
  bool arp_conformant = true;                  // every desired sysctl and every effective value as wanted
  bool conformant() const { return vips_configured && arp_conformant; }
  std::vector<std::string> problems;  // one human line each, for logs and check
};

// failures: per-item error messages from the last execution, keyed by address.
NodeStatus EvaluateStatus(const DesiredState& desired, const ObservedState& observed,
                          const std::map<IpAddress, std::string>& failures = {});

}  // namespace lvsrs
