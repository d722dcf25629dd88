// The VirtualIP resource (lvsdr.io/v1alpha1) as validated values. Parsing lives in
// virtual_ip_parse.h; everything downstream works only on these types.
#pragma once

#include <chrono>
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

inline constexpr std::chrono::milliseconds kDefaultDrainTimeout{30000};

struct VirtualIp {
  std::string name;
  std::string uid;  // metadata.uid: tells a re-created object from an edited one
  std::int64_t generation = 0;
  // Age, for conflicts between VirtualIPs (DecidesBefore). Kubernetes: metadata.creationTimestamp
  // as the API server writes it ("2026-01-02T03:04:05Z"; empty when absent or not in that form).
  // File mode: empty, and document_order is the position in the file (first = oldest).
  std::string creation_timestamp;
  std::size_t document_order = 0;
  std::vector<IpAddress> addresses;  // each configured as /32 or /128
  LabelSelector node_selector;       // empty selects every node
  std::string interface = "lo";
  bool host_route = true;  // the manual `route add -host VIP dev lo:1`
  ArpSpec arp;
  // spec.drainTimeout: how long an address of this VirtualIP that stops being wanted on a node is
  // kept there (draining) while established TCP connections to it remain; 0 withdraws at once.
  // The default is a pod's termination grace period.
  std::chrono::milliseconds drain_timeout{kDefaultDrainTimeout};
  bool operator==(const VirtualIp&) const = default;
};

struct NodeInfo {
  std::string name;
  std::map<std::string, std::string> labels;
};

const char* ToString(ArpScope scope);

// The order in which VirtualIPs claim addresses: when two want the same address in ways that
// cannot both hold (different interfaces), the one that decides first keeps it and the other is
// refused. Older first (creationTimestamp; in file mode the earlier document), then name, so that
// a new VirtualIP never knocks out an established one because its name sorts first, and every
// node decides the same way. A VirtualIP without a creation time counts as the newest.
bool DecidesBefore(const VirtualIp& a, const VirtualIp& b);

// Which object a spec belongs to across edits, for what is remembered of it: metadata.uid (a
// re-created object is a new one); in file mode, where a VirtualIP has no uid, its name.
std::string ObjectIdentity(const VirtualIp& v);

}  // namespace lvsrs
