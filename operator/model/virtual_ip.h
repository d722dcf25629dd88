// The VirtualIP resource (lvsdr.io/v1alpha1) as validated values. Parsing lives in
// virtual_ip_parse.h; everything downstream works only on these types.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/ip_address.h"
#include "model/label_selector.h"

namespace lvsrs {

// Global: net.ipv4.conf.{all,default,lo} as in the manual sysctl.conf procedure.
// PerInterface: conf/<dev> on every ARP-capable interface, all/default left alone, because
// new network namespaces (new pods) copy the host's conf/all and conf/default (kubernetes#71555).
enum class ArpScope { Global, PerInterface };

struct ArpSpec {
  int ignore = 1;    // net.ipv4.conf.*.arp_ignore: one of 0, 1, 2, 3, 8
  int announce = 2;  // net.ipv4.conf.*.arp_announce: one of 0, 1, 2
  ArpScope scope = ArpScope::Global;
  bool operator==(const ArpSpec&) const = default;
};

struct VirtualIp {
  std::string name;
  std::int64_t generation = 0;
  std::vector<IpAddress> addresses;  // each configured as /32 or /128
  LabelSelector node_selector;       // empty selects every node
  std::string interface = "lo";
  bool host_route = true;  // the manual `route add -host VIP dev lo:1`
  ArpSpec arp;
  bool operator==(const VirtualIp&) const = default;
};

struct NodeInfo {
  std::string name;
  std::map<std::string, std::string> labels;
};

const char* ToString(ArpScope scope);

}  // namespace lvsrs
