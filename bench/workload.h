// The synthetic workloads every benchmark uses, so pure, kernel and process figures describe the
// same VIPs: one VirtualIP per address, 198.18.0.0/15 (RFC 2544 benchmarking space), on lo with
// a host route and the default ARP settings (arp_ignore=1, arp_announce=2, Global scope).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/virtual_ip.h"
#include "reconcile/observed_state.h"

namespace lvsrs::bench {

// The i-th benchmark VIP: 198.18.0.1 + i (i < 131,000 stays inside 198.18.0.0/15).
IpAddress VipAddress(std::size_t i);
std::vector<VirtualIp> MakeVirtualIps(std::size_t n, std::size_t first = 0);
// The same VirtualIPs as a multi-document YAML file (what `run --file` reads).
std::string MakeYaml(std::size_t n);

// A node's namespace before the operator: lo and one ARP-capable uplink, every sysctl 0.
ObservedState EmptyNode();
// The same node after converging MakeVirtualIps(n): owned addresses and routes, sysctls set.
ObservedState ConvergedNode(std::size_t n);

}  // namespace lvsrs::bench
