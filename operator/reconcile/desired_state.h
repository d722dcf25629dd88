// Desired node state: a pure function of (VirtualIPs, this node, what the node already owns).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/virtual_ip.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

struct DesiredAddress {
  IpAddress ip;
  std::string interface;
  bool host_route = false;
  std::vector<std::string> owners;  // VirtualIP names that ask for it, sorted
};

struct DesiredState {
  std::map<IpAddress, DesiredAddress> addresses;
  // Strictest ARP settings of all selected VirtualIPs; nullopt when none selects this node,
  // which is when recorded sysctls are restored.
  std::optional<ArpSpec> arp;
  std::vector<std::string> selected;           // VirtualIP names that select this node, sorted
  std::map<std::string, std::string> refused;  // VirtualIP name -> why it is not applied
};

// Why an address must never be a VIP on this node, or "" when it may be.
std::string ReservedAddressReason(const IpAddress& ip);

DesiredState BuildDesiredState(const std::vector<VirtualIp>& vips, const NodeInfo& node, const ObservedState& observed);

}  // namespace lvsrs
